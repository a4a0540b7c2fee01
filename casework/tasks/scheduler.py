"""When each sweep runs, and enqueuing the ones whose time has come.

A sweep's cadence is a period that divides a day, starting at a time of day (local time):
deadline alerts every 15 minutes from midnight, the three-monthly audits once a day at
02:00. Time is cut into slots of that period; a sweep is enqueued once per slot, recorded
under a unique constraint (`ScheduledSweep`), so the scheduler can run as a long-lived loop,
from cron every few minutes, or both at once, and still enqueue each slot once. Slots missed
while nothing was running are not replayed: the sweeps catch up by themselves (they act on
everything that is due by today), so the next slot is enough.

A sweep still waiting in the queue is not enqueued again: if the worker is down, one run of
each sweep waits for it rather than a pile of identical ones.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from casework.retention.tasks import sweep_retention_reviews
from casework.tasks.background import sweep_deadline_alerts, sweep_three_monthly_audits
from casework.tasks.models import ScheduledSweep

logger = logging.getLogger(__name__)

DAY = dt.timedelta(days=1)
# Slot records only need to outlive the slot; a month is plenty to look back at.
KEEP_SLOTS_FOR = dt.timedelta(days=31)


@dataclass(frozen=True)
class Sweep:
    name: str
    task: Any  # a django_tasks Task; its generic parameters add nothing here
    every: dt.timedelta
    starting: dt.time = dt.time(0, 0)

    def __post_init__(self) -> None:
        if self.every <= dt.timedelta(0) or DAY % self.every:
            raise ValueError(f"{self.name}: the period must divide a day exactly")

    def describe(self) -> str:
        if self.every == DAY:
            return f"{self.name} daily at {self.starting:%H:%M}"
        minutes = int(self.every.total_seconds() // 60)
        return f"{self.name} every {minutes} minutes from {self.starting:%H:%M}"

    def slot(self, now: dt.datetime) -> dt.datetime:
        """The start of the slot `now` falls in. Counted on the local clock, so "02:00" stays
        02:00 across the change to and from summer time."""
        local = timezone.localtime(now)
        first = local.replace(
            hour=self.starting.hour, minute=self.starting.minute, second=0, microsecond=0
        )
        if local < first:
            first -= DAY
        # Both are in the same zone, so this is wall-clock time elapsed, as intended.
        elapsed = local - first
        return first + (elapsed // self.every) * self.every


# The cadences. Deadline alerts run often so that a task created today with a due date
# inside the reminder window is reminded the same day; stages themselves change at
# midnight. The audits only change with the date, so once a day is enough; 02:00 keeps them
# clear of midnight and of the hour that repeats when the clocks go back (01:00-02:00).
SWEEPS: tuple[Sweep, ...] = (
    Sweep("deadline-alerts", sweep_deadline_alerts, dt.timedelta(minutes=15)),
    Sweep("three-monthly-audits", sweep_three_monthly_audits, DAY, dt.time(2, 0)),
    Sweep("retention-reviews", sweep_retention_reviews, DAY, dt.time(3, 0)),
)


@dataclass(frozen=True)
class Enqueued:
    sweep: str
    slot: dt.datetime
    result_id: str


def _waiting(sweep: Sweep) -> bool:
    return DBTaskResult.objects.filter(
        task_path=sweep.task.module_path, status=TaskResultStatus.READY
    ).exists()


def enqueue_due(
    now: dt.datetime | None = None,
    sweeps: tuple[Sweep, ...] = SWEEPS,
    log: Callable[[str], None] = logger.info,
) -> list[Enqueued]:
    """Enqueue every sweep whose current slot has not been enqueued yet."""
    now = now or timezone.now()
    enqueued = []
    for sweep in sweeps:
        slot = sweep.slot(now)
        if ScheduledSweep.objects.filter(sweep=sweep.name, slot=slot).exists():
            continue
        if _waiting(sweep):
            log(f"{sweep.name}: the previous run is still waiting for the worker; not enqueued.")
            continue
        try:
            with transaction.atomic():
                row = ScheduledSweep.objects.create(sweep=sweep.name, slot=slot)
                # The database backend writes the queued task in this same transaction, so
                # the slot is recorded if and only if the run is queued.
                result = sweep.task.enqueue()
                row.task_result_id = str(result.id)
                row.save(update_fields=["task_result_id"])
        except IntegrityError:
            continue  # another scheduler enqueued this slot a moment ago
        enqueued.append(Enqueued(sweep.name, slot, str(result.id)))
        log(f"{sweep.name}: enqueued for {timezone.localtime(slot):%Y-%m-%d %H:%M}.")
    if enqueued:
        ScheduledSweep.objects.filter(slot__lt=now - KEEP_SLOTS_FOR).delete()
    return enqueued
