"""Sweeps: work that falls due with the passage of time rather than with someone's action.

`three_monthly_audits` gives Business Support an audit of every case that has been open
another three months (R004-11), as the bound pack's tasks for `case.open_three_months`
say. It is idempotent (one task per case per period, by key), so it can run daily or be
re-run after an outage without duplicating work; a missed day is caught up on the next run.
"""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
from dataclasses import dataclass

from casework.cases.models import Case, CaseStatus
from casework.organisation.models import Authority
from casework.policy.evaluate import due_date
from casework.policy.loader import PolicyPack
from casework.policy.models import PackPurpose
from casework.policy.schema import Task as TaskSpec
from casework.policy.services import bound_pack
from casework.tasks.models import Task
from casework.tasks.services import task_schedule

THREE_MONTHS_EVENT = "case.open_three_months"


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last day if it is shorter (31 January
    plus one month is 28 or 29 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, month_calendar.monthrange(year, month)[1]))


def latest_three_month_point(opened_on: dt.date, today: dt.date) -> tuple[int, dt.date] | None:
    """The most recent date, on or before `today`, that is a whole number of three-month
    periods after `opened_on`, with that number; None in the first three months."""
    periods = ((today.year - opened_on.year) * 12 + today.month - opened_on.month) // 3
    while periods > 0 and add_months(opened_on, 3 * periods) > today:
        periods -= 1
    return (periods, add_months(opened_on, 3 * periods)) if periods > 0 else None


@dataclass(frozen=True)
class SweepResult:
    cases_checked: int
    tasks_created: int


def _packs(authority: Authority, service_area: str) -> list[PolicyPack]:
    found: dict[str, PolicyPack] = {}
    for purpose in (PackPurpose.CLOSURE, PackPurpose.TRANSFER):
        pack = bound_pack(authority, service_area, purpose)
        if pack is not None:
            found[pack.id] = pack
    return list(found.values())


def _three_monthly_specs(pack: PolicyPack) -> list[TaskSpec]:
    spec = pack.spec
    tasks = [*spec.tasks, *(spec.transfer.tasks if spec.transfer else [])]
    return [t for t in tasks if t.due.from_ == THREE_MONTHS_EVENT]


def three_monthly_audits(today: dt.date) -> SweepResult:
    """Schedule the pack's three-monthly tasks for every open case that reached another
    three months open by `today`. Reads cases in one query and existing tasks in one query
    per batch; creates only what is missing."""
    packs_for: dict[tuple[int, str], list[PolicyPack]] = {}
    checked = created = 0
    cases = (
        Case.objects.filter(status=CaseStatus.OPEN, opened_on__lte=add_months(today, -3))
        .select_related("responsible_team__authority")
        .order_by("pk")
    )
    batch: list[tuple[Case, int, dt.date]] = []

    def flush() -> int:
        keys = {
            f"case:{case.pk}:{task.id}:{n}": (case, n, point, task, pack)
            for case, n, point in batch
            for pack in packs_for[(case.responsible_team.authority_id, case.service_area)]
            for task in _three_monthly_specs(pack)
        }
        existing = set(Task.objects.filter(key__in=keys).values_list("key", flat=True))
        made = 0
        for key, (case, n, point, task, pack) in keys.items():
            if key in existing:
                continue
            calendar = case.responsible_team.authority.calendar()
            task_schedule(
                key=key,
                case=case,
                title=f"{task.label} ({3 * n} months open)",
                role=task.role,
                due_on=due_date(task.due, point, calendar),
                due_rule=f"from {THREE_MONTHS_EVENT} ({pack.id})",
                requirement=task.requirement or "",
            )
            made += 1
        batch.clear()
        return made

    for case in cases.iterator(chunk_size=500):
        checked += 1
        point = latest_three_month_point(case.opened_on, today)
        if point is None:
            continue
        scope = (case.responsible_team.authority_id, case.service_area)
        if scope not in packs_for:
            packs_for[scope] = _packs(case.responsible_team.authority, case.service_area)
        batch.append((case, *point))
        if len(batch) >= 500:
            created += flush()
    created += flush()
    return SweepResult(checked, created)
