"""Evaluating a pack against one case: gates, checklist checks, which steps and form
headings apply, routing, notifications, retention and due dates. Every result carries the
facts it was decided on, so a user is told what is missing and why."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from casework.core.calendar import WorkingDayCalendar
from casework.policy.conditions import EvaluationContext, Outcome, display_value
from casework.policy.loader import PolicyPack
from casework.policy.schema import (
    ChecklistItem,
    ChecklistSection,
    Due,
    FormField,
    Gate,
    Notification,
    RetentionClass,
    RoutingRule,
    Step,
)


def _evidence_rows(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    rows = []
    for item in value:
        if isinstance(item, dict):
            # Sorted, because CEL returns a record's fields in no fixed order; empty and
            # unknown values are left out so the row reads as what the record shows.
            parts = [
                f"{k}: {display_value(v)}"
                for k, v in sorted(item.items())
                if v not in ("", None, "unknown")
            ]
            rows.append(", ".join(parts))
        else:
            rows.append(display_value(item))
    return rows


@dataclass(frozen=True)
class GateResult:
    gate_id: str
    gate: Gate
    applies: bool
    passed: bool
    facts: list[tuple[str, str]]
    evidence: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def outstanding(self) -> bool:
        """The gate applies and is not met: the step is blocked or needs someone else."""
        return self.applies and not self.passed

    @property
    def blocks(self) -> bool:
        return self.outstanding and self.gate.effect == "block"

    @property
    def explanation(self) -> str:
        if not self.applies:
            return f"{self.gate.label}: does not apply to this case."
        if self.passed:
            return f"{self.gate.label}: met."
        if self.error:
            return (
                f"{self.gate.label}: the record could not be checked ({self.error}). "
                "Ask your system administrator to check the policy pack."
            )
        return self.gate.blocked_reason


def evaluate_gate(pack: PolicyPack, gate_id: str, context: EvaluationContext) -> GateResult:
    gate = pack.spec.gates[gate_id]
    applies = pack.condition(gate.applies_when).evaluate(context)
    if applies.error is None and not applies.holds:
        return GateResult(gate_id, gate, False, True, applies.facts)
    # Fail closed: a gate whose applicability cannot be evaluated is treated as applying.
    required = pack.condition(gate.require).evaluate(context)
    error = applies.error or required.error
    evidence: list[str] = []
    if gate.evidence:
        evidence = _evidence_rows(pack.condition(gate.evidence).evaluate(context).value)
    return GateResult(
        gate_id,
        gate,
        True,
        required.holds and error is None,
        _merge_facts(applies, required),
        evidence,
        error,
    )


def _merge_facts(*outcomes: Outcome) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for outcome in outcomes:
        for path, value in outcome.facts:
            seen.setdefault(path, value)
    return list(seen.items())


def closure_gate_ids(
    pack: PolicyPack, *, step_id: str | None = None, reason_id: str | None = None
) -> list[str]:
    """The gates that apply to a closure: on every closure, for the step, and for the reason."""
    closure = pack.spec.closure
    if closure is None:
        return []
    ids = list(closure.gates)
    for step in closure.steps:
        if step_id is None or step.id == step_id:
            ids.extend(step.gates)
    for reason in closure.reasons:
        # A reason's own gates apply only once that reason is chosen.
        if reason.id == reason_id:
            ids.extend(reason.gates)
    return list(dict.fromkeys(ids))


def closure_gates(
    pack: PolicyPack,
    context: EvaluationContext,
    *,
    step_id: str | None = None,
    reason_id: str | None = None,
) -> list[GateResult]:
    return [
        evaluate_gate(pack, gate_id, context)
        for gate_id in closure_gate_ids(pack, step_id=step_id, reason_id=reason_id)
    ]


def applicable_steps(pack: PolicyPack, context: EvaluationContext) -> list[Step]:
    closure = pack.spec.closure
    if closure is None:
        return []
    return [
        step for step in closure.steps if step.when is None or _applies(pack, step.when, context)
    ]


def _applies(pack: PolicyPack, source: str, context: EvaluationContext) -> bool:
    """A `when` that cannot be evaluated counts as holding: better an extra step or
    heading than a required one silently dropped."""
    outcome = pack.condition(source).evaluate(context)
    return outcome.holds or outcome.error is not None


@dataclass(frozen=True)
class ItemResult:
    section: ChecklistSection
    item: ChecklistItem
    automatic: bool
    passed: bool | None
    facts: list[tuple[str, str]]
    evidence: list[str]
    error: str | None = None


def checklist_results(
    pack: PolicyPack, checklist_id: str, context: EvaluationContext
) -> list[ItemResult]:
    """Every item, with automatic checks pre-evaluated (`passed` is None for items a person
    must check)."""
    results = []
    for section in pack.spec.checklists[checklist_id].sections:
        for item in section.items:
            if item.check is None:
                results.append(ItemResult(section, item, False, None, [], []))
                continue
            outcome = pack.condition(item.check.expression).evaluate(context)
            evidence = []
            if item.check.evidence:
                evidence = _evidence_rows(
                    pack.condition(item.check.evidence).evaluate(context).value
                )
            results.append(
                ItemResult(
                    section, item, True, outcome.holds, outcome.facts, evidence, outcome.error
                )
            )
    return results


@dataclass(frozen=True)
class FieldState:
    field: FormField
    shown: bool


def form_fields(
    pack: PolicyPack,
    form_id: str,
    context: EvaluationContext,
    answers: dict[str, Any] | None = None,
) -> list[FieldState]:
    """Which headings of a form apply, given the case and the answers so far."""
    form = pack.spec.forms[form_id]
    scoped = context.with_roots(form={f.id: (answers or {}).get(f.id) for f in form.fields})
    states = []
    for form_field in form.fields:
        shown = True
        if form_field.shown_when:
            outcome = pack.condition(form_field.shown_when, form=form_id).evaluate(scoped)
            shown = outcome.holds or outcome.error is not None
        states.append(FieldState(form_field, shown))
    return states


def notifications_matching(
    pack: PolicyPack,
    notes: list[Notification],
    event: str,
    context: EvaluationContext,
    conditions: tuple[str, ...] = (),
) -> list[Notification]:
    """Those of `notes` for `event` whose own `when`, and every one of `conditions` (e.g.
    the `when` of the protocol they sit in), hold."""
    return [
        note
        for note in notes
        if note.event == event
        and all(pack.condition(c).evaluate(context).holds for c in (*conditions, note.when))
    ]


def notifications_for(
    pack: PolicyPack, event: str, context: EvaluationContext
) -> list[Notification]:
    """Every notification anywhere in the pack for `event` (a workflow uses
    `notifications_matching` on the sections that apply to it)."""
    spec = pack.spec
    found = notifications_matching(pack, list(spec.notifications), event, context)
    if spec.closure:
        found += notifications_matching(pack, list(spec.closure.notifications), event, context)
    if spec.transfer:
        found += notifications_matching(pack, list(spec.transfer.notifications), event, context)
        for protocol in spec.transfer.protocols:
            found += notifications_matching(
                pack, list(protocol.notifications), event, context, (protocol.when,)
            )
        for pathway in spec.transfer.pathways:
            found += notifications_matching(
                pack, list(pathway.notifications), event, context, (pathway.when,)
            )
    return found


@dataclass(frozen=True)
class Recommendation:
    team: str
    rule: RoutingRule
    facts: list[tuple[str, str]]

    @property
    def explanation(self) -> str:
        return self.rule.explanation


def route(pack: PolicyPack, trigger: str, context: EvaluationContext) -> Recommendation | None:
    """The first routing rule for `trigger` whose condition holds: the receiving team it
    recommends, and why."""
    if pack.spec.transfer is None:
        return None
    for rule in pack.spec.transfer.routing:
        if rule.trigger != trigger:
            continue
        outcome = pack.condition(rule.when).evaluate(context)
        if not outcome.holds:
            continue
        team = rule.to_team or ""
        facts = outcome.facts
        if rule.to_team_expression:
            target = pack.condition(rule.to_team_expression).evaluate(context)
            facts = _merge_facts(outcome, target)
            team = target.value if isinstance(target.value, str) else ""
            if team not in pack.spec.teams:
                team = rule.fallback_team or ""
        return Recommendation(team, rule, facts)
    return None


@dataclass(frozen=True)
class RetentionDecision:
    record_class: RetentionClass
    trigger: str
    years: int


def retention_class(pack: PolicyPack, context: EvaluationContext) -> RetentionDecision | None:
    """The first retention class that applies (packs list the longest-lived first)."""
    for record_class in pack.spec.retention:
        if not pack.condition(record_class.applies_when).evaluate(context).holds:
            continue
        for alternative in record_class.instead:
            if pack.condition(alternative.when).evaluate(context).holds:
                return RetentionDecision(record_class, alternative.trigger, alternative.years)
        return RetentionDecision(record_class, record_class.trigger, record_class.years)
    return None


def due_date(due: Due, start: dt.date, calendar: WorkingDayCalendar) -> dt.date:
    """When something is due, counting from `start` (the day of the event, day 0)."""
    if due.working_days is not None:
        return calendar.add_working_days(start, due.working_days)
    if due.days is not None:
        return start + dt.timedelta(days=due.days)
    assert due.weeks is not None  # noqa: S101 - the schema requires exactly one unit
    return start + dt.timedelta(weeks=due.weeks)


def overdue_escalation(pack: PolicyPack, named: str | None, role: str) -> str:
    """X-03: whom to tell when work for `role` is overdue: the role the step or task names,
    else the next role up in the pack's `overdue_escalation`; never the late role itself
    (that would only tell them what they know). Empty: nobody."""
    chosen = named or pack.spec.overdue_escalation.get(role, "")
    return "" if chosen == role else chosen
