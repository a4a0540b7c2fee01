"""Run the time-based sweeps now, in this process: `manage.py run_sweeps [--date]`.

For catching up by hand (e.g. after an outage, for a given day) or for a small installation
without a worker. Normally `run_scheduler` enqueues them and `db_worker` runs them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from casework.tasks.sweeps import deadline_alerts, three_monthly_audits


class Command(BaseCommand):
    help = (
        "Create the tasks that fall due with time (three-monthly audits of open cases), and "
        "remind, notify and escalate tasks as their due dates come and pass."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date",
            help="Run as if today were this date (YYYY-MM-DD), e.g. to catch up after an outage.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        if options["date"]:
            try:
                today = dt.date.fromisoformat(options["date"])
            except ValueError as bad:
                raise CommandError(
                    f"'{options['date']}' is not a date: give it as YYYY-MM-DD."
                ) from bad
        result = three_monthly_audits(today)
        self.stdout.write(
            f"Three-monthly audits: {result.cases_checked} open cases checked, "
            f"{result.tasks_created} tasks created."
        )
        # After the audits, so that an audit task created today is reminded today if due soon.
        alerts = deadline_alerts(today)
        self.stdout.write(
            f"Deadlines: {alerts.reminded} reminded, {alerts.due} due today, "
            f"{alerts.overdue} overdue ({alerts.escalated} escalated)."
        )
