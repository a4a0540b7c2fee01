"""Dates as people read them in Casework's messages: GOV.UK style, "2 December 2026" (no
leading zero), whatever the platform's strftime supports."""

from __future__ import annotations

import datetime as dt


def long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"
