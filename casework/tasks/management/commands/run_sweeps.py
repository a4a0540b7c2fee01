"""Run the time-based sweeps once (for cron or a scheduler): `manage.py run_sweeps`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from casework.tasks.sweeps import three_monthly_audits


class Command(BaseCommand):
    help = "Create the tasks that fall due with time, e.g. three-monthly audits of open cases."

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
