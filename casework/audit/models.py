"""The append-only audit log, which is also every case's chronology (X-01)."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models


class AuditCategory(models.TextChoices):
    """Groups events for filtering a chronology."""

    CASE = "case", "Case"
    PERSON = "person", "Person"
    REFERRAL = "referral", "Referral"
    ASSESSMENT = "assessment", "Assessment"
    PLAN = "plan", "Plan"
    VISIT = "visit", "Visit"
    NOTE = "note", "Case note"
    MEETING = "meeting", "Meeting"
    SUPERVISION = "supervision", "Supervision"
    DECISION = "decision", "Manager's decision"
    CONSENT = "consent", "Consent"
    DOCUMENT = "document", "Document"
    ALLOCATION = "allocation", "Allocation"
    CONFIGURATION = "configuration", "Configuration"
    EXPORT = "export", "Export of records"


class AppendOnlyError(Exception):
    """Raised by the model before any SQL. The database refuses too (IntegrityError), for the
    paths this guard cannot see: casework/audit/integrity.py and migration 0004."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit events cannot be changed.")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("Audit events cannot be deleted.")


class AuditEvent(models.Model):
    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)
    event_date = models.DateField(
        help_text="When the recorded thing happened (a visit's date), for the chronology."
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for the system itself (scheduled work, imports).",
    )
    verb = models.CharField(max_length=60, help_text="e.g. visit.recorded")
    category = models.CharField(max_length=20, choices=AuditCategory.choices)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40)
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    summary = models.CharField(max_length=300, help_text="One line for the chronology.")
    reason = models.TextField(blank=True)
    changes = models.JSONField(default=dict, blank=True, help_text="field: [before, after]")

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-event_date", "-id"]
        indexes = [
            models.Index(fields=["case", "-event_date", "-id"]),
            models.Index(fields=["person", "-event_date", "-id"]),
        ]

    def __str__(self) -> str:
        return f"{self.event_date} {self.verb}: {self.summary}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit events cannot be deleted.")
