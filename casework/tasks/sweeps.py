"""Sweeps: work that falls due with the passage of time rather than with someone's action.

`deadline_alerts` walks open tasks through their stages (X-03): a reminder a few working
days before the due date, a notice on the day, and on the first working day after it, an
"overdue" notice plus an escalation to the role the procedure names (`Task.escalate_to`).
Each stage is recorded once per task (`TaskAlert`), so running it again, or twice at once,
tells nobody anything twice. The windows are counted in the authority's working days (bank
holidays of its nation and its closure days), so nobody is escalated to over a bank
holiday weekend.

`three_monthly_audits` gives Business Support an audit of every case that has been open
another three months (R004-11), as the bound pack's tasks for `case.open_three_months`
say. It is idempotent (one task per case per period, by key), so it can run daily or be
re-run after an outage without duplicating work; a missed day is caught up on the next run.
"""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q

from casework.accounts.models import User
from casework.audit.models import AuditCategory
from casework.audit.services import audit_record
from casework.cases.models import Case, CaseStatus
from casework.core.calendar import WorkingDayCalendar, default_calendar
from casework.core.dates import long_date
from casework.organisation.models import Authority, Role
from casework.policy.evaluate import due_date, overdue_escalation
from casework.policy.loader import PolicyPack
from casework.policy.models import PackPurpose
from casework.policy.schema import Task as TaskSpec
from casework.policy.services import bound_pack
from casework.tasks.models import AlertStage, Task, TaskAlert, TaskStatus
from casework.tasks.services import notify_users, role_holders, task_schedule

logger = logging.getLogger(__name__)

THREE_MONTHS_EVENT = "case.open_three_months"

# The procedures set due dates but say nothing about reminding people beforehand: two
# working days gives a worker the day before and the day before that. A council may change
# it with the CASEWORK_REMINDER_WORKING_DAYS setting (0 turns reminders off).
DEFAULT_REMINDER_WORKING_DAYS = 2


def reminder_working_days() -> int:
    return int(getattr(settings, "CASEWORK_REMINDER_WORKING_DAYS", DEFAULT_REMINDER_WORKING_DAYS))


@dataclass(frozen=True)
class AlertWindows:
    """Which due dates are at which stage on a given day, as date ranges (so the sweep can
    ask the database). The ranges do not overlap, so a task first seen late (created
    already overdue, or after the sweeps had stopped for a while) gets only the stage it
    has reached, not a burst of stale reminders."""

    last_working_day: dt.date  # today, or the last working day before it
    working_day_before: dt.date  # the working day before that
    remind_until: dt.date | None

    def stage_filter(self, stage: AlertStage) -> Q:
        if stage == AlertStage.OVERDUE:
            return Q(due_on__lte=self.working_day_before)
        if stage == AlertStage.DUE:
            return Q(due_on__gt=self.working_day_before, due_on__lte=self.last_working_day)
        if self.remind_until is None:
            return Q(pk__in=[])
        return Q(due_on__gt=self.last_working_day, due_on__lte=self.remind_until)


def alert_windows(today: dt.date, calendar: WorkingDayCalendar, remind_days: int) -> AlertWindows:
    """A due date on a non-working day counts as the next working day (as deadlines
    usually do). Then a task is:

    - reminded when at most `remind_days` working days are left (today not counted, the
      due day counted: with 2, a task due Monday is reminded on the Thursday before);
    - due on its (effective) due day;
    - overdue on the first working day after it, when a whole working day has passed
      with the work not done. Nobody is escalated to over a weekend or a bank holiday."""
    last_working = today if calendar.is_working_day(today) else calendar.add_working_days(today, -1)
    return AlertWindows(
        last_working_day=last_working,
        working_day_before=calendar.add_working_days(last_working, -1),
        remind_until=calendar.add_working_days(today, remind_days) if remind_days > 0 else None,
    )


@dataclass(frozen=True)
class AlertResult:
    reminded: int = 0
    due: int = 0
    overdue: int = 0
    escalated: int = 0

    def __add__(self, other: AlertResult) -> AlertResult:
        return AlertResult(
            self.reminded + other.reminded,
            self.due + other.due,
            self.overdue + other.overdue,
            self.escalated + other.escalated,
        )


_STAGE_ORDER = (AlertStage.OVERDUE, AlertStage.DUE, AlertStage.REMINDER)


def _scopes() -> list[tuple[Q, WorkingDayCalendar]]:
    """Tasks grouped by whose working days count: each authority's (by the task's team, or
    its case's team), then tasks tied to neither, on England's."""
    scopes = [
        (
            Q(team__authority=authority)
            | Q(team__isnull=True, case__responsible_team__authority=authority),
            authority.calendar(),
        )
        for authority in Authority.objects.order_by("pk")
    ]
    scopes.append((Q(team__isnull=True, case__isnull=True), default_calendar()))
    return scopes


def deadline_alerts(today: dt.date) -> AlertResult:
    """Remind, notify on the day, and escalate overdue open tasks, each stage once per task.
    A few queries per authority to find what is due; then one short transaction per task
    acted on."""
    remind_days = reminder_working_days()
    total = AlertResult()
    for scope, calendar in _scopes():
        windows = alert_windows(today, calendar, remind_days)
        for stage in _STAGE_ORDER:
            done_already = TaskAlert.objects.filter(task=OuterRef("pk"), stage=stage)
            pending = (
                Task.objects.filter(scope, windows.stage_filter(stage), status=TaskStatus.OPEN)
                .filter(~Exists(done_already))
                .order_by("due_on", "pk")
                .values_list("pk", flat=True)
            )
            for task_id in list(pending):
                total += _alert(task_id, stage, today)
    return total


def _alert(task_id: int, stage: AlertStage, today: dt.date) -> AlertResult:
    with transaction.atomic():
        # Locked so that a task completed at this moment is either seen done (and nobody is
        # told) or completed after the alert; a concurrent sweep waits here, then finds the
        # alert already recorded.
        task = (
            Task.objects.select_for_update(of=("self",))
            .select_related("case__responsible_team", "case__subject", "team", "assignee")
            .filter(pk=task_id, status=TaskStatus.OPEN)
            .first()
        )
        if task is None or task.due_on is None:
            return AlertResult()
        try:
            with transaction.atomic():
                alert = TaskAlert.objects.create(task=task, stage=stage, on=today)
        except IntegrityError:
            return AlertResult()
        told = notify_users(
            key=f"task:{task.pk}:{stage}",
            users=_doers(task),
            case=task.case,
            event=f"task.{stage}",
            message=_stage_message(task, stage),
            requirement=task.requirement,
        )
        escalated = _escalate(task) if stage == AlertStage.OVERDUE else 0
        TaskAlert.objects.filter(pk=alert.pk).update(notified=len(told), escalated=escalated)
    return AlertResult(
        reminded=int(stage == AlertStage.REMINDER),
        due=int(stage == AlertStage.DUE),
        overdue=int(stage == AlertStage.OVERDUE),
        escalated=int(escalated > 0),
    )


def _service_area(task: Task) -> str:
    if task.case is not None:
        return task.case.service_area
    return task.team.service_area if task.team is not None else ""


def _doers(task: Task) -> list[User]:
    """Whoever the task is waiting on: its assignee, or the holders of its role."""
    if task.assignee is not None:
        return [task.assignee] if task.assignee.is_active else []
    team = task.team or (task.case.responsible_team if task.case else None)
    return role_holders(role=task.role, team=team, service_area=_service_area(task), case=task.case)


def _stage_message(task: Task, stage: AlertStage) -> str:
    assert task.due_on is not None  # noqa: S101 - only dated tasks reach a stage
    due = long_date(task.due_on)
    if stage == AlertStage.REMINDER:
        return f"Reminder: “{task.title}” is due on {due}."
    if stage == AlertStage.DUE:
        return f"Due today: “{task.title}”."
    return f"Overdue: “{task.title}” was due on {due} and is not done yet."


def _escalate(task: Task) -> int:
    """Tell the holders of the role the procedure names that the task is overdue, and put
    the escalation in the case's chronology. Returns how many were told."""
    if not task.escalate_to:
        return 0
    team = task.team or (task.case.responsible_team if task.case else None)
    holders = role_holders(
        role=task.escalate_to, team=team, service_area=_service_area(task), case=task.case
    )
    role = Role(task.escalate_to).label
    assert task.due_on is not None  # noqa: S101 - only dated tasks become overdue
    if not holders:
        # Nobody to tell is an organisational gap (a vacant post), not a reason to stop
        # the sweep; the alert row records that nobody was escalated to.
        logger.warning(
            "Task %s is overdue and should be escalated to the %s, but nobody holds that "
            "role for team %s.",
            task.pk,
            role.lower(),
            task.team_id,
        )
        return 0
    notify_users(
        key=f"task:{task.pk}:escalated",
        users=holders,
        case=task.case,
        event="task.escalated",
        message=(
            f"Escalated to you as {role.lower()}: “{task.title}” was due on "
            f"{long_date(task.due_on)} and is not done yet."
        ),
        requirement="X-03",
    )
    audit_record(
        actor=None,
        verb="task.escalated",
        category=AuditCategory.CASE,
        obj=task,
        case=task.case,
        person=task.case.subject if task.case else None,
        summary=f"Overdue task escalated to the {role.lower()}: {task.title}",
        reason=task.due_rule,
    )
    return len(holders)


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
    calendars: dict[int, WorkingDayCalendar] = {}
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
            authority = case.responsible_team.authority
            if authority.pk not in calendars:
                calendars[authority.pk] = authority.calendar()  # a query: once per authority
            calendar = calendars[authority.pk]
            task_schedule(
                key=key,
                case=case,
                title=f"{task.label} ({3 * n} months open)",
                role=task.role,
                due_on=due_date(task.due, point, calendar),
                due_rule=f"from {THREE_MONTHS_EVENT} ({pack.id})",
                requirement=task.requirement or "",
                escalate_to=overdue_escalation(pack, task.escalate_to, task.role),
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
