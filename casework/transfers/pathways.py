"""Step-down to early help, escalation from it, and transfers in and out of the authority
(R004-07, R004-08, R004-09, R004-10), as the bound transfer pack's pathways describe them.

A request names the pathway; its form is answered, its meeting booked with the notice the
pack asks for, its gates met; the role the pack names decides with one of the pack's
outcomes and a rationale. A step-down that closes the case then closes through the closure
workflow with the pathway's national code (a step-down is an ending, R003-08); this module
never changes a case's status itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from casework.access.policy import case_for, holds_role_for_case
from casework.accounts.models import User
from casework.audit.models import AuditCategory
from casework.audit.services import audit_record
from casework.cases.models import Case, CaseStatus
from casework.closure.models import Closure
from casework.closure.services import closure_propose
from casework.core.dates import long_date
from casework.core.errors import Conflict, InvalidInput, NotPermitted, Problem
from casework.core.transitions import transition
from casework.organisation.models import Membership, Role, Team
from casework.policy.answers import answer_problems
from casework.policy.caseview import build_case_view
from casework.policy.conditions import EvaluationContext
from casework.policy.evaluate import (
    FieldState,
    due_date,
    evaluate_gate,
    form_fields,
    notifications_matching,
    overdue_escalation,
)
from casework.policy.loader import PolicyPack
from casework.policy.models import PackPurpose
from casework.policy.schema import Pathway
from casework.policy.services import bound_pack
from casework.tasks.services import notify_role, task_schedule, tasks_complete_by_key
from casework.transfers.models import OutOfAreaPlacement, PathwayRequest, PathwayState
from casework.transfers.services import TransferBlocked, holds_role_in_team, transfer_pack


def _pathway(pack: PolicyPack, pathway_id: str) -> Pathway:
    spec = pack.spec.transfer
    found = next((p for p in (spec.pathways if spec else []) if p.id == pathway_id), None)
    if found is None:
        raise InvalidInput("The procedure in use has no such route.", field="pathway_id")
    return found


def _receiving_team(
    pack: PolicyPack, pathway: Pathway, case: Case, evaluation: EvaluationContext
) -> Team | None:
    code = pathway.to_team or ""
    if pathway.to_team_expression:
        value = pack.condition(pathway.to_team_expression).evaluate(evaluation).value
        code = value if isinstance(value, str) and value in pack.spec.teams else ""
        code = code or (pathway.fallback_team or "")
    if not code:
        return None
    return Team.objects.filter(authority=case.responsible_team.authority, code=code).first()


# What a request emits, by kind: the request itself, and for a move out of the area the
# move (the team learns of it when it asks; the form may give the actual date).
REQUEST_EVENTS = {
    "step_down": ["step_down.requested"],
    "escalation": ["escalation.requested"],
    "transfer_in": ["transfer.requested"],
    "transfer_out": ["transfer.requested", "case.moved_out_of_area", "case.placed_out_of_area"],
}
MOVE_DATE_FIELDS = ("moved_on", "placed_on")


def _emit(
    pack: PolicyPack,
    pathway: Pathway,
    request: PathwayRequest,
    case: Case,
    evaluation: EvaluationContext,
    event: str,
    on: dt.date,
) -> None:
    """Schedule the pathway's tasks that run from `event` and send its notifications."""
    calendar = case.responsible_team.authority.calendar()
    for task in pathway.tasks:
        if task.due.from_ == event:
            task_schedule(
                key=f"pathway:{request.pk}:{task.id}",
                case=case,
                title=task.label,
                role=task.role,
                due_on=due_date(task.due, on, calendar),
                due_rule=f"from {event} ({pack.id})",
                requirement=task.requirement or "",
                escalate_to=overdue_escalation(pack, task.escalate_to, task.role),
            )
    for note in notifications_matching(pack, list(pathway.notifications), event, evaluation):
        notify_role(
            key=f"pathway:{request.pk}:{event}:{note.role}",
            case=case,
            role=note.role,
            event=event,
            message=note.message,
            requirement=note.requirement or "",
        )


def _answer_problems(states: list[FieldState], answers: dict[str, Any]) -> list[Problem]:
    problems = []
    for state in states:
        value = answers.get(state.field.id)
        if not state.shown:
            continue
        if state.field.required and value in (None, ""):
            problems.append(Problem(state.field.id, f"Answer '{state.field.label}'."))
    return problems


def _move_date(answers: dict[str, Any], default: dt.date) -> dt.date:
    for name in MOVE_DATE_FIELDS:
        if answers.get(name):
            return dt.date.fromisoformat(str(answers[name]))
    return default


@transaction.atomic
def pathway_request(
    *,
    actor: User,
    case: Case,
    pathway_id: str,
    answers: dict[str, Any],
    meeting_on: dt.date | None = None,
) -> PathwayRequest:
    case = case_for(actor, case.pk)
    if case.status != CaseStatus.OPEN:
        raise InvalidInput(f"Case {case.reference} is closed.")
    if not holds_role_for_case(actor, case, Role.SOCIAL_WORKER):
        raise NotPermitted("Only someone in the team that holds the case can ask for this.")
    pack = transfer_pack(case)
    pathway = _pathway(pack, pathway_id)
    evaluation = EvaluationContext(build_case_view(case))
    problems: list[Problem] = []
    if pathway.from_teams and case.responsible_team.code not in pathway.from_teams:
        problems.append(
            Problem(
                "pathway_id", f"'{pathway.label}' is not a route from {case.responsible_team.name}."
            )
        )
    applies = pack.condition(pathway.when).evaluate(evaluation)
    if not (applies.holds or applies.error):
        problems.append(Problem("pathway_id", f"'{pathway.label}' does not fit this case."))
    if pathway.form:
        problems += answer_problems(pack.spec.forms[pathway.form], answers)
        problems += _answer_problems(form_fields(pack, pathway.form, evaluation, answers), answers)
    elif answers:
        problems.append(Problem(None, f"'{pathway.label}' asks no questions: send no answers."))
    today = timezone.localdate()
    if pathway.meeting_notice:
        earliest = due_date(
            pathway.meeting_notice, today, case.responsible_team.authority.calendar()
        )
        if meeting_on is None:
            problems.append(Problem("meeting_on", "Book the meeting and give its date."))
        elif meeting_on < earliest:
            problems.append(
                Problem(
                    "meeting_on",
                    f"The meeting needs {pathway.meeting_notice.working_days} working days' "
                    f"notice: book it on or after {long_date(earliest)}.",
                )
            )
    if problems:
        raise InvalidInput(problems)
    outstanding = [
        r for r in (evaluate_gate(pack, g, evaluation) for g in pathway.gates) if r.outstanding
    ]
    if outstanding:
        raise TransferBlocked(outstanding)
    to_team = _receiving_team(pack, pathway, case, evaluation)
    request = PathwayRequest(
        case=case,
        pack_id=pack.id,
        pathway_id=pathway.id,
        kind=pathway.kind,
        to_team=to_team,
        state=PathwayState.REQUESTED,
        answers=answers,
        meeting_on=meeting_on,
        requested_by=actor,
        requested_on=today,
    )
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError as clash:
        raise Conflict(f"'{pathway.label}' has already been asked for this case.") from clash
    audit_record(
        actor=actor,
        verb=f"{pathway.kind}.requested",
        category=AuditCategory.REFERRAL,
        obj=request,
        case=case,
        person=case.subject,
        summary=f"{pathway.label}: requested" + (f" to {to_team.name}" if to_team else ""),
    )
    if pathway.enters_register == "out_of_area_placements":
        OutOfAreaPlacement.objects.create(
            request=request,
            case=case,
            host_authority=str(answers.get("host_authority", "")).strip(),
            placed_on=_move_date(answers, today),
            placement_type=str(answers.get("placement_type", "")),
            placement_address=str(answers.get("placement_address", "")).strip(),
            host_contact=str(answers.get("host_contact", "")).strip(),
            recorded_by=actor,
        )
    task_schedule(
        key=f"pathway:{request.pk}:decide",
        case=case,
        title=f"Decide: {pathway.label}",
        role=pathway.decided_by,
        due_on=meeting_on or today,
        team=to_team,
        requirement=(pathway.requirement or [""])[0],
    )
    for event in REQUEST_EVENTS[pathway.kind]:
        on = _move_date(answers, today) if event.startswith("case.") else today
        _emit(pack, pathway, request, case, evaluation, event, on)
    return request


@transaction.atomic
def pathway_decide(
    *, actor: User, request: PathwayRequest, outcome: str, rationale: str
) -> PathwayRequest:
    """The role the pack names records the outcome and why (e.g. the early help duty
    manager, R004-08)."""
    current = PathwayRequest.objects.select_related("to_team").get(pk=request.pk)
    if (
        current.state != PathwayState.REQUESTED
        and current.to_team is not None
        and (Membership.objects.current().filter(user=actor, team=current.to_team).exists())
    ):
        # The deciding team's need to know ends with its decision: say what happened.
        raise Conflict(f"This request has already been decided: {current.outcome or 'closed'}.")
    case = case_for(actor, current.case_id)
    pack = transfer_pack(case)
    pathway = _pathway(pack, current.pathway_id)
    team = current.to_team or case.responsible_team
    if not (
        holds_role_in_team(actor, team, pathway.decided_by)
        or holds_role_for_case(actor, case, pathway.decided_by)
    ):
        raise NotPermitted(f"Only the {Role(pathway.decided_by).label.lower()} decides this.")
    problems = []
    if outcome not in pathway.outcomes:
        problems.append(Problem("outcome", f"Choose one of: {', '.join(pathway.outcomes)}."))
    if not rationale.strip():
        problems.append(Problem("rationale", "Record the rationale for the decision."))
    if problems:
        raise InvalidInput(problems)
    decided = transition(
        current,
        (PathwayState.REQUESTED,),
        PathwayState.DECIDED,
        noun="request",
        outcome=outcome,
        rationale=rationale.strip(),
        decided_by=actor,
        decided_on=timezone.localdate(),
    )
    audit_record(
        actor=actor,
        verb=f"{pathway.kind}.decided",
        category=AuditCategory.DECISION,
        obj=decided,
        case=case,
        person=case.subject,
        summary=f"{pathway.label}: {outcome.replace('-', ' ')}",
        reason=rationale.strip(),
    )
    tasks_complete_by_key(actor=actor, keys=[f"pathway:{decided.pk}:decide"])
    evaluation = EvaluationContext(build_case_view(case))
    _emit(pack, pathway, decided, case, evaluation, f"{pathway.kind}.decided", decided_on(decided))
    if pathway.enters_register:
        OutOfAreaPlacement.objects.filter(request=decided).update(
            notification_sent_on=decided.decided_on
        )
    if outcome in pathway.closes_on:
        # A step-down or a move away is an ending (R003-08): the holding team closes the case
        # through the closure workflow, with the pathway's national code.
        task_schedule(
            key=f"pathway:{decided.pk}:close",
            case=case,
            title=f"Close the case: {pathway.label} ({pathway.closes_case_with})",
            role=Role.SOCIAL_WORKER,
            due_on=decided_on(decided),
            team=case.responsible_team,
            requirement="R003-08",
            escalate_to=overdue_escalation(pack, None, Role.SOCIAL_WORKER),
        )
    return decided


def decided_on(request: PathwayRequest) -> dt.date:
    assert request.decided_on is not None  # noqa: S101 - set by the decision
    return request.decided_on


def closure_reason_for(case: Case, national_code: str) -> str:
    """The bound closure procedure's reason that carries `national_code`."""
    pack = bound_pack(case.responsible_team.authority, case.service_area, PackPurpose.CLOSURE)
    reasons = pack.spec.closure.reasons if pack and pack.spec.closure else []
    reason = next((r for r in reasons if r.national_code == national_code), None)
    if reason is None:
        raise InvalidInput(
            f"The closure procedure in use has no reason with the code {national_code}. Ask an "
            "administrator to check the policy packs."
        )
    return reason.id


@transaction.atomic
def pathway_close_case(*, actor: User, request: PathwayRequest) -> Closure:
    """After a decision that ends the case (a step-down accepted, a family referred to its new
    authority), propose closure with the pathway's national code; the closure then follows
    its own procedure (summary, signatures, authorisation)."""
    current = PathwayRequest.objects.get(pk=request.pk)
    case = case_for(actor, current.case_id)
    pack = transfer_pack(case)
    pathway = _pathway(pack, current.pathway_id)
    if current.state != PathwayState.DECIDED or current.outcome not in pathway.closes_on:
        raise InvalidInput(f"'{pathway.label}' has not been decided in a way that closes the case.")
    assert pathway.closes_case_with is not None  # noqa: S101 - the schema pairs them
    closure = closure_propose(
        actor=actor,
        case=case,
        reason_id=closure_reason_for(case, pathway.closes_case_with),
        note=f"{pathway.label}: {current.outcome.replace('-', ' ')} on "
        f"{long_date(decided_on(current))}. {current.rationale}",
    )
    tasks_complete_by_key(actor=actor, keys=[f"pathway:{current.pk}:close"])
    return closure
