"""The legacy import, start to finish: read every file, check every row without writing,
then write (all or nothing by default), reconcile and report. `manage.py import_legacy` is a
thin shell around `import_legacy`; docs/import.md and decision 0014 say why it works so."""

from __future__ import annotations

import csv
import datetime as dt
import gc
import json
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.db import DatabaseError
from django.utils import timezone

from casework.legacy.checking import Checked, FileCounts, check
from casework.legacy.models import LegacyKind
from casework.legacy.progress import Progress
from casework.legacy.reading import FileError, Reject, Row, present_files, read_file
from casework.legacy.reconcile import KindTotal, kind_totals, overall_checksum
from casework.legacy.spec import FILES
from casework.legacy.writing import Writer

DEFAULT_BATCH_SIZE = 5000
# Batches written at once on PostgreSQL: two keeps both cores of a small server busy.
DEFAULT_JOBS = 2
SOURCE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")


def n_rows(count: int) -> str:
    return f"{count:,} row{'' if count == 1 else 's'}"


class Mode:
    DRY_RUN = "dry run: checked only"
    ALL_OR_NOTHING = "all or nothing"
    VALID_ONLY = "valid rows only (--import-valid)"


class ImportRefused(Exception):
    """The import cannot start at all (no files, a bad source name)."""


@dataclass
class Outcome:
    source: str
    folder: str
    mode: str
    started_at: str
    written: bool = False
    # Nothing was written because of rejects or unreadable files (not a dry run's choice).
    refused: bool = False
    verdict: str = ""
    stopped: str = ""
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    kinds: list[KindTotal] = field(default_factory=list)
    checksum: str = ""
    rejects: list[Reject] = field(default_factory=list)
    rows_rejected: int = 0
    rows_written: int = 0
    cases_written: int = 0
    batches_at_once: int = 1
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def cases_per_second(self) -> float:
        spent = self.seconds.get("total", 0.0)
        return self.cases_written / spent if spent else 0.0

    def reconciliation(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "folder": self.folder,
            "mode": self.mode,
            "started_at": self.started_at,
            "written": self.written,
            "verdict": self.verdict,
            "stopped": self.stopped,
            "files": self.files,
            "kinds": {
                t.kind: {k: v for k, v in asdict(t).items() if k != "kind"} for t in self.kinds
            },
            "checksum": self.checksum,
            "rows_rejected": self.rows_rejected,
            "rows_written": self.rows_written,
            "cases_written": self.cases_written,
            "batches_at_once": self.batches_at_once,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "cases_per_second": round(self.cases_per_second, 1),
        }


def _files(checked: Checked | None, writer: Writer | None, present: set[str]) -> dict[str, Any]:
    files: dict[str, Any] = {}
    for spec in FILES:
        counts = checked.counts[spec.name] if checked else FileCounts()
        files[spec.name] = {
            "present": spec.name in present,
            "read": counts.read,
            "imported": writer.written[spec.kind] if writer else 0,
            "unchanged": counts.unchanged,
            "rejected": counts.rejected,
            "of_which_changed": counts.changed,
        }
    return files


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Python's cycle collector, paused: the rows held in memory make no cycles, and with
    hundreds of thousands of them its passes over the growing heap cost more than reading."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def import_legacy(
    folder: Path,
    *,
    source: str = "legacy",
    import_valid: bool = False,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    jobs: int = DEFAULT_JOBS,
    progress: Progress | None = None,
) -> Outcome:
    """Import the files in `folder` (docs/import.md). Raises ImportRefused when it cannot
    start; otherwise the outcome says what was read, rejected and written, including a run
    that stopped part way (`Outcome.stopped`)."""
    if not SOURCE_PATTERN.match(source):
        raise ImportRefused(
            f"'{source}' cannot name a source: use at most 40 lower-case letters, digits, "
            "dots, dashes or underscores, like 'mosaic' or 'carefirst-2019'."
        )
    if batch_size < 1:
        raise ImportRefused("The batch size must be at least 1.")
    if jobs < 1:
        raise ImportRefused("The number of jobs must be at least 1.")
    paths = present_files(folder)
    if not paths:
        names = ", ".join(spec.name for spec in FILES)
        raise ImportRefused(f"{folder} has none of the import files ({names}).")
    progress = progress or Progress(sys.stderr, quiet=True)
    with _cycle_collector_paused():
        return _run(folder, source, import_valid, dry_run, batch_size, jobs, progress)


def _run(
    folder: Path,
    source: str,
    import_valid: bool,
    dry_run: bool,
    batch_size: int,
    jobs: int,
    progress: Progress,
) -> Outcome:
    paths = present_files(folder)
    started = time.monotonic()
    mode = Mode.DRY_RUN if dry_run else Mode.VALID_ONLY if import_valid else Mode.ALL_OR_NOTHING
    outcome = Outcome(source, str(folder), mode, timezone.now().isoformat(timespec="seconds"))
    today = timezone.localdate()

    rows: dict[str, list[Row]] = {}
    file_errors: list[Reject] = []
    for spec in FILES:
        if spec.name not in paths:
            continue
        progress.start(f"Reading {spec.name}", 0)
        found: list[Row] = []
        try:
            for row in read_file(spec, paths[spec.name]):
                found.append(row)
                progress.advance()
        except FileError as bad:
            file_errors.append(bad.reject)
        progress.finish()
        rows[spec.name] = found
    outcome.seconds["reading"] = time.monotonic() - started

    if file_errors:
        outcome.rejects = file_errors
        outcome.refused = True
        outcome.verdict = (
            "Nothing was imported: a file cannot be read as the documented CSV. Correct it "
            "and run the import again."
        )
        _finish(outcome, None, None, set(paths), started)
        return outcome

    mark = time.monotonic()
    checked = check(source, rows, today)
    outcome.seconds["checking"] = time.monotonic() - mark
    outcome.rejects = checked.rejects
    outcome.rows_rejected = checked.rows_rejected

    writer: Writer | None = None
    if dry_run:
        outcome.verdict = (
            f"Dry run: nothing was written. {n_rows(checked.to_write)} would be imported"
            + (f"; {n_rows(checked.rows_rejected)} rejected." if checked.rows_rejected else ".")
        )
    elif checked.rows_rejected and not import_valid:
        outcome.refused = True
        outcome.verdict = (
            f"Nothing was imported: {n_rows(checked.rows_rejected)} rejected (see the "
            "rejects report). Correct them and run the import again, or run it with "
            "--import-valid to import the rows that passed (and everything that depends "
            "only on them)."
        )
    else:
        mark = time.monotonic()
        writer = Writer(checked, today, timezone.now(), batch_size, progress, jobs=jobs)
        outcome.batches_at_once = writer.parallel
        try:
            writer.run()
        except (Exception, KeyboardInterrupt) as stop:
            batches = f"{writer.batches} whole batch{'' if writer.batches == 1 else 'es'}"
            outcome.stopped = (
                f"The import stopped after {batches} "
                f"({sum(writer.written.values()):,} rows): {type(stop).__name__}: {stop}. "
                "Every batch written is complete; run the same command again to carry on."
            )
        outcome.seconds["writing"] = time.monotonic() - mark
        outcome.written = writer.batches > 0
        outcome.rows_written = sum(writer.written.values())
        outcome.cases_written = writer.written[LegacyKind.CASE]
        if not outcome.stopped:
            outcome.verdict = f"Imported {n_rows(outcome.rows_written)}" + (
                f"; {n_rows(checked.rows_rejected)} rejected and left out (--import-valid)."
                if checked.rows_rejected
                else "."
            )
        else:
            outcome.verdict = outcome.stopped
    _finish(outcome, checked, writer, set(paths), started)
    return outcome


def _finish(
    outcome: Outcome,
    checked: Checked | None,
    writer: Writer | None,
    present: set[str],
    started: float,
) -> None:
    outcome.files = _files(checked, writer, present)
    try:
        outcome.kinds = kind_totals(outcome.source)
        outcome.checksum = overall_checksum(outcome.kinds)
    except DatabaseError as lost:
        # After a run stopped by a lost connection: report what is known, not a traceback.
        outcome.verdict += f" The totals in Casework could not be read ({lost}): run again."
    outcome.seconds["total"] = time.monotonic() - started


# --- Reports ----------------------------------------------------------------------------------

REJECT_COLUMNS = ("file", "line", "legacy_id", "field", "reason")


def write_reports(outcome: Outcome, folder: Path) -> dict[str, Path]:
    """rejects.csv, rejects.json and reconciliation.json in `folder` (created if need be)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "rejects_csv": folder / "rejects.csv",
        "rejects_json": folder / "rejects.json",
        "reconciliation": folder / "reconciliation.json",
    }
    with paths["rejects_csv"].open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(REJECT_COLUMNS)
        for reject in outcome.rejects:
            out.writerow([reject.file, reject.line, reject.legacy_id, reject.field, reject.reason])
    paths["rejects_json"].write_text(
        json.dumps(
            {
                "source": outcome.source,
                "written": outcome.written,
                "verdict": outcome.verdict,
                "rows_rejected": outcome.rows_rejected,
                "rejects": [r.as_dict() for r in outcome.rejects],
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    paths["reconciliation"].write_text(
        json.dumps(outcome.reconciliation(), indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    return paths


def default_report_folder(source: str) -> Path:
    from django.conf import settings

    stamp = dt.datetime.now(tz=dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(settings.BASE_DIR) / "var" / "legacy-import" / f"{source}-{stamp}"


def summary_lines(outcome: Outcome) -> list[str]:
    """The reconciliation as a few lines of text for the terminal."""
    lines = [
        f"Legacy import from '{outcome.source}' ({outcome.mode}): {outcome.folder}",
        "",
        f"{'file':<20}{'read':>10}{'imported':>10}{'unchanged':>11}{'rejected':>10}"
        f"{'(changed)':>11}",
    ]
    for name, f in outcome.files.items():
        if not f["present"]:
            lines.append(f"{name:<20}{'not present':>10}")
            continue
        lines.append(
            f"{name:<20}{f['read']:>10,}{f['imported']:>10,}{f['unchanged']:>11,}"
            f"{f['rejected']:>10,}{f['of_which_changed']:>11,}"
        )
    lines += ["", f"{'kind':<14}{'in Casework':>12}{'present':>10}  checksum (SHA-256)"]
    for total in outcome.kinds:
        lines.append(f"{total.kind:<14}{total.mapped:>12,}{total.present:>10,}  {total.checksum}")
    lines += ["", f"{'all kinds':<36}  {outcome.checksum}", ""]
    if outcome.cases_written:
        lines.append(
            f"Wrote {outcome.rows_written:,} rows including {outcome.cases_written:,} cases in "
            f"{outcome.seconds.get('total', 0):.1f} s ({outcome.cases_per_second:,.0f} cases/s)."
        )
    lines.append(outcome.verdict)
    return lines
