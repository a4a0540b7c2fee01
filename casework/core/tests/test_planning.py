"""Reads whose values decide their plan are never prepared (casework.core.planning): on
PostgreSQL a prepared statement may be given a generic plan, and for a keyset page or a
name search that plan can be hundreds of times slower (issue 10, run 6)."""

from __future__ import annotations

import pytest
from django.db import connection

from casework.accounts.models import User
from casework.cases.models import Case
from casework.cases.selectors import team_open_cases
from casework.core.planning import planned_for_each_run
from casework.people.selectors import people_search

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@on_postgresql
@pytest.mark.django_db
def test_the_team_list_and_person_search_are_planned_for_each_run_and_other_reads_prepared(
    worker: User, open_case: Case
) -> None:
    """The team case list's keyset page and person search are sent unprepared however often
    they run, so PostgreSQL plans each for its values; an ordinary read run as often is
    prepared once (the connection's prepare_threshold), and stays so after the unprepared
    reads."""
    key = (open_case.opened_on, open_case.pk + 1)
    for _ in range(8):
        assert [c.pk for c in team_open_cases(worker, after=key)[0]] == [open_case.pk]
        assert people_search(worker, open_case.subject.family_name)
        Case.objects.filter(reference=open_case.reference).exists()
    prepared = _prepared()
    assert not [s for s in prepared if "ORDER BY" in s and '"opened_on" DESC' in s]
    assert not [s for s in prepared if "people_personnamekey" in s]
    assert [s for s in prepared if '"cases_case"."reference" =' in s]
    assert connection.connection.prepare_threshold == 5


@pytest.mark.django_db
def test_planning_for_each_run_gives_back_the_connections_setting_even_after_an_error() -> None:
    """A read that fails inside leaves the connection preparing as before, on either
    database."""
    connection.ensure_connection()
    before = getattr(connection.connection, "prepare_threshold", None)
    inside: list[object] = []

    @planned_for_each_run()
    def failing_read() -> None:
        inside.append(getattr(connection.connection, "prepare_threshold", None))
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        failing_read()
    assert inside == [None]
    assert getattr(connection.connection, "prepare_threshold", None) == before
