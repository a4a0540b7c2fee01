"""Enqueue the periodic sweeps on their cadence: `manage.py run_scheduler` runs until
stopped (under systemd); `--once` enqueues what is due now and exits (for cron). The
database worker (`manage.py db_worker`) runs what is enqueued. See docs/operations.md."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, close_old_connections

from casework.tasks.scheduler import SWEEPS, enqueue_due

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Enqueue the periodic sweeps (deadline alerts, three-monthly audits) when due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once",
            action="store_true",
            help="Enqueue what is due now, then exit (for cron; run it every 15 minutes).",
        )
        parser.add_argument(
            "--interval",
            type=int,
            default=60,
            help="Seconds between checks when running continuously (default 60).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbose = options["verbosity"] > 1
        if options["once"]:
            self._tick()
            return
        interval = max(1, options["interval"])
        cadences = "; ".join(s.describe() for s in SWEEPS)
        self.stdout.write(f"Scheduler started ({cadences}); checking every {interval} s.")
        try:
            while True:
                # A long-lived process must not hold on to a connection the database (or a
                # proxy in front of it) has since dropped.
                close_old_connections()
                try:
                    self._tick()
                except DatabaseError:
                    # The database is briefly away (a restart, a failover): try again at
                    # the next check rather than exiting.
                    logger.exception("The scheduler could not reach the database.")
                time.sleep(interval)
        except KeyboardInterrupt:
            self.stdout.write("Scheduler stopped.")

    def _tick(self) -> None:
        enqueued = enqueue_due(log=self.stdout.write)
        if not enqueued and self.verbose:
            self.stdout.write("Nothing due.")
