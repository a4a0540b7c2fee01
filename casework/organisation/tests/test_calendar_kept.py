"""X-03: an authority's working-day calendar (bank holidays and its own closure days) is
kept by each process under a key the authority row carries, so the case page and every
closure need not read the closure days again (issue 10), and any change of closure days
is seen at once, by every copy of the authority and every process."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from casework.organisation.models import Authority, ClosureDay

CHRISTMAS_EVE = dt.date(2026, 12, 24)  # a Thursday
BEFORE, AFTER = dt.date(2026, 12, 23), dt.date(2026, 12, 30)


def _working_days(authority: Authority) -> int:
    return authority.calendar().working_days_between(BEFORE, AFTER)


def _fresh(authority: Authority) -> Authority:
    """The authority as another request (or process) reads it."""
    return Authority.objects.get(pk=authority.pk)


def test_x03_the_calendar_is_read_once_and_kept_for_every_copy_of_the_authority(
    authority: Authority,
) -> None:
    # 24, 29 and 30 Dec: 25 Dec and 28 Dec (Boxing Day's substitute) are bank holidays.
    assert _working_days(authority) == 3
    with CaptureQueriesContext(connection) as queries:
        assert _working_days(_fresh(authority)) == 3
    assert len(queries) == 1  # the authority row only: the closure days were kept


def test_x03_a_closure_day_added_or_removed_counts_at_once(authority: Authority) -> None:
    assert _working_days(authority) == 3
    elsewhere = _fresh(authority)
    day = ClosureDay.objects.create(authority=authority, day=CHRISTMAS_EVE, reason="Staff day")
    assert _working_days(authority) == 2  # the object it was made with
    assert _working_days(_fresh(authority)) == 2  # and whoever reads the authority next
    assert _working_days(elsewhere) == 3  # a copy read before the change: its own moment
    day.delete()
    assert _working_days(_fresh(authority)) == 3
    ClosureDay.objects.create(authority=_fresh(authority), day=CHRISTMAS_EVE, reason="Again")
    assert _working_days(_fresh(authority)) == 2


pytest.mark.django_db(transaction=True)


def test_x03_a_closure_day_rolled_back_is_never_counted(authority: Authority) -> None:
    """The key a rolled-back change made is never made again, so the calendar read inside
    that transaction is never served afterwards."""
    assert _working_days(authority) == 3

    def add_then_fail() -> None:
        with transaction.atomic():
            ClosureDay.objects.create(authority=authority, day=CHRISTMAS_EVE, reason="Staff day")
            assert _working_days(_fresh(authority)) == 2
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError, match="rolled back"):
        add_then_fail()
    assert _working_days(_fresh(authority)) == 3
    ClosureDay.objects.create(
        authority=_fresh(authority), day=dt.date(2026, 12, 29), reason="Another day"
    )
    assert _working_days(_fresh(authority)) == 2  # 29 Dec, not 24 Dec, is off
    assert _fresh(authority).calendar().is_working_day(CHRISTMAS_EVE)


def test_x03_a_row_written_without_a_key_is_never_kept(authority: Authority) -> None:
    Authority.objects.filter(pk=authority.pk).update(calendar_key="")
    _working_days(_fresh(authority))
    with CaptureQueriesContext(connection) as queries:
        _working_days(_fresh(authority))
    assert len(queries) == 2  # the authority and its closure days, read again
