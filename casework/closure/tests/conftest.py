"""Fixtures for closure tests: a child's case with a household, ready for the workflow."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import timezone

from casework.accounts.models import User
from casework.cases.models import Case
from casework.organisation.models import Authority, Role, Team, TeamFunction
from casework.people.services import (
    person_move_in,
    phone_number_add,
    professional_contact_add,
)
from casework.policy.services import pack_bind

TODAY = timezone.localdate()


@pytest.fixture
def bind(authority: Authority) -> Callable[[str, str], None]:
    def bind_pack(pack_id: str, service_area: str = "children") -> None:
        pack_bind(
            actor=None,
            authority=authority,
            service_area=service_area,
            purpose="closure",
            pack_id=pack_id,
        )

    return bind_pack


@pytest.fixture
def senior(make_staff: Callable[..., User], make_team: Callable[..., Team]) -> User:
    team = make_team("csm", TeamFunction.OTHER, holds_cases=False)
    return make_staff("sfm", team, Role.SENIOR_FIELDWORK_MANAGER)


@pytest.fixture
def child_case(open_case: Case, worker: User) -> Case:
    """An open child's case with an address, a phone number and a school."""
    child = open_case.subject
    person_move_in(
        actor=worker,
        person=child,
        line_1="3 Example Row",
        town="Testford",
        postcode="TE3 3EX",
        started_on=TODAY - dt.timedelta(days=400),
    )
    phone_number_add(actor=worker, person=child, number="07700 900123", label="mother")
    professional_contact_add(
        actor=worker,
        person=child,
        role="school",
        organisation="Testford Primary",
        started_on=TODAY - dt.timedelta(days=300),
        name="Head teacher",
    )
    return open_case
