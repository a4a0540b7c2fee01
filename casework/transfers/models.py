"""Moving a case between teams (procedure 004): a transfer request that the sending team
summarises, audits and authorises, and the receiving team accepts or declines. Case
responsibility moves only at the transfer point, and every worker the child had is kept."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from casework.core.dates import long_date
from casework.organisation.models import Team


class TransferState(models.TextChoices):
    REQUESTED = "requested", "Requested: summary, audit and authorisation in progress"
    AUTHORISED = "authorised", "Authorised: waiting for the receiving team"
    ACCEPTED = "accepted", "Accepted: moves at the transfer point"
    COMPLETED = "completed", "Completed"
    DECLINED = "declined", "Declined by the receiving team"
    WITHDRAWN = "withdrawn", "Withdrawn"


ACTIVE_TRANSFER_STATES = (
    TransferState.REQUESTED,
    TransferState.AUTHORISED,
    TransferState.ACCEPTED,
)


class Transfer(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="transfers")
    pack_id = models.CharField(max_length=60)
    protocol_id = models.CharField(max_length=60, blank=True)
    from_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    to_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    moves_responsibility = models.BooleanField(default=True)
    state = models.CharField(max_length=20, choices=TransferState.choices)
    version = models.PositiveIntegerField(default=1)
    rationale = models.TextField()
    request_details = models.JSONField(default=dict, blank=True)
    # Routing: what the pack recommended, and why a manager chose otherwise.
    trigger = models.CharField(max_length=60, blank=True)
    recommended_team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recommendation_rule = models.CharField(max_length=60, blank=True)
    override_reason = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_on = models.DateField()
    discussed_on = models.DateField(null=True, blank=True)
    agreed_transfer_date = models.DateField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    summary_submitted_at = models.DateTimeField(null=True, blank=True)
    audit = models.JSONField(default=dict, blank=True, help_text="item id: answer and note")
    audited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    authorised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    authorised_on = models.DateField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_on = models.DateField(null=True, blank=True)
    decline_reason = models.TextField(blank=True)
    receiving_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    completed_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(state__in=["requested", "authorised", "accepted"]),
                name="one_active_transfer_per_case",
            ),
        ]

    def __str__(self) -> str:
        return f"Transfer of {self.case} to {self.to_team} ({self.get_state_display()})"


class ReReferralReview(models.Model):
    """What the front-door worker concluded when a family came back, read against the last
    closure summary (R003-07)."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="re_referral_reviews"
    )
    previous_case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    previous_summary = models.ForeignKey(
        "closure.SignedDocument",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    pack_id = models.CharField(max_length=60)
    answers = models.JSONField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Re-referral review of {self.case}"


class PathwayState(models.TextChoices):
    REQUESTED = "requested", "Requested: waiting for a decision"
    DECIDED = "decided", "Decided"
    WITHDRAWN = "withdrawn", "Withdrawn"


class PathwayRequest(models.Model):
    """A step-down to early help, an escalation from it, or a transfer in or out of the
    authority (R004-07..R004-10): what was asked, by whom, with which form and meeting, and
    the decision with its rationale."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="pathways")
    pack_id = models.CharField(max_length=60)
    pathway_id = models.CharField(max_length=60)
    kind = models.CharField(max_length=20)
    to_team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    state = models.CharField(max_length=20, choices=PathwayState.choices)
    version = models.PositiveIntegerField(default=1)
    answers = models.JSONField(default=dict, blank=True)
    meeting_on = models.DateField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_on = models.DateField()
    outcome = models.CharField(max_length=60, blank=True)
    rationale = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case", "pathway_id"],
                condition=Q(state="requested"),
                name="one_open_request_per_pathway",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pathway_id} for {self.case}"


class OutOfAreaPlacement(models.Model):
    """The duty fostering register: looked-after children placed in another authority's
    area, each with the notification sent to that authority (R004-10)."""

    request = models.OneToOneField(
        PathwayRequest, on_delete=models.PROTECT, related_name="placement_entry"
    )
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="out_of_area_placements"
    )
    host_authority = models.CharField(max_length=200)
    placed_on = models.DateField()
    placement_type = models.CharField(max_length=60)
    placement_address = models.TextField()
    host_contact = models.CharField(max_length=300)
    notification_sent_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-placed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.case} placed in {self.host_authority} on {long_date(self.placed_on)}"
