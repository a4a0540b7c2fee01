"""Fixtures for the retention tests: reviewers (a children's service manager, an adults' head
of service), bound procedures, and a way to make closed records quickly."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from casework.accounts.models import User
from casework.organisation.models import Authority, Role, ServiceArea, Team, TeamFunction
from casework.policy.services import pack_bind


@pytest.fixture
def reviewer(make_staff: Callable[..., User], make_team: Callable[..., Team]) -> User:
    """A children's service manager: reviews children's records for destruction."""
    team = make_team("csm", TeamFunction.OTHER, holds_cases=False)
    return make_staff("csm-service-manager", team, Role.SERVICE_MANAGER)


@pytest.fixture
def adults_team(make_team: Callable[..., Team]) -> Team:
    return make_team("adults-north", TeamFunction.ADULTS_LOCALITY, ServiceArea.ADULTS)


@pytest.fixture
def adults_worker(make_staff: Callable[..., User], adults_team: Team) -> User:
    return make_staff("adults-worker", adults_team)


@pytest.fixture
def adults_reviewer(make_staff: Callable[..., User], make_team: Callable[..., Team]) -> User:
    """An adults' head of service: reviews adults' records, not children's."""
    team = make_team("asm", TeamFunction.OTHER, ServiceArea.ADULTS, holds_cases=False)
    return make_staff("adults-head", team, Role.HEAD_OF_SERVICE)


@pytest.fixture
def bound(authority: Authority) -> None:
    """The demo's procedures: 000 closes children's cases, 002 adults'."""
    for area, pack_id in (("children", "000-closing-cases"), ("adults", "002-adults-closure")):
        pack_bind(
            actor=None, authority=authority, service_area=area, purpose="closure", pack_id=pack_id
        )
