"""The scheduler enqueues the sweeps on their cadence, once per slot, and the real database
worker (django-tasks-db's `db_worker`) runs them."""

from __future__ import annotations

import datetime as dt
import signal
from collections.abc import Iterator
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from casework.accounts.models import User
from casework.cases.models import Case
from casework.organisation.models import Role
from casework.tasks.models import Notification, ScheduledSweep
from casework.tasks.scheduler import SWEEPS, Sweep
from casework.tasks.services import task_schedule

LONDON = ZoneInfo("Europe/London")


def _london(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=LONDON)


def test_slots_follow_the_local_clock_across_summer_time() -> None:
    """Deadline alerts every 15 minutes; the audits once a day at 02:00 London time, also on
    the days the clocks change (29 March and 25 October 2026)."""
    alerts, audits, retention = SWEEPS
    assert alerts.slot(_london(2026, 4, 21, 10, 14, 59)) == _london(2026, 4, 21, 10, 0)
    assert alerts.slot(_london(2026, 4, 21, 10, 15)) == _london(2026, 4, 21, 10, 15)
    assert audits.slot(_london(2026, 4, 21, 1, 59)) == _london(2026, 4, 20, 2, 0)
    assert audits.slot(_london(2026, 4, 21, 2, 0)) == _london(2026, 4, 21, 2, 0)
    spring = audits.slot(dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC))  # 02:30 BST
    assert spring == _london(2026, 3, 29, 2, 0)
    assert spring.utcoffset() == dt.timedelta(hours=1)
    autumn = audits.slot(dt.datetime(2026, 10, 25, 2, 30, tzinfo=dt.UTC))  # 02:30 GMT
    assert autumn == _london(2026, 10, 25, 2, 0)
    assert autumn.utcoffset() == dt.timedelta(0)
    assert alerts.describe() == "deadline-alerts every 15 minutes from 00:00"
    assert audits.describe() == "three-monthly-audits daily at 02:00"
    assert retention.describe() == "retention-reviews daily at 03:00"
    with pytest.raises(ValueError, match="must divide a day"):
        Sweep("odd", None, dt.timedelta(minutes=7))


@pytest.fixture
def restore_signals() -> Iterator[None]:
    """The worker installs its own SIGINT/SIGTERM handlers; put pytest's back after."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def _scheduler() -> str:
    out = StringIO()
    call_command("run_scheduler", "--once", stdout=out)
    return out.getvalue()


def _worker() -> None:
    call_command(
        "db_worker", batch=True, startup_delay=False, reload=False, verbosity=0, stdout=StringIO()
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("restore_signals")
def test_x03_the_scheduler_enqueues_each_sweep_once_per_slot_and_the_worker_runs_them(
    open_case: Case,
    manager: User,
    mailoutbox: list[mail.EmailMessage],
) -> None:
    """X-03: at 10:05 on Tuesday 21 April 2026, `run_scheduler --once` enqueues the deadline
    sweep (this quarter hour's slot) and the three-monthly audits (today's 02:00 slot); run
    again in the same slot, it enqueues nothing. The database worker runs both: the task due
    yesterday is escalated to its named role, and its emails, queued with the escalation,
    are sent by the same run of the worker. At 10:20 only the deadline sweep is due again;
    it finds nothing new. While a run is still waiting for the worker, the next slot does
    not pile another on."""
    manager.email = "manager@council.example"
    manager.save(update_fields=["email"])
    task_schedule(
        key="late",
        case=open_case,
        title="Countersign the plan",
        role=Role.TEAM_MANAGER,
        due_on=dt.date(2026, 4, 20),
        escalate_to=Role.TEAM_MANAGER,
    )
    with time_machine.travel(_london(2026, 4, 21, 10, 5), tick=False):
        out = _scheduler()
        assert "deadline-alerts: enqueued for 2026-04-21 10:00." in out
        assert "three-monthly-audits: enqueued for 2026-04-21 02:00." in out
        assert "retention-reviews: enqueued for 2026-04-21 03:00." in out
        assert _scheduler() == ""
        assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 3
        _worker()
    ran = list(DBTaskResult.objects.all())
    results = {r.task_path.rsplit(".", 1)[1]: r for r in ran if ".sweep_" in r.task_path}
    assert {name: r.status for name, r in results.items()} == {
        "sweep_deadline_alerts": TaskResultStatus.SUCCESSFUL,
        "sweep_three_monthly_audits": TaskResultStatus.SUCCESSFUL,
        "sweep_retention_reviews": TaskResultStatus.SUCCESSFUL,
    }
    # Each notice the sweep gave queued its email copy, which the same run of the worker sent.
    emails = [r for r in ran if r.task_path.endswith(".notification_emails")]
    assert [(r.status, r.return_value) for r in emails] == [(TaskResultStatus.SUCCESSFUL, 1)] * 2
    assert results["sweep_deadline_alerts"].return_value == {
        "reminded": 0,
        "due": 0,
        "overdue": 1,
        "escalated": 1,
    }
    assert Notification.objects.filter(recipient=manager, event="task.escalated").count() == 1
    assert [m.to for m in mailoutbox] == [[manager.email], [manager.email]]
    bodies = "\n".join(str(m.body) for m in mailoutbox)
    assert "Overdue: “Countersign the plan” was due on 20 April 2026" in bodies
    assert "Escalated to you as team manager: “Countersign the plan”" in bodies

    with time_machine.travel(_london(2026, 4, 21, 10, 20), tick=False):
        assert _scheduler() == "deadline-alerts: enqueued for 2026-04-21 10:15.\n"
        _worker()
    assert DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).count() == 3 + 2 + 1
    assert len(mailoutbox) == 2
    assert Notification.objects.count() == 2

    with time_machine.travel(_london(2026, 4, 21, 10, 35), tick=False):
        _scheduler()  # enqueued; no worker running
    with time_machine.travel(_london(2026, 4, 21, 10, 50), tick=False):
        assert "still waiting for the worker; not enqueued" in _scheduler()
    assert ScheduledSweep.objects.filter(sweep="deadline-alerts").count() == 3
