"""The one write path for cases. Each function checks access and input, writes, and appends
an audit event, all in one transaction: a refused call writes nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from casework.access.policy import case_for, require_manager_for
from casework.accounts.models import User
from casework.audit.models import AuditCategory
from casework.audit.services import audit_record
from casework.cases.models import (
    Allocation,
    Assessment,
    AssessmentKind,
    CapacityOutcome,
    Case,
    CaseNote,
    CaseStatus,
    Consent,
    ConsentKind,
    DecisionKind,
    Document,
    DocumentKind,
    ManagerDecision,
    Meeting,
    MeetingKind,
    NoteKind,
    Plan,
    PlanKind,
    Referral,
    ReferralKind,
    RiskFlag,
    Section47Enquiry,
    Section47Outcome,
    SupervisionRecord,
    Visit,
)
from casework.core.codes import (
    ASSESSMENT_FACTORS,
    CategoryOfAbuse,
    LegalStatus,
    PrimaryNeed,
    ReferralSource,
)
from casework.core.errors import InvalidInput, NotPermitted, ProblemCollector
from casework.organisation.models import SERVICE_AREA_WIDE_ROLES, Membership, ServiceArea, Team
from casework.people.models import Person

# A referral may be made before birth, but not earlier than this (CIN rule 8606: 40 weeks).
_UNBORN_REFERRAL_WINDOW = dt.timedelta(weeks=40)


def _fmt(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _check_date(
    problems: ProblemCollector,
    field: str,
    day: dt.date,
    what: str,
    *,
    case: Case | None = None,
    subject: Person | None = None,
) -> None:
    """The checks every recorded date shares: not in the future, not before the subject was
    born, not after they died, and not before the case was opened."""
    subject = subject or (case.subject if case else None)
    if day > timezone.localdate():
        problems.add(field, f"The {what} date cannot be in the future.")
    if subject is not None:
        if subject.date_of_birth and day < subject.date_of_birth:
            problems.add(
                field,
                f"The {what} date is before {subject.full_name} was born "
                f"({_fmt(subject.date_of_birth)}): check the date.",
            )
        if subject.date_of_death and day > subject.date_of_death:
            problems.add(
                field,
                f"The {what} date is after {subject.full_name} died "
                f"({_fmt(subject.date_of_death)}): check the date.",
            )
    if case is not None and day < case.opened_on:
        problems.add(
            field,
            f"The {what} date is before this case was opened ({_fmt(case.opened_on)}). "
            "Record earlier involvement on the earlier case.",
        )


def _writable_case(actor: User, case: Case) -> Case:
    """Re-read the case through the access selector (NotFound if not visible) and refuse
    changes to a closed case: closed history is never edited."""
    visible = case_for(actor, case.pk)
    if visible.status == CaseStatus.CLOSED:
        raise InvalidInput(
            f"Case {visible.reference} is closed, so nothing new can be recorded on it. "
            "If the family needs help again, record a new contact or referral."
        )
    return visible


def _require_team_member(worker: User, team: Team, field: str) -> None:
    if not Membership.objects.current().filter(user=worker, team=team).exists():
        raise InvalidInput(
            f"{worker.display_name} is not a current member of {team.name}: choose someone "
            "in that team, or leave the case unallocated.",
            field=field,
        )


@transaction.atomic
def case_open(
    *,
    actor: User,
    subject: Person,
    team: Team,
    received_on: dt.date,
    source: str,
    reason: str,
    kind: str = ReferralKind.REFERRAL,
    primary_need: str = "",
    allocated_worker: User | None = None,
) -> Case:
    """Open a case for `subject` from a contact or referral, held by `team`."""
    may_open = Membership.objects.current().filter(
        Q(team=team) | Q(role__in=SERVICE_AREA_WIDE_ROLES, team__service_area=team.service_area),
        user=actor,
    )
    if not may_open.exists():
        raise NotPermitted(
            f"You can open cases only in your own team, not in {team.name}. Open it in your "
            "team and transfer it, or ask someone in that team."
        )
    found = Person.objects.filter(pk=subject.pk).first() if subject.pk else None
    if found is None:
        raise InvalidInput(
            "There is no person with that ID. Search for the person, or add them first.",
            field="subject",
        )
    subject = found
    problems = ProblemCollector()
    problems.check(
        team.holds_cases and team.active,
        "team",
        f"{team.name} does not hold cases: choose a team that does.",
    )
    problems.check(source in ReferralSource.values, "source", "Select the referral source.")
    problems.check(
        kind in ReferralKind.values, "kind", "Say whether this is a contact or referral."
    )
    problems.check(bool(reason.strip()), "reason", "Enter the reason for the referral.")
    if primary_need:
        problems.check(
            primary_need in PrimaryNeed.values, "primary_need", "Select the primary need code."
        )
    birth = subject.date_of_birth or subject.expected_date_of_birth
    if received_on > timezone.localdate():
        problems.add("received_on", "The date received cannot be in the future.")
    if birth and received_on < birth - _UNBORN_REFERRAL_WINDOW:
        problems.add(
            "received_on",
            "A referral cannot be more than 40 weeks before the child's (expected) birth.",
        )
    if subject.date_of_death and received_on > subject.date_of_death:
        problems.add("received_on", f"{subject.full_name} has died: a new case cannot be opened.")
    existing = Case.objects.filter(
        subject=subject, service_area=team.service_area, status=CaseStatus.OPEN
    ).first()
    if existing:
        problems.add(
            "subject",
            f"{subject.full_name} already has an open case ({existing.reference}). "
            "Record the new contact on that case instead.",
        )
    problems.raise_if_any()
    if allocated_worker is not None:
        _require_team_member(allocated_worker, team, "allocated_worker")

    case = Case.objects.create(
        reference=f"T{uuid.uuid4().hex[:18]}",
        service_area=team.service_area,
        subject=subject,
        responsible_team=team,
        allocated_worker=allocated_worker,
        opened_on=received_on,
    )
    case.reference = f"C{case.pk:07d}"
    case.save(update_fields=["reference"])
    referral = Referral.objects.create(
        case=case,
        kind=kind,
        received_on=received_on,
        source=source,
        primary_need=primary_need,
        reason=reason.strip(),
        recorded_by=actor,
    )
    Allocation.objects.create(
        case=case,
        team=team,
        worker=allocated_worker,
        started_on=received_on,
        reason="Case opened",
    )
    audit_record(
        actor=actor,
        verb="case.opened",
        category=AuditCategory.CASE,
        obj=case,
        case=case,
        person=subject,
        event_date=received_on,
        summary=f"Case opened in {team.name} from a {ReferralKind(kind).label.lower()} "
        f"({ReferralSource(source).label})",
        changes={"referral": [None, referral.pk]},
    )
    return case


@transaction.atomic
def case_allocate(
    *, actor: User, case: Case, worker: User | None, started_on: dt.date, reason: str = ""
) -> Allocation:
    """Allocate (or unallocate) the case within its current team, keeping the history."""
    case = _writable_case(actor, case)
    require_manager_for(actor, case, "allocate it")
    if worker is not None:
        _require_team_member(worker, case.responsible_team, "worker")
    current = case.allocations.filter(ended_on__isnull=True).first()
    problems = ProblemCollector()
    _check_date(problems, "started_on", started_on, "allocation", case=case)
    if current and started_on < current.started_on:
        problems.add("started_on", "The new allocation cannot start before the current one.")
    if current and current.worker_id == (worker.pk if worker else None):
        problems.add("worker", "The case is already allocated that way.")
    problems.raise_if_any()
    if current:
        current.ended_on = started_on
        current.save(update_fields=["ended_on"])
    allocation = Allocation.objects.create(
        case=case,
        team=case.responsible_team,
        worker=worker,
        started_on=started_on,
        reason=reason,
    )
    before = case.allocated_worker
    Case.objects.filter(pk=case.pk).update(allocated_worker=worker)
    audit_record(
        actor=actor,
        verb="case.allocated",
        category=AuditCategory.ALLOCATION,
        obj=allocation,
        case=case,
        person=case.subject,
        event_date=started_on,
        reason=reason,
        summary=f"Allocated to {worker.display_name}" if worker else "Unallocated",
        changes={"allocated_worker": [before, worker]},
    )
    return allocation


@transaction.atomic
def case_risk_flags_set(*, actor: User, case: Case, flags: list[str], reason: str) -> Case:
    """Set the case's risk flags (high risk, self-neglect, ...), which procedures use to
    escalate. The reason is kept with the change."""
    case = _writable_case(actor, case)
    problems = ProblemCollector()
    unknown = sorted(set(flags) - set(RiskFlag.values))
    problems.check(not unknown, "flags", f"Unknown risk flags: {', '.join(unknown)}.")
    problems.check(bool(reason.strip()), "reason", "Say why the risk flags changed.")
    problems.raise_if_any()
    before = list(case.risk_flags)
    after = sorted(set(flags))
    if before == after:
        return case
    case.risk_flags = after
    case.save(update_fields=["risk_flags"])
    labels = ", ".join(RiskFlag(f).label.lower() for f in after) or "none"
    audit_record(
        actor=actor,
        verb="case.risk_flags_set",
        category=AuditCategory.CASE,
        obj=case,
        case=case,
        person=case.subject,
        reason=reason.strip(),
        summary=f"Risk flags: {labels}",
        changes={"risk_flags": [before, after]},
    )
    return case


@transaction.atomic
def case_complexity_decide(*, actor: User, case: Case, is_complex: bool, reason: str) -> Case:
    """Record the decision whether the case is complex (procedure 000 asks for extra
    closing-summary headings when it is); a manager decides."""
    case = _writable_case(actor, case)
    require_manager_for(actor, case, "decide whether the case is complex")
    if not reason.strip():
        raise InvalidInput("Say why the case is or is not complex.", field="reason")
    before = case.is_complex
    case.is_complex = is_complex
    case.complexity_decided_by = actor
    case.save(update_fields=["is_complex", "complexity_decided_by"])
    audit_record(
        actor=actor,
        verb="case.complexity_decided",
        category=AuditCategory.CASE,
        obj=case,
        case=case,
        person=case.subject,
        reason=reason.strip(),
        summary="Decided: complex case" if is_complex else "Decided: not a complex case",
        changes={"is_complex": [before, is_complex]},
    )
    return case


@transaction.atomic
def referral_record(
    *,
    actor: User,
    case: Case,
    received_on: dt.date,
    source: str,
    reason: str,
    kind: str = ReferralKind.CONTACT,
    primary_need: str = "",
    no_further_action: bool = False,
) -> Referral:
    case = _writable_case(actor, case)
    problems = ProblemCollector()
    _check_date(problems, "received_on", received_on, "received", case=case)
    problems.check(source in ReferralSource.values, "source", "Select the referral source.")
    problems.check(
        kind in ReferralKind.values, "kind", "Say whether this is a contact or referral."
    )
    problems.check(bool(reason.strip()), "reason", "Enter the reason for the contact.")
    if primary_need:
        problems.check(
            primary_need in PrimaryNeed.values, "primary_need", "Select the primary need code."
        )
    problems.raise_if_any()
    referral = Referral.objects.create(
        case=case,
        kind=kind,
        received_on=received_on,
        source=source,
        reason=reason.strip(),
        primary_need=primary_need,
        no_further_action=no_further_action,
        recorded_by=actor,
    )
    audit_record(
        actor=actor,
        verb="referral.recorded",
        category=AuditCategory.REFERRAL,
        obj=referral,
        case=case,
        person=case.subject,
        event_date=received_on,
        summary=f"{ReferralKind(kind).label} received ({ReferralSource(source).label})",
    )
    return referral


@transaction.atomic
def assessment_start(*, actor: User, case: Case, kind: str, started_on: dt.date) -> Assessment:
    case = _writable_case(actor, case)
    problems = ProblemCollector()
    problems.check(kind in AssessmentKind.values, "kind", "Select the type of assessment.")
    _check_date(problems, "started_on", started_on, "assessment start", case=case)
    if (
        kind in AssessmentKind.values
        and case.assessments.filter(kind=kind, completed_on__isnull=True).exists()
    ):
        problems.add(
            "kind",
            f"A {AssessmentKind(kind).label.lower()} is already in progress: complete it first.",
        )
    problems.raise_if_any()
    assessment = Assessment.objects.create(case=case, kind=kind, started_on=started_on)
    audit_record(
        actor=actor,
        verb="assessment.started",
        category=AuditCategory.ASSESSMENT,
        obj=assessment,
        case=case,
        person=case.subject,
        event_date=started_on,
        summary=f"{AssessmentKind(kind).label} started",
    )
    return assessment


@transaction.atomic
def assessment_complete(
    *,
    actor: User,
    assessment: Assessment,
    completed_on: dt.date,
    outcome: str,
    factors: list[str] | None = None,
    sent_to: str = "",
    authorise: bool = False,
    capacity: str = "",
    eligible_unmet_needs: bool | None = None,
    offered_and_declined: bool = False,
) -> Assessment:
    """Complete an assessment; a manager may authorise it at the same time."""
    case = _writable_case(actor, assessment.case)
    assessment = Assessment.objects.select_for_update().get(pk=assessment.pk, case=case)
    factors = factors or []
    problems = ProblemCollector()
    if assessment.completed_on is not None:
        problems.add(None, "This assessment is already complete.")
    _check_date(problems, "completed_on", completed_on, "completion", case=case)
    if completed_on < assessment.started_on:
        problems.add(
            "completed_on",
            f"An assessment cannot be completed before it started ({_fmt(assessment.started_on)}).",
        )
    problems.check(bool(outcome.strip()), "outcome", "Enter the outcome of the assessment.")
    unknown = [f for f in factors if f not in ASSESSMENT_FACTORS]
    problems.check(not unknown, "factors", f"Unknown assessment factor codes: {unknown}.")
    problems.check(
        not ("21" in factors and len(factors) > 1),
        "factors",
        "'No factors identified' cannot be combined with other factors.",
    )
    if capacity:
        problems.check(
            capacity in CapacityOutcome.values, "capacity", "Select the capacity outcome."
        )
        problems.check(
            assessment.kind == AssessmentKind.MENTAL_CAPACITY,
            "capacity",
            "Only a mental capacity assessment records a capacity outcome.",
        )
    problems.raise_if_any()
    if authorise:
        require_manager_for(actor, case, "authorise an assessment")
        assessment.authorised_on = completed_on
        assessment.authorised_by = actor
    assessment.completed_on = completed_on
    assessment.outcome = outcome.strip()
    assessment.factors = factors
    assessment.sent_to = sent_to.strip()
    assessment.capacity = capacity
    assessment.eligible_unmet_needs = eligible_unmet_needs
    assessment.offered_and_declined = offered_and_declined
    assessment.save()
    audit_record(
        actor=actor,
        verb="assessment.completed",
        category=AuditCategory.ASSESSMENT,
        obj=assessment,
        case=case,
        person=case.subject,
        event_date=completed_on,
        summary=f"{assessment.get_kind_display()} completed"
        + (" and authorised" if authorise else ""),
    )
    return assessment


_PLANS_THAT_CANNOT_OVERLAP: dict[str, str] = {
    PlanKind.CHILD_IN_NEED: PlanKind.CHILD_PROTECTION,
    PlanKind.CHILD_PROTECTION: PlanKind.CHILD_IN_NEED,
}


@transaction.atomic
def plan_start(
    *,
    actor: User,
    case: Case,
    kind: str,
    started_on: dt.date,
    summary: str = "",
    category: str = "",
    legal_status: str = "",
) -> Plan:
    case = _writable_case(actor, case)
    problems = ProblemCollector()
    problems.check(kind in PlanKind.values, "kind", "Select the type of plan.")
    _check_date(problems, "started_on", started_on, "plan start", case=case)
    if kind == PlanKind.CHILD_PROTECTION:
        problems.check(
            category in CategoryOfAbuse.values,
            "category",
            "Select the category of abuse for a child protection plan.",
        )
    if kind == PlanKind.LOOKED_AFTER:
        problems.check(
            legal_status in LegalStatus.values,
            "legal_status",
            "Select the legal status under which the child is looked after.",
        )
    if kind in PlanKind.values and case.plans.filter(kind=kind, ended_on__isnull=True).exists():
        problems.add(
            "kind", f"There is already an open {PlanKind(kind).label.lower()}: end it first."
        )
    # CIN census rules 4001/4003: a child in need plan and a child protection plan are never
    # open at the same time; the CP plan replaces the CiN plan, and a CiN plan may follow it.
    clashing = _PLANS_THAT_CANNOT_OVERLAP.get(kind)
    if clashing and case.plans.filter(kind=clashing, ended_on__isnull=True).exists():
        problems.add(
            "kind",
            f"End the open {PlanKind(clashing).label.lower()} before starting a "
            f"{PlanKind(kind).label.lower()}: the two cannot run at the same time.",
        )
    problems.raise_if_any()
    plan = Plan.objects.create(
        case=case,
        kind=kind,
        started_on=started_on,
        summary=summary.strip(),
        initial_category=category,
        latest_category=category,
        legal_status=legal_status,
    )
    audit_record(
        actor=actor,
        verb="plan.started",
        category=AuditCategory.PLAN,
        obj=plan,
        case=case,
        person=case.subject,
        event_date=started_on,
        summary=f"{plan.get_kind_display()} started",
    )
    return plan


@transaction.atomic
def plan_end(*, actor: User, plan: Plan, ended_on: dt.date, outcome: str = "") -> Plan:
    case = _writable_case(actor, plan.case)
    plan = Plan.objects.select_for_update().get(pk=plan.pk, case=case)
    problems = ProblemCollector()
    if plan.ended_on is not None:
        problems.add(None, f"This plan already ended on {_fmt(plan.ended_on)}.")
    _check_date(problems, "ended_on", ended_on, "plan end", case=case)
    if ended_on < plan.started_on:
        problems.add(
            "ended_on",
            f"A plan cannot end before it starts ({_fmt(plan.started_on)}): check the dates.",
        )
    if plan.kind == PlanKind.CHILD_PROTECTION and ended_on == plan.started_on:
        problems.add("ended_on", "A child protection plan cannot start and end on the same day.")
    problems.raise_if_any()
    plan.ended_on = ended_on
    plan.outcome = outcome.strip()
    plan.save(update_fields=["ended_on", "outcome"])
    audit_record(
        actor=actor,
        verb="plan.ended",
        category=AuditCategory.PLAN,
        obj=plan,
        case=case,
        person=case.subject,
        event_date=ended_on,
        summary=f"{plan.get_kind_display()} ended",
        changes={"ended_on": [None, ended_on]},
    )
    return plan


# Working Together: the initial child protection conference within 15 working days of the
# strategy discussion that started the enquiry.
_ICPC_WITHIN_WORKING_DAYS = 15


def _check_outcome(
    problems: ProblemCollector,
    case: Case,
    enquiry_started_on: dt.date,
    outcome: str,
    concluded_on: dt.date | None,
    icpc_on: dt.date | None,
) -> None:
    """The checks a section 47 outcome shares, whether recorded at the start or later."""
    problems.check(
        outcome in Section47Outcome.values, "outcome", "Say whether a conference will be held."
    )
    if concluded_on is None:
        problems.add("concluded_on", "Enter the date the enquiry concluded.")
    else:
        _check_date(problems, "concluded_on", concluded_on, "conclusion", case=case)
        if concluded_on < enquiry_started_on:
            problems.add(
                "concluded_on",
                f"The enquiry cannot conclude before it started ({_fmt(enquiry_started_on)}).",
            )
    if outcome == Section47Outcome.NO_ICPC and icpc_on is not None:
        problems.add(
            "icpc_on",
            "A conference date cannot be recorded when no conference is required: remove "
            "the date, or choose 'conference to take place'.",
        )
    if outcome == Section47Outcome.ICPC:
        if icpc_on is None:
            problems.add("icpc_on", "Enter the date of the initial child protection conference.")
            return
        # CIN census rule 8615: the enquiry starts on or before its conference.
        if icpc_on < enquiry_started_on:
            problems.add(
                "icpc_on",
                f"The conference cannot be before the enquiry started "
                f"({_fmt(enquiry_started_on)}): check both dates.",
            )
        # Rule 8875: a conference is never held at a weekend (nor, here, on a bank holiday).
        reason = case.responsible_team.authority.calendar().non_working_reason(icpc_on)
        if reason:
            problems.add(
                "icpc_on",
                f"{_fmt(icpc_on)} is not a working day ({reason}): enter the day the "
                "conference is held.",
            )


@transaction.atomic
def section47_record(
    *,
    actor: User,
    case: Case,
    started_on: dt.date,
    icpc_target_on: dt.date | None = None,
    outcome: str = "",
    concluded_on: dt.date | None = None,
    icpc_on: dt.date | None = None,
) -> Section47Enquiry:
    """Record a section 47 enquiry starting on `started_on`, and its outcome when it is
    already known. Without a target, the conference is due 15 working days after the start.
    One enquiry at a time per case (CIN rules 8839 and 8890)."""
    case = _writable_case(actor, case)
    problems = ProblemCollector()
    problems.check(
        case.service_area == ServiceArea.CHILDREN,
        None,
        "Section 47 enquiries are recorded on children's cases only.",
    )
    _check_date(problems, "started_on", started_on, "enquiry start", case=case)
    calendar = case.responsible_team.authority.calendar()
    if icpc_target_on is None:
        icpc_target_on = calendar.add_working_days(started_on, _ICPC_WITHIN_WORKING_DAYS)
    elif icpc_target_on < started_on:
        problems.add(
            "icpc_target_on",
            f"The conference target cannot be before the enquiry started ({_fmt(started_on)}).",
        )
    elif icpc_target_on.weekday() >= 5:
        # Rule 8870Q: a target that falls at a weekend is queried by the DfE.
        problems.add("icpc_target_on", "The conference target date must be a weekday.")
    open_enquiry = case.section47_enquiries.filter(outcome="").first()
    if open_enquiry is not None:
        problems.add(
            None,
            f"The section 47 enquiry that started on {_fmt(open_enquiry.started_on)} is still "
            "open: record its outcome before starting another.",
        )
    if outcome:
        _check_outcome(problems, case, started_on, outcome, concluded_on, icpc_on)
    elif concluded_on is not None or icpc_on is not None:
        problems.add(
            "outcome",
            "Say whether a conference will be held, or leave the conclusion and conference "
            "dates empty while the enquiry is open.",
        )
    problems.raise_if_any()
    enquiry = Section47Enquiry.objects.create(
        case=case,
        started_on=started_on,
        icpc_target_on=icpc_target_on,
        outcome=outcome,
        concluded_on=concluded_on if outcome else None,
        icpc_on=icpc_on if outcome == Section47Outcome.ICPC else None,
        recorded_by=actor,
    )
    summary = "Section 47 enquiry started"
    if outcome:
        summary += f"; outcome: {Section47Outcome(outcome).label.lower()}"
    audit_record(
        actor=actor,
        verb="section47.recorded",
        category=AuditCategory.ASSESSMENT,
        obj=enquiry,
        case=case,
        person=case.subject,
        event_date=started_on,
        summary=summary,
    )
    return enquiry


@transaction.atomic
def section47_conclude(
    *,
    actor: User,
    enquiry: Section47Enquiry,
    outcome: str,
    concluded_on: dt.date,
    icpc_on: dt.date | None = None,
) -> Section47Enquiry:
    """Record how an open section 47 enquiry ended: a conference to be held (and its date),
    or no conference required."""
    case = _writable_case(actor, enquiry.case)
    enquiry = Section47Enquiry.objects.select_for_update().get(pk=enquiry.pk, case=case)
    problems = ProblemCollector()
    if enquiry.outcome:
        problems.add(None, "This enquiry's outcome is already recorded.")
    _check_outcome(problems, case, enquiry.started_on, outcome, concluded_on, icpc_on)
    problems.raise_if_any()
    enquiry.outcome = outcome
    enquiry.concluded_on = concluded_on
    enquiry.icpc_on = icpc_on if outcome == Section47Outcome.ICPC else None
    enquiry.save(update_fields=["outcome", "concluded_on", "icpc_on"])
    audit_record(
        actor=actor,
        verb="section47.concluded",
        category=AuditCategory.ASSESSMENT,
        obj=enquiry,
        case=case,
        person=case.subject,
        event_date=concluded_on,
        summary=f"Section 47 enquiry concluded: {Section47Outcome(outcome).label.lower()}",
        changes={"outcome": ["", outcome]},
    )
    return enquiry


@transaction.atomic
def visit_record(
    *,
    actor: User,
    case: Case,
    visited_on: dt.date,
    subject_seen: bool,
    seen_alone: bool = False,
    home_visited: bool = False,
    face_to_face: bool = True,
    notes: str = "",
) -> Visit:
    case = _writable_case(actor, case)
    problems = ProblemCollector()
    _check_date(problems, "visited_on", visited_on, "visit", case=case)
    problems.check(
        subject_seen or not seen_alone,
        "seen_alone",
        "A person who was not seen cannot have been seen alone: check both answers.",
    )
    problems.raise_if_any()
    visit = Visit.objects.create(
        case=case,
        visited_on=visited_on,
        visited_by=actor,
        subject_seen=subject_seen,
        seen_alone=seen_alone,
        home_visited=home_visited,
        face_to_face=face_to_face,
        notes=notes.strip(),
    )
    details = [
        "seen" if subject_seen else "not seen",
        *(["seen alone"] if seen_alone else []),
        *(["home visited"] if home_visited else []),
        *([] if face_to_face else ["not face to face"]),
    ]
    audit_record(
        actor=actor,
        verb="visit.recorded",
        category=AuditCategory.VISIT,
        obj=visit,
        case=case,
        person=case.subject,
        event_date=visited_on,
        summary=f"Visit: {', '.join(details)}",
    )
    return visit


@transaction.atomic
def note_add(
    *,
    actor: User,
    case: Case,
    title: str,
    body: str,
    occurred_on: dt.date,
    kind: str = NoteKind.GENERAL,
) -> CaseNote:
    case = _writable_case(actor, case)
    problems = ProblemCollector()
    problems.check(bool(title.strip()), "title", "Enter a title for the note.")
    problems.check(bool(body.strip()), "body", "Enter the note.")
    problems.check(kind in NoteKind.values, "kind", "Select the type of note.")
    _check_date(problems, "occurred_on", occurred_on, "note", case=case)
    problems.raise_if_any()
    note = CaseNote.objects.create(
        case=case,
        kind=kind,
        title=title.strip(),
        body=body.strip(),
        occurred_on=occurred_on,
        author=actor,
    )
    audit_record(
        actor=actor,
        verb="note.added",
        category=AuditCategory.NOTE,
        obj=note,
        case=case,
        person=case.subject,
        event_date=occurred_on,
        summary=f"{note.get_kind_display()}: {title}",
    )
    return note


def _clean_attendees(
    attendees: list[dict[str, str]], problems: ProblemCollector
) -> list[dict[str, str]]:
    cleaned = []
    for number, attendee in enumerate(attendees, start=1):
        name = str(attendee.get("name", "")).strip()
        if not name:
            problems.add("attendees", f"Attendee {number} has no name: enter it or remove them.")
        cleaned.append({"name": name, "role": str(attendee.get("role", "")).strip()})
    return cleaned


@transaction.atomic
def meeting_record(
    *,
    actor: User,
    case: Case,
    kind: str,
    held_on: dt.date,
    attendees: list[dict[str, str]],
    minutes: str = "",
) -> Meeting:
    case = _writable_case(actor, case)
    problems = ProblemCollector()
    problems.check(kind in MeetingKind.values, "kind", "Select the type of meeting.")
    _check_date(problems, "held_on", held_on, "meeting", case=case)
    cleaned = _clean_attendees(attendees, problems)
    problems.raise_if_any()
    meeting = Meeting.objects.create(
        case=case,
        kind=kind,
        held_on=held_on,
        attendees=cleaned,
        minutes=minutes.strip(),
        recorded_by=actor,
    )
    audit_record(
        actor=actor,
        verb="meeting.recorded",
        category=AuditCategory.MEETING,
        obj=meeting,
        case=case,
        person=case.subject,
        event_date=held_on,
        summary=f"{meeting.get_kind_display()} held ({len(cleaned)} attended)",
    )
    return meeting


@transaction.atomic
def supervision_record(
    *,
    actor: User,
    case: Case,
    held_on: dt.date,
    discussion: str,
    actions: str = "",
) -> SupervisionRecord:
    case = _writable_case(actor, case)
    require_manager_for(actor, case, "record supervision")
    problems = ProblemCollector()
    _check_date(problems, "held_on", held_on, "supervision", case=case)
    problems.check(bool(discussion.strip()), "discussion", "Enter what was discussed.")
    problems.check(
        case.allocated_worker is not None,
        None,
        "The case has no allocated worker to supervise: allocate it first.",
    )
    problems.raise_if_any()
    assert case.allocated_worker is not None  # noqa: S101 - checked just above
    record = SupervisionRecord.objects.create(
        case=case,
        held_on=held_on,
        supervisor=actor,
        worker=case.allocated_worker,
        discussion=discussion.strip(),
        actions=actions.strip(),
    )
    audit_record(
        actor=actor,
        verb="supervision.recorded",
        category=AuditCategory.SUPERVISION,
        obj=record,
        case=case,
        person=case.subject,
        event_date=held_on,
        summary=f"Supervision with {case.allocated_worker.display_name}",
    )
    return record


@transaction.atomic
def decision_record(
    *,
    actor: User,
    case: Case,
    kind: str,
    decided_on: dt.date,
    decision: str,
    rationale: str = "",
) -> ManagerDecision:
    case = _writable_case(actor, case)
    require_manager_for(actor, case, "record a manager's decision")
    problems = ProblemCollector()
    problems.check(kind in DecisionKind.values, "kind", "Select the type of decision.")
    problems.check(bool(decision.strip()), "decision", "Enter the decision.")
    _check_date(problems, "decided_on", decided_on, "decision", case=case)
    problems.raise_if_any()
    record = ManagerDecision.objects.create(
        case=case,
        kind=kind,
        decided_on=decided_on,
        manager=actor,
        decision=decision.strip(),
        rationale=rationale.strip(),
    )
    audit_record(
        actor=actor,
        verb="decision.recorded",
        category=AuditCategory.DECISION,
        obj=record,
        case=case,
        person=case.subject,
        event_date=decided_on,
        summary=f"Manager's decision: {record.get_kind_display()}",
    )
    return record


@transaction.atomic
def consent_record(
    *,
    actor: User,
    case: Case,
    kind: str,
    given_by: str,
    given_on: dt.date,
    signed: bool = False,
) -> Consent:
    case = _writable_case(actor, case)
    problems = ProblemCollector()
    problems.check(kind in ConsentKind.values, "kind", "Select what the consent is for.")
    problems.check(bool(given_by.strip()), "given_by", "Enter who gave consent.")
    if given_on > timezone.localdate():
        problems.add("given_on", "The consent date cannot be in the future.")
    problems.raise_if_any()
    consent = Consent.objects.create(
        case=case, kind=kind, given_by=given_by.strip(), given_on=given_on, signed=signed
    )
    audit_record(
        actor=actor,
        verb="consent.recorded",
        category=AuditCategory.CONSENT,
        obj=consent,
        case=case,
        person=case.subject,
        event_date=given_on,
        summary=f"{consent.get_kind_display()} given by {consent.given_by}",
    )
    return consent


ALLOWED_DOCUMENT_TYPES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "text/plain": (),
}

# A download is saved under a name ending in the extension of the type Casework found in the
# file, so that it cannot open on someone's computer as another kind of file: "notes.html"
# that is really text is kept as "notes.html.txt".
DOCUMENT_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "text/plain": (".txt",),
}

# Device names Windows will not open as files, whatever their extension ("CON.txt").
_WINDOWS_RESERVED_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{device}{n}" for device in ("COM", "LPT") for n in "0123456789\u00b9\u00b2\u00b3"}
)

# Characters no text document contains: C0 controls other than tab, line and page breaks.
_NOT_TEXT = frozenset(chr(c) for c in range(0x20) if chr(c) not in "\t\n\v\f\r") | {"\x7f"}


def _sniff_content_type(head: bytes, claimed: str) -> str | None:
    """The type the file's first bytes prove, if it is one we accept. Plain text has no
    signature: it is accepted when claimed, and `_text_problem` then reads all of it."""
    for content_type, signatures in ALLOWED_DOCUMENT_TYPES.items():
        if signatures and any(head.startswith(sig) for sig in signatures):
            return content_type
    if claimed == "text/plain":
        return "text/plain"
    return None


def _text_problem(upload: UploadedFile) -> str | None:
    """Why a file sent as plain text is not: it is not UTF-8 throughout, or it holds
    characters no text has (a NUL is the mark of a binary file)."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    upload.seek(0)
    try:
        for chunk in upload.chunks():
            if not _NOT_TEXT.isdisjoint(decoder.decode(chunk)):
                return (
                    "The file has characters that are not text, so it may not be a text file. "
                    "Upload it as a PDF, or save it as plain text and try again."
                )
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "The text file must be saved as UTF-8 (plain text). Save it again as UTF-8."
    finally:
        upload.seek(0)
    return None


def _document_name(uploaded_name: str | None, content_type: str) -> str:
    """The name the file is offered for download under: only letters, digits, spaces and
    `._-`; no leading dots (hidden files) or trailing dots and spaces (which Windows drops);
    never a Windows device name; at most 200 characters; ending in the extension of the type
    found in the file."""
    import unicodedata

    raw = (uploaded_name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", raw) if ch.isalnum() or ch in "._- ")
    extensions = DOCUMENT_EXTENSIONS.get(content_type, ("",))
    matched = next((e for e in extensions if e and name.lower().endswith(e)), None)
    suffix = name[-len(matched) :] if matched else extensions[0]
    name = name[: -len(matched)] if matched else name
    name = " ".join(name.split()).strip(". -") or "document"
    if name.split(".")[0].strip().upper() in _WINDOWS_RESERVED_NAMES:
        name = f"document-{name}"
    return name[: 200 - len(suffix)].rstrip(". ") + suffix


@transaction.atomic
def document_upload(
    *, actor: User, case: Case, kind: str, title: str, upload: UploadedFile
) -> Document:
    """Keep a document on the case: a PDF, PNG or JPEG told apart by its first bytes, or a
    file sent as plain text that is UTF-8 text throughout (the claimed type counts for nothing
    else), within the size limit, stored under a name Casework chooses and offered back under
    a cleaned name. A PDF is kept as it is, scripts included: it is only ever downloaded, with
    a policy that lets nothing run (casework/frontend/security.py), never shown in a page."""
    case = _writable_case(actor, case)
    problems = ProblemCollector()
    problems.check(kind in DocumentKind.values, "kind", "Select the type of document.")
    problems.check(bool(title.strip()), "title", "Enter a title for the document.")
    size = upload.size or 0
    problems.check(size > 0, "upload", "The selected file is empty.")
    max_mb = settings.DOCUMENT_MAX_BYTES // (1024 * 1024)
    problems.check(
        size <= settings.DOCUMENT_MAX_BYTES, "upload", f"The file must be smaller than {max_mb} MB."
    )
    upload.seek(0)
    head = upload.read(2048)
    content_type = _sniff_content_type(head, upload.content_type or "")
    problems.check(
        content_type is not None, "upload", "The file must be a PDF, PNG, JPEG or plain text file."
    )
    if content_type == "text/plain" and 0 < size <= settings.DOCUMENT_MAX_BYTES:
        not_text = _text_problem(upload)
        problems.check(not_text is None, "upload", not_text or "")
    problems.raise_if_any()
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    document = Document(
        case=case,
        kind=kind,
        title=title.strip(),
        original_name=_document_name(upload.name, content_type or ""),
        content_type=content_type or "",
        size_bytes=size,
        sha256=digest.hexdigest(),
        uploaded_by=actor,
    )
    # Stored under a name we choose, never the uploader's: no path tricks, no collisions.
    document.file.save(f"{case.reference}-{digest.hexdigest()[:16]}", upload, save=False)
    document.save()
    audit_record(
        actor=actor,
        verb="document.uploaded",
        category=AuditCategory.DOCUMENT,
        obj=document,
        case=case,
        person=case.subject,
        summary=f"Document uploaded: {document.title}",
    )
    return document


@transaction.atomic
def case_close_imported(
    *, actor: User | None, case: Case, closed_on: dt.date, reason_code: str, note: str
) -> Case:
    """Record a closure that happened before the case came into Casework (legacy import, demo
    history). Live closures go through the planned closure workflow only (R000-01); this is
    not reachable from any page or API, only from management commands, and says so in the log.
    """
    case = Case.objects.select_for_update().get(pk=case.pk)
    problems = ProblemCollector()
    if case.status == CaseStatus.CLOSED:
        problems.add(None, f"Case {case.reference} is already closed.")
    _check_date(problems, "closed_on", closed_on, "closure", case=case)
    problems.check(bool(reason_code.strip()), "reason_code", "Give the closure reason code.")
    open_plans = [p.get_kind_display() for p in case.plans.filter(ended_on__isnull=True)]
    if open_plans:
        problems.add(None, f"End these plans before the closure date: {', '.join(open_plans)}.")
    if case.assessments.filter(completed_on__isnull=True).exists():
        # CIN census rule 8867: a closed episode has no assessment still in progress.
        problems.add(None, "Complete the assessment in progress before the closure date.")
    late_plans = case.plans.filter(ended_on__gt=closed_on).exists()
    problems.check(not late_plans, "closed_on", "A plan ends after the closure date.")
    problems.raise_if_any()
    case.status = CaseStatus.CLOSED
    case.closed_on = closed_on
    case.closure_reason = reason_code.strip()
    case.save(update_fields=["status", "closed_on", "closure_reason"])
    case.allocations.filter(ended_on__isnull=True).update(ended_on=closed_on)
    audit_record(
        actor=actor,
        verb="case.closed_imported",
        category=AuditCategory.CASE,
        obj=case,
        case=case,
        person=case.subject,
        event_date=closed_on,
        reason=note,
        summary=f"Case closed ({case.closure_reason}), recorded from earlier records",
        changes={"status": [CaseStatus.OPEN, CaseStatus.CLOSED]},
    )
    return case
