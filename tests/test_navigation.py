"""The service navigation offers each person the sections they may use (issue 8): managers
see Dashboards, senior managers and business support see Exports, social workers neither.
The pages themselves still check access; the links cost one query."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from casework.accounts.models import User
from casework.organisation.models import Role, Team


@pytest.mark.parametrize(
    ("role", "dashboards", "exports"),
    [
        (Role.SOCIAL_WORKER, False, False),
        (Role.TEAM_MANAGER, True, False),
        (Role.SERVICE_MANAGER, True, True),
        (Role.BUSINESS_SUPPORT, False, True),
    ],
)
def test_the_navigation_offers_what_the_role_may_use(
    make_staff: Callable[..., User], team_ai: Team, role: str, dashboards: bool, exports: bool
) -> None:
    client = Client()
    client.force_login(make_staff("someone", team_ai, role))
    html = client.get(reverse("my-cases")).content.decode()
    assert (f'href="{reverse("oversight-dashboard")}"' in html) is dashboards
    assert (f'href="{reverse("exports")}"' in html) is exports


def test_the_navigation_costs_one_query_and_marks_the_current_page(
    make_staff: Callable[..., User], team_ai: Team
) -> None:
    client = Client()
    client.force_login(make_staff("boss", team_ai, Role.SERVICE_MANAGER))
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("oversight-dashboard")).content.decode()
    asked = [q["sql"] for q in queries.captured_queries if "organisation_membership" in q["sql"]]
    assert any('"organisation_membership"."role"' in sql for sql in asked)
    assert 'aria-current="page">Dashboards</a>' in page


def test_odd_ids_in_urls_are_no_such_record_not_a_server_error(
    make_staff: Callable[..., User], team_ai: Team
) -> None:
    client = Client()
    client.force_login(make_staff("someone", team_ai))
    assert client.get(reverse("notifications"), {"before": "²"}).status_code == 200
    assert client.get(reverse("notifications"), {"before": "9" * 40}).status_code == 200
    assert client.post(reverse("notifications-read"), {"notification": "²"}).status_code == 302
    assert client.get(reverse("referral-new"), {"person": "²"}).status_code == 404
