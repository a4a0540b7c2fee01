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


@pytest.mark.django_db(transaction=True)
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


def test_x03_an_authority_saved_from_an_older_copy_keeps_the_new_key(
    authority: Authority,
) -> None:
    """Saving the authority (its name, say) from a copy read before a closure day was added
    does not put the old key back: every process would serve the old calendar for good."""
    stale = _fresh(authority)
    assert _working_days(stale) == 3
    ClosureDay.objects.create(authority=authority, day=CHRISTMAS_EVE, reason="Staff day")
    stale.name = "Testshire Council"
    stale.save()
    assert _fresh(authority).name == "Testshire Council"
    assert _working_days(_fresh(authority)) == 2


def test_x03_a_closure_day_and_the_new_key_are_written_together(authority: Authority) -> None:
    """If the key cannot be renewed, the closure day is not saved either (one transaction),
    so no reader can see the day under the old key."""
    from unittest import mock

    with (
        mock.patch.object(
            Authority.objects, "filter", side_effect=RuntimeError("the database went away")
        ),
        pytest.raises(RuntimeError, match="went away"),
    ):
        ClosureDay.objects.create(authority=authority, day=CHRISTMAS_EVE, reason="Staff day")
    assert not ClosureDay.objects.exists()


def test_x03_a_row_written_without_a_key_is_never_kept(authority: Authority) -> None:
    Authority.objects.filter(pk=authority.pk).update(calendar_key="")
    _working_days(_fresh(authority))
    with CaptureQueriesContext(connection) as queries:
        _working_days(_fresh(authority))
    assert len(queries) == 2  # the authority and its closure days, read again
