"""What each dashboard chart counts, for whom, and over which period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from casework.accounts.models import User
from casework.cases.models import Case
from casework.closure.models import Closure, ClosureState
from casework.closure.services import closure_authorise, summary_sign
from casework.closure.tests import conftest as closure_fixtures
from casework.closure.tests.test_race_and_atomicity import _ready_to_authorise
from casework.organisation.models import ClosureDay, Role, Team
from casework.oversight.charts import Chart
from casework.oversight.selectors import (
    Scope,
    chart_caseload,
    chart_closure_timeliness,
    chart_overdue,
    chart_overrides,
    chart_proposal_to_closure,
    chart_re_referrals,
    chart_transfers,
    chart_workers_per_child,
    dashboard_scope,
    default_period,
    months_after,
    teams_overseen_by,
)
from casework.oversight.tests.conftest import TODAY, Build, People
from casework.tasks.models import TaskStatus

bind = closure_fixtures.bind
child_case = closure_fixtures.child_case

DAY = dt.timedelta(days=1)


def scope_for(
    user: User,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    team: Team | None = None,
) -> Scope:
    default_start, default_end = default_period(TODAY)
    teams = [t for t in teams_overseen_by(user) if team is None or t == team]
    return dashboard_scope(user, teams, start=start or default_start, end=end or default_end)


def rows(chart: Chart) -> list[list[object]]:
    return [list(r) for r in chart.rows]


def test_a_team_manager_oversees_their_teams_and_a_senior_manager_the_service_area(
    people: People, build: Build
) -> None:
    """X-02: figures are for the teams a manager runs; a service manager sees every team
    that holds cases in their service area (not the other service); workers and business
    support oversee none."""
    names = {u: [t.code for t in teams_overseen_by(u)] for u in vars(people).values()}
    assert names[people.ai_manager] == ["ai"]
    assert names[people.sgcp_manager] == ["sgcp"]
    assert names[people.senior] == ["ai", "sgcp"]
    assert names[people.adults_manager] == ["north"]
    assert names[people.ai_worker] == []
    assert names[people.support] == []


def test_the_default_period_is_the_last_three_months_and_months_are_calendar_months() -> None:
    assert default_period(dt.date(2026, 5, 14)) == (dt.date(2026, 2, 15), dt.date(2026, 5, 14))
    assert months_after(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)
    assert months_after(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)


def test_caseload_per_worker_on_the_last_day_of_the_period_from_the_allocation_history(
    people: People, build: Build
) -> None:
    """Who held each open case on the period's last day: a reallocation moves the case, a
    closed case drops out, an unallocated one has its own row, another team's cases are not
    counted, and a past period is read from the history."""
    w1, w2 = people.ai_worker, people.ai_worker2
    build.case(
        build.ai,
        opened_on=TODAY - 200 * DAY,
        workers=[(w1, TODAY - 200 * DAY), (w2, TODAY - 10 * DAY)],
    )
    build.case(build.ai, opened_on=TODAY - 50 * DAY, workers=[(w1, TODAY - 50 * DAY)])
    build.case(build.ai, opened_on=TODAY - 20 * DAY, workers=[(None, TODAY - 20 * DAY)])
    build.case(
        build.ai,
        opened_on=TODAY - 60 * DAY,
        workers=[(w2, TODAY - 60 * DAY)],
        closed_on=TODAY - 5 * DAY,
    )
    build.case(
        build.sgcp, opened_on=TODAY - 50 * DAY, workers=[(people.sgcp_worker, TODAY - 50 * DAY)]
    )

    now = chart_caseload(scope_for(people.ai_manager))
    assert rows(now) == [
        ["Aiworker Tester", 1],
        ["Aiworkertwo Tester", 1],
        ["No worker allocated", 1],
    ]
    assert now.summary.startswith("3 open cases on")

    a_month_ago = chart_caseload(scope_for(people.ai_manager, end=TODAY - 30 * DAY))
    assert rows(a_month_ago) == [["Aiworker Tester", 2], ["Aiworkertwo Tester", 1]]

    senior = chart_caseload(scope_for(people.senior))
    assert ["Sgcpworker Tester", 1] in rows(senior)


def test_caseload_lists_a_worker_with_no_cases(people: People, build: Build) -> None:
    build.case(build.ai, opened_on=TODAY - 50 * DAY, workers=[(people.ai_worker, TODAY - 50 * DAY)])
    assert rows(chart_caseload(scope_for(people.ai_manager))) == [
        ["Aiworker Tester", 1],
        ["Aiworkertwo Tester", 0],
    ]


def test_x03_overdue_work_counts_tasks_still_open_and_done_late_in_the_period(
    people: People, build: Build
) -> None:
    """X-03: deadline tasks due in the period up to yesterday, by who they wait on (the named
    person, else the role in its team); still open and done after the due date count; done on
    time, cancelled, not yet due, or due before the period do not."""
    case = build.case(
        build.ai, opened_on=TODAY - 300 * DAY, workers=[(people.ai_worker, TODAY - 300 * DAY)]
    )
    me = people.ai_worker
    build.task(case, due_on=TODAY - 10 * DAY, assignee=me)  # still open
    build.task(case, due_on=TODAY - 10 * DAY, done_on=TODAY - 12 * DAY, assignee=me)  # on time
    build.task(case, due_on=TODAY - 20 * DAY, done_on=TODAY - 20 * DAY, assignee=me)  # on the day
    build.task(case, due_on=TODAY - 20 * DAY, done_on=TODAY - 15 * DAY, assignee=me)  # late
    build.task(case, due_on=TODAY - 5 * DAY, role=Role.TEAM_MANAGER)  # open, no one named
    build.task(case, due_on=TODAY - 200 * DAY, assignee=me)  # before the period
    build.task(case, due_on=TODAY, assignee=me)  # due today: not overdue yet
    build.task(case, due_on=TODAY + DAY, assignee=me)
    build.task(case, due_on=TODAY - 5 * DAY, status=TaskStatus.CANCELLED, assignee=me)
    other = build.case(build.sgcp, opened_on=TODAY - 30 * DAY)
    build.task(other, due_on=TODAY - 5 * DAY)

    chart = chart_overdue(scope_for(people.ai_manager))

    assert rows(chart) == [
        ["Aiworker Tester", 4, 1, 1, 2],
        ["Team manager in Team AI (no one named)", 1, 1, 0, 0],
    ]
    assert chart.summary == "3 of 5 tasks due in the period were overdue or done late (60%)."


def test_r000_10_closures_within_the_timescales_their_procedure_set(
    people: People, build: Build
) -> None:
    """R000-10, R001-04: a closure is within its timescales when every step deadline the
    workflow set for it was met; one step done late puts it outside; a step that never
    applied (its task still open) is not counted; a pack with no step timescales is shown
    apart; other teams and other periods are not counted."""
    d = TODAY - 30 * DAY

    def closed_case(team: Team = build.ai) -> Case:
        return build.case(team, opened_on=TODAY - 200 * DAY, closed_on=TODAY - 5 * DAY)

    build.closure(
        closed_case(),
        proposed_on=d,
        closed_on=TODAY - 5 * DAY,
        steps=[(d, d - DAY), (d + DAY, d + DAY)],
    )
    build.closure(closed_case(), proposed_on=d, closed_on=TODAY - 5 * DAY, steps=[(d, d + DAY)])
    build.closure(closed_case(), proposed_on=d, closed_on=TODAY - 5 * DAY)
    within = build.closure(
        closed_case(), proposed_on=d, closed_on=TODAY - 5 * DAY, steps=[(d, None), (d, d)]
    )
    build.task(within.case, due_on=d, done_on=d + 10 * DAY, key=f"closure:{within.pk}:task:archive")
    old = build.case(build.ai, opened_on=TODAY - 400 * DAY, closed_on=TODAY - 300 * DAY)
    build.closure(old, proposed_on=TODAY - 320 * DAY, closed_on=TODAY - 300 * DAY)
    build.closure(
        closed_case(build.sgcp), proposed_on=d, closed_on=TODAY - 5 * DAY, steps=[(d, d + DAY)]
    )

    chart = chart_closure_timeliness(scope_for(people.ai_manager))

    assert rows(chart) == [["Team AI", 2, 1, 1, "67%", 4]]
    assert chart.summary == "2 of 3 closures with timescales were within them (67%)."
    senior = rows(chart_closure_timeliness(scope_for(people.senior)))
    assert senior == [["Team AI", 2, 1, 1, "67%", 4], ["Team SGCP", 0, 1, 0, "0%", 1]]


def test_r000_10_proposal_to_closure_is_counted_in_working_days_over_easter(
    people: People, build: Build
) -> None:
    """R000-10: the time from proposal to closure is in working days, so Good Friday and
    Easter Monday 2026 do not count: 2 to 20 April is 10 working days (18 calendar days)."""
    proposed = dt.date(2026, 4, 2)
    for closed in (
        dt.date(2026, 4, 17),
        dt.date(2026, 4, 20),
        dt.date(2026, 4, 21),
        dt.date(2026, 4, 30),
    ):
        case = build.case(build.ai, opened_on=dt.date(2026, 1, 5), closed_on=closed)
        build.closure(case, proposed_on=proposed, closed_on=closed)
    case = build.case(build.ai, opened_on=dt.date(2026, 1, 5), closed_on=dt.date(2026, 4, 30))
    build.closure(case, proposed_on=dt.date(2026, 3, 2), closed_on=dt.date(2026, 4, 30))

    chart = chart_proposal_to_closure(
        scope_for(people.ai_manager, start=dt.date(2026, 4, 1), end=dt.date(2026, 4, 30))
    )

    assert rows(chart) == [
        ["Up to 10 working days", 2],
        ["11 to 20 working days", 2],
        ["21 to 40 working days", 0],
        ["41 to 60 working days", 1],
        ["More than 60 working days", 0],
    ]
    assert chart.summary == ("5 closures: half took 11 working days or fewer; the longest took 41.")


def test_re_referrals_within_3_and_12_months_of_the_previous_closure(
    people: People, build: Build
) -> None:
    """A child comes back: a case opened in the period for a child whose previous case in the
    same service closed, counted for the team that closed it, within 3 calendar months (the
    day 3 months on included) or within 12. Later returns, first referrals, returns before
    the period and a closure in the other service are not counted."""
    start, end = dt.date(2026, 8, 1), dt.date(2026, 10, 31)

    def came_back(team: Team, closed: dt.date, back: dt.date, back_team: Team = build.ai) -> None:
        child = build.child()
        build.case(team, opened_on=closed - 100 * DAY, closed_on=closed, subject=child)
        build.case(back_team, opened_on=back, subject=child)

    came_back(build.sgcp, dt.date(2026, 6, 30), dt.date(2026, 9, 30))  # 3 months to the day
    came_back(build.sgcp, dt.date(2026, 3, 15), dt.date(2026, 10, 1))  # 6 months
    came_back(build.sgcp, dt.date(2025, 6, 1), dt.date(2026, 10, 1))  # over 12 months
    came_back(build.sgcp, dt.date(2026, 7, 1), dt.date(2026, 7, 15))  # before the period
    came_back(build.ai, dt.date(2026, 9, 1), dt.date(2026, 9, 15), back_team=build.sgcp)
    came_back(build.adults, dt.date(2026, 9, 1), dt.date(2026, 10, 1))  # other service
    build.case(build.ai, opened_on=dt.date(2026, 9, 1))  # first referral

    senior = chart_re_referrals(scope_for(people.senior, start=start, end=end))
    assert rows(senior) == [["Team AI", 1, 0, 1], ["Team SGCP", 1, 1, 2]]
    assert (
        senior.summary
        == "3 children came back within 12 months of a closure, 2 of them within 3 months."
    )
    sgcp = chart_re_referrals(scope_for(people.sgcp_manager, start=start, end=end))
    assert rows(sgcp) == [["Team SGCP", 1, 1, 2]]


def test_r004_12_how_many_different_social_workers_each_child_has_had(
    people: People, build: Build, make_staff: Callable[..., User]
) -> None:
    """R004-12: for children with a case open in the period, the different workers allocated
    to it since it opened (up to the end of the period); a worker who comes back counts once,
    unallocated spells count for nobody, and a child's two cases are one child."""
    w1, w2, manager = people.ai_worker, people.ai_worker2, people.ai_manager
    w3 = make_staff("aiworkerthree", build.ai)
    t = TODAY - 400 * DAY
    build.case(build.ai, opened_on=t, workers=[(w1, t), (w2, t + 100 * DAY), (w1, t + 200 * DAY)])
    build.case(
        build.ai,
        opened_on=t,
        workers=[(w1, t), (w2, t + 50 * DAY), (None, t + 60 * DAY), (manager, t + 70 * DAY)],
    )
    build.case(
        build.ai,
        opened_on=t,
        workers=[(w1, t), (w2, t + 1 * DAY), (manager, t + 2 * DAY), (w3, t + 3 * DAY)],
    )
    build.case(build.ai, opened_on=TODAY - 10 * DAY, workers=[(None, TODAY - 10 * DAY)])
    child = build.child()
    build.case(build.ai, opened_on=t, workers=[(w1, t)], closed_on=TODAY - 30 * DAY, subject=child)
    build.case(
        build.ai, opened_on=TODAY - 20 * DAY, workers=[(w2, TODAY - 20 * DAY)], subject=child
    )
    build.case(build.ai, opened_on=t, workers=[(w1, t), (w2, t + DAY)], closed_on=t + 30 * DAY)

    chart = chart_workers_per_child(scope_for(people.ai_manager))

    assert rows(chart) == [
        ["No worker yet", 1, "20%"],
        ["1 worker", 0, "0%"],
        ["2 workers", 2, "40%"],
        ["3 workers", 1, "20%"],
        ["4 or more workers", 1, "20%"],
    ]
    assert chart.summary == (
        "5 children; those allocated had 2.8 different workers on average, and 1 had 4 or more."
    )
    earlier = chart_workers_per_child(scope_for(people.ai_manager, end=TODAY - 60 * DAY))
    assert ["No worker yet", 0, "0%"] in rows(earlier)  # the case opened 10 days ago is not there


def test_r004_05_transfers_within_10_working_days_of_the_discussion_over_easter(
    people: People, build: Build
) -> None:
    """R004-05: counted in working days from the team manager's discussion (or the request
    when none was recorded) to completion: 2 to 20 April 2026 is 10 working days, 2 to 21
    April is 11. Wrap-around (no move), unfinished transfers and other periods are left out.
    The sending team sees its transfers after the case has left it."""
    start, end = dt.date(2026, 3, 1), dt.date(2026, 4, 30)

    def sent(**kwargs: object) -> None:
        case = build.case(build.sgcp, opened_on=dt.date(2026, 1, 5))
        build.transfer(case, to_team=build.ai, **kwargs)  # type: ignore[arg-type]

    discussed = dt.date(2026, 4, 2)
    sent(
        requested_on=dt.date(2026, 3, 20), discussed_on=discussed, completed_on=dt.date(2026, 4, 20)
    )
    sent(
        requested_on=dt.date(2026, 3, 20), discussed_on=discussed, completed_on=dt.date(2026, 4, 21)
    )
    sent(requested_on=dt.date(2026, 4, 1), completed_on=dt.date(2026, 4, 10))
    sent(
        requested_on=dt.date(2026, 4, 1),
        completed_on=dt.date(2026, 4, 10),
        moves_responsibility=False,
    )
    sent(requested_on=dt.date(2026, 4, 1), completed_on=None)
    sent(requested_on=dt.date(2026, 1, 1), completed_on=dt.date(2026, 2, 10))

    for manager in (people.sgcp_manager, people.ai_manager, people.senior):
        chart = chart_transfers(scope_for(manager, start=start, end=end))
        assert rows(chart) == [["Team SGCP to Team AI", 2, 1, "67%"]], manager
    assert chart.summary == "2 of 3 transfers completed within 10 working days (67%)."

    # The authority's own closure day counts too: the late one is now on time.
    ClosureDay.objects.create(authority=build.ai.authority, day=dt.date(2026, 4, 14), reason="Move")
    chart = chart_transfers(scope_for(people.ai_manager, start=start, end=end))
    assert rows(chart) == [["Team SGCP to Team AI", 3, 0, "100%"]]
    assert chart_transfers(scope_for(people.adults_manager, start=start, end=end)).is_empty


def test_gates_overridden_counts_agreements_checklist_overrides_and_routing_overrides(
    people: People, build: Build
) -> None:
    """R002-13, R002-16, R004-03: gates a senior role agreed to pass, automatic checks a
    manager overrode and transfers sent against the routing recommendation, in the period,
    by team (a routing override for the sending team)."""
    case = build.case(build.ai, opened_on=TODAY - 100 * DAY, closed_on=TODAY - 10 * DAY)
    closure = build.closure(case, proposed_on=TODAY - 30 * DAY, closed_on=TODAY - 10 * DAY)
    build.gate_agreed(closure, people.senior, TODAY - 20 * DAY)
    build.gate_agreed(closure, people.senior, TODAY - 19 * DAY)
    build.gate_agreed(closure, people.senior, TODAY - 200 * DAY)
    build.check_overridden(closure, people.ai_manager, TODAY - 15 * DAY)
    moving = build.case(build.ai, opened_on=TODAY - 100 * DAY)
    build.transfer(
        moving,
        to_team=build.sgcp,
        requested_on=TODAY - 20 * DAY,
        completed_on=TODAY - 5 * DAY,
        override_reason="The family already knows the SGCP worker",
    )
    build.transfer(
        build.case(build.ai, opened_on=TODAY - 100 * DAY),
        to_team=build.sgcp,
        requested_on=TODAY - 20 * DAY,
        completed_on=None,
    )

    assert rows(chart_overrides(scope_for(people.ai_manager))) == [["Team AI", 2, 1, 1, 4]]
    assert chart_overrides(scope_for(people.sgcp_manager)).is_empty


def test_empty_charts_say_so_in_plain_english(people: People, build: Build) -> None:
    scope = scope_for(people.ai_manager)
    for chart in (
        chart_caseload(scope),
        chart_overdue(scope),
        chart_closure_timeliness(scope),
        chart_proposal_to_closure(scope),
        chart_re_referrals(scope),
        chart_workers_per_child(scope),
        chart_transfers(scope),
        chart_overrides(scope),
    ):
        assert chart.is_empty, chart.id
        assert chart.empty.endswith("."), chart.id


def test_r000_10_a_closure_done_through_the_workflow_is_read_as_within_its_timescales(
    bind: Callable[[str], None], child_case: Case, worker: User, manager: User
) -> None:
    """R000-10: a procedure-000 closure driven through the services today: the step deadlines
    the workflow set (discussed and agreed in 15 working days, presented in 20) were met, so
    the dashboard counts it as within the timescales, closed in 0 working days."""
    bind("000-closing-cases")
    closure = closure_authorise(
        actor=manager, closure=_ready_to_authorise(child_case, worker, manager)
    )
    summary_sign(actor=worker, closure=closure, form_id="closing-summary")
    summary_sign(actor=manager, closure=closure, form_id="closing-summary")
    assert Closure.objects.get(pk=closure.pk).state == ClosureState.CLOSED
    assert child_case.tasks.filter(key__startswith=f"closure:{closure.pk}:step:").count() == 2

    scope = scope_for(manager)
    assert rows(chart_closure_timeliness(scope)) == [["Team AI", 1, 0, 0, "100%", 1]]
    assert rows(chart_proposal_to_closure(scope))[0] == ["Up to 10 working days", 1]
