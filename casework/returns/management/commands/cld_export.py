"""Write the adults' Client Level Data for a period to a CSV file, with a progress bar:

    manage.py cld_export --from 2026-04-01 --to 2026-06-30 --output cld-q1.csv

The problems a data officer should fix are listed first, on stderr; with any, nothing is
written (unless --allow-problems). The file is written beside the output under a temporary
name and renamed only when complete, so a failure or Ctrl+C never leaves a partial file.
The whole authority's adults' cases are read: this is the server operator's tool (the Exports
page is the data officer's, and reads only what its user may see)."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.utils import timezone

from casework.core.errors import InvalidInput
from casework.organisation.models import Authority
from casework.returns.jobs import CLD, export_command_record

BAR_WIDTH = 30


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as wrong:
        raise CommandError(f"'{value}' is not a date: write it as YYYY-MM-DD.") from wrong


class ProgressBar:
    """`[#####-----]  50%  500/1000 cases` on one line of `stream`, redrawn when the percentage
    changes (so a log file gets at most a hundred lines)."""

    def __init__(self, stream: OutputWrapper, unit: str) -> None:
        self.stream = stream
        self.unit = unit
        self.shown = -1
        self.total = 0

    def __call__(self, done: int, total: int) -> None:
        self.total = total
        percent = 100 if total == 0 else done * 100 // total
        if percent == self.shown:
            return
        self.shown = percent
        filled = BAR_WIDTH * percent // 100
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stream.write(f"\r[{bar}] {percent:3d}%  {done}/{total} {self.unit}", ending="")
        self.stream.flush()

    def finish(self) -> None:
        if self.shown >= 0:
            self.stream.write("")
            self.shown = -1


class Command(BaseCommand):
    help = "Write the adults' Client Level Data (CLD) for a reporting period to a CSV file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", required=True, help="First day, YYYY-MM-DD.")
        parser.add_argument("--to", dest="end", required=True, help="Last day, YYYY-MM-DD.")
        parser.add_argument("--output", required=True, help="The CSV file to write.")
        parser.add_argument(
            "--authority",
            help="The authority's three-digit LA code (needed only if there are several).",
        )
        parser.add_argument(
            "--allow-problems",
            action="store_true",
            help="Write the file even if records have problems (they are still listed).",
        )

    def _authority(self, la_code: str | None) -> Authority:
        authorities = Authority.objects.all()
        if la_code:
            authorities = authorities.filter(la_code=la_code)
        found = list(authorities[:2])
        if len(found) == 1:
            return found[0]
        if not found:
            raise CommandError("There is no such authority: check --authority (its LA code).")
        raise CommandError("There are several authorities: say which with --authority.")

    def handle(self, *args: Any, **options: Any) -> None:
        parameters = {
            "period_start": _date(options["start"]).isoformat(),
            "period_end": _date(options["end"]).isoformat(),
        }
        try:
            CLD.validate(parameters, timezone.localdate())
        except InvalidInput as wrong:
            raise CommandError(str(wrong)) from wrong
        authority = self._authority(options["authority"])
        output = Path(options["output"]).resolve()
        if not output.parent.is_dir():
            raise CommandError(f"There is no folder {output.parent}: create it first.")

        stderr = self.stderr
        stderr.write(f"Checking {authority}'s records for {CLD.describe(parameters)}...")
        problems = CLD.problems(authority, parameters, None)
        for problem in problems:
            where = f" [{problem.case_reference}]" if problem.case_reference else ""
            stderr.write(f"- {problem.person}{where}, {problem.field}: {problem.message}")
        if problems and not options["allow_problems"]:
            raise CommandError(
                f"{len(problems)} problem(s) to fix first, so nothing was written. Fix them, or "
                "run again with --allow-problems to write the file anyway."
            )

        bar = ProgressBar(stderr, CLD.unit)
        handle, partial_name = tempfile.mkstemp(
            dir=output.parent, prefix=f".{output.name}.", suffix=".partial"
        )
        partial = Path(partial_name)
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in CLD.write(authority, parameters, None, bar):
                    out.write(chunk)
            bar.finish()
            os.replace(partial, output)
        except BaseException as stopped:
            bar.finish()
            partial.unlink(missing_ok=True)
            if isinstance(stopped, Exception):
                raise CommandError(
                    f"The export stopped before it finished, so nothing was written: {stopped}"
                ) from stopped
            raise
        export_command_record(
            kind=CLD, authority=authority, parameters=parameters, output=str(output), rows=bar.total
        )
        self.stdout.write(
            f"Wrote {output} ({bar.total} {CLD.unit}, {len(problems)} problem(s) listed)."
        )
