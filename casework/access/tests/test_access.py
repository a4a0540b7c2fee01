"""Need to know from day one (X-02, first part): sign-in everywhere, cases read only
through the access-scoped selector, and an unrelated user gets 404 on every case URL."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from casework.access.policy import cases_visible_to
from casework.accounts.models import User
from casework.cases.models import Case
from casework.organisation.models import Role, Team, TeamFunction


def _case_url_names(
    patterns: list[URLPattern | URLResolver] | None = None,
) -> Iterator[str]:
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            # The API has its own token sign-in and its own sweep (casework/api/tests).
            if pattern.namespace != "api-v1":
                yield from _case_url_names(pattern.url_patterns)
        elif "case_id" in pattern.pattern.regex.groupindex and pattern.name:
            yield pattern.name


CASE_URL_NAMES = sorted(set(_case_url_names()))
# Pages of a case for its managers only: the team's worker gets the plain 403 page.
MANAGER_ONLY_CASE_URL_NAMES = {"case-access-log", "case-restriction"}


def test_there_are_case_urls_to_sweep() -> None:
    assert "case-detail" in CASE_URL_NAMES


@pytest.mark.parametrize("url_name", CASE_URL_NAMES)
def test_x02_every_case_url_is_404_for_an_unrelated_user(
    url_name: str, open_case: Case, outsider: User, worker: User, manager: User
) -> None:
    """X-02: a case the user has no need to know about looks exactly like a missing one."""
    url = reverse(url_name, kwargs={"case_id": open_case.pk})
    missing_url = reverse(url_name, kwargs={"case_id": open_case.pk + 10_000})
    client = Client()
    client.force_login(outsider)
    forbidden = client.get(url)
    missing = client.get(missing_url)
    assert forbidden.status_code == 404
    assert missing.status_code == 404
    client.force_login(manager if url_name in MANAGER_ONLY_CASE_URL_NAMES else worker)
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url_name", CASE_URL_NAMES)
def test_x02_case_urls_require_sign_in(url_name: str, open_case: Case) -> None:
    response = Client().get(reverse(url_name, kwargs={"case_id": open_case.pk}))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_sign_in_page_and_health_are_public(db: None) -> None:
    assert Client().get(reverse("login")).status_code == 200
    assert Client().get(reverse("health")).content == b"ok"


def test_x02_visibility_by_team_allocation_and_service_area(
    open_case: Case,
    make_staff: Callable[..., User],
    make_team: Callable[..., Team],
    team_ai: Team,
    team_sgcp: Team,
    outsider: User,
) -> None:
    """X-02: team members and the allocated worker see the case; other teams do not;
    senior managers across the service area do; adults' staff do not."""
    colleague = make_staff("colleague", team_ai)
    senior = make_staff(
        "senior", make_team("csm", TeamFunction.OTHER, holds_cases=False), Role.SERVICE_MANAGER
    )
    adults_senior = make_staff(
        "adultshead",
        make_team("asm", TeamFunction.OTHER, service_area="adults", holds_cases=False),
        Role.HEAD_OF_SERVICE,
    )
    assert open_case in cases_visible_to(colleague)
    assert open_case in cases_visible_to(senior)
    assert open_case not in cases_visible_to(outsider)
    assert open_case not in cases_visible_to(adults_senior)
    # Allocation alone gives need to know, even from another team.
    Case.objects.filter(pk=open_case.pk).update(allocated_worker=outsider)
    assert open_case in cases_visible_to(outsider)


def test_x02_a_disabled_user_sees_nothing(open_case: Case, worker: User) -> None:
    worker.is_active = False
    worker.save()
    assert not cases_visible_to(worker).exists()


def test_x02_ended_membership_ends_need_to_know(open_case: Case, worker: User) -> None:
    import datetime as dt

    from django.utils import timezone

    worker.memberships.update(ended_on=timezone.localdate() - dt.timedelta(days=1))
    Case.objects.filter(pk=open_case.pk).update(allocated_worker=None)
    assert not cases_visible_to(worker).exists()
