"""Records retention (X-04): the review of a person's records once their retention period
has run, the reviewer's decision, and legal holds that stop destruction.

The schedule itself (which record class a case is in, the date its period runs from and how
many years) is the bound policy pack's `retention` section: see `casework.retention.schedule`
and docs/retention.md. Rows here are written only by `casework.retention.services`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from casework.organisation.models import ServiceArea


class ReviewState(models.TextChoices):
    DUE = "due", "Due for review"
    RETAINED = "retained", "Kept for longer"
    ARCHIVED = "archived", "Archived"
    DESTROYED = "destroyed", "Destroyed"


DECIDED_STATES = (ReviewState.RETAINED, ReviewState.ARCHIVED, ReviewState.DESTROYED)


class RetentionReview(models.Model):
    """One review of one person's whole record (the person and all their cases), listed by
    the nightly sweep when the latest retention date across their cases has passed.

    Holds no personal data of its own beyond the link to the person, which disposal clears
    (SET_NULL), so that a destroyed review stays as the record of the decision: which class,
    which date, who decided and when."""

    person = models.ForeignKey(
        "people.Person",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty once the records have been destroyed.",
    )
    service_area = models.CharField(
        max_length=20,
        choices=ServiceArea.choices,
        help_text="The service area of the case whose class set the date: its reviewers decide.",
    )
    record_class = models.CharField(max_length=60, help_text="The deciding class's id.")
    record_class_label = models.CharField(max_length=200)
    basis = models.TextField(help_text="The law or policy the period comes from.")
    trigger = models.CharField(max_length=30, help_text="The date the period runs from.")
    years = models.PositiveSmallIntegerField()
    due_on = models.DateField(help_text="When the retention period ended.")
    classes = models.JSONField(
        default=list, blank=True, help_text="Every class any of the person's cases is in."
    )
    note = models.CharField(
        max_length=300,
        blank=True,
        help_text="How the date was worked out when a trigger date is not recorded.",
    )
    listed_on = models.DateField(help_text="The day the sweep listed it.")
    state = models.CharField(max_length=20, choices=ReviewState.choices, default=ReviewState.DUE)
    reason = models.TextField(blank=True, help_text="Why the records are kept or archived.")
    next_review_on = models.DateField(
        null=True, blank=True, help_text="Kept or archived: when to look at them again."
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            # The sweep checks first; this stops two sweeps listing a person twice at once.
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(state="due"),
                name="one_open_retention_review_per_person",
            ),
            models.CheckConstraint(
                condition=~Q(state="retained") | Q(next_review_on__isnull=False),
                name="retained_records_have_a_next_review",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "service_area", "due_on", "id"]),
            models.Index(fields=["person", "-id"]),
        ]

    def __str__(self) -> str:
        return f"Retention review {self.pk} ({self.get_state_display()})"

    @property
    def is_open(self) -> bool:
        return self.state == ReviewState.DUE


class LegalHoldQuerySet(models.QuerySet["LegalHold"]):
    def in_force(self) -> LegalHoldQuerySet:
        return self.filter(lifted_at__isnull=True)


class LegalHold(models.Model):
    """Records that must not be destroyed (an inquiry, litigation, a complaint): one person's,
    every record of one class in a service area, or every record in a service area. A hold
    in force blocks destruction; it does not stop records being kept or archived."""

    service_area = models.CharField(max_length=20, choices=ServiceArea.choices)
    # A person's hold is part of their record: it goes with it (but a hold in force stops
    # the record from being destroyed in the first place).
    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    record_class = models.CharField(
        max_length=60, blank=True, help_text="A retention class id: every record in that class."
    )
    reference = models.CharField(
        max_length=200, blank=True, help_text="e.g. the inquiry's name or a legal case number."
    )
    reason = models.TextField()
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(auto_now_add=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lift_reason = models.TextField(blank=True)

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=True) | Q(record_class=""),
                name="legal_hold_one_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"Legal hold {self.pk}"

    @property
    def in_force(self) -> bool:
        return self.lifted_at is None

    @property
    def scope(self) -> str:
        if self.person_id is not None:
            return "person"
        return "class" if self.record_class else "area"


class RetentionEstimate(models.Model):
    """The sweep's working note of when a person's record next falls due, so that a night's
    sweep re-reads only the people whose date has come, whose note is older than a month, or
    whose schedule changed, instead of every case in the authority. Never used to destroy:
    a review is listed, and destruction allowed, only on a fresh calculation."""

    person = models.OneToOneField("people.Person", on_delete=models.CASCADE, related_name="+")
    due_on = models.DateField(null=True, blank=True, help_text="Empty: no class covers a case.")
    computed_on = models.DateField()
    schedule = models.CharField(max_length=64, help_text="Fingerprint of the schedule used.")

    class Meta:
        indexes = [models.Index(fields=["due_on"])]

    def __str__(self) -> str:
        return f"Retention estimate for person {self.person_id}"
