"""Fixtures shared by every test: a small authority with two teams and their staff.

Kept at the repository root so both `tests/` and the apps' own `tests/` folders see it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from casework.accounts.models import User
from casework.cases.models import Case
from casework.cases.services import case_open
from casework.organisation.models import (
    Authority,
    Membership,
    Role,
    ServiceArea,
    Team,
    TeamFunction,
)
from casework.people.models import Person
from casework.people.services import person_create

TWO_YEARS_AGO = timezone.localdate() - dt.timedelta(days=730)


@pytest.fixture
def authority(db: None) -> Authority:
    return Authority.objects.create(name="Testshire County Council", la_code="931", nation="ENG")


@pytest.fixture
def make_team(authority: Authority) -> Callable[..., Team]:
    def make(
        code: str,
        function: str = TeamFunction.ASSESSMENT_INTERVENTION,
        service_area: str = ServiceArea.CHILDREN,
        **extra: Any,
    ) -> Team:
        return Team.objects.create(
            authority=authority,
            code=code,
            name=f"Team {code.upper()}",
            service_area=service_area,
            function=function,
            **extra,
        )

    return make


@pytest.fixture
def make_staff(db: None) -> Callable[..., User]:
    def make(username: str, team: Team, role: str = Role.SOCIAL_WORKER) -> User:
        user = User.objects.create_user(
            username=username,
            password="a-test-password-123",
            first_name=username.title(),
            last_name="Tester",
        )
        Membership.objects.create(user=user, team=team, role=role, started_on=TWO_YEARS_AGO)
        return user

    return make


@pytest.fixture
def team_ai(make_team: Callable[..., Team]) -> Team:
    return make_team("ai")


@pytest.fixture
def team_sgcp(make_team: Callable[..., Team]) -> Team:
    return make_team("sgcp", TeamFunction.SAFEGUARDING_CARE_PLANNING)


@pytest.fixture
def worker(make_staff: Callable[..., User], team_ai: Team) -> User:
    return make_staff("worker", team_ai)


@pytest.fixture
def manager(make_staff: Callable[..., User], team_ai: Team) -> User:
    return make_staff("manager", team_ai, Role.TEAM_MANAGER)


@pytest.fixture
def outsider(make_staff: Callable[..., User], team_sgcp: Team) -> User:
    """A social worker in another team, with no need to know about team AI's cases."""
    return make_staff("outsider", team_sgcp)


@pytest.fixture
def child(worker: User) -> Person:
    return person_create(
        actor=worker,
        given_name="Alex",
        family_name="Example",
        date_of_birth=timezone.localdate() - dt.timedelta(days=9 * 365),
        sex="M",
        ethnicity="WBRI",
        ethnicity_asked=True,
    )


@pytest.fixture
def open_case(worker: User, team_ai: Team, child: Person) -> Case:
    return case_open(
        actor=worker,
        subject=child,
        team=team_ai,
        received_on=timezone.localdate() - dt.timedelta(days=60),
        source="2A",
        reason="School raised concerns about attendance and presentation.",
        primary_need="N1",
        allocated_worker=worker,
    )


@pytest.fixture
def bind_004(authority: Authority) -> Callable[..., None]:
    """Bind procedure 004 (transfer and closure) for children's services, for the purposes
    given (both by default), as an administrator would in the admin."""
    from casework.policy.services import pack_bind

    def bind(*purposes: str) -> None:
        for purpose in purposes or ("transfer", "closure"):
            pack_bind(
                actor=None,
                authority=authority,
                service_area="children",
                purpose=purpose,
                pack_id="004-transfer-and-closure",
            )

    return bind
