"""Transfers between teams (R004-02, R004-05, R004-06, R004-04, R004-03, R001-08).

Each function checks who may act and what the bound transfer pack says, changes state with a
race-safe conditional update, audits, and schedules the deadlines and notifications the pack
names, in one transaction.

  (none)     --request-->   requested  (sending worker; the pack's routing recommends a team,
                                        and a manager may choose another with a reason)
  requested  --authorise--> authorised (sending manager; summary and audit done, gates met)
  authorised --accept-->    accepted   (receiving manager)     --decline--> declined
  accepted   --complete-->  completed  (at the protocol's transfer point: on acceptance, on
                                        the agreed date, or at the named meeting)
  requested/authorised/accepted --withdraw--> withdrawn
Responsibility (the case's team and allocation) moves only at completion, and only for
protocols that move responsibility (wrap-around support never does, R004-04).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from casework.access.policy import case_for, holds_role_for_case
from casework.accounts.models import User
from casework.audit.models import AuditCategory
from casework.audit.services import audit_record
from casework.cases.models import Allocation, Case, CaseStatus
from casework.core.dates import long_date
from casework.core.errors import Conflict, InvalidInput, NotPermitted, Problem
from casework.core.transitions import transition
from casework.organisation.models import Membership, Role, Team
from casework.policy.answers import DATE_ANSWER, answer_fits, answer_problems
from casework.policy.caseview import build_case_view
from casework.policy.conditions import EvaluationContext
from casework.policy.evaluate import (
    GateResult,
    Recommendation,
    checklist_results,
    due_date,
    evaluate_gate,
    form_fields,
    notifications_matching,
    overdue_escalation,
    route,
)
from casework.policy.loader import PolicyPack, load_pack
from casework.policy.models import PackPurpose
from casework.policy.prefill import prefill
from casework.policy.schema import Due, Protocol, Task
from casework.policy.services import bound_pack
from casework.tasks.services import notify_role, task_schedule, tasks_complete_by_key
from casework.transfers.models import ACTIVE_TRANSFER_STATES, Transfer, TransferState


class TransferBlocked(InvalidInput):
    def __init__(self, results: list[GateResult]) -> None:
        self.results = results
        super().__init__(
            [Problem(None, f"{r.explanation} Record it in: {r.gate.record_at}.") for r in results]
        )


@dataclass
class TransferContext:
    transfer: Transfer
    case: Case
    pack: PolicyPack
    evaluation: EvaluationContext

    @property
    def protocol(self) -> Protocol | None:
        spec = self.pack.spec.transfer
        return next(
            (p for p in (spec.protocols if spec else []) if p.id == self.transfer.protocol_id),
            None,
        )


def transfer_pack(case: Case) -> PolicyPack:
    pack = bound_pack(case.responsible_team.authority, case.service_area, PackPurpose.TRANSFER)
    if pack is None or pack.spec.transfer is None:
        raise InvalidInput(
            "No transfer procedure is set for this service. Ask an administrator to bind a "
            "policy pack for transfers (Django admin, Pack bindings)."
        )
    return pack


def holds_role_in_team(user: User, team: Team, role: str) -> bool:
    """`role` in `team` itself, or a senior role across the team's service area."""
    memberships = Membership.objects.current().filter(user=user)
    senior = [Role.SENIOR_FIELDWORK_MANAGER, Role.SERVICE_MANAGER, Role.HEAD_OF_SERVICE]
    return memberships.filter(
        Q(role=role, team=team) | Q(role__in=senior, team__service_area=team.service_area)
    ).exists()


def _load(actor: User, transfer: Transfer) -> TransferContext:
    case = case_for(actor, transfer.case_id)
    transfer = Transfer.objects.select_related("from_team", "to_team").get(pk=transfer.pk)
    return TransferContext(
        transfer, case, load_pack(transfer.pack_id), EvaluationContext(build_case_view(case))
    )


def _transition(
    transfer: Transfer, from_states: tuple[str, ...], to_state: str, **changes: Any
) -> Transfer:
    moved = transition(transfer, from_states, to_state, noun="transfer", **changes)
    return Transfer.objects.select_related("from_team", "to_team").get(pk=moved.pk)


def _audit(
    ctx: TransferContext,
    actor: User | None,
    verb: str,
    summary: str,
    *,
    reason: str = "",
    changes: dict[str, Any] | None = None,
) -> None:
    audit_record(
        actor=actor,
        verb=verb,
        category=AuditCategory.ALLOCATION,
        obj=ctx.transfer,
        case=ctx.case,
        person=ctx.case.subject,
        summary=summary,
        reason=reason,
        changes=changes,
    )


def _key(transfer: Transfer, ident: str) -> str:
    return f"transfer:{transfer.pk}:{ident}"


def _schedule(
    ctx: TransferContext,
    ident: str,
    label: str,
    role: str,
    due: Due,
    start: dt.date,
    *,
    requirement: str = "",
    escalate_to: str = "",
    team: Team | None = None,
) -> None:
    calendar = ctx.case.responsible_team.authority.calendar()
    unit = next(
        (
            f"{v} {n.replace('_', ' ')}"
            for n, v in (
                ("working_days", due.working_days),
                ("days", due.days),
                ("weeks", due.weeks),
            )
            if v is not None
        ),
        "",
    )
    task_schedule(
        key=_key(ctx.transfer, ident),
        case=ctx.case,
        title=label,
        role=role,
        due_on=due_date(due, start, calendar),
        due_rule=f"{unit} from {due.from_} ({ctx.pack.id})",
        requirement=requirement,
        escalate_to=escalate_to,
        team=team,
    )


def _emit(ctx: TransferContext, event: str, on: dt.date) -> None:
    """Schedule what the pack says follows `event`, and notify the roles it names."""
    spec = ctx.pack.spec.transfer
    assert spec is not None  # noqa: S101 - a transfer pack has a transfer section
    tasks: list[tuple[Task, Team | None]] = [(t, None) for t in spec.tasks]
    protocol = ctx.protocol
    if protocol is not None:
        # The sending worker's follow-up tasks (e.g. later life letters) stay with the team
        # that sent the case, even after it has moved.
        tasks += [(t, ctx.transfer.from_team) for t in protocol.tasks]
    for task, team in tasks:
        if task.due.from_ == event:
            _schedule(
                ctx,
                task.id,
                task.label,
                task.role,
                task.due,
                on,
                requirement=task.requirement or "",
                escalate_to=overdue_escalation(ctx.pack, task.escalate_to, task.role),
                team=team,
            )
    notes = notifications_matching(
        ctx.pack, [*ctx.pack.spec.notifications, *spec.notifications], event, ctx.evaluation
    )
    if protocol is not None:
        notes += notifications_matching(
            ctx.pack, list(protocol.notifications), event, ctx.evaluation, (protocol.when,)
        )
    for note in notes:
        notify_role(
            key=_key(ctx.transfer, f"{event}:{note.role}"),
            case=ctx.case,
            role=note.role,
            event=event,
            message=note.message,
            requirement=note.requirement or "",
        )


def _gates(ctx: TransferContext) -> list[GateResult]:
    spec = ctx.pack.spec.transfer
    assert spec is not None  # noqa: S101 - checked when the transfer was requested
    gate_ids = [*spec.gates, *(ctx.protocol.gates if ctx.protocol else [])]
    results = [evaluate_gate(ctx.pack, g, ctx.evaluation) for g in dict.fromkeys(gate_ids)]
    return [r for r in results if r.outstanding]


def transfer_recommendation(actor: User, case: Case, trigger: str) -> Recommendation | None:
    """The team the bound pack's routing rules recommend for `trigger`, and why."""
    case = case_for(actor, case.pk)
    pack = transfer_pack(case)
    return route(pack, trigger, EvaluationContext(build_case_view(case)))


def _protocol_for(
    pack: PolicyPack, from_team: Team, to_team: Team, evaluation: EvaluationContext
) -> Protocol | None:
    spec = pack.spec.transfer
    for protocol in spec.protocols if spec else []:
        if from_team.code in protocol.from_teams and to_team.code in protocol.to_teams:
            outcome = pack.condition(protocol.when).evaluate(evaluation)
            if outcome.holds or outcome.error is not None:
                return protocol
    return None


def _request_detail_problems(pack: PolicyPack, details: dict[str, Any]) -> list[Problem]:
    """The details a protocol asks for with the request, typed as the screen types them: as
    the summary heading of the same name, else a date if the name ends in `date`, else text."""
    spec = pack.spec.transfer
    assert spec is not None  # noqa: S101 - transfer packs have one
    summary = {f.id: f for f in pack.spec.forms[spec.summary_form].fields}
    asked = {name for protocol in spec.protocols for name in protocol.request_fields}
    problems = []
    for name, value in details.items():
        field = summary.get(name)
        label = field.label if field else name.replace("_", " ")
        if name not in asked:
            problems.append(Problem(name, f"A transfer request does not ask for '{label}'."))
        elif field is not None:
            problems += answer_problems(pack.spec.forms[spec.summary_form], {name: value})
        elif name.endswith("date") and not answer_fits(DATE_ANSWER, value):
            problems.append(Problem(name, f"Give the {label} as a date, YYYY-MM-DD."))
        elif not isinstance(value, str):
            problems.append(Problem(name, f"Give the {label} as text."))
    return problems


@transaction.atomic
def transfer_request(
    *,
    actor: User,
    case: Case,
    to_team: Team,
    rationale: str,
    request_details: dict[str, Any] | None = None,
    trigger: str = "",
    override_reason: str = "",
) -> Transfer:
    case = case_for(actor, case.pk)
    if case.status != CaseStatus.OPEN:
        raise InvalidInput(f"Case {case.reference} is closed; a closed case is not transferred.")
    if not holds_role_for_case(actor, case, Role.SOCIAL_WORKER):
        raise NotPermitted("Only someone in the team that holds the case can ask to transfer it.")
    pack = transfer_pack(case)
    evaluation = EvaluationContext(build_case_view(case))
    from_team = case.responsible_team
    details = {k: v for k, v in (request_details or {}).items() if v not in (None, "")}
    problems: list[Problem] = []
    if not rationale.strip():
        problems.append(Problem("rationale", "Say why the case should move."))
    if to_team.pk == from_team.pk:
        problems.append(Problem("to_team", f"The case is already held by {from_team.name}."))
    if to_team.service_area != case.service_area or not to_team.active:
        problems.append(Problem("to_team", f"{to_team.name} cannot take this case."))
    protocol = _protocol_for(pack, from_team, to_team, evaluation)
    moves = protocol.moves_responsibility if protocol else True
    if moves and not to_team.holds_cases:
        problems.append(Problem("to_team", f"{to_team.name} does not hold cases."))
    for name in protocol.request_fields if protocol else []:
        if name not in details:
            problems.append(Problem(name, f"Give the {name.replace('_', ' ')} for this transfer."))
    problems += _request_detail_problems(pack, details)
    recommendation: Recommendation | None = None
    if trigger:
        recommendation = route(pack, trigger, evaluation)
        recommended = recommendation.team if recommendation else ""
        if recommendation and recommended != to_team.code:
            if not override_reason.strip():
                problems.append(
                    Problem(
                        "override_reason",
                        f"The procedure recommends {pack.spec.teams.get(recommended, recommended)} "
                        f"({recommendation.explanation}) Give a reason for choosing another team.",
                    )
                )
            elif not holds_role_for_case(actor, case, Role.TEAM_MANAGER):
                problems.append(
                    Problem(
                        "override_reason",
                        "Only a manager can send the case somewhere other than the team the "
                        "procedure recommends.",
                    )
                )
    if problems:
        raise InvalidInput(problems)
    recommended_team = (
        Team.objects.filter(authority=from_team.authority, code=recommendation.team).first()
        if recommendation
        else None
    )
    transfer = Transfer(
        case=case,
        pack_id=pack.id,
        protocol_id=protocol.id if protocol else "",
        from_team=from_team,
        to_team=to_team,
        moves_responsibility=moves,
        state=TransferState.REQUESTED,
        rationale=rationale.strip(),
        request_details=details,
        trigger=trigger,
        recommended_team=recommended_team,
        recommendation_rule=recommendation.rule.id if recommendation else "",
        override_reason=override_reason.strip() if recommended_team != to_team else "",
        requested_by=actor,
        requested_on=timezone.localdate(),
    )
    try:
        with transaction.atomic():
            transfer.save()
    except IntegrityError as clash:
        raise Conflict("A transfer of this case is already in progress.") from clash
    ctx = TransferContext(transfer, case, pack, evaluation)
    overridden = " (overriding the recommended team)" if transfer.override_reason else ""
    _audit(
        ctx,
        actor,
        "transfer.requested",
        f"Transfer to {to_team.name} requested{overridden}",
        reason=rationale.strip(),
        changes={"override_reason": [None, transfer.override_reason]}
        if transfer.override_reason
        else None,
    )
    _emit(ctx, "transfer.requested", transfer.requested_on)
    return transfer


def _require_sending_manager(ctx: TransferContext, actor: User, action: str) -> None:
    spec = ctx.pack.spec.transfer
    assert spec is not None  # noqa: S101 - transfer packs have one
    if not holds_role_in_team(actor, ctx.transfer.from_team, spec.authorised_by):
        raise NotPermitted(f"Only a manager of {ctx.transfer.from_team.name} can {action}.")


@transaction.atomic
def transfer_discuss(
    *,
    actor: User,
    transfer: Transfer,
    discussed_on: dt.date,
    agreed_transfer_date: dt.date | None = None,
) -> Transfer:
    """The sending manager's discussion, which starts the protocol's clock (R004-05)."""
    ctx = _load(actor, transfer)
    _require_sending_manager(ctx, actor, "record the transfer discussion")
    if ctx.transfer.state not in ACTIVE_TRANSFER_STATES:
        raise InvalidInput("This transfer is finished.")
    if discussed_on > timezone.localdate():
        raise InvalidInput("The discussion date cannot be in the future.", field="discussed_on")
    protocol = ctx.protocol
    deadline = None
    if protocol and protocol.transfer_within:
        deadline = due_date(
            protocol.transfer_within, discussed_on, ctx.case.responsible_team.authority.calendar()
        )
    agreed = agreed_transfer_date or deadline
    if agreed and deadline and agreed > deadline:
        raise InvalidInput(
            f"The procedure says the case moves by {long_date(deadline)}: agree a date on or "
            "before then.",
            field="agreed_transfer_date",
        )
    Transfer.objects.filter(pk=ctx.transfer.pk).update(
        discussed_on=discussed_on, agreed_transfer_date=agreed
    )
    ctx.transfer.refresh_from_db()
    if protocol and protocol.transfer_within:
        _schedule(
            ctx,
            "deadline",
            f"Transfer to {ctx.transfer.to_team.name} completes",
            Role.TEAM_MANAGER,
            protocol.transfer_within,
            discussed_on,
            requirement=(protocol.requirement or [""])[0],
            escalate_to=protocol.escalate_if_late.role if protocol.escalate_if_late else "",
        )
    _audit(
        ctx,
        actor,
        "transfer.discussed",
        f"Transfer discussed; agreed date {long_date(agreed)}" if agreed else "Transfer discussed",
    )
    _emit(ctx, "transfer.discussed", discussed_on)
    return ctx.transfer


def transfer_summary_initial(ctx: TransferContext) -> dict[str, Any]:
    spec = ctx.pack.spec.transfer
    assert spec is not None  # noqa: S101 - transfer packs have one
    return {
        s.field.id: prefill(s.field.prefill, ctx.case).text
        for s in form_fields(ctx.pack, spec.summary_form, ctx.evaluation)
        if s.field.prefill
    }


@transaction.atomic
def transfer_summary_submit(
    *, actor: User, transfer: Transfer, answers: dict[str, Any]
) -> Transfer:
    """The transfer summary (R004-02): pre-filled from the record where the pack says, the
    worker's answers over the top; every heading that applies must be answered."""
    ctx = _load(actor, transfer)
    if ctx.transfer.state != TransferState.REQUESTED:
        raise InvalidInput("The summary can only be written before the transfer is authorised.")
    if not holds_role_for_case(actor, ctx.case, Role.SOCIAL_WORKER):
        raise NotPermitted("Only the sending team writes the transfer summary.")
    spec = ctx.pack.spec.transfer
    assert spec is not None  # noqa: S101 - transfer packs have one
    merged = {**transfer_summary_initial(ctx), **ctx.transfer.request_details, **answers}
    states = form_fields(ctx.pack, spec.summary_form, ctx.evaluation, merged)
    known = {s.field.id for s in states}
    missing = [
        Problem(s.field.id, f"Answer '{s.field.label}'.")
        for s in states
        if s.shown and s.field.required and merged.get(s.field.id) in (None, "", [])
    ]
    # What was sent that is wrong first, then what is still missing.
    missing = answer_problems(ctx.pack.spec.forms[spec.summary_form], answers) + missing
    if missing:
        raise InvalidInput(missing)
    Transfer.objects.filter(pk=ctx.transfer.pk).update(
        summary={k: v for k, v in merged.items() if k in known},
        summary_submitted_at=timezone.now(),
    )
    ctx.transfer.refresh_from_db()
    _audit(ctx, actor, "transfer.summary_completed", "Transfer summary completed")
    _emit(ctx, "transfer.summary_completed", timezone.localdate())
    return ctx.transfer


@transaction.atomic
def transfer_audit_record(
    *, actor: User, transfer: Transfer, answers: dict[str, dict[str, str]]
) -> Transfer:
    """The sending manager's audit of the record (chronology, recording, relationships,
    genogram; R004-02): automatic checks are shown with their evidence, and the manager
    confirms each item, with a note where they differ from the check."""
    ctx = _load(actor, transfer)
    _require_sending_manager(ctx, actor, "audit the case for transfer")
    if ctx.transfer.state != TransferState.REQUESTED:
        raise InvalidInput("The audit is done before the transfer is authorised.")
    spec = ctx.pack.spec.transfer
    assert spec is not None  # noqa: S101 - transfer packs have one
    results = checklist_results(ctx.pack, spec.audit_checklist, ctx.evaluation)
    problems = []
    record: dict[str, Any] = {}
    for result in results:
        given = answers.get(result.item.id)
        if not given or given.get("answer") not in ("yes", "no"):
            problems.append(Problem(result.item.id, f"Confirm: {result.item.text}"))
            continue
        overridden = result.passed is not None and (given["answer"] == "yes") != result.passed
        if overridden and not given.get("note", "").strip():
            problems.append(
                Problem(
                    result.item.id, f"Say why you differ from the record on: {result.item.text}"
                )
            )
        record[result.item.id] = {
            "answer": given["answer"],
            "note": given.get("note", "").strip(),
            "automatic": result.passed,
            "overridden": overridden,
        }
    if problems:
        raise InvalidInput(problems)
    Transfer.objects.filter(pk=ctx.transfer.pk).update(audit=record, audited_by=actor)
    ctx.transfer.refresh_from_db()
    _audit(
        ctx,
        actor,
        "transfer.audited",
        "Transfer audit completed",
        changes={"audit": [None, record]},
    )
    return ctx.transfer


@transaction.atomic
def transfer_authorise(*, actor: User, transfer: Transfer) -> Transfer:
    """The sending manager authorises: only with the summary written, the audit done and the
    pack's gates met (R004-02, and the protocol's own, e.g. R004-05)."""
    ctx = _load(actor, transfer)
    _require_sending_manager(ctx, actor, "authorise the transfer")
    problems = []
    if ctx.transfer.summary_submitted_at is None:
        problems.append(Problem(None, "Complete the transfer summary first."))
    if not ctx.transfer.audit:
        problems.append(Problem(None, "Complete the transfer audit first."))
    if problems:
        raise InvalidInput(problems)
    outstanding = _gates(ctx)
    if outstanding:
        raise TransferBlocked(outstanding)
    today = timezone.localdate()
    ctx.transfer = _transition(
        ctx.transfer,
        (TransferState.REQUESTED,),
        TransferState.AUTHORISED,
        authorised_by=actor,
        authorised_on=today,
    )
    _audit(ctx, actor, "transfer.authorised", f"Transfer to {ctx.transfer.to_team.name} authorised")
    _emit(ctx, "transfer.authorised", today)
    notify_role(
        key=_key(ctx.transfer, "to-decide"),
        case=ctx.case,
        role=Role.TEAM_MANAGER,
        event="transfer.authorised",
        message=f"{ctx.transfer.from_team.name} asks {ctx.transfer.to_team.name} to take case "
        f"{ctx.case.reference}. Accept or decline it.",
    )
    return ctx.transfer


@transaction.atomic
def transfer_decide(
    *,
    actor: User,
    transfer: Transfer,
    accept: bool,
    reason: str = "",
    receiving_worker: User | None = None,
) -> Transfer:
    """The receiving team accepts (naming the worker, if known) or declines with a reason.
    Racing accept and decline give exactly one outcome."""
    current = Transfer.objects.select_related("to_team").get(pk=transfer.pk)
    if current.state != TransferState.AUTHORISED and holds_role_in_team(
        actor, current.to_team, Role.TEAM_MANAGER
    ):
        # The receiving team's need to know ends with the decision, so say what happened
        # rather than "no such case" to the manager who lost the race.
        raise Conflict(
            f"This transfer has already been decided: it is now '{current.get_state_display()}'."
        )
    ctx = _load(actor, transfer)
    spec = ctx.pack.spec.transfer
    assert spec is not None  # noqa: S101 - transfer packs have one
    if not holds_role_in_team(actor, ctx.transfer.to_team, spec.accepted_by):
        raise NotPermitted(f"Only a manager of {ctx.transfer.to_team.name} can decide.")
    if not accept and not reason.strip():
        raise InvalidInput("Say why the case is declined.", field="reason")
    if (
        receiving_worker is not None
        and not Membership.objects.current()
        .filter(user=receiving_worker, team=ctx.transfer.to_team)
        .exists()
    ):
        raise InvalidInput(
            f"{receiving_worker.display_name} is not in {ctx.transfer.to_team.name}.",
            field="receiving_worker",
        )
    today = timezone.localdate()
    if not accept:
        ctx.transfer = _transition(
            ctx.transfer,
            (TransferState.AUTHORISED,),
            TransferState.DECLINED,
            decided_by=actor,
            decided_on=today,
            decline_reason=reason.strip(),
        )
        _audit(
            ctx,
            actor,
            "transfer.declined",
            f"{ctx.transfer.to_team.name} declined the transfer",
            reason=reason,
        )
        _emit(ctx, "transfer.declined", today)
        return ctx.transfer
    ctx.transfer = _transition(
        ctx.transfer,
        (TransferState.AUTHORISED,),
        TransferState.ACCEPTED,
        decided_by=actor,
        decided_on=today,
        receiving_worker=receiving_worker,
    )
    _audit(
        ctx,
        actor,
        "transfer.accepted",
        f"{ctx.transfer.to_team.name} accepted the case",
        reason=reason,
    )
    _emit(ctx, "transfer.accepted", today)
    protocol = ctx.protocol
    if protocol is None or protocol.transfer_point == "acceptance":
        _complete(ctx, actor, today)
    return ctx.transfer


@transaction.atomic
def transfer_complete(*, actor: User, transfer: Transfer) -> Transfer:
    """Move the case at the transfer point: on the agreed date (even if someone missed the
    transfer meeting, R004-05) or once the named meeting is held (the CiN review, R004-06)."""
    ctx = _load(actor, transfer)
    if ctx.transfer.state != TransferState.ACCEPTED:
        raise InvalidInput("Only an accepted transfer can complete.")
    if not (
        holds_role_in_team(actor, ctx.transfer.from_team, Role.TEAM_MANAGER)
        or holds_role_in_team(actor, ctx.transfer.to_team, Role.TEAM_MANAGER)
    ):
        raise NotPermitted("A manager of the sending or receiving team completes the transfer.")
    protocol = ctx.protocol
    today = timezone.localdate()
    if protocol and protocol.transfer_point == "agreed_date":
        agreed = ctx.transfer.agreed_transfer_date
        if agreed is None or today < agreed:
            when = f"on {long_date(agreed)}" if agreed else "once the date is agreed"
            raise InvalidInput(f"The case moves on the agreed date: {when}.")
    if protocol and protocol.transfer_point == "meeting":
        held = any(
            m["kind"] == protocol.meeting_kind
            for m in ctx.evaluation.view["meetings"]
            if m["date"] and ctx.transfer.decided_on and m["date"].date() >= ctx.transfer.decided_on
        )
        if not held:
            raise InvalidInput("The case moves at the review: record the meeting first.")
    _complete(ctx, actor, today)
    return ctx.transfer


def _complete(ctx: TransferContext, actor: User, today: dt.date) -> None:
    ctx.transfer = _transition(
        ctx.transfer, (TransferState.ACCEPTED,), TransferState.COMPLETED, completed_on=today
    )
    if ctx.transfer.moves_responsibility:
        case = Case.objects.select_for_update().get(pk=ctx.case.pk)
        if case.responsible_team_id != ctx.transfer.from_team_id:
            raise Conflict("The case has moved team since the transfer was requested.")
        Allocation.objects.filter(case=case, ended_on__isnull=True).update(ended_on=today)
        Allocation.objects.create(
            case=case,
            team=ctx.transfer.to_team,
            worker=ctx.transfer.receiving_worker,
            started_on=today,
            reason=f"Transferred from {ctx.transfer.from_team.name}",
        )
        Case.objects.filter(pk=case.pk).update(
            responsible_team=ctx.transfer.to_team, allocated_worker=ctx.transfer.receiving_worker
        )
    tasks_complete_by_key(actor=actor, keys=[_key(ctx.transfer, "deadline")])
    _audit(
        ctx,
        actor,
        "transfer.completed",
        f"Case moved to {ctx.transfer.to_team.name}"
        if ctx.transfer.moves_responsibility
        else f"Support from {ctx.transfer.to_team.name} started; responsibility stays with "
        f"{ctx.transfer.from_team.name}",
    )
    _emit(ctx, "transfer.completed", today)


@transaction.atomic
def transfer_withdraw(*, actor: User, transfer: Transfer, reason: str) -> Transfer:
    ctx = _load(actor, transfer)
    if not reason.strip():
        raise InvalidInput("Say why the transfer is withdrawn.", field="reason")
    if ctx.transfer.requested_by_id != actor.pk:
        _require_sending_manager(ctx, actor, "withdraw someone else's transfer request")
    ctx.transfer = _transition(
        ctx.transfer, ACTIVE_TRANSFER_STATES, TransferState.WITHDRAWN, decline_reason=reason.strip()
    )
    _audit(ctx, actor, "transfer.withdrawn", "Transfer withdrawn", reason=reason)
    return ctx.transfer
