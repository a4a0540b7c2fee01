"""Cases and the work recorded on them: referrals, assessments, plans, visits, notes,
meetings, supervision, managers' decisions, consents and documents.

Rows here are written only by `casework.cases.services`, which audits every change.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from casework.core.codes import CategoryOfAbuse, LegalStatus, PrimaryNeed, ReferralSource
from casework.organisation.models import ServiceArea, Team
from casework.people.models import Person


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class RiskFlag(models.TextChoices):
    """Flags procedures use to route or escalate (e.g. procedure 002's high-risk clients)."""

    HIGH_RISK = "high_risk", "High risk"
    COMPLEX = "complex", "Complex"
    SELF_NEGLECT = "self_neglect", "Self-neglect"
    DISENGAGING = "disengaging", "Issues with engagement"
    DOMESTIC_ABUSE = "domestic_abuse", "Domestic abuse"


class Case(models.Model):
    reference = models.CharField(max_length=20, unique=True)
    service_area = models.CharField(max_length=20, choices=ServiceArea.choices)
    subject = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="cases")
    responsible_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="cases")
    # The current allocation, kept in step by the allocation service so lists need no join
    # through the history; `Allocation` rows are the record.
    allocated_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="allocated_cases",
    )
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    opened_on = models.DateField()
    closed_on = models.DateField(null=True, blank=True)
    closure_reason = models.CharField(max_length=40, blank=True)
    is_complex = models.BooleanField(
        null=True, blank=True, help_text="Unknown until someone decides and records it."
    )
    risk_flags = models.JSONField(default=list, blank=True, help_text="RiskFlag codes.")
    complexity_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-opened_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=F("opened_on")),
                name="case_closes_after_opening",
            ),
        ]
        indexes = [
            # The team and "my cases" lists: newest first by keyset, read straight off the
            # index at any size (the id breaks ties between cases opened the same day).
            models.Index(
                fields=["responsible_team", "status", "-opened_on", "-id"],
                name="case_team_list",
            ),
            models.Index(
                fields=["allocated_worker", "status", "-opened_on", "-id"],
                name="case_worker_list",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class Allocation(models.Model):
    """Who held the case, in which team, and when: every worker a child has had is kept."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="allocations")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-started_on", "-id"]

    def __str__(self) -> str:
        return f"{self.worker or 'Unallocated'}, {self.team} from {self.started_on}"


class ReferralKind(models.TextChoices):
    CONTACT = "contact", "Contact"
    REFERRAL = "referral", "Referral"


class Referral(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="referrals")
    kind = models.CharField(max_length=10, choices=ReferralKind.choices)
    received_on = models.DateField()
    source = models.CharField(max_length=3, choices=ReferralSource.choices)
    primary_need = models.CharField(max_length=2, choices=PrimaryNeed.choices, blank=True)
    reason = models.TextField()
    no_further_action = models.BooleanField(default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-received_on", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} received {self.received_on}"


class AssessmentKind(models.TextChoices):
    SINGLE = "single", "Single assessment (children)"
    SHORT = "short", "Short assessment (28 days)"
    CIN = "cin", "Child in need assessment"
    EARLY_HELP = "early_help", "Early help assessment"
    CARE_ACT = "care_act", "Care Act assessment"
    CARE_ACT_REVIEW = "care_act_review", "Care Act review"
    CARER = "carer", "Carer's assessment"
    MENTAL_CAPACITY = "mental_capacity", "Mental capacity assessment"
    PREVENT_LOOKED_AFTER = (
        "prevent_looked_after",
        "Assessment of services to prevent becoming looked after again",
    )


class CapacityOutcome(models.TextChoices):
    HAS_CAPACITY = "has_capacity", "Has capacity for this decision"
    LACKS_CAPACITY = "lacks_capacity", "Lacks capacity for this decision"


class Assessment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assessments")
    kind = models.CharField(max_length=30, choices=AssessmentKind.choices)
    started_on = models.DateField()
    completed_on = models.DateField(null=True, blank=True)
    authorised_on = models.DateField(null=True, blank=True)
    authorised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sent_to = models.CharField(max_length=300, blank=True)
    factors = models.JSONField(default=list, blank=True, help_text="CIN assessment factor codes.")
    outcome = models.TextField(blank=True)
    capacity = models.CharField(
        max_length=20,
        choices=CapacityOutcome.choices,
        blank=True,
        help_text="Mental capacity assessments: the outcome for the decision assessed.",
    )
    eligible_unmet_needs = models.BooleanField(
        null=True, blank=True, help_text="Care Act: eligible needs not yet met (unknown if empty)."
    )
    offered_and_declined = models.BooleanField(
        default=False, help_text="Offered (e.g. a carer's assessment) and declined."
    )

    class Meta:
        ordering = ["-started_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(completed_on__isnull=True) | Q(completed_on__gte=F("started_on")),
                name="assessment_completes_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} started {self.started_on}"


class PlanKind(models.TextChoices):
    CHILD_IN_NEED = "cin", "Child in need plan"
    CHILD_PROTECTION = "cp", "Child protection plan"
    LOOKED_AFTER = "lac", "Looked after (care episode)"
    EARLY_HELP = "early_help", "Early help plan"
    ADULT_CARE_SUPPORT = "adult_care_support", "Care and support plan"
    ADULT_PROTECTION = "adult_protection", "Adult protection plan"
    DOLS = "dols", "Deprivation of Liberty Safeguards authorisation"
    SAFETY = "safety", "Safety plan"


class Plan(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="plans")
    kind = models.CharField(max_length=30, choices=PlanKind.choices)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    initial_category = models.CharField(
        max_length=3, choices=CategoryOfAbuse.choices, blank=True, help_text="CP plans only."
    )
    latest_category = models.CharField(max_length=3, choices=CategoryOfAbuse.choices, blank=True)
    legal_status = models.CharField(
        max_length=2, choices=LegalStatus.choices, blank=True, help_text="Looked-after only."
    )
    summary = models.TextField(blank=True)
    outcome = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="plan_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["case", "kind", "ended_on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.started_on}"


class Section47Outcome(models.TextChoices):
    """How a section 47 enquiry ended (CIN census: DateOfInitialCPC or ICPCnotRequired)."""

    ICPC = "icpc", "Initial child protection conference to take place"
    NO_ICPC = "no_icpc", "Initial child protection conference not required"


class Section47Enquiry(models.Model):
    """A section 47 (Children Act 1989) child protection enquiry. It is open until its
    outcome is recorded; the census counts it complete once a conference date is recorded
    or a conference is not required (rule 8868)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="section47_enquiries")
    started_on = models.DateField(help_text="Usually the strategy discussion's date.")
    icpc_target_on = models.DateField(
        null=True,
        blank=True,
        help_text="When the initial child protection conference should be held by.",
    )
    outcome = models.CharField(
        max_length=10, choices=Section47Outcome.choices, blank=True, help_text="Empty: open."
    )
    concluded_on = models.DateField(null=True, blank=True)
    icpc_on = models.DateField(
        null=True,
        blank=True,
        help_text="The conference date: may be booked ahead; the census counts it once held.",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-started_on", "-id"]
        verbose_name = "section 47 enquiry"
        verbose_name_plural = "section 47 enquiries"
        constraints = [
            models.CheckConstraint(
                condition=Q(icpc_on__isnull=True) | Q(icpc_on__gte=F("started_on")),
                name="s47_conference_after_start",
            ),
            models.CheckConstraint(
                condition=Q(outcome="icpc") | Q(icpc_on__isnull=True),
                name="s47_conference_only_when_held",
            ),
            # The service refuses a second open enquiry; this stops two at the same moment.
            models.UniqueConstraint(
                fields=["case"], condition=Q(outcome=""), name="one_open_s47_per_case"
            ),
        ]

    def __str__(self) -> str:
        return f"Section 47 enquiry from {self.started_on}"


class Visit(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="visits")
    visited_on = models.DateField()
    visited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    subject_seen = models.BooleanField(help_text="The child or adult was seen.")
    seen_alone = models.BooleanField(default=False)
    home_visited = models.BooleanField(
        default=False, help_text="The home or accommodation was visited."
    )
    face_to_face = models.BooleanField(default=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-visited_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(seen_alone=False) | Q(subject_seen=True),
                name="visit_seen_alone_means_seen",
            ),
        ]
        indexes = [models.Index(fields=["case", "-visited_on"])]

    def __str__(self) -> str:
        return f"Visit on {self.visited_on}"


class NoteKind(models.TextChoices):
    GENERAL = "general", "Case note"
    CLOSURE_DISCUSSION = "closure_discussion", "Closure discussion"
    TELEPHONE = "telephone", "Telephone call"
    MANAGEMENT_OVERSIGHT = "management_oversight", "Management oversight"


class CaseNote(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(max_length=30, choices=NoteKind.choices, default=NoteKind.GENERAL)
    occurred_on = models.DateField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    body = models.TextField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_on", "-id"]

    def __str__(self) -> str:
        return self.title


class MeetingKind(models.TextChoices):
    CIN_MEETING = "cin_meeting", "Child in need meeting"
    CIN_REVIEW = "cin_review", "Child in need review"
    STRATEGY = "strategy", "Strategy discussion"
    INITIAL_CP_CONFERENCE = "icpc", "Initial child protection conference"
    CP_REVIEW = "cp_review", "Child protection review conference"
    CORE_GROUP = "core_group", "Core group"
    LAC_REVIEW = "lac_review", "Looked-after review"
    CARE_TEAM = "care_team", "Care team meeting"
    TRANSFER = "transfer", "Transfer meeting"
    FINAL = "final", "Final meeting with family and agencies"
    TEAM_AROUND_FAMILY = "taf", "Team around the family"
    LEGAL_GATEWAY = "legal_gateway", "Legal gateway"
    MULTI_AGENCY = "multi_agency", "Multi-agency meeting (MARAC, MAPPA, MASH)"
    OTHER = "other", "Other meeting"


class Meeting(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="meetings")
    kind = models.CharField(max_length=30, choices=MeetingKind.choices)
    held_on = models.DateField()
    attendees = models.JSONField(
        default=list, blank=True, help_text='A list of {"name": ..., "role": ...} entries.'
    )
    minutes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.held_on}"


class SupervisionRecord(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="supervisions")
    held_on = models.DateField()
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    discussion = models.TextField()
    actions = models.TextField(blank=True)

    class Meta:
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"Supervision on {self.held_on}"


class DecisionKind(models.TextChoices):
    PROCEED_TO_ASSESSMENT = "proceed_to_assessment", "Proceed to assessment"
    NO_FURTHER_ACTION = "nfa", "No further action"
    ADVISE_CLOSURE = "advise_closure", "Advise closure"
    STEP_DOWN = "step_down", "Step down to early help"
    TRANSFER = "transfer", "Transfer to another team"
    ALLOCATE = "allocate", "Allocate"
    OTHER = "other", "Other decision"


class ManagerDecision(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="decisions")
    kind = models.CharField(max_length=30, choices=DecisionKind.choices)
    decided_on = models.DateField()
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.TextField()
    rationale = models.TextField(blank=True)

    class Meta:
        ordering = ["-decided_on", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.decided_on}"


class ConsentKind(models.TextChoices):
    SHARE_INFORMATION = "share_information", "Consent to share information"
    ASSESSMENT = "assessment", "Consent to assessment"
    EARLY_HELP = "early_help", "Consent to early help"


class Consent(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=30, choices=ConsentKind.choices)
    given_by = models.CharField(max_length=200)
    given_on = models.DateField()
    signed = models.BooleanField(default=False)
    withdrawn_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-given_on", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.given_by}"


class DocumentKind(models.TextChoices):
    MINUTES = "minutes", "Meeting minutes"
    GENOGRAM = "genogram", "Genogram"
    CHRONOLOGY = "chronology", "Chronology"
    ASSESSMENT = "assessment", "Assessment"
    PLAN = "plan", "Plan"
    CONSENT = "consent", "Signed consent"
    LETTER = "letter", "Letter"
    REPORT = "report", "Report"
    BEST_INTEREST = "best_interest", "Best interest decision notes"
    SUPPORT_PLAN = "support_plan", "Support plan"
    OTHER = "other", "Other"


class Document(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    title = models.CharField(max_length=200)
    file = models.FileField(upload_to="documents/%Y/%m/")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return self.title
