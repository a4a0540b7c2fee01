"""`manage.py cld_export` (issue 8 items 5 and 6): a progress bar on stderr, the file written
whole or not at all, and problems listed before anything is written."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from casework.audit.models import AuditEvent
from casework.returns import jobs
from casework.returns.tests import test_cld
from casework.returns.tests.test_cld import Adults, D

adults = test_cld.adults
ARGS = ["--from", "2026-04-01", "--to", "2026-06-30"]


def _cases(adults: Adults, *, missing_nhs: bool = False) -> None:
    for n in range(3):
        extra = {"nhs_number": ""} if missing_nhs and n == 0 else {}
        person = adults.person(f"Cmd{n}", **extra)
        adults.service(adults.case(person, D(2026, 4, 1)), D(2026, 4, 2))


def _run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("cld_export", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_writes_the_file_with_a_progress_bar(adults: Adults, tmp_path: Path) -> None:
    """Issue 8 item 6: the command shows a progress bar on stderr and writes the whole file;
    the export is recorded in the audit log (X-01)."""
    _cases(adults)
    output = tmp_path / "cld.csv"
    out, err = _run(*ARGS, "--output", str(output))
    assert "[##############################] 100%  3/3 cases" in err
    assert "\r[" in err  # redrawn in place
    assert f"Wrote {output} (3 cases, 0 problem(s) listed)." in out
    rows = list(csv.DictReader(output.open(encoding="utf-8")))
    assert len(rows) == 6
    assert {r["Event_Type"] for r in rows} == {"Request", "Service"}
    assert list(tmp_path.iterdir()) == [output]
    assert AuditEvent.objects.filter(verb="export.written", actor=None).count() == 1


def test_problems_are_listed_and_nothing_is_written(adults: Adults, tmp_path: Path) -> None:
    """Issue 8 item 5: with problems the command lists them (person, case, field, what to do)
    and writes nothing, unless told to write anyway."""
    _cases(adults, missing_nhs=True)
    output = tmp_path / "cld.csv"
    err = io.StringIO()
    with pytest.raises(CommandError) as stopped:
        call_command("cld_export", *ARGS, "--output", str(output), stderr=err)
    assert "1 problem(s) to fix first, so nothing was written" in str(stopped.value)
    assert "Cmd0 Tester" in err.getvalue()
    assert "NHS number" in err.getvalue()
    assert list(tmp_path.iterdir()) == []

    out, _ = _run(*ARGS, "--output", str(output), "--allow-problems")
    assert "1 problem(s) listed" in out
    assert output.exists()


def test_a_failure_leaves_no_partial_file(
    adults: Adults, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 8 item 6: the file is written under a temporary name and renamed only when
    complete, so an export that breaks half-way leaves nothing, and an earlier file of the
    same name is untouched."""
    _cases(adults)
    output = tmp_path / "cld.csv"
    output.write_text("last quarter's file")

    def broken(*args: Any, **kwargs: Any) -> Iterator[bytes]:
        yield b"LA_Code\r\n"
        raise OSError("No space left on device")

    monkeypatch.setattr(jobs, "cld_csv", broken)
    with pytest.raises(CommandError) as stopped:
        _run(*ARGS, "--output", str(output))
    assert "stopped before it finished, so nothing was written" in str(stopped.value)
    assert list(tmp_path.iterdir()) == [output]
    assert output.read_text() == "last quarter's file"


def test_bad_dates_are_refused_plainly(adults: Adults, tmp_path: Path) -> None:
    """Issue 8 item 5: dates that make no sense are refused saying what to change."""
    with pytest.raises(CommandError, match="'30/06/2026' is not a date: write it as YYYY-MM-DD"):
        _run("--from", "2026-04-01", "--to", "30/06/2026", "--output", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="must be after its start"):
        _run("--from", "2026-06-30", "--to", "2026-04-01", "--output", str(tmp_path / "x.csv"))
