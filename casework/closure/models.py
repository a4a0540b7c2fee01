"""The planned closure of a case (R000-01): an explicit state machine driven by the bound
policy pack, with every step, decision, form, checklist answer and signature on record."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ClosureState(models.TextChoices):
    PROPOSED = "proposed", "Proposed: awaiting the manager's decision"
    FURTHER_ACTIONS = "further_actions", "Further actions required"
    AGREED = "agreed", "Agreed: summary, audit and authorisation in progress"
    AUTHORISED = "authorised", "Authorised: final steps in progress"
    CLOSED = "closed", "Closed"
    WITHDRAWN = "withdrawn", "Withdrawn"
    REJECTED = "rejected", "Rejected"


ACTIVE_STATES = (
    ClosureState.PROPOSED,
    ClosureState.FURTHER_ACTIONS,
    ClosureState.AGREED,
    ClosureState.AUTHORISED,
)


class Closure(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="closures")
    pack_id = models.CharField(max_length=60, help_text="The pack bound when it was proposed.")
    reason_id = models.CharField(max_length=60)
    reason_label = models.CharField(max_length=200)
    national_code = models.CharField(max_length=60)
    state = models.CharField(max_length=20, choices=ClosureState.choices)
    # Bumped by every transition: a transition applies only to the version it read, so two
    # people acting at once give one success and one clean refusal.
    version = models.PositiveIntegerField(default=1)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_on = models.DateField()
    proposal_note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_on = models.DateField(null=True, blank=True)
    authorised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    authorised_on = models.DateField(null=True, blank=True)
    compliance_review = models.TextField(blank=True)
    closed_on = models.DateField(null=True, blank=True)
    ended_reason = models.TextField(blank=True, help_text="Why it was withdrawn or rejected.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(state__in=["proposed", "further_actions", "agreed", "authorised"]),
                name="one_active_closure_per_case",
            ),
        ]

    def __str__(self) -> str:
        return f"Closure of {self.case} ({self.get_state_display()})"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES


class StepRecord(models.Model):
    """A pack step done: who, when, and what they recorded."""

    closure = models.ForeignKey(Closure, on_delete=models.CASCADE, related_name="steps")
    step_id = models.CharField(max_length=60)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    done_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=40, blank=True)
    note = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["done_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["closure", "step_id"], name="step_done_once"),
        ]

    def __str__(self) -> str:
        return f"{self.step_id} done"


class FurtherAction(models.Model):
    closure = models.ForeignKey(Closure, on_delete=models.CASCADE, related_name="actions")
    description = models.CharField(max_length=500)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.description


class GateAgreement(models.Model):
    """A named role's agreement to go on although a gate is not met (needs_agreement), or the
    record of an escalation (escalate)."""

    closure = models.ForeignKey(Closure, on_delete=models.CASCADE, related_name="agreements")
    gate_id = models.CharField(max_length=60)
    agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(max_length=40)
    note = models.TextField()
    agreed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["closure", "gate_id"], name="agree_gate_once"),
        ]

    def __str__(self) -> str:
        return f"{self.gate_id} agreed"


class FormResponse(models.Model):
    """A form's answers: a draft autosaved as the worker types, then submitted. Pre-filled
    answers are marked with their source until the worker changes them."""

    closure = models.ForeignKey(Closure, on_delete=models.CASCADE, related_name="forms")
    form_id = models.CharField(max_length=60)
    answers = models.JSONField(default=dict)
    prefilled = models.JSONField(default=dict, help_text="field id: pre-fill source")
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["closure", "form_id"], name="one_response_per_form"),
        ]

    def __str__(self) -> str:
        return f"{self.form_id} for {self.closure}"


class ChecklistAnswer(models.Model):
    class Answer(models.TextChoices):
        YES = "yes", "Yes"
        NO = "no", "No"
        NOT_APPLICABLE = "na", "Not applicable"

    closure = models.ForeignKey(Closure, on_delete=models.CASCADE, related_name="checklist")
    checklist_id = models.CharField(max_length=60)
    item_id = models.CharField(max_length=60)
    automatic_result = models.BooleanField(null=True, blank=True)
    answer = models.CharField(max_length=3, choices=Answer.choices)
    overridden = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    evidence_date = models.DateField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["closure", "checklist_id", "item_id"], name="answer_item_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.checklist_id} {self.item_id}: {self.answer}"


class SignedDocument(models.Model):
    """The frozen content of a form once the first person signs it: canonical JSON and its
    SHA-256. Later signatures sign the same hash; a correction is a new linked version."""

    closure = models.ForeignKey(Closure, on_delete=models.PROTECT, related_name="documents")
    form_id = models.CharField(max_length=60)
    version = models.PositiveIntegerField(default=1)
    supersedes = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections"
    )
    content = models.JSONField()
    content_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["closure", "form_id", "version"], name="document_version_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.form_id} v{self.version}"


class Signature(models.Model):
    document = models.ForeignKey(
        SignedDocument, on_delete=models.PROTECT, related_name="signatures"
    )
    role = models.CharField(max_length=40)
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(auto_now_add=True)
    content_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["document", "role"], name="sign_role_once"),
        ]

    def __str__(self) -> str:
        return f"Signed by {self.signer} as {self.role}"


class Sharing(models.Model):
    """Who a summary was shared with, when and how (R003-06)."""

    class Method(models.TextChoices):
        IN_PERSON = "in_person", "Given in person"
        POST = "post", "Post"
        SECURE_EMAIL = "secure_email", "Secure email"
        EMAIL = "email", "Email"

    document = models.ForeignKey(SignedDocument, on_delete=models.PROTECT, related_name="sharings")
    recipient = models.CharField(max_length=200)
    recipient_kind = models.CharField(
        max_length=20, choices=[("family", "Family"), ("professional", "Professional")]
    )
    method = models.CharField(max_length=20, choices=Method.choices)
    shared_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"Shared with {self.recipient}"
