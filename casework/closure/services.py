"""The closure workflow: the only way a case ends (R000-01).

Each function checks who may act and what the bound pack's gates say, changes state with a
race-safe conditional update, records the step, audits it, and schedules the deadlines and
notifications the pack names for the event, all in one transaction.

States (`ClosureState`) and transitions:
  (none)          --propose-->       proposed
  proposed        --decide agreed--> agreed
  proposed        --decide further-> further_actions --resubmit (all actions done)--> proposed
  proposed        --decide reject--> rejected
  proposed/further_actions/agreed/authorised --withdraw--> withdrawn
  agreed          --authorise-->     authorised   (packs with an authorise step)
  agreed or authorised --all applicable steps done, closure gates met--> closed
Other steps (forms, checklists, meetings, signatures, sharing, tasks) are recorded while the
closure is agreed or authorised; a step whose pack `when` does not hold does not apply.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from casework.access.policy import case_for, case_in_transaction, holds_role_for_case
from casework.accounts.models import User
from casework.audit.models import AuditCategory
from casework.audit.services import audit_record
from casework.cases.models import Allocation, Case, CaseStatus
from casework.closure.models import (
    ACTIVE_STATES,
    ChecklistAnswer,
    Closure,
    ClosureState,
    FormResponse,
    FurtherAction,
    GateAgreement,
    Sharing,
    Signature,
    SignedDocument,
    StepRecord,
)
from casework.core.compiled import CompiledRead
from casework.core.dates import long_date
from casework.core.errors import Conflict, InvalidInput, NotPermitted, Problem
from casework.core.transitions import transition
from casework.organisation.models import Membership, Role
from casework.policy.answers import answer_problems
from casework.policy.caseview import ViewShape, build_case_view, merge_shapes
from casework.policy.conditions import EvaluationContext
from casework.policy.evaluate import (
    GateResult,
    applicable_steps,
    checklist_results,
    due_date,
    evaluate_gate,
    form_fields,
    notifications_matching,
    overdue_escalation,
)
from casework.policy.loader import PolicyPack, load_pack
from casework.policy.models import PackPurpose
from casework.policy.prefill import prefill
from casework.policy.schema import Due, Step, Task
from casework.policy.services import bound_pack
from casework.tasks.services import notify_role, task_schedule, tasks_complete_by_key


class GateBlocked(InvalidInput):
    """A step cannot be done yet: each outstanding gate says what is missing and where to
    record it."""

    def __init__(self, results: list[GateResult]) -> None:
        self.results = results
        super().__init__(
            [Problem(None, f"{r.explanation} Record it in: {r.gate.record_at}.") for r in results]
        )


@dataclass
class ClosureContext:
    """Everything a closure action needs, loaded once per call."""

    closure: Closure
    case: Case
    pack: PolicyPack
    evaluation: EvaluationContext

    @property
    def steps(self) -> list[Step]:
        return applicable_steps(self.pack, self.evaluation)

    def step(self, step_id: str) -> Step:
        for step in self.pack.spec.closure.steps if self.pack.spec.closure else []:
            if step.id == step_id:
                return step
        raise InvalidInput(f"This procedure has no step '{step_id}'.")


def _role_label(role: str) -> str:
    return Role(role).label.lower()


def _require_role(actor: User, case: Case, role: str, action: str) -> None:
    if not holds_role_for_case(actor, case, role):
        raise NotPermitted(
            f"Only the {_role_label(role)} can {action} for this case under its procedure."
        )


# What the national-code rules read of the record (`_national_code_problems`), beside what
# the procedure's own conditions read.
_NATIONAL_CODE_SHAPE: ViewShape = {
    "subject": frozenset({"deceased"}),
    "plans": None,
    "assessments": None,
}


def _proposal_shape(pack: PolicyPack) -> ViewShape:
    return merge_shapes(pack.case_view_shape, _NATIONAL_CODE_SHAPE)


def proposal_evaluation(
    case: Case, pack: PolicyPack, *, case_is_current: bool = False
) -> EvaluationContext:
    """The record as a proposal under `pack` reads it: only the parts of the case view its
    conditions and the national-code rules read (pack 000 reads 8 of its 17 roots, and 3
    of the subject's 21 fields), so only those are read from the database."""
    return EvaluationContext(
        build_case_view(case, case_is_current=case_is_current, shape=_proposal_shape(pack))
    )


def closure_pack(case: Case) -> PolicyPack:
    pack = bound_pack(case.responsible_team.authority, case.service_area, PackPurpose.CLOSURE)
    if pack is None:
        raise InvalidInput(
            "No closure procedure is set for this service. Ask an administrator to bind a "
            "policy pack (Django admin, Pack bindings)."
        )
    return pack


def _load(actor: User, closure: Closure) -> ClosureContext:
    case = case_for(actor, closure.case_id)
    closure = Closure.objects.get(pk=closure.pk)
    pack = load_pack(closure.pack_id)
    return ClosureContext(closure, case, pack, EvaluationContext(build_case_view(case)))


def _transition(
    closure: Closure, from_states: tuple[str, ...], to_state: str, **changes: Any
) -> Closure:
    return transition(closure, from_states, to_state, noun="closure", **changes)


def _record_step(
    ctx: ClosureContext,
    actor: User,
    step_id: str,
    *,
    outcome: str = "",
    note: str = "",
    details: dict[str, Any] | None = None,
    first: bool = False,
) -> StepRecord:
    """`first`: the closure was written in this transaction and has no steps yet, nor any
    deadline to complete (their keys hold its id, which no one had before now)."""
    if not first and ctx.closure.steps.filter(step_id=step_id).exists():
        raise InvalidInput("This step has already been done.")
    record = StepRecord.objects.create(
        closure=ctx.closure,
        step_id=step_id,
        done_by=actor,
        outcome=outcome,
        note=note,
        details=details or {},
    )
    if not first:
        tasks_complete_by_key(actor=actor, keys=[_task_key(ctx.closure, "step", step_id)])
    return record


def _task_key(closure: Closure, kind: str, ident: str) -> str:
    return f"closure:{closure.pk}:{kind}:{ident}"


def _outstanding_gates(ctx: ClosureContext, gate_ids: list[str]) -> list[GateResult]:
    """The gates not met and not agreed by the role they name."""
    agreed = set(ctx.closure.agreements.values_list("gate_id", flat=True))
    results = [evaluate_gate(ctx.pack, gate_id, ctx.evaluation) for gate_id in gate_ids]
    return [
        r
        for r in results
        if r.outstanding and not (r.gate.effect != "block" and r.gate_id in agreed)
    ]


def _check_gates(ctx: ClosureContext, gate_ids: list[str], *, closing: bool = False) -> None:
    """Refuse the step while a gate blocks or still needs someone's agreement. An
    outstanding escalation does not stop the work: it tells the roles named (once) and must
    be answered by one of them before the case can close."""
    outstanding = _outstanding_gates(ctx, gate_ids)
    for result in outstanding:
        if result.gate.effect == "escalate" and not closing:
            for role in result.gate.roles:
                notify_role(
                    key=f"closure:{ctx.closure.pk}:escalated:{result.gate_id}",
                    case=ctx.case,
                    role=role,
                    event="closure.escalated",
                    message=f"Escalated to you: case {ctx.case.reference}. "
                    f"{result.gate.blocked_reason} Record your decision on the closure.",
                    requirement=result.gate.requirement or "",
                )
    blocking = [r for r in outstanding if closing or r.gate.effect != "escalate"]
    if blocking:
        raise GateBlocked(blocking)


def _step_gate_ids(ctx: ClosureContext) -> set[str]:
    return {gate_id for step in ctx.steps for gate_id in step.gates}


def _escalation_gate_ids(ctx: ClosureContext) -> list[str]:
    return [
        gate_id
        for step in ctx.steps
        for gate_id in step.gates
        if ctx.pack.spec.gates[gate_id].effect == "escalate"
    ]


def _emit(ctx: ClosureContext, actor: User | None, event: str, on: dt.date) -> None:
    """Schedule what the pack says follows `event` (or a step done), and notify."""
    pack = ctx.pack
    closure_spec = pack.spec.closure
    calendar = ctx.case.responsible_team.authority.calendar()
    for step in closure_spec.steps if closure_spec else []:
        if step.due and step.due.from_ == event:
            _schedule(
                ctx,
                step.id,
                step.label,
                step.role,
                step.due,
                on,
                calendar,
                requirement=(step.requirement or [""])[0],
                kind="step",
                escalate_to=overdue_escalation(pack, step.escalate_to, step.role),
            )
    tasks: list[Task] = list(pack.spec.tasks) + list(closure_spec.tasks if closure_spec else [])
    for task in tasks:
        if task.due.from_ == event:
            _schedule(
                ctx,
                task.id,
                task.label,
                task.role,
                task.due,
                on,
                calendar,
                requirement=task.requirement or "",
                kind="task",
                escalate_to=overdue_escalation(pack, task.escalate_to, task.role),
            )
    notes = [*pack.spec.notifications, *(closure_spec.notifications if closure_spec else [])]
    for note in notifications_matching(pack, notes, event, ctx.evaluation):
        notify_role(
            key=f"closure:{ctx.closure.pk}:{event}:{note.role}",
            case=ctx.case,
            role=note.role,
            event=event,
            message=note.message,
            requirement=note.requirement or "",
        )


def _schedule(
    ctx: ClosureContext,
    ident: str,
    label: str,
    role: str,
    due: Due,
    start: dt.date,
    calendar: Any,
    *,
    requirement: str,
    kind: str,
    escalate_to: str,
) -> None:
    unit = ("working_days", due.working_days), ("days", due.days), ("weeks", due.weeks)
    amount, name = next((v, n) for n, v in unit if v is not None)
    task_schedule(
        key=_task_key(ctx.closure, kind, ident),
        case=ctx.case,
        title=label,
        role=role,
        due_on=due_date(due, start, calendar),
        due_rule=f"{amount} {name.replace('_', ' ')} from {due.from_} ({ctx.pack.id})",
        assignee=ctx.case.allocated_worker if role == Role.SOCIAL_WORKER else None,
        requirement=requirement,
        escalate_to=escalate_to,
    )


def _audit(
    ctx: ClosureContext,
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
        category=AuditCategory.CASE,
        obj=ctx.closure,
        case=ctx.case,
        person=ctx.case.subject,
        summary=summary,
        reason=reason,
        changes=changes,
    )


def _national_code_problems(code: str, view: dict[str, Any]) -> list[str]:
    """DfE CIN census rules that any closure reason must respect (domain facts 1.10)."""
    problems = []
    if code in {"RC8", "RC9"}:
        if not view["assessments"]:
            problems.append(
                "'Closed after assessment' needs an assessment on the case (CIN rule 8825Q)."
            )
        if view["plans"]["cp"]["ever"] or view["plans"]["cin"]["ever"]:
            problems.append(
                "'Closed after assessment' cannot be used once there has been a child in need "
                "or child protection plan (CIN rule 2990): choose 'services ceased'."
            )
    if code == "RC2" and not view["subject"]["deceased"]:
        problems.append("'Died' needs the date of death recorded on the person (CIN rule 8585Q).")
    return problems


@transaction.atomic
def closure_propose(
    *,
    actor: User,
    case: Case,
    reason_id: str,
    note: str = "",
    evaluation: EvaluationContext | None = None,
) -> Closure:
    """Propose closing `case`. `evaluation` is the case's record as the procedure reads it,
    if the caller has it built already (the API answers with the closure's task list, which
    reads the same record: proposing changes nothing in it)."""
    case = case_in_transaction(actor, case)
    if case.status != CaseStatus.OPEN:
        raise InvalidInput(f"Case {case.reference} is already closed.")
    pack = closure_pack(case)
    closure_spec = pack.spec.closure
    assert closure_spec is not None  # noqa: S101 - a closure pack has a closure section
    # Procedures that name no proposal step still start with the worker proposing.
    propose = next((s for s in closure_spec.steps if s.kind == "propose"), None)
    _require_role(actor, case, propose.role if propose else Role.SOCIAL_WORKER, "propose closure")
    reason = next((r for r in closure_spec.reasons if r.id == reason_id), None)
    if reason is None:
        raise InvalidInput("Choose one of the closure reasons listed.", field="reason_id")
    if _ACTIVE_CLOSURE.exists(case.pk):
        raise InvalidInput("A closure is already in progress for this case.")
    if evaluation is None:
        evaluation = proposal_evaluation(case, pack)
    elif not all(
        root in evaluation.view and (fields is None or fields <= evaluation.view[root].keys())
        for root, fields in _proposal_shape(pack).items()
    ):
        raise ValueError("The evaluation lacks parts of the record the procedure reads.")
    problems = _national_code_problems(reason.national_code, evaluation.view)
    if problems:
        raise InvalidInput([Problem("reason_id", p) for p in problems])
    closure = Closure(
        case=case,
        pack_id=pack.id,
        reason_id=reason.id,
        reason_label=reason.label,
        national_code=reason.national_code,
        state=ClosureState.PROPOSED,
        proposed_by=actor,
        proposed_on=timezone.localdate(),
        proposal_note=note.strip(),
    )
    ctx = ClosureContext(closure, case, pack, evaluation)
    outstanding = [
        r
        for r in (
            evaluate_gate(pack, g, evaluation)
            for g in [*(propose.gates if propose else []), *reason.gates]
        )
        if r.outstanding and r.gate.effect == "block"
    ]
    if outstanding:
        raise GateBlocked(outstanding)
    try:
        # No savepoint of its own: the refusal leaves this function, and this function's
        # transaction (or savepoint) undoes it, so the caller's transaction stays usable.
        closure.save()
    except IntegrityError as clash:
        # Two proposals at the same moment: the database's one-active-closure rule let one in.
        raise Conflict(
            "Someone else has just proposed closing this case. Reload the page."
        ) from clash
    # The closure carries the steps it was proposed with (`closure.steps.all()` reads none):
    # the proposal's answer lists them (`selectors.proposal_view`).
    recorded = (
        [_record_step(ctx, actor, propose.id, note=note.strip(), first=True)] if propose else []
    )
    closure._prefetched_objects_cache = {"steps": recorded}  # type: ignore[attr-defined]
    _audit(
        ctx,
        actor,
        "closure.proposed",
        f"Closure proposed: {reason.label} ({reason.national_code})",
        reason=note.strip(),
    )
    _emit(ctx, actor, "closure.proposed", closure.proposed_on)
    if propose is not None:
        _emit(ctx, actor, f"step:{propose.id}", closure.proposed_on)
    decide = _decision_step(pack)
    if decide:
        notify_role(
            key=f"closure:{closure.pk}:proposed",
            case=case,
            role=decide.role,
            event="closure.proposed",
            message=f"{actor.display_name} proposes closing case {case.reference}: "
            f"{reason.label}. Your decision is needed.",
        )
    return closure


# Asked before every proposal: compiled once (casework.core.compiled).
_ACTIVE_CLOSURE = CompiledRead(
    lambda case_id: Closure.objects.filter(case_id=case_id, state__in=ACTIVE_STATES), exists=True
)


def _decision_step(pack: PolicyPack) -> Step | None:
    steps = pack.spec.closure.steps if pack.spec.closure else []
    return next((s for s in steps if s.kind == "decide"), None)


@transaction.atomic
def closure_decide(
    *, actor: User, closure: Closure, outcome: str, note: str, actions: list[str] | None = None
) -> Closure:
    """The manager's decision: agreed, further actions (each tracked to done), or rejected."""
    ctx = _load(actor, closure)
    step = _decision_step(ctx.pack)
    if step is None:
        raise InvalidInput("This procedure has no decision step.")
    _require_role(actor, ctx.case, step.role, "decide on the closure")
    if not note.strip():
        raise InvalidInput(
            "Record the closure discussion and the reasons for the decision.", field="note"
        )
    actions = [a.strip() for a in (actions or []) if a.strip()]
    today = timezone.localdate()
    if outcome == "agreed":
        _check_gates(ctx, step.gates)
        new = _transition(
            ctx.closure,
            (ClosureState.PROPOSED,),
            ClosureState.AGREED,
            decided_by=actor,
            decided_on=today,
        )
        ctx.closure = new
        _record_step(ctx, actor, step.id, outcome="agreed", note=note.strip())
        _audit(ctx, actor, "closure.agreed", "Closure agreed by the manager", reason=note)
        _emit(ctx, actor, "closure.agreed", today)
        # The closure record's clock runs from the Manager's Decision (or supervision)
        # that advised closure, which may predate this agreement (R001-04).
        advised = (
            ctx.case.decisions.filter(kind="advise_closure", decided_on__lte=today)
            .order_by("-decided_on")
            .values_list("decided_on", flat=True)
            .first()
        )
        _emit(ctx, actor, "manager_decision.advise_closure", advised or today)
        _emit(ctx, actor, f"step:{step.id}", today)
    elif outcome == "further_actions":
        if not actions:
            raise InvalidInput("List the further actions needed before closure.", field="actions")
        new = _transition(
            ctx.closure,
            (ClosureState.PROPOSED,),
            ClosureState.FURTHER_ACTIONS,
            decided_by=actor,
            decided_on=today,
        )
        ctx.closure = new
        FurtherAction.objects.bulk_create(
            [FurtherAction(closure=new, description=a) for a in actions]
        )
        _audit(
            ctx,
            actor,
            "closure.further_actions",
            f"Further actions required before closure ({len(actions)})",
            reason=note,
            changes={"actions": [None, actions]},
        )
        _emit(ctx, actor, "closure.further_actions", today)
    elif outcome == "rejected":
        new = _transition(
            ctx.closure,
            (ClosureState.PROPOSED,),
            ClosureState.REJECTED,
            decided_by=actor,
            decided_on=today,
            ended_reason=note.strip(),
        )
        ctx.closure = new
        _audit(ctx, actor, "closure.rejected", "Closure rejected", reason=note)
        _emit(ctx, actor, "closure.rejected", today)
    else:
        raise InvalidInput("Choose agreed, further actions or rejected.", field="outcome")
    return ctx.closure


@transaction.atomic
def further_action_complete(*, actor: User, action: FurtherAction, note: str) -> FurtherAction:
    ctx = _load(actor, action.closure)
    if ctx.closure.state != ClosureState.FURTHER_ACTIONS:
        raise InvalidInput("This closure is not waiting for further actions.")
    _require_role(actor, ctx.case, Role.SOCIAL_WORKER, "record further actions")
    updated = FurtherAction.objects.filter(pk=action.pk, done_at__isnull=True).update(
        done_by=actor, done_at=timezone.now(), note=note.strip()
    )
    if updated != 1:
        raise Conflict("This action is already recorded as done.")
    _audit(
        ctx, actor, "closure.action_done", f"Further action done: {action.description}", reason=note
    )
    return FurtherAction.objects.get(pk=action.pk)


@transaction.atomic
def closure_resubmit(*, actor: User, closure: Closure) -> Closure:
    ctx = _load(actor, closure)
    _require_role(actor, ctx.case, Role.SOCIAL_WORKER, "resubmit the closure")
    outstanding = list(
        ctx.closure.actions.filter(done_at__isnull=True).values_list("description", flat=True)
    )
    if outstanding:
        raise InvalidInput([Problem(None, f"Not yet done: {a}") for a in outstanding])
    ctx.closure = _transition(ctx.closure, (ClosureState.FURTHER_ACTIONS,), ClosureState.PROPOSED)
    _audit(ctx, actor, "closure.resubmitted", "Further actions done; closure resubmitted")
    return ctx.closure


@transaction.atomic
def closure_withdraw(*, actor: User, closure: Closure, reason: str) -> Closure:
    ctx = _load(actor, closure)
    if not reason.strip():
        raise InvalidInput("Say why the closure is withdrawn.", field="reason")
    if ctx.closure.proposed_by_id != actor.pk:
        _require_role(actor, ctx.case, Role.TEAM_MANAGER, "withdraw someone else's proposal")
    ctx.closure = _transition(
        ctx.closure, ACTIVE_STATES, ClosureState.WITHDRAWN, ended_reason=reason.strip()
    )
    _audit(ctx, actor, "closure.withdrawn", "Closure withdrawn", reason=reason)
    _emit(ctx, actor, "closure.withdrawn", timezone.localdate())
    return ctx.closure


def _require_in_progress(ctx: ClosureContext) -> None:
    if ctx.closure.state not in (ClosureState.AGREED, ClosureState.AUTHORISED):
        raise InvalidInput(
            "This can be done once the manager has agreed the closure "
            f"(it is now: {ctx.closure.get_state_display()})."
        )


def _require_after(ctx: ClosureContext, step: Step) -> None:
    """Refuse a step while a step the pack says comes first is not done."""
    done = set(ctx.closure.steps.values_list("step_id", flat=True))
    waiting = [ctx.step(s).label for s in step.after if s not in done]
    if waiting:
        raise InvalidInput([Problem(None, f"Do this first: {label}.") for label in waiting])


def _step_of_kind(ctx: ClosureContext, step_id: str, kinds: set[str]) -> Step:
    step = ctx.step(step_id)
    if step.kind not in kinds:
        raise InvalidInput(f"'{step.label}' is not done this way.")
    if step not in ctx.steps:
        raise InvalidInput(f"'{step.label}' does not apply to this case.")
    return step


def _steps_still_to_do(ctx: ClosureContext) -> list[Step]:
    done = set(ctx.closure.steps.values_list("step_id", flat=True))
    return [s for s in ctx.steps if not s.optional and s.id not in done]


def _closing_gates(ctx: ClosureContext) -> list[GateResult]:
    closure_spec = ctx.pack.spec.closure
    assert closure_spec is not None  # noqa: S101 - closure packs have one
    return _outstanding_gates(ctx, [*closure_spec.gates, *_escalation_gate_ids(ctx)])


def _maybe_close(ctx: ClosureContext, actor: User) -> None:
    """Close the case once every applicable, non-optional step is done and the closing gates
    are met. If a gate is still outstanding the step just recorded stands, and the case
    closes when someone finishes the closure after putting it right (closure_finish)."""
    if _steps_still_to_do(ctx) or _closing_gates(ctx):
        return
    _close(ctx, actor)


@transaction.atomic
def closure_finish(*, actor: User, closure: Closure) -> Closure:
    """Close a closure whose steps are all done but which waited for a gate (e.g. a plan
    still open): says exactly what is still missing if it cannot close yet."""
    ctx = _load(actor, closure)
    _require_in_progress(ctx)
    _require_role(actor, ctx.case, Role.SOCIAL_WORKER, "finish the closure")
    missing = _steps_still_to_do(ctx)
    if missing:
        raise InvalidInput([Problem(None, f"Not done yet: {s.label}.") for s in missing])
    outstanding = _closing_gates(ctx)
    if outstanding:
        raise GateBlocked(outstanding)
    _close(ctx, actor)
    return Closure.objects.get(pk=ctx.closure.pk)


def _close(ctx: ClosureContext, actor: User) -> None:
    if (
        any(s.kind == "authorise" for s in ctx.steps)
        and ctx.closure.state != ClosureState.AUTHORISED
    ):
        raise InvalidInput("The closure must be authorised before the case can close.")
    today = timezone.localdate()
    ctx.closure = _transition(
        ctx.closure,
        (ClosureState.AGREED, ClosureState.AUTHORISED),
        ClosureState.CLOSED,
        closed_on=today,
    )
    case_updated = Case.objects.filter(pk=ctx.case.pk, status=CaseStatus.OPEN).update(
        status=CaseStatus.CLOSED, closed_on=today, closure_reason=ctx.closure.national_code
    )
    if case_updated != 1:
        raise Conflict("The case was closed by someone else at the same moment.")
    Allocation.objects.filter(case=ctx.case, ended_on__isnull=True).update(ended_on=today)
    ctx.case.refresh_from_db()
    ctx.evaluation = EvaluationContext(build_case_view(ctx.case))
    _audit(
        ctx,
        actor,
        "case.closed",
        f"Case closed: {ctx.closure.reason_label} ({ctx.closure.national_code})",
        changes={"status": [CaseStatus.OPEN, CaseStatus.CLOSED]},
    )
    _emit(ctx, actor, "closure.closed", today)


def _after_step(ctx: ClosureContext, actor: User, step: Step, event: str | None) -> None:
    today = timezone.localdate()
    if event:
        _emit(ctx, actor, event, today)
    _emit(ctx, actor, f"step:{step.id}", today)
    _maybe_close(ctx, actor)


@transaction.atomic
def closure_step_complete(
    *, actor: User, closure: Closure, step_id: str, note: str = ""
) -> Closure:
    """Record a step that is a fact rather than a form: a discussion, a meeting held, a task
    done, an archive."""
    ctx = _load(actor, closure)
    _require_in_progress(ctx)
    step = _step_of_kind(
        ctx, step_id, {"discuss", "decide", "meeting", "task", "assess", "archive"}
    )
    _require_role(actor, ctx.case, step.role, f"record '{step.label}'")
    _require_after(ctx, step)
    _check_gates(ctx, step.gates)
    if step.kind == "meeting" and not any(
        m["kind"] == step.meeting_kind for m in ctx.evaluation.view["meetings"]
    ):
        raise InvalidInput(f"Record the meeting on the case first ({step.label}).")
    _record_step(ctx, actor, step.id, note=note.strip())
    _audit(ctx, actor, "closure.step_done", f"Closure step done: {step.label}", reason=note)
    _after_step(ctx, actor, step, None)
    return Closure.objects.get(pk=ctx.closure.pk)


@transaction.atomic
def gate_agree(*, actor: User, closure: Closure, gate_id: str, note: str) -> GateAgreement:
    """A role the pack names agrees to go on although a gate is not met (e.g. a Service
    Manager agreeing to close for a client never seen, R002-13)."""
    ctx = _load(actor, closure)
    if not ctx.closure.is_active:
        raise InvalidInput("This closure has finished; there is nothing left to agree.")
    gate = ctx.pack.spec.gates.get(gate_id)
    if gate is None or gate.effect == "block" or gate_id not in _step_gate_ids(ctx):
        raise InvalidInput("That condition cannot be agreed past; the missing record is needed.")
    if ctx.closure.agreements.filter(gate_id=gate_id).exists():
        raise InvalidInput("This has already been agreed.")
    if not evaluate_gate(ctx.pack, gate_id, ctx.evaluation).outstanding:
        raise InvalidInput("The record already meets this condition: no agreement is needed.")
    role = _own_role(actor, ctx.case, gate.roles)
    if role is None:
        raise NotPermitted(
            f"Only a {' or '.join(_role_label(r) for r in gate.roles)} can agree this."
        )
    if not note.strip():
        raise InvalidInput("Record why you agree.", field="note")
    agreement = GateAgreement.objects.create(
        closure=ctx.closure, gate_id=gate_id, agreed_by=actor, role=role, note=note.strip()
    )
    _audit(
        ctx,
        actor,
        "closure.gate_agreed",
        f"{gate.label}: agreed by {_role_label(role)}",
        reason=note,
    )
    return agreement


def form_answers_initial(
    ctx: ClosureContext, form_id: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """Answers pre-filled from the record, and which source each came from."""
    answers: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for state in form_fields(ctx.pack, form_id, ctx.evaluation):
        source = state.field.prefill
        if source:
            answers[state.field.id] = prefill(source, ctx.case).text
            sources[state.field.id] = source
    return answers, sources


@transaction.atomic
def form_save_draft(
    *,
    actor: User,
    closure: Closure,
    form_id: str,
    answers: dict[str, Any],
    expected_version: int | None = None,
) -> FormResponse:
    """Autosave: keep what was typed. A stale version (another tab saved since) is refused so
    one tab never silently overwrites another."""
    ctx = _load(actor, closure)
    _require_in_progress(ctx)
    step = next((s for s in ctx.steps if s.kind == "form" and s.form == form_id), None)
    if step is None:
        raise InvalidInput("That form is not part of this closure.")
    _require_role(actor, ctx.case, step.role, f"write the {step.label.lower()}")
    problems = answer_problems(ctx.pack.spec.forms[form_id], answers)
    if problems:
        raise InvalidInput(problems)
    response = (
        FormResponse.objects.select_for_update()
        .filter(closure=ctx.closure, form_id=form_id)
        .first()
    )
    if response is None:
        initial, sources = form_answers_initial(ctx, form_id)
        response = FormResponse(
            closure=ctx.closure,
            form_id=form_id,
            answers=initial,
            prefilled=sources,
            updated_by=actor,
        )
    elif expected_version is not None and response.version != expected_version:
        raise Conflict(
            "This form was saved from somewhere else since you opened it. "
            "Reload it: your text is kept in your browser until you do."
        )
    elif response.submitted_at is not None:
        raise InvalidInput("This form has been submitted and can no longer be changed.")
    for key, value in answers.items():
        if response.answers.get(key) != value:
            response.prefilled.pop(key, None)
        response.answers[key] = value
    response.updated_by = actor
    if response.pk:
        response.version += 1
    response.save()
    return response


@transaction.atomic
def form_submit(*, actor: User, closure: Closure, form_id: str) -> FormResponse:
    ctx = _load(actor, closure)
    _require_in_progress(ctx)
    step = next((s for s in ctx.steps if s.kind == "form" and s.form == form_id), None)
    if step is None:
        raise InvalidInput("That form is not part of this closure.")
    _require_role(actor, ctx.case, step.role, f"submit the {step.label.lower()}")
    _require_after(ctx, step)
    _check_gates(ctx, step.gates)
    response = (
        FormResponse.objects.select_for_update()
        .filter(closure=ctx.closure, form_id=form_id)
        .first()
    )
    if response is None:
        raise InvalidInput("Fill in the form before submitting it.")
    missing = [
        Problem(s.field.id, f"Answer '{s.field.label}'.")
        for s in form_fields(ctx.pack, form_id, ctx.evaluation, response.answers)
        if s.shown and s.field.required and response.answers.get(s.field.id) in (None, "", [])
    ]
    if missing:
        raise InvalidInput(missing)
    response.submitted_at = timezone.now()
    response.save(update_fields=["submitted_at"])
    _record_step(ctx, actor, step.id)
    _audit(ctx, actor, "closure.form_submitted", f"{ctx.pack.spec.forms[form_id].title} completed")
    _after_step(ctx, actor, step, "closure.summary_completed")
    return response


@transaction.atomic
def checklist_answer(
    *,
    actor: User,
    closure: Closure,
    checklist_id: str,
    item_id: str,
    answer: str,
    note: str = "",
    evidence_date: dt.date | None = None,
) -> ChecklistAnswer:
    """The supervisor confirms or overrides an item, with a note (R002-06, R002-16)."""
    ctx = _load(actor, closure)
    _require_in_progress(ctx)
    step = next((s for s in ctx.steps if s.checklist == checklist_id), None)
    if step is None:
        raise InvalidInput("That checklist is not part of this closure.")
    _require_role(actor, ctx.case, step.role, "complete the checklist")
    checklist = ctx.pack.spec.checklists[checklist_id]
    results = {r.item.id: r for r in checklist_results(ctx.pack, checklist_id, ctx.evaluation)}
    result = results.get(item_id)
    if result is None:
        raise InvalidInput("That item is not on the checklist.")
    problems = []
    if answer not in ChecklistAnswer.Answer.values:
        problems.append(Problem("answer", "Answer yes, no or not applicable."))
    if answer == "na" and not result.section.not_applicable_allowed:
        problems.append(Problem("answer", "This item cannot be marked not applicable."))
    overridden = result.passed is not None and (answer == "yes") != result.passed
    if (checklist.item_note_required or overridden or answer == "na") and not note.strip():
        problems.append(
            Problem(
                "note",
                "Add a note saying what you checked"
                + (" and why you differ from the automatic check." if overridden else "."),
            )
        )
    if checklist.evidence_date_required and answer == "yes" and evidence_date is None:
        problems.append(Problem("evidence_date", "Give the date of the record that shows it."))
    if problems:
        raise InvalidInput(problems)
    record, _ = ChecklistAnswer.objects.update_or_create(
        closure=ctx.closure,
        checklist_id=checklist_id,
        item_id=item_id,
        defaults={
            "automatic_result": result.passed,
            "answer": answer,
            "overridden": overridden,
            "note": note.strip(),
            "evidence_date": evidence_date,
            "answered_by": actor,
        },
    )
    _audit(
        ctx,
        actor,
        "closure.checklist_answered",
        f"Checklist item {item_id}: {record.get_answer_display()}"
        + (" (overriding the automatic check)" if overridden else ""),
        reason=note,
    )
    return record


@transaction.atomic
def checklist_complete(*, actor: User, closure: Closure, checklist_id: str) -> Closure:
    ctx = _load(actor, closure)
    _require_in_progress(ctx)
    step = next(
        (s for s in ctx.steps if s.checklist == checklist_id and s.kind == "checklist"), None
    )
    if step is None:
        raise InvalidInput("That checklist is not a step of this closure.")
    _require_role(actor, ctx.case, step.role, "complete the checklist")
    _check_gates(ctx, step.gates)
    _require_after(ctx, step)
    _require_checklist_answered(ctx, checklist_id)
    _record_step(ctx, actor, step.id)
    _audit(ctx, actor, "closure.audited", f"{ctx.pack.spec.checklists[checklist_id].title} done")
    _after_step(ctx, actor, step, "closure.audited")
    return Closure.objects.get(pk=ctx.closure.pk)


def _require_checklist_answered(ctx: ClosureContext, checklist_id: str) -> None:
    answered = set(
        ctx.closure.checklist.filter(checklist_id=checklist_id).values_list("item_id", flat=True)
    )
    items = [i for s in ctx.pack.spec.checklists[checklist_id].sections for i in s.items]
    missing = [i for i in items if i.id not in answered]
    if missing:
        raise InvalidInput([Problem(None, f"Answer item {i.id}: {i.text}") for i in missing])


@transaction.atomic
def closure_authorise(*, actor: User, closure: Closure, compliance_review: str = "") -> Closure:
    ctx = _load(actor, closure)
    step = next((s for s in ctx.steps if s.kind == "authorise"), None)
    if step is None:
        raise InvalidInput("This procedure has no authorisation step.")
    _require_role(actor, ctx.case, step.role, "authorise the closure")
    _require_after(ctx, step)
    if ctx.closure.state != ClosureState.AGREED:
        raise InvalidInput(
            f"The closure cannot be authorised now: it is '{ctx.closure.get_state_display()}'."
        )
    done = set(ctx.closure.steps.values_list("step_id", flat=True))
    before = ctx.steps[: ctx.steps.index(step)]
    missing = [s for s in before if not s.optional and s.id not in done]
    if missing:
        raise InvalidInput([Problem(None, f"Not done yet: {s.label}.") for s in missing])
    closure_spec = ctx.pack.spec.closure
    assert closure_spec is not None  # noqa: S101 - closure packs have one
    _check_gates(ctx, [*step.gates, *closure_spec.gates])
    if step.checklist:
        _require_checklist_answered(ctx, step.checklist)
    if step.compliance_review and not compliance_review.strip():
        raise InvalidInput(
            "Record the Compliance Review: that recording is in place, or the gaps that remain.",
            field="compliance_review",
        )
    ctx.closure = _transition(
        ctx.closure,
        (ClosureState.AGREED,),
        ClosureState.AUTHORISED,
        authorised_by=actor,
        authorised_on=timezone.localdate(),
        compliance_review=compliance_review.strip(),
    )
    _record_step(ctx, actor, step.id, note=compliance_review.strip())
    _audit(ctx, actor, "closure.authorised", "Closure authorised", reason=compliance_review.strip())
    if not any(s.kind == "sign" for s in ctx.steps):
        # Where the procedure has no signatures, the authorisation is the sign-off: what was
        # authorised is frozen as a document so it can be produced exactly as it was.
        _freeze_for_authorisation(ctx, actor, step.role)
    _after_step(ctx, actor, step, "closure.authorised")
    return Closure.objects.get(pk=ctx.closure.pk)


def canonical_content(
    title: str, case: Case, answers: dict[str, Any], labels: dict[str, str]
) -> dict[str, Any]:
    """What is signed: the headings and answers, and who and what they are about (the
    header a checklist such as the Case Audit Tool carries, R002-05)."""
    worker = case.allocated_worker
    return {
        "title": title,
        "case": case.reference,
        "subject": case.subject.full_name,
        "details": {
            "Person ID": case.subject.local_id,
            "Case reference": case.reference,
            "Service": case.get_service_area_display(),
            "Team": case.responsible_team.name,
            "Worker": worker.display_name if worker else "Unallocated",
            "Date": timezone.localdate().isoformat(),
        },
        "headings": [{"id": k, "label": labels[k], "answer": answers.get(k)} for k in labels],
    }


def content_hash(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _freeze(ctx: ClosureContext, form_id: str, content: dict[str, Any]) -> SignedDocument:
    return SignedDocument.objects.create(
        closure=ctx.closure, form_id=form_id, content=content, content_hash=content_hash(content)
    )


def _form_content(ctx: ClosureContext, response: FormResponse) -> dict[str, Any]:
    form = ctx.pack.spec.forms[response.form_id]
    shown = [
        s.field
        for s in form_fields(ctx.pack, response.form_id, ctx.evaluation, response.answers)
        if s.shown
    ]
    return canonical_content(form.title, ctx.case, response.answers, {f.id: f.label for f in shown})


def _freeze_for_authorisation(ctx: ClosureContext, actor: User, role: str) -> None:
    frozen = set(ctx.closure.documents.values_list("form_id", flat=True))
    contents: list[tuple[str, dict[str, Any]]] = []
    for response in ctx.closure.forms.filter(submitted_at__isnull=False):
        if response.form_id not in frozen:
            contents.append((response.form_id, _form_content(ctx, response)))
    answers = {(a.checklist_id, a.item_id): a for a in ctx.closure.checklist.all()}
    for checklist_id in dict.fromkeys(a[0] for a in answers):
        checklist = ctx.pack.spec.checklists[checklist_id]
        items = [i for section in checklist.sections for i in section.items]
        rendered = {}
        for item in items:
            answer = answers.get((checklist_id, item.id))
            if answer is not None:
                when = (
                    f" (record dated {long_date(answer.evidence_date)})"
                    if answer.evidence_date
                    else ""
                )
                rendered[item.id] = f"{answer.get_answer_display()}. {answer.note}{when}".strip()
        contents.append(
            (
                f"checklist:{checklist_id}",
                canonical_content(
                    checklist.title, ctx.case, rendered, {i.id: f"{i.id}. {i.text}" for i in items}
                ),
            )
        )
    for form_id, content in contents:
        document = _freeze(ctx, form_id, content)
        Signature.objects.create(
            document=document, role=role, signer=actor, content_hash=document.content_hash
        )


def _own_role(actor: User, case: Case, roles: list[str]) -> str | None:
    """Of `roles`, the one `actor` actually holds (a head of service is recorded as a head
    of service, not as the service manager the ladder also lets them act as); else any they
    may act in."""
    own = set(
        Membership.objects.current()
        .filter(user=actor, role__in=roles, team__service_area=case.service_area)
        .values_list("role", flat=True)
    )
    exact = [r for r in roles if r in own]
    if exact:
        return exact[0]
    return next((r for r in roles if holds_role_for_case(actor, case, r)), None)


def _signing_role(actor: User, case: Case, roles: list[str]) -> str | None:
    """The role `actor` signs in: their own management role before the worker's role that
    any team member can act in, so a manager signing first signs as the manager."""
    held = [r for r in roles if holds_role_for_case(actor, case, r)]
    own = [r for r in held if r != Role.SOCIAL_WORKER]
    if own:
        return own[0]
    return held[0] if held else None


def signed_form_id(pack: PolicyPack, steps: list[Step]) -> str | None:
    """The form a closure's sign step signs. Packs do not name it on the step, so it is the
    form marked `signed` among the closure's form steps (else the last form step)."""
    form_steps = [s for s in steps if s.kind == "form" and s.form]
    signed = [s for s in form_steps if pack.spec.forms[s.form or ""].signed]
    chosen = signed or form_steps
    return chosen[-1].form if chosen else None


@transaction.atomic
def summary_sign(*, actor: User, closure: Closure, form_id: str) -> Signature:
    """Sign the submitted form. The first signature freezes its content and hash; every
    signer signs that same hash (R000-09, X-05). A correction (a later version) is signed
    the same way, even after the case has closed."""
    ctx = _load(actor, closure)
    step = next((s for s in ctx.steps if s.kind == "sign"), None)
    if step is None:
        raise InvalidInput("This procedure does not ask for signatures.")
    signed_form = signed_form_id(ctx.pack, ctx.steps)
    if form_id != signed_form:
        title = ctx.pack.spec.forms[signed_form].title if signed_form else "summary"
        raise InvalidInput(f"This form is not signed: the signatures are on the {title.lower()}.")
    document = (
        SignedDocument.objects.select_for_update()
        .filter(closure=ctx.closure, form_id=form_id)
        .order_by("-version")
        .first()
    )
    correcting = document is not None and document.supersedes_id is not None
    if not correcting:
        _require_in_progress(ctx)
        _require_after(ctx, step)
        response = FormResponse.objects.filter(closure=ctx.closure, form_id=form_id).first()
        if response is None or response.submitted_at is None:
            raise InvalidInput("Complete and submit the summary before it is signed.")
    signed_roles = set(document.signatures.values_list("role", flat=True)) if document else set()
    if document is not None and document.signatures.filter(signer=actor).exists():
        # Two signatures mean two people (R000-09): a manager may act as a worker elsewhere,
        # but never sign the same summary twice.
        raise NotPermitted(
            "You have already signed this summary. It needs "
            + " and ".join(_role_label(r) for r in step.signatures if r not in signed_roles)
            + " to sign it too."
        )
    role = _signing_role(actor, ctx.case, [r for r in step.signatures if r not in signed_roles])
    if role is None:
        raise NotPermitted(
            "You have no signature left to give on this summary: it needs "
            + " and ".join(_role_label(r) for r in step.signatures)
            + "."
        )
    if document is None:
        assert response is not None  # noqa: S101 - checked above when not correcting
        document = _freeze(ctx, form_id, _form_content(ctx, response))
    signature = Signature.objects.create(
        document=document, role=role, signer=actor, content_hash=document.content_hash
    )
    _audit(
        ctx,
        actor,
        "closure.signed",
        f"Summary version {document.version} signed by {actor.display_name} as {_role_label(role)}",
        changes={"content_hash": [None, document.content_hash]},
    )
    if correcting:
        return signature
    if {*signed_roles, role} >= set(step.signatures):
        _record_step(ctx, actor, step.id, details={"content_hash": document.content_hash})
        _after_step(ctx, actor, step, "closure.signed")
    return signature


@transaction.atomic
def summary_correct(
    *, actor: User, document: SignedDocument, answers: dict[str, Any], reason: str
) -> SignedDocument:
    """Correct a signed summary: the signed version is never edited; a new version linked to
    it carries the corrected answers and needs every signature again (R000-09)."""
    ctx = _load(actor, document.closure)
    step = next((s for s in ctx.steps if s.kind == "sign"), None)
    if step is None or not any(holds_role_for_case(actor, ctx.case, r) for r in step.signatures):
        raise NotPermitted("Only someone who signs this summary can correct it.")
    latest = (
        SignedDocument.objects.select_for_update()
        .filter(closure=ctx.closure, form_id=document.form_id)
        .order_by("-version")
        .first()
    )
    if latest is None or latest.pk != document.pk:
        raise Conflict("A newer version of this summary exists: correct that one instead.")
    problems = []
    if not reason.strip():
        problems.append(Problem("reason", "Say what is corrected and why."))
    known = {h["id"] for h in document.content["headings"]}
    unknown = sorted(set(answers) - known)
    if unknown:
        problems.append(Problem(None, f"These headings are not on the summary: {unknown}."))
    changed = {
        h["id"]
        for h in document.content["headings"]
        if h["id"] in answers and answers[h["id"]] != h["answer"]
    }
    if not changed and not unknown:
        problems.append(Problem(None, "Nothing was changed: there is nothing to correct."))
    if problems:
        raise InvalidInput(problems)
    content = {
        **document.content,
        "headings": [
            {**h, "answer": answers.get(h["id"], h["answer"])} for h in document.content["headings"]
        ],
    }
    corrected = SignedDocument.objects.create(
        closure=ctx.closure,
        form_id=document.form_id,
        version=document.version + 1,
        supersedes=document,
        content=content,
        content_hash=content_hash(content),
    )
    _audit(
        ctx,
        actor,
        "closure.summary_corrected",
        f"Summary corrected (version {corrected.version}); signatures needed again",
        reason=reason.strip(),
        changes={
            "content_hash": [document.content_hash, corrected.content_hash],
            "headings": [None, sorted(changed)],
        },
    )
    for role in step.signatures:
        notify_role(
            key=f"closure:{ctx.closure.pk}:corrected:{corrected.version}:{role}",
            case=ctx.case,
            role=role,
            event="closure.signed",
            message=f"The summary for case {ctx.case.reference} was corrected: please sign "
            f"version {corrected.version}.",
        )
    return corrected


@transaction.atomic
def summary_share(
    *, actor: User, closure: Closure, recipients: list[dict[str, str]], shared_on: dt.date
) -> list[Sharing]:
    """Record who the signed summary went to, when and how (R003-06)."""
    ctx = _load(actor, closure)
    _require_in_progress(ctx)
    step = next((s for s in ctx.steps if s.kind == "share"), None)
    if step is None:
        raise InvalidInput("This procedure does not ask for the summary to be shared.")
    _require_role(actor, ctx.case, step.role, "share the summary")
    _require_after(ctx, step)
    shared_forms = [f for f, spec in ctx.pack.spec.forms.items() if spec.signed]
    document = (
        SignedDocument.objects.filter(closure=ctx.closure, form_id__in=shared_forms)
        .order_by("-version")
        .first()
    )
    sign_step = next((s for s in ctx.steps if s.kind == "sign"), None)
    fully_signed = sign_step is None or ctx.closure.steps.filter(step_id=sign_step.id).exists()
    if document is None or not fully_signed:
        raise InvalidInput(
            "Only a summary signed by everyone who signs it can be shared: finish the "
            "signatures first."
        )
    problems = []
    if not recipients:
        problems.append(Problem("recipients", "Add who the summary was shared with."))
    if shared_on > timezone.localdate():
        problems.append(Problem("shared_on", "The date shared cannot be in the future."))
    for number, r in enumerate(recipients, start=1):
        if not r.get("recipient", "").strip():
            problems.append(Problem("recipients", f"Recipient {number} has no name."))
        if r.get("method") not in Sharing.Method.values:
            problems.append(Problem("recipients", f"Say how recipient {number} received it."))
        if r.get("kind") not in ("family", "professional"):
            problems.append(
                Problem("recipients", f"Say whether recipient {number} is family or professional.")
            )
    if problems:
        raise InvalidInput(problems)
    shared = [
        Sharing.objects.create(
            document=document,
            recipient=r["recipient"].strip(),
            recipient_kind=r["kind"],
            method=r["method"],
            shared_on=shared_on,
            recorded_by=actor,
        )
        for r in recipients
    ]
    _audit(
        ctx,
        actor,
        "closure.shared",
        f"Summary shared with {', '.join(s.recipient for s in shared)}",
    )
    if not ctx.closure.steps.filter(step_id=step.id).exists():
        _record_step(ctx, actor, step.id)
        _after_step(ctx, actor, step, None)
    return shared
