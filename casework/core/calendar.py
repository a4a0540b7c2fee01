"""Working days: the unit every timescale in the procedures is written in.

Convention (used everywhere in Casework, and the same as `holidays.get_nth_working_day`):
the day an event happens is day 0 and is not counted. "Within 15 working days of the
Manager's Decision" on a Friday means by the 15th working day after that Friday.

- `add_working_days(start, n)` for n >= 1 is the n-th working day after `start`;
  for n == 0 it is `start` itself if that is a working day, else the next working day;
  for n < 0 it is the |n|-th working day before `start`.
- `working_days_between(start, end)` counts the working days d with start < d <= end
  (negative when end is before start), so that
  `working_days_between(s, add_working_days(s, n)) == n` for every n >= 1.

The DfE's CIN validator counts the start day as day 1; where a statutory return needs that
convention, convert explicitly at the export rather than changing this module.

A working day is Monday to Friday, not a bank holiday of the authority's nation, and not one
of the authority's own closure days (e.g. a council's extra day at Christmas).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable
from functools import lru_cache

import holidays

NATIONS: dict[str, str] = {
    "ENG": "England",
    "WLS": "Wales",
    "SCT": "Scotland",
    "NIR": "Northern Ireland",
}

# Guard against an accidental unbounded walk (e.g. a closure-day table covering every day).
_MAX_STEPS = 366 * 20


@lru_cache(maxsize=8)
def _bank_holidays(nation: str) -> holidays.HolidayBase:
    if nation not in NATIONS:
        raise ValueError(f"Unknown nation {nation!r}: expected one of {', '.join(NATIONS)}.")
    # subdiv matters: without it Easter Monday and the late summer bank holiday are missing.
    return holidays.country_holidays("GB", subdiv=nation)


@lru_cache(maxsize=256)
def _weekday_bank_holidays(nation: str, year: int) -> frozenset[dt.date]:
    """The bank holidays of `year` that fall on a weekday (substitute days included). From
    a calendar of that year alone: the shared one fills in years lazily, so iterating it
    while another thread asks about a new year could fail."""
    if nation not in NATIONS:
        raise ValueError(f"Unknown nation {nation!r}: expected one of {', '.join(NATIONS)}.")
    year_only = holidays.country_holidays("GB", subdiv=nation, years=year)
    return frozenset(day for day in year_only if day.weekday() < 5)


def _weekdays_up_to(day: dt.date) -> int:
    """Weekdays from 1 January of year 1 (a Monday) up to and including `day`."""
    ordinal = day.toordinal()
    return 5 * (ordinal // 7) + min(ordinal % 7, 5)


class WorkingDayCalendar:
    """Bank holidays of one nation plus an authority's own closure days."""

    def __init__(self, nation: str = "ENG", closure_days: Iterable[dt.date] = ()) -> None:
        self.nation = nation
        self._bank_holidays = _bank_holidays(nation)
        self._closure_days = frozenset(closure_days)
        # Weekday closure days that are not bank holidays, sorted: with the bank holidays,
        # what a count of weekdays must take off.
        self._extra_days_off = sorted(
            day
            for day in self._closure_days
            if day.weekday() < 5 and day not in _weekday_bank_holidays(nation, day.year)
        )

    def is_working_day(self, day: dt.date) -> bool:
        return (
            day.weekday() < 5 and day not in self._bank_holidays and day not in self._closure_days
        )

    def non_working_reason(self, day: dt.date) -> str | None:
        """Why `day` is not a working day, in words for a user; None if it is one."""
        if day.weekday() >= 5:
            return day.strftime("%A")
        if day in self._bank_holidays:
            return f"Bank holiday: {self._bank_holidays.get(day)}"
        if day in self._closure_days:
            return "Authority closure day"
        return None

    def _step(self, day: dt.date, direction: int) -> dt.date:
        for _ in range(_MAX_STEPS):
            day += dt.timedelta(days=direction)
            if self.is_working_day(day):
                return day
        raise ValueError("No working day found within 20 years: check the closure days.")

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        if n == 0:
            return start if self.is_working_day(start) else self._step(start, 1)
        direction = 1 if n > 0 else -1
        day = start
        for _ in range(abs(n)):
            day = self._step(day, direction)
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        if end < start:
            return -self.working_days_between(end, start)
        # Counted, not walked: a case open for years is counted on every page that shows it.
        weekdays = _weekdays_up_to(end) - _weekdays_up_to(start)
        bank_holidays = sum(
            1
            for year in range(start.year, end.year + 1)
            for day in _weekday_bank_holidays(self.nation, year)
            if start < day <= end
        )
        closure_days = bisect_right(self._extra_days_off, end) - bisect_right(
            self._extra_days_off, start
        )
        return weekdays - bank_holidays - closure_days


def default_calendar() -> WorkingDayCalendar:
    """England and Wales bank holidays with no closure days: for code without an authority."""
    return WorkingDayCalendar("ENG")
