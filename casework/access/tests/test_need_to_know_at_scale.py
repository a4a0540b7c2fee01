"""The shape of the need-to-know queries, which decides whether they stay fast at a million
cases (issue 10; docs/performance.md). Correlated subqueries ORed together made PostgreSQL
test every case one by one: My cases took 117 s and person search 120 s at scale 1.0. The
user's teams, areas and exceptional cases are now read first, in one query, as plain values
the database can look up in its indexes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casework.access.policy import cases_visible_to, need_to_know
from casework.access.services import emergency_access_open, restriction_place
from casework.accounts.models import User
from casework.cases.models import Case
from casework.organisation.models import Role, Team
from casework.people.selectors import people_visible_to

pytestmark = pytest.mark.django_db


def test_what_a_worker_may_see_is_read_in_one_query_and_filtered_by_plain_values(
    worker: User, open_case: Case
) -> None:
    with CaptureQueriesContext(connection) as captured:
        visible = cases_visible_to(worker)
    assert len(captured.captured_queries) == 1  # the need to know, read once
    sql = str(visible.query).upper()
    # No subquery left for the database to run once per case.
    assert "EXISTS" not in sql
    assert "SELECT" not in sql.split("WHERE", 1)[1]
    assert list(visible) == [open_case]


def test_the_need_to_know_holds_each_kind_of_reason(
    worker: User,
    manager: User,
    outsider: User,
    open_case: Case,
    team_sgcp: Team,
    make_staff: Callable[..., User],
) -> None:
    head = make_staff("head", team_sgcp, Role.HEAD_OF_SERVICE)
    emergency_access_open(
        actor=outsider,
        case_reference=open_case.reference,
        reason="Police at the door asking about this child now",
    )
    known = need_to_know(outsider)
    assert known.team_ids == {team_sgcp.pk}
    assert known.area_wide == frozenset()  # a social worker sees their teams, not the area
    assert known.case_ids == {open_case.pk}
    assert known.hidden_people == frozenset()
    assert need_to_know(head).area_wide == {team_sgcp.service_area}

    restriction_place(actor=manager, case=open_case, reason="The subject is a member of staff.")
    assert need_to_know(outsider).hidden_people == {open_case.subject_id}
    assert need_to_know(worker).hidden_people == frozenset()  # named: the allocated worker
    assert not cases_visible_to(outsider).filter(pk=open_case.pk).exists()


def test_a_persons_visibility_is_checked_from_the_person_not_from_every_visible_case(
    worker: User, open_case: Case
) -> None:
    sql = str(people_visible_to(worker).filter(pk=open_case.subject_id).query).upper()
    # Correlated EXISTS: a few index lookups for this person, whatever the caseload.
    assert sql.count("EXISTS") >= 5
    assert " IN (SELECT" not in sql
    assert list(people_visible_to(worker).filter(pk=open_case.subject_id)) == [open_case.subject]
