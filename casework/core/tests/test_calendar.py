"""Working days (X-03): deadlines in the procedures are counted in working days with the
authority's nation's bank holidays and its own closure days."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casework.core.calendar import WorkingDayCalendar

ENGLAND = WorkingDayCalendar("ENG")
dates = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31))


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # Thursday before Good Friday 2026: Good Friday and Easter Monday are skipped.
        (dt.date(2026, 4, 2), 15, dt.date(2026, 4, 27)),
        # Friday before the early May bank holiday 2023.
        (dt.date(2023, 4, 28), 1, dt.date(2023, 5, 2)),
        # The 45-working-day assessment timescale across the 2023 Coronation holiday.
        (dt.date(2023, 4, 28), 45, dt.date(2023, 7, 5)),
        # Christmas 2026: 25 Dec is a Friday, Boxing Day's substitute is Monday 28 Dec.
        (dt.date(2026, 12, 24), 1, dt.date(2026, 12, 29)),
    ],
)
def test_x03_add_working_days_known_dates(start: dt.date, n: int, expected: dt.date) -> None:
    """X-03: known England and Wales dates, the start day not counted."""
    assert ENGLAND.add_working_days(start, n) == expected


def test_x03_nation_changes_the_holidays() -> None:
    """X-03: Scotland has 2 January; England does not. Easter Monday is English only."""
    scotland = WorkingDayCalendar("SCT")
    assert not scotland.is_working_day(dt.date(2025, 1, 2))
    assert ENGLAND.is_working_day(dt.date(2025, 1, 2))
    assert not ENGLAND.is_working_day(dt.date(2025, 4, 21))
    assert scotland.is_working_day(dt.date(2025, 4, 21))


def test_x03_authority_closure_days_are_not_working_days() -> None:
    """X-03: a council's own closure day pushes a deadline back a day."""
    closed = WorkingDayCalendar("ENG", closure_days=[dt.date(2026, 12, 29)])
    assert closed.add_working_days(dt.date(2026, 12, 24), 1) == dt.date(2026, 12, 30)
    assert closed.non_working_reason(dt.date(2026, 12, 29)) == "Authority closure day"
    assert ENGLAND.non_working_reason(dt.date(2026, 12, 25)) is not None


def test_x03_unknown_nation_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="Unknown nation"):
        WorkingDayCalendar("XYZ")


def test_x03_zero_days_rolls_forward_to_a_working_day() -> None:
    saturday = dt.date(2026, 11, 28)
    assert ENGLAND.add_working_days(saturday, 0) == dt.date(2026, 11, 30)
    assert ENGLAND.add_working_days(dt.date(2026, 11, 25), 0) == dt.date(2026, 11, 25)


@given(start=dates, n=st.integers(min_value=1, max_value=120))
def test_x03_result_is_a_working_day_and_inverse_of_counting(start: dt.date, n: int) -> None:
    """X-03: adding n working days lands on a working day, and counting back gives n."""
    due = ENGLAND.add_working_days(start, n)
    assert ENGLAND.is_working_day(due)
    assert due > start
    assert ENGLAND.working_days_between(start, due) == n


@given(start=dates, n=st.integers(min_value=0, max_value=80))
def test_x03_adding_is_monotonic(start: dt.date, n: int) -> None:
    """X-03: one more working day is never an earlier date."""
    assert ENGLAND.add_working_days(start, n) <= ENGLAND.add_working_days(start, n + 1)


@given(start=dates, n=st.integers(min_value=1, max_value=60))
def test_x03_negative_days_go_backwards(start: dt.date, n: int) -> None:
    earlier = ENGLAND.add_working_days(start, -n)
    assert ENGLAND.is_working_day(earlier)
    # The working days after `earlier` up to `start`: the n-1 between them, plus `start`
    # itself when it is a working day.
    expected = n - 1 + (1 if ENGLAND.is_working_day(start) else 0)
    assert ENGLAND.working_days_between(earlier, start) == expected


@given(a=dates, b=dates)
def test_x03_counting_is_antisymmetric(a: dt.date, b: dt.date) -> None:
    assert ENGLAND.working_days_between(a, b) == -ENGLAND.working_days_between(b, a)


def _walked(calendar: WorkingDayCalendar, start: dt.date, end: dt.date) -> int:
    """Working days in (start, end], one day at a time: what the counting must equal."""
    if end < start:
        return -_walked(calendar, end, start)
    days = (start + dt.timedelta(days=n) for n in range(1, (end - start).days + 1))
    return sum(1 for day in days if calendar.is_working_day(day))


CLOSED = WorkingDayCalendar(
    "ENG",
    [
        dt.date(2026, 12, 24),  # a Thursday
        dt.date(2026, 12, 25),  # Christmas Day itself: already a bank holiday
        dt.date(2026, 12, 27),  # a Sunday
        dt.date(2027, 1, 4),  # a Monday
    ],
)


@given(
    a=st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2032, 12, 31)),
    b=st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2032, 12, 31)),
    nation=st.sampled_from(["ENG", "WLS", "SCT", "NIR"]),
)
def test_x03_counting_working_days_equals_walking_them(a: dt.date, b: dt.date, nation: str) -> None:
    """X-03: working days are counted arithmetically (weekdays, less the weekday bank
    holidays and closure days in the span); the count equals a walk, day by day, for every
    nation, across years, and with closure days on weekdays, weekends and bank holidays."""
    for calendar in (WorkingDayCalendar(nation), CLOSED):
        assert calendar.working_days_between(a, b) == _walked(calendar, a, b)


def test_x03_closure_days_are_counted_once_whatever_day_they_fall_on() -> None:
    # 23 Dec 2026 (Wed) to 5 Jan 2027 (Tue): weekdays 24, 25, 28, 29, 30, 31 Dec, 1, 4, 5
    # Jan; bank holidays 25, 28 Dec and 1 Jan; closure days 24 Dec and 4 Jan.
    assert ENGLAND.working_days_between(dt.date(2026, 12, 23), dt.date(2027, 1, 5)) == 6
    assert CLOSED.working_days_between(dt.date(2026, 12, 23), dt.date(2027, 1, 5)) == 4
