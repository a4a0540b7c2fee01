"""`manage.py cin_census --year-end 2026-03-31 --output cin.xml`: the Children in Need census.

Checks each child as it writes it and prints every problem (child, field, rule, what to do).
Any error discards the file (exit status 1), so nothing is left behind; queries are printed
and the file is kept. The XML is streamed into a temporary file beside the output, checked against
the DfE schema, and only then moved into place, so a half-written file is never left.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.utils import timezone

from casework.organisation.models import Authority
from casework.returns.cin import (
    CensusChild,
    CensusProblem,
    census_year_end_before,
    cin_census_xml,
)
from casework.returns.cin_validation import schema_errors


class ProgressBar:
    """A plain text bar on stderr, redrawn in place: `Checking [#####.....] 120/300`."""

    WIDTH = 30

    def __init__(self, label: str, stream: OutputWrapper) -> None:
        self.label = label
        self.stream = stream
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        filled = self.WIDTH * done // total if total else self.WIDTH
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(f"\r{self.label:<9} [{bar}] {done}/{total} children", ending="")
        self.stream.flush()
        self.drawn = True

    def finish(self) -> None:
        if self.drawn:
            self.stream.write("")


def describe(problem: CensusProblem) -> str:
    case = f", case {problem.case_reference}" if problem.case_reference else ""
    kind = "Query" if not problem.is_error else "Error"
    return f"{kind} {problem.rule} - {problem.child}{case} - {problem.field}\n    {problem.message}"


class Command(BaseCommand):
    help = "Export the Children in Need census (DfE XML) for one census year."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--year-end",
            type=dt.date.fromisoformat,
            default=None,
            help="The 31 March the census year ends on (default: the latest finished year).",
        )
        parser.add_argument("--output", type=Path, required=True, help="The XML file to write.")
        parser.add_argument(
            "--authority",
            default=None,
            help="The authority's DfE LA code (needed only when there is more than one).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        authority = self._authority(options["authority"])
        year_end: dt.date = options["year_end"] or census_year_end_before(timezone.localdate())
        if (year_end.month, year_end.day) != (3, 31):
            raise CommandError("--year-end must be a 31 March, e.g. 2026-03-31.")
        output: Path = options["output"]
        # One pass: each child is checked as it is written, so the record is read once.
        # A child with an error is not written, and any error discards the whole file.
        progress = ProgressBar("Checking and writing", self.stderr)
        found: list[CensusProblem] = []
        children = 0

        def keep(child: CensusChild) -> bool:
            nonlocal children
            children += 1
            found.extend(child.problems)
            return not any(p.is_error for p in child.problems)

        temporary = self._write(authority, year_end, output, progress, keep)
        progress.finish()
        problems = sorted(found, key=lambda p: (not p.is_error, p.child_name, p.child_id, p.rule))
        errors = [p for p in problems if p.is_error]
        for problem in problems:
            self.stdout.write(describe(problem))
        if not children:
            temporary.unlink(missing_ok=True)
            raise CommandError(
                f"No child had a referral open in the year ending {year_end}: nothing to send."
            )
        if errors:
            temporary.unlink(missing_ok=True)
            raise CommandError(
                f"{len(errors)} error(s) stop the census for the year ending {year_end}: "
                f"fix them in the record and run this again. Nothing was written."
            )
        invalid = schema_errors(temporary)
        if invalid:
            temporary.unlink(missing_ok=True)
            raise CommandError(
                "The file did not pass the DfE schema, so it was not kept. This is a fault in "
                "Casework, not in the record: report it. " + "; ".join(invalid[:5])
            )
        os.replace(temporary, output)
        queries = len(problems) - len(errors)
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote the CIN census for the year ending {year_end} to {output}"
                + (f" ({queries} queries to explain to the DfE)." if queries else ".")
            )
        )

    def _authority(self, la_code: str | None) -> Authority:
        authorities = Authority.objects.all()
        if la_code:
            authorities = authorities.filter(la_code=la_code)
        found = list(authorities[:2])
        if len(found) == 1:
            return found[0]
        if not found:
            raise CommandError("No authority found: load the demo or give --authority LA_CODE.")
        raise CommandError("There is more than one authority: give --authority LA_CODE.")

    def _write(
        self,
        authority: Authority,
        year_end: dt.date,
        output: Path,
        progress: ProgressBar,
        keep: Callable[[CensusChild], bool],
    ) -> Path:
        output.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
        temporary = Path(name)
        try:
            with os.fdopen(handle, "wb") as file:
                for chunk in cin_census_xml(authority, year_end, progress=progress, keep=keep):
                    file.write(chunk)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return temporary
