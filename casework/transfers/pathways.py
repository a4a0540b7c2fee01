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
from casework.core.errors import Conflict, InvalidInput, NotPermitted, Problem
from casework.core.transitions import transition
from casework.organisation.models import Membership, Role, Team
from casework.policy.caseview import build_case_view
from casework.policy.conditions import EvaluationContext
from casework.policy.evaluate import due_date, evaluate_gate, form_fields
from casework.policy.loader import PolicyPack
from casework.policy.schema import Pathway
from casework.tasks.services import notify_role, task_schedule, tasks_complete_by_key
from casework.transfers.models import PathwayRequest, PathwayState
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
        for state in form_fields(pack, pathway.form, evaluation, answers):
            if state.shown and state.field.required and answers.get(state.field.id) in (None, ""):
                problems.append(Problem(state.field.id, f"Answer '{state.field.label}'."))
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
                    f"notice: book it on or after {earliest:%d %B %Y}.",
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
    task_schedule(
        key=f"pathway:{request.pk}:decide",
        case=case,
        title=f"Decide: {pathway.label}",
        role=pathway.decided_by,
        due_on=meeting_on or today,
        team=to_team,
        requirement=(pathway.requirement or [""])[0],
    )
    event = {"step_down": "step_down.requested", "escalation": "escalation.requested"}.get(
        pathway.kind, "transfer.requested"
    )
    for note in pathway.notifications:
        if note.event == event and pack.condition(note.when).evaluate(evaluation).holds:
            notify_role(
                key=f"pathway:{request.pk}:{event}:{note.role}",
                case=case,
                role=note.role,
                event=event,
                message=note.message,
                requirement=note.requirement or "",
            )
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
    return decided
