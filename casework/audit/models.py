"""The append-only audit log, which is also every case's chronology (X-01)."""

from __future__ import annotations

from typing import Any, NoReturn, TypeVar

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
    ACCESS = "access", "Access to records"


class AppendOnlyError(Exception):
    """Raised by the model before any SQL. The database refuses too (IntegrityError), for the
    paths this guard cannot see: casework/audit/integrity.py and migration 0004."""


_Row = TypeVar("_Row", bound=models.Model)


class AppendOnlyQuerySet(models.QuerySet[_Row]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit and access log entries cannot be changed.")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("Audit and access log entries cannot be deleted.")


class AuditEventQuerySet(AppendOnlyQuerySet["AuditEvent"]):
    pass


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


class AccessChannel(models.TextChoices):
    WEB = "web", "Web page"
    API = "api", "API"
    BACKGROUND = "background", "Background job"


class AccessAction(models.TextChoices):
    VIEWED = "viewed", "Viewed"
    DOWNLOADED = "downloaded", "Downloaded"
    EXPORTED = "exported", "Exported"


class AccessEventQuerySet(AppendOnlyQuerySet["AccessEvent"]):
    """Append-only, like the audit log (and guarded by the same database triggers)."""


class AccessEvent(models.Model):
    """One look at personal data (X-02): every view of a case or person record, every download
    and every export. Writes are in `AuditEvent`; this log is for reads, so that a manager can
    see who has seen a record. Append-only, like the audit log."""

    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty only for an export run by the system on nobody's behalf.",
    )
    channel = models.CharField(max_length=12, choices=AccessChannel.choices)
    action = models.CharField(max_length=12, choices=AccessAction.choices)
    # Where: the page or API operation (its URL name) and the path, which carries only IDs.
    url_name = models.CharField(max_length=100, blank=True)
    path = models.CharField(max_length=300, blank=True)
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    summary = models.CharField(
        max_length=300, help_text="What was seen, in a line (redacted when records are disposed)."
    )
    emergency_access = models.ForeignKey(
        "access.EmergencyAccess",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="views",
        help_text="Set when the record was open to this person only by emergency access.",
    )

    objects = AccessEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["case", "-occurred_at"]),
            models.Index(fields=["person", "-occurred_at"]),
            models.Index(fields=["actor", "-occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.action}: {self.summary}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Access log entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Access log entries cannot be deleted.")
