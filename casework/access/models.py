"""Exceptions to need to know (X-02): records restricted to named people, and emergency
("break-glass") access to a record a person would not otherwise see."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class RestrictionQuerySet(models.QuerySet["Restriction"]):
    def in_force(self) -> RestrictionQuerySet:
        return self.filter(lifted_at__isnull=True)


class Restriction(models.Model):
    """A person's records are restricted: their cases (and the person) are visible only to the
    named people, whatever team or role anyone else holds. For a member of staff, or their
    family, as the subject; or anyone whose records must be kept from the wider workforce.

    Emergency access cannot open a restricted record: that is the point of restricting it."""

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(auto_now_add=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lift_reason = models.TextField(blank=True)

    objects = RestrictionQuerySet.as_manager()

    class Meta:
        constraints = [
            # One restriction in force per person: naming people is done on it.
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(lifted_at__isnull=True),
                name="one_restriction_in_force_per_person",
            )
        ]

    def __str__(self) -> str:
        return f"Restriction {self.pk} on person {self.person_id}"


class RestrictionName(models.Model):
    """A person named on a restriction: they (and only they) may see the restricted records,
    within their usual need to know or not."""

    restriction = models.ForeignKey(Restriction, on_delete=models.CASCADE, related_name="names")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    named_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    named_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["restriction", "user"], name="named_once_per_restriction"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} named on restriction {self.restriction_id}"


class EmergencyOutcome(models.TextChoices):
    JUSTIFIED = "justified", "Justified"
    NOT_JUSTIFIED = "not_justified", "Not justified"


class EmergencyAccessQuerySet(models.QuerySet["EmergencyAccess"]):
    def active(self, now: object) -> EmergencyAccessQuerySet:
        return self.filter(expires_at__gt=now)

    def awaiting_review(self) -> EmergencyAccessQuerySet:
        return self.filter(outcome="")


class EmergencyAccess(models.Model):
    """Break-glass: a person opened a case they had no need to know about, giving a reason.

    It lasts until the end of the day it was opened (the council's local day), is on the audit
    log, is notified to the person's managers and the case's team managers, and stays on the
    review report until a manager records whether it was justified."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Part of the case's record (CASCADE: disposal takes it with the case). Empty only after
    # the case was disposed of under the retention schedule: the access log still points
    # here, so the row stays, its reason emptied, as part of the tombstone.
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    reason = models.TextField()
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    outcome = models.CharField(max_length=20, choices=EmergencyOutcome.choices, blank=True)
    outcome_note = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    objects = EmergencyAccessQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["user", "case", "expires_at"])]

    def __str__(self) -> str:
        return f"Emergency access {self.pk} to case {self.case_id}"
