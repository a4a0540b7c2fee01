"""The nightly retention sweep as a background task (django-tasks), queued daily by
`manage.py run_scheduler` (casework/tasks/scheduler.py) and run by the database worker.

Like the other sweeps it works out "today" when it runs, not when it was queued, and returns
a plain dict because the database backend stores results as JSON."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.utils import timezone
from django_tasks import task

from casework.retention.services import retention_sweep


@task()
def sweep_retention_reviews(on: str | None = None) -> dict[str, int]:
    """List the records whose retention period has run for a reviewer's decision (X-04)."""
    day = dt.date.fromisoformat(on) if on else timezone.localdate()
    return dataclasses.asdict(retention_sweep(day))
