"""Reads for the managers' dashboards (issue 8): each chart's figures for the teams a manager
oversees, over a period, in a fixed number of queries however many cases there are.

Who sees what. A team manager (any role in MANAGER_ROLES) oversees the teams they manage; a
senior manager (a role that is in both MANAGER_ROLES and SERVICE_AREA_WIDE_ROLES) oversees
every case-holding team in their service area. Every figure belongs to one team, and is
counted only for a team the user oversees. Figures about a case are also limited to the
cases the user may see (`cases_visible_to`), as `overdue_by_worker` does. Transfers are the
exception: a transfer is the sending team's work as much as the receiving team's (procedure
004 makes the sending manager authorise it and keeps the clock), but once it completes the
sending team can no longer see the case, so transfers are counted for both teams without
that condition. No chart names a case or a child: they count.

Working days come from the authority's calendar, loaded once (one query for its closure days)
and used for every row.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Concat, TruncDate
from django.utils import timezone

from casework.access.policy import cases_visible_to
from casework.accounts.models import User
from casework.cases.models import Allocation, Case
from casework.closure.models import ChecklistAnswer, Closure, ClosureState, GateAgreement
from casework.core.calendar import WorkingDayCalendar, default_calendar
from casework.core.dates import long_date
from casework.organisation.models import (
    MANAGER_ROLES,
    SERVICE_AREA_WIDE_ROLES,
    Membership,
    Role,
    Team,
)
from casework.oversight.charts import BLUE, GREEN, GREY, PURPLE, RED, Chart, Series
from casework.tasks.models import Task, TaskStatus
from casework.transfers.models import Transfer, TransferState

# R004-05: a transfer to the looked-after team happens within 10 working days of the team
# manager's discussion. The dashboard holds every transfer that moves a case to that mark.
TRANSFER_WORKING_DAYS = 10
DEFAULT_PERIOD_MONTHS = 3


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months earlier (the month's last day if it is short)."""
    return months_after(day, -months)


def months_after(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has at least 28 days")


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last three months, ending today."""
    return months_before(today, DEFAULT_PERIOD_MONTHS) + dt.timedelta(days=1), today


def teams_overseen_by(user: User) -> list[Team]:
    """The teams whose figures `user` may see: the teams they manage, and for senior managers
    every case-holding team in their service area. Ordered by name. One query."""
    managing = Membership.objects.current().filter(user=user, role__in=MANAGER_ROLES)
    senior_areas = managing.filter(role__in=SERVICE_AREA_WIDE_ROLES).values("team__service_area")
    return list(
        Team.objects.filter(
            Q(pk__in=managing.exclude(role__in=SERVICE_AREA_WIDE_ROLES).values("team_id"))
            | Q(service_area__in=senior_areas, holds_cases=True, active=True)
        )
        .select_related("authority")
        .order_by("name", "id")
    )


@dataclass
class Scope:
    """Whose figures (the user, the teams), for which period, counted with which calendar."""

    user: User
    teams: list[Team]
    start: dt.date
    end: dt.date
    today: dt.date
    calendar: WorkingDayCalendar

    @property
    def team_ids(self) -> list[int]:
        return [t.pk for t in self.teams]

    def team_name(self, team_id: int | None) -> str:
        return next((t.name for t in self.teams if t.pk == team_id), "Another team")

    def visible_cases(self) -> QuerySet[Case]:
        return cases_visible_to(self.user)

    @property
    def start_at(self) -> dt.datetime:
        """The first moment of the period, in the service's time zone."""
        return _midnight(self.start)

    @property
    def end_before(self) -> dt.datetime:
        """The first moment after the period."""
        return _midnight(self.end + dt.timedelta(days=1))


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def dashboard_scope(
    user: User,
    teams: list[Team],
    *,
    start: dt.date,
    end: dt.date,
    today: dt.date | None = None,
) -> Scope:
    """The scope for `teams` (already checked to be overseen by `user`). Loads the
    authority's working-day calendar once: one query."""
    authority = teams[0].authority if teams else None
    calendar = authority.calendar() if authority is not None else default_calendar()
    return Scope(user, teams, start, end, today or timezone.localdate(), calendar)


def _person(first: str | None, last: str | None, username: str | None) -> str:
    return " ".join(p for p in (first, last) if p) or username or ""


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "–"


# --- Caseload per worker ------------------------------------------------------------------


def chart_caseload(scope: Scope) -> Chart:
    """Open cases held by each worker on the last day of the period, from the allocation
    history (so a past period shows who held what then). Every social worker in the teams is
    listed, with none if they held none; cases with no worker on that day are a row of their
    own. Two queries."""
    day = scope.end
    held = Allocation.objects.filter(
        team_id__in=scope.team_ids,
        case__in=scope.visible_cases(),
        started_on__lte=day,
        case__opened_on__lte=day,
    ).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gt=day),
        Q(case__closed_on__isnull=True) | Q(case__closed_on__gt=day),
    )
    counts = {
        r["worker_id"]: r
        for r in held.values(
            "worker_id", "worker__first_name", "worker__last_name", "worker__username"
        ).annotate(cases=Count("case_id", distinct=True))
    }
    staff = (
        Membership.objects.current(day)
        .filter(team_id__in=scope.team_ids, role=Role.SOCIAL_WORKER)
        .values("user_id", "user__first_name", "user__last_name", "user__username")
        .distinct()
    )
    names: dict[int, str] = {
        m["user_id"]: _person(m["user__first_name"], m["user__last_name"], m["user__username"])
        for m in staff
    }
    for worker_id, r in counts.items():
        if worker_id is not None:
            names[worker_id] = _person(
                r["worker__first_name"], r["worker__last_name"], r["worker__username"]
            )
    rows: list[list[Any]] = sorted(
        ([name, counts[pk]["cases"] if pk in counts else 0] for pk, name in names.items()),
        key=lambda r: (-r[1], r[0]),
    )
    if None in counts:
        rows.append(["No worker allocated", counts[None]["cases"]])
    if not any(r[1] for r in rows):
        rows = []
    total = sum(r[1] for r in rows)
    return Chart(
        id="caseload",
        title="Caseload per worker",
        requirement="",
        definition=(
            f"Open cases held by each worker on {long_date(day)}, the last day of the period, "
            "from the allocation history. Every social worker in the team is listed, even with "
            "no cases."
        ),
        columns=["Worker", "Open cases"],
        rows=rows,
        series=[Series("Open cases", "", 1, BLUE)],
        empty=f"Your teams held no open cases on {long_date(day)}.",
        summary=f"{total} open case{'s' if total != 1 else ''} on {long_date(day)}."
        if rows
        else "",
        numeric={1},
    )


# --- Overdue work ---------------------------------------------------------------------------


def chart_overdue(scope: Scope) -> Chart:
    """Deadline tasks on the teams' cases that fell due in the period (up to yesterday), by
    whom they wait on: the person named on the task, otherwise its role in its team. Counts
    those still open now (overdue) and those done after their due date. Cancelled tasks are
    left out. One query."""
    last_due = min(scope.end, scope.today - dt.timedelta(days=1))
    grouped = (
        Task.objects.filter(
            case__responsible_team_id__in=scope.team_ids,
            case__in=scope.visible_cases(),
            due_on__gte=scope.start,
            due_on__lte=last_due,
        )
        .exclude(status=TaskStatus.CANCELLED)
        .alias(done_on=TruncDate("completed_at"))
        .values(
            "assignee_id",
            "assignee__first_name",
            "assignee__last_name",
            "assignee__username",
            "role",
            "team_id",
        )
        .annotate(
            due=Count("id"),
            still_open=Count("id", filter=Q(status=TaskStatus.OPEN)),
            late=Count("id", filter=Q(status=TaskStatus.DONE, done_on__gt=F("due_on"))),
        )
    )
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in grouped:
        if r["assignee_id"] is not None:
            who = _person(
                r["assignee__first_name"], r["assignee__last_name"], r["assignee__username"]
            )
        else:
            who = f"{Role(r['role']).label} in {scope.team_name(r['team_id'])} (no one named)"
        for i, key in enumerate(("due", "still_open", "late")):
            totals[who][i] += r[key]
    rows: list[list[Any]] = [
        [who, due, still_open, late, due - still_open - late]
        for who, (due, still_open, late) in totals.items()
        if still_open or late
    ]
    rows.sort(key=lambda r: (-(r[2] + r[3]), r[0]))
    due_total = sum(t[0] for t in totals.values())
    late_total = sum(r[2] + r[3] for r in rows)
    return Chart(
        id="overdue",
        title="Overdue work",
        requirement="X-03",
        definition=(
            "Deadline tasks on your teams' cases that fell due in the period (up to yesterday), "
            "by who they wait on: the person named on the task, otherwise the role it is for. "
            "Still open means past its due date and not done today; done late means done after "
            "its due date."
        ),
        columns=["Who it waits on", "Tasks due", "Still open", "Done late", "Done on time"],
        rows=rows,
        series=[Series("Still open", "open", 2, RED), Series("Done late", "late", 3, GREY)],
        empty="No task that fell due in the period is overdue or was done late.",
        summary=(
            f"{late_total} of {due_total} tasks due in the period were overdue or done late "
            f"({_percent(late_total, due_total)})."
            if due_total
            else ""
        ),
        numeric={1, 2, 3, 4},
    )


# --- Closures -------------------------------------------------------------------------------


def _closures_closed(scope: Scope) -> QuerySet[Closure]:
    return Closure.objects.filter(
        state=ClosureState.CLOSED,
        closed_on__gte=scope.start,
        closed_on__lte=scope.end,
        case__responsible_team_id__in=scope.team_ids,
        case__in=scope.visible_cases(),
    )


def _step_deadlines() -> QuerySet[Task]:
    """The deadline tasks the closure workflow set for the closure's own steps (keys
    `closure:<id>:step:<step>`), that were done: a step done is what completes its task."""
    prefix = Concat(
        Value("closure:"),
        Cast(OuterRef("pk"), CharField()),
        Value(":step:"),
        output_field=CharField(),
    )
    return Task.objects.filter(
        case_id=OuterRef("case_id"),
        key__startswith=prefix,
        due_on__isnull=False,
        status=TaskStatus.DONE,
    )


def chart_closure_timeliness(scope: Scope) -> Chart:
    """Closures completed in the period, by team: whether every step the pack gives a
    timescale (R000-10, R001-04) was done by its due date. The due dates are the ones the
    workflow set when the closure was proposed (working days, the authority's calendar), so
    this is measured against the pack that governed that closure. A step that did not apply
    to the case, or was optional and not done, is not counted; a closure whose pack sets no
    step timescales is shown apart. One query."""
    late_step = (
        _step_deadlines().alias(done_on=TruncDate("completed_at")).filter(done_on__gt=F("due_on"))
    )
    rows_by_team = (
        _closures_closed(scope)
        .alias(timed=Exists(_step_deadlines()), late=Exists(late_step))
        .values("case__responsible_team_id")
        .annotate(
            within=Count("id", filter=Q(timed=True, late=False)),
            outside=Count("id", filter=Q(late=True)),
            untimed=Count("id", filter=Q(timed=False)),
        )
    )
    rows: list[list[Any]] = []
    for r in rows_by_team:
        closed = r["within"] + r["outside"] + r["untimed"]
        rows.append(
            [
                scope.team_name(r["case__responsible_team_id"]),
                r["within"],
                r["outside"],
                r["untimed"],
                _percent(r["within"], r["within"] + r["outside"]),
                closed,
            ]
        )
    rows.sort(key=lambda r: r[0])
    within = sum(r[1] for r in rows)
    timed = within + sum(r[2] for r in rows)
    return Chart(
        id="closure-timeliness",
        title="Closures completed within the procedure's timescales",
        requirement="R000-10, R001-04",
        definition=(
            "Cases closed in the period, by team. A closure is within the timescales when every "
            "step its procedure gives a timescale to (for example the closure discussed and "
            "agreed within 15 working days of the proposal) was done by the due date set when it "
            "was proposed. Steps that did not apply to the case are not counted."
        ),
        columns=[
            "Team",
            "Within timescales",
            "Outside timescales",
            "No timescale in the procedure",
            "Share within",
            "Closures",
        ],
        rows=rows,
        series=[
            Series("Within timescales", "within", 1, GREEN),
            Series("Outside timescales", "outside", 2, RED),
        ],
        empty="No case in your teams closed in the period.",
        summary=(
            f"{within} of {timed} closures with timescales were within them "
            f"({_percent(within, timed)})."
            if timed
            else ""
        ),
        numeric={1, 2, 3, 4, 5},
    )


PROPOSAL_BANDS = [
    (10, "Up to 10 working days"),
    (20, "11 to 20 working days"),
    (40, "21 to 40 working days"),
    (60, "41 to 60 working days"),
]
PROPOSAL_LAST_BAND = "More than 60 working days"


def chart_proposal_to_closure(scope: Scope) -> Chart:
    """Closures completed in the period, by working days from the proposal to the case
    closing (the day proposed is day 0). One query."""
    spans = [
        scope.calendar.working_days_between(proposed, closed)
        for proposed, closed in _closures_closed(scope).values_list("proposed_on", "closed_on")
        if closed is not None
    ]
    counts = dict.fromkeys([label for _, label in PROPOSAL_BANDS] + [PROPOSAL_LAST_BAND], 0)
    for span in spans:
        label = next((label for top, label in PROPOSAL_BANDS if span <= top), PROPOSAL_LAST_BAND)
        counts[label] += 1
    rows: list[list[Any]] = [[label, n] for label, n in counts.items()] if spans else []
    summary = ""
    if spans:
        summary = (
            f"{len(spans)} closure{'s' if len(spans) != 1 else ''}: half took "
            f"{statistics.median(spans):g} working days or fewer; the longest took {max(spans)}."
        )
    return Chart(
        id="proposal-to-closure",
        title="Time from proposal to closure",
        requirement="R000-10",
        definition=(
            "Cases closed in the period, grouped by the working days from the day closure was "
            "proposed to the day the case closed, in the authority's calendar."
        ),
        columns=["Proposal to closure", "Closures"],
        rows=rows,
        series=[Series("Closures", "", 1, BLUE)],
        empty="No case in your teams closed in the period.",
        summary=summary,
        numeric={1},
    )


# --- Re-referrals ---------------------------------------------------------------------------


def chart_re_referrals(scope: Scope) -> Chart:
    """Children who came back: cases opened in the period (from a contact or referral) for a
    child whose previous case in the same service had closed, by the team that closed it, in
    two bands: within 3 months of that closure, and after 3 but within 12 months. Calendar
    months; a case opened on the day 3 months after the closure is within 3 months. One
    query."""
    earlier = (
        Case.objects.filter(
            subject_id=OuterRef("subject_id"),
            service_area=OuterRef("service_area"),
            closed_on__isnull=False,
            closed_on__lte=OuterRef("opened_on"),
        )
        .exclude(pk=OuterRef("pk"))
        .order_by("-closed_on", "-id")
    )
    # Only a child with a case that these teams closed in the window can come back to them:
    # a condition every counted case meets anyway, which lets the database start from those
    # few thousand children instead of every case the authority opened in the period (97,000
    # at council scale, each with three subqueries: 770 ms; issue 10).
    closed_here = Case.objects.filter(
        responsible_team_id__in=scope.team_ids,
        closed_on__gte=months_before(scope.start, 12),
        closed_on__lte=scope.end,
    ).values("subject_id")
    returning = (
        Case.objects.filter(
            opened_on__gte=scope.start, opened_on__lte=scope.end, subject_id__in=closed_here
        )
        .annotate(
            previous_id=Subquery(earlier.values("pk")[:1]),
            previous_team_id=Subquery(earlier.values("responsible_team_id")[:1]),
            previous_closed_on=Subquery(earlier.values("closed_on")[:1]),
        )
        .filter(
            previous_team_id__in=scope.team_ids,
            previous_id__in=scope.visible_cases().values("pk"),
            previous_closed_on__gte=months_before(scope.start, 12),
        )
        .values_list("previous_team_id", "opened_on", "previous_closed_on")
    )
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for team_id, opened_on, closed_on in returning:
        if opened_on <= months_after(closed_on, 3):
            counts[team_id][0] += 1
        elif opened_on <= months_after(closed_on, 12):
            counts[team_id][1] += 1
    rows: list[list[Any]] = sorted(
        (
            [scope.team_name(team_id), within_3, within_12, within_3 + within_12]
            for team_id, (within_3, within_12) in counts.items()
            if within_3 or within_12
        ),
        key=lambda r: r[0],
    )
    total_3 = sum(r[1] for r in rows)
    total_12 = sum(r[3] for r in rows)
    return Chart(
        id="re-referrals",
        title="Re-referrals after closure",
        requirement="R004-03, R003-07",
        definition=(
            "Cases opened in the period for a child whose previous case in the same service had "
            "closed, by the team that closed it: within 3 months of that closure, or after 3 "
            "and within 12 months (calendar months)."
        ),
        columns=[
            "Team that closed the case",
            "Within 3 months",
            "3 to 12 months",
            "Within 12 months",
        ],
        rows=rows,
        series=[
            Series("Within 3 months", "within 3 months", 1, RED),
            Series("3 to 12 months", "3 to 12 months", 2, PURPLE),
        ],
        empty="No child whose case your teams closed came back in the period.",
        summary=(
            f"{total_12} child{'ren' if total_12 != 1 else ''} came back within 12 months of a "
            f"closure, {total_3} of them within 3 months."
            if rows
            else ""
        ),
        numeric={1, 2, 3},
    )


# --- Social workers per child (R004-12) -------------------------------------------------------

WORKER_BANDS = ["No worker yet", "1 worker", "2 workers", "3 workers", "4 or more workers"]


def chart_workers_per_child(scope: Scope) -> Chart:
    """R004-12: how many different workers each child has had. Children with a case in the
    teams that was open at some time in the period; the workers are every worker allocated to
    those cases from the day each opened to the end of the period. Two queries."""
    cases = Case.objects.filter(
        responsible_team_id__in=scope.team_ids,
        pk__in=scope.visible_cases().values("pk"),
        opened_on__lte=scope.end,
    ).filter(Q(closed_on__isnull=True) | Q(closed_on__gte=scope.start))
    children = cases.values("subject_id").distinct().count()
    per_child = (
        Allocation.objects.filter(case__in=cases, worker__isnull=False, started_on__lte=scope.end)
        .values("case__subject_id")
        .annotate(workers=Count("worker_id", distinct=True))
        .values_list("workers", flat=True)
    )
    counts = dict.fromkeys(WORKER_BANDS, 0)
    allocated = 0
    total_workers = 0
    for workers in per_child:
        allocated += 1
        total_workers += workers
        counts[WORKER_BANDS[min(workers, 4)]] += 1
    counts[WORKER_BANDS[0]] = children - allocated
    rows: list[list[Any]] = (
        [[band, n, _percent(n, children)] for band, n in counts.items()] if children else []
    )
    summary = ""
    if children:
        summary = (
            f"{children} child{'ren' if children != 1 else ''}; those allocated had "
            f"{total_workers / allocated if allocated else 0:.1f} different workers on average, "
            f"and {counts[WORKER_BANDS[-1]]} had 4 or more."
        )
    return Chart(
        id="workers-per-child",
        title="Social workers per child",
        requirement="R004-12",
        definition=(
            "Children with a case in your teams open at some time in the period, by how many "
            "different workers have been allocated to that case since it opened (up to the end "
            "of the period). Procedure 004 aims to keep this number low."
        ),
        columns=["Different workers allocated", "Children", "Share of children"],
        rows=rows,
        series=[Series("Children", "", 1, BLUE)],
        empty="No case in your teams was open in the period.",
        summary=summary,
        numeric={1, 2},
    )


# --- Transfers ------------------------------------------------------------------------------


def chart_transfers(scope: Scope) -> Chart:
    """R004-05: transfers that moved a case and completed in the period, sent by or to the
    teams, by sending and receiving team: completed within 10 working days of the sending
    team manager's discussion (of the request, when no discussion was recorded), or later.
    One query."""
    completed = (
        Transfer.objects.filter(
            Q(from_team_id__in=scope.team_ids) | Q(to_team_id__in=scope.team_ids),
            state=TransferState.COMPLETED,
            moves_responsibility=True,
            completed_on__gte=scope.start,
            completed_on__lte=scope.end,
        )
        .values_list(
            "from_team__name", "to_team__name", "requested_on", "discussed_on", "completed_on"
        )
        .order_by("from_team__name", "to_team__name")
    )
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for sender, receiver, requested_on, discussed_on, completed_on in completed:
        if completed_on is None:
            continue
        start = discussed_on or requested_on
        days = scope.calendar.working_days_between(start, completed_on)
        counts[(sender, receiver)][0 if days <= TRANSFER_WORKING_DAYS else 1] += 1
    rows: list[list[Any]] = [
        [f"{sender} to {receiver}", within, later, _percent(within, within + later)]
        for (sender, receiver), (within, later) in counts.items()
    ]
    within = sum(r[1] for r in rows)
    total = within + sum(r[2] for r in rows)
    return Chart(
        id="transfers",
        title=f"Transfers completed within {TRANSFER_WORKING_DAYS} working days",
        requirement="R004-05",
        definition=(
            "Transfers that moved a case to or from your teams and completed in the period, "
            "counted from the team manager's discussion (or the request, if no discussion was "
            "recorded) to the transfer, in working days. Wrap-around support, which does not "
            "move the case, is left out."
        ),
        columns=[
            "Transfer",
            f"Within {TRANSFER_WORKING_DAYS} working days",
            "Later",
            "Share within",
        ],
        rows=rows,
        series=[
            Series(f"Within {TRANSFER_WORKING_DAYS} working days", "within", 1, GREEN),
            Series("Later", "later", 2, RED),
        ],
        empty="No transfer to or from your teams completed in the period.",
        summary=(
            f"{within} of {total} transfers completed within {TRANSFER_WORKING_DAYS} working "
            f"days ({_percent(within, total)})."
            if total
            else ""
        ),
        numeric={1, 2, 3},
    )


# --- Gates overridden -----------------------------------------------------------------------


def chart_overrides(scope: Scope) -> Chart:
    """Where someone went on although the procedure said otherwise, in the period, by team:
    closure gates a named senior role agreed to pass or answered as an escalation
    (`GateAgreement`), automatic checklist checks a manager overrode (R002-16), and transfers
    sent somewhere other than the team the routing rules recommended (R004-03, as
    `routing_overrides` reports them; counted for the sending team). Three queries."""
    agreed = (
        GateAgreement.objects.filter(
            closure__case__responsible_team_id__in=scope.team_ids,
            closure__case__in=scope.visible_cases(),
            agreed_at__gte=scope.start_at,
            agreed_at__lt=scope.end_before,
        )
        .values_list("closure__case__responsible_team_id")
        .annotate(n=Count("id"))
    )
    overridden = (
        ChecklistAnswer.objects.filter(
            overridden=True,
            closure__case__responsible_team_id__in=scope.team_ids,
            closure__case__in=scope.visible_cases(),
            answered_at__gte=scope.start_at,
            answered_at__lt=scope.end_before,
        )
        .values_list("closure__case__responsible_team_id")
        .annotate(n=Count("id"))
    )
    rerouted = (
        Transfer.objects.filter(
            from_team_id__in=scope.team_ids,
            requested_on__gte=scope.start,
            requested_on__lte=scope.end,
        )
        .exclude(override_reason="")
        .values_list("from_team_id")
        .annotate(n=Count("id"))
    )
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for column, query in enumerate((agreed, overridden, rerouted)):
        for team_id, n in query:
            counts[team_id][column] += n
    rows: list[list[Any]] = sorted(
        ([scope.team_name(team_id), *values, sum(values)] for team_id, values in counts.items()),
        key=lambda r: r[0],
    )
    return Chart(
        id="overrides",
        title="Gates overridden",
        requirement="R002-13, R002-16, R004-03",
        definition=(
            "In the period, by team: closure gates a senior role agreed to pass or answered "
            "as an escalation (for example closing the case of a client never seen), automatic "
            "checklist checks a manager overrode, and transfers sent to a team other than the "
            "one the routing rules recommended."
        ),
        columns=[
            "Team",
            "Closure gates agreed",
            "Checklist checks overridden",
            "Routing overridden",
            "Total",
        ],
        rows=rows,
        series=[
            Series("Closure gates agreed", "gates", 1, PURPLE),
            Series("Checklist checks overridden", "checks", 2, GREY),
            Series("Routing overridden", "routing", 3, BLUE),
        ],
        empty="Nobody in your teams overrode a gate, a check or a routing rule in the period.",
        numeric={1, 2, 3, 4},
    )


CHARTS: dict[str, Callable[[Scope], Chart]] = {
    "caseload": chart_caseload,
    "overdue": chart_overdue,
    "closure-timeliness": chart_closure_timeliness,
    "proposal-to-closure": chart_proposal_to_closure,
    "re-referrals": chart_re_referrals,
    "workers-per-child": chart_workers_per_child,
    "transfers": chart_transfers,
    "overrides": chart_overrides,
}


def dashboard_charts(scope: Scope) -> list[Chart]:
    """Every chart, in the page's order. A fixed number of queries."""
    return [chart(scope) for chart in CHARTS.values()]
