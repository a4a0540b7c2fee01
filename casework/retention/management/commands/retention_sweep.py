"""List the records whose retention period has run, now: `manage.py retention_sweep [--date]`.

Normally the scheduler queues this every night at 03:00 (`retention-reviews`); this runs it
by hand, for example after an outage or to see what a first run would list."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from casework.retention.services import retention_sweep


class Command(BaseCommand):
    help = (
        "List every person whose records have reached the end of their retention period for "
        "a reviewer's decision (destroy, keep or archive). Running it again lists nobody twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date", help="Run as if today were this date (YYYY-MM-DD), e.g. to catch up."
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
        result = retention_sweep(today)
        self.stdout.write(
            f"Retention: {result.people_checked} people checked, {result.dates_worked_out} "
            f"dates worked out, {result.listed} listed for review"
            + (
                f", {result.not_covered} not covered by any class of the schedule (see the log)"
                if result.not_covered
                else ""
            )
            + "."
        )
        self.stdout.write(
            f"Housekeeping: {result.spent_tokens_pruned} spent form tokens and "
            f"{result.api_answers_pruned} stored API answers removed."
        )
