"""The sweeps as background tasks (django-tasks), run by the database worker
(`manage.py db_worker`) and enqueued on their cadence by `manage.py run_scheduler`.

Each works out "today" when it runs, not when it was enqueued: a run that waited in the
queue (the worker was down) sweeps for the day it actually runs, which is what catching up
needs. `on` runs one for a given day instead. Return values are plain dicts because the
database backend stores them as JSON.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.utils import timezone
from django_tasks import task

from casework.tasks.sweeps import deadline_alerts, three_monthly_audits


def _day(on: str | None) -> dt.date:
    return dt.date.fromisoformat(on) if on else timezone.localdate()


@task()
def sweep_deadline_alerts(on: str | None = None) -> dict[str, int]:
    """Reminders, due-today notices, and escalation of overdue tasks (X-03)."""
    return dataclasses.asdict(deadline_alerts(_day(on)))


@task()
def sweep_three_monthly_audits(on: str | None = None) -> dict[str, int]:
    """Business Support's three-monthly audit tasks for open cases (R004-11)."""
    return dataclasses.asdict(three_monthly_audits(_day(on)))
