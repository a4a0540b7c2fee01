"""The three-monthly Business Support audit of open cases (R004-11), run as a sweep."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from casework.accounts.models import User
from casework.cases.models import Case
from casework.cases.services import case_close_imported, case_open
from casework.organisation.models import Role, Team
from casework.people.services import person_create
from casework.tasks.models import Task
from casework.tasks.sweeps import add_months, latest_three_month_point, three_monthly_audits

D = dt.date


def test_months_are_added_as_people_count_them() -> None:
    assert add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert add_months(D(2028, 1, 31), 1) == D(2028, 2, 29)
    assert add_months(D(2026, 11, 30), 3) == D(2027, 2, 28)
    assert add_months(D(2026, 3, 15), -3) == D(2025, 12, 15)
    assert latest_three_month_point(D(2026, 5, 31), D(2026, 8, 30)) is None
    assert latest_three_month_point(D(2026, 5, 31), D(2026, 8, 31)) == (1, D(2026, 8, 31))
    assert latest_three_month_point(D(2026, 5, 31), D(2027, 3, 1)) == (3, D(2027, 2, 28))


@pytest.fixture
def bound(bind_004: Callable[..., None]) -> None:
    bind_004()


def _case(worker: User, team: Team, opened: dt.date, name: str) -> Case:
    child = person_create(
        actor=worker, given_name=name, family_name="Example", date_of_birth=D(2015, 1, 1)
    )
    with time_machine.travel(dt.datetime.combine(opened, dt.time(10), dt.UTC), tick=False):
        return case_open(
            actor=worker,
            subject=child,
            team=team,
            received_on=opened,
            source="6",
            reason="Concern",
            allocated_worker=worker,
        )


@pytest.mark.usefixtures("bound")
def test_r004_11_every_three_months_open_business_support_audits_the_case(
    make_staff: Callable[..., User], team_ai: Team
) -> None:
    """R004-11: a case open three months (and again at six) gives Business Support an audit
    due 5 working days later (opened 26 May 2026, three months is Wednesday 26 August; the
    late summer bank holiday, Monday 31 August, does not count, so it is due Thursday 3
    September). A case opened two months ago, and a closed case, get none; running again
    creates nothing new."""
    worker = make_staff("aiworker", team_ai)
    make_staff("admin", team_ai, Role.BUSINESS_SUPPORT)
    three = _case(worker, team_ai, D(2026, 5, 26), "Three")
    _case(worker, team_ai, D(2026, 7, 1), "Two")
    closed = _case(worker, team_ai, D(2026, 1, 5), "Closed")
    case_close_imported(
        actor=None, case=closed, closed_on=D(2026, 6, 1), reason_code="RC7", note="Closed"
    )
    result = three_monthly_audits(D(2026, 8, 26))
    assert (result.cases_checked, result.tasks_created) == (1, 1)
    task = Task.objects.get(case=three)
    assert task.role == Role.BUSINESS_SUPPORT
    assert task.requirement == "R004-11"
    assert task.title == "Business Support three-monthly audit of an open case (3 months open)"
    assert task.due_on == D(2026, 9, 3)

    assert three_monthly_audits(D(2026, 8, 27)).tasks_created == 0
    six = three_monthly_audits(D(2026, 11, 26))
    assert six.tasks_created == 2  # the six-month audit of "Three", the first of "Two"
    assert Task.objects.filter(case=three).count() == 2


def test_the_sweep_command_runs_for_a_given_day_and_refuses_a_bad_one(
    bound: None, make_staff: Callable[..., User], team_ai: Team
) -> None:
    worker = make_staff("aiworker", team_ai)
    _case(worker, team_ai, D(2026, 1, 10), "Old")
    out = StringIO()
    call_command("run_sweeps", "--date", "2026-04-10", stdout=out)
    assert "1 open cases checked, 1 tasks created" in out.getvalue()
    with pytest.raises(CommandError, match="'10/04/2026' is not a date: give it as YYYY-MM-DD"):
        call_command("run_sweeps", "--date", "10/04/2026")
