"""`manage.py import_legacy FOLDER [--source NAME] [--import-valid] [--dry-run]`: import
people, relationships, cases, referrals, plans, visits and notes from a legacy system's CSV
files (docs/import.md), checked row by row, all or nothing by default, safe to run again."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser

from casework.legacy.importer import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_JOBS,
    ImportRefused,
    default_report_folder,
    import_legacy,
    summary_lines,
    write_reports,
)
from casework.legacy.progress import Progress
from casework.legacy.spec import describe


class Command(BaseCommand):
    help = (
        "Import legacy records from a folder of CSV files (docs/import.md). Every row is "
        "checked first; if any is rejected nothing is written unless --import-valid is given. "
        "Running it again imports only what is new."
    )
    # The system checks load every URL and the PDF library (seconds) and have nothing to say
    # about a data import; `manage.py check` runs them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "folder", nargs="?", help="The folder holding people.csv, cases.csv and the rest."
        )
        parser.add_argument(
            "--source",
            default="legacy",
            help="A short name for the legacy system (default 'legacy'). Re-runs recognise "
            "records by source and legacy ID, so use the same name every time.",
        )
        parser.add_argument(
            "--import-valid",
            action="store_true",
            help="Import the rows that pass even if others are rejected (a row that depends "
            "on a rejected row is rejected too).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row and report; write nothing."
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"Rows per transaction (default {DEFAULT_BATCH_SIZE}).",
        )
        parser.add_argument(
            "--jobs",
            type=int,
            default=DEFAULT_JOBS,
            help=f"PostgreSQL: batches of a file written at once, each on its own connection "
            f"(default {DEFAULT_JOBS}; 1 for one at a time). SQLite writes one at a time.",
        )
        parser.add_argument(
            "--report-dir",
            help="Where to write rejects.csv, rejects.json and reconciliation.json (default "
            "var/legacy-import/SOURCE-TIME/).",
        )
        parser.add_argument(
            "--quiet", action="store_true", help="No progress bar (it is off when not a terminal)."
        )
        parser.add_argument(
            "--describe",
            action="store_true",
            help="Print the files and columns as Markdown (the reference in docs/import.md).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["describe"]:
            self.stdout.write(describe(), ending="")
            return
        if not options["folder"]:
            raise CommandError("Name the folder that holds the import files.")
        folder = Path(options["folder"])
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder.")
        # The raw stream: OutputWrapper ends every write with a newline, which a bar redrawn
        # in place cannot have.
        stream = cast(TextIO, self.stderr._out)
        try:
            outcome = import_legacy(
                folder,
                source=options["source"],
                import_valid=options["import_valid"],
                dry_run=options["dry_run"],
                batch_size=options["batch_size"],
                jobs=options["jobs"],
                progress=Progress(stream, quiet=options["quiet"]),
            )
        except ImportRefused as refused:
            raise CommandError(str(refused)) from refused
        report = Path(options["report_dir"] or default_report_folder(outcome.source))
        paths = write_reports(outcome, report)
        for line in summary_lines(outcome):
            self.stdout.write(line)
        self.stdout.write(
            f"Reports: {paths['reconciliation']}"
            + (
                f", {paths['rejects_csv']} ({len(outcome.rejects):,} "
                f"reason{'' if len(outcome.rejects) == 1 else 's'})"
                if outcome.rejects
                else ""
            )
        )
        if outcome.stopped:
            raise CommandError(outcome.stopped)
        if outcome.refused or (options["dry_run"] and outcome.rejects):
            raise CommandError(outcome.verdict)
