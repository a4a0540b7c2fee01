"""Which legacy record became which Casework row: the mapping that makes imports idempotent."""

from __future__ import annotations

from django.db import models


class LegacyKind(models.TextChoices):
    """The kinds of legacy record, one per import file, in the order they are written."""

    PERSON = "person", "Person"
    RELATIONSHIP = "relationship", "Relationship"
    CASE = "case", "Case"
    REFERRAL = "referral", "Referral"
    PLAN = "plan", "Plan"
    VISIT = "visit", "Visit"
    NOTE = "note", "Case note"


class LegacyRecord(models.Model):
    """One imported legacy row: its source system, kind and ID, the row it became, and the
    checksum of the values imported, so that a re-run skips it when unchanged and reports it
    when changed. Written in the same transaction as the row itself.

    `object_id` is deliberately not a foreign key: when a person's records are destroyed
    under the retention schedule, the mapping stays (it holds the legacy ID and a checksum,
    no names or details), so a re-run of an old export cannot bring the destroyed record back.
    """

    source = models.CharField(
        max_length=40, help_text="The legacy system the record came from, as given to the import."
    )
    kind = models.CharField(max_length=20, choices=LegacyKind.choices)
    legacy_id = models.CharField(max_length=64, help_text="The legacy system's own ID.")
    object_id = models.BigIntegerField(help_text="The primary key of the row it became.")
    row_checksum = models.CharField(
        max_length=64, help_text="SHA-256 of the row's values as imported (docs/import.md)."
    )
    imported_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "kind", "legacy_id"], name="legacy_record_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.kind} {self.legacy_id} -> {self.object_id}"
