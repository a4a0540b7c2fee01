"""The progress bar (rate and time left, only on a terminal) and the file reference in
docs/import.md, which must match what the import reads (issue 10 item 4)."""

from __future__ import annotations

import io
from pathlib import Path

from casework.legacy.progress import Progress, render
from casework.legacy.spec import FILES, describe

DOCS = Path(__file__).resolve().parents[3] / "docs" / "import.md"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_line_shows_the_share_the_rate_and_the_time_left() -> None:
    line = render("Importing", 2_500, 10_000, 2.0)
    assert "[#######-----------------------]" in line
    assert " 25% 2,500/10,000 rows" in line
    assert "1,250 rows/s" in line
    assert "0:06 left" in line
    assert render("Importing", 10_000, 10_000, 4000.0).endswith("took 1:06:40")
    # Reading a file: its length in rows is not known in advance.
    assert render("Reading visits.csv", 60_000, 0, 2.0) == (
        "Reading visits.csv: 60,000 rows, 30,000 rows/s"
    )


def test_the_bar_redraws_in_place_on_a_terminal_at_most_ten_times_a_second() -> None:
    stream, clock = Terminal(), Clock()
    progress = Progress(stream, clock=clock)
    progress.start("Importing", 1_000)
    for _ in range(100):
        progress.advance(5)  # no time passes: no redraw
    clock.now += 1.0
    progress.advance(500)
    progress.finish()
    drawn = stream.getvalue()
    assert drawn.count("\r") == 3  # start, the advance a second later, finish
    assert "1,000/1,000 rows, 1,000 rows/s, took 0:01" in drawn
    assert drawn.endswith("\n")


def test_the_bar_is_silent_off_a_terminal_or_when_quiet() -> None:
    for stream, quiet in ((io.StringIO(), False), (Terminal(), True)):
        progress = Progress(stream, quiet=quiet)
        progress.start("Importing", 10)
        progress.advance(10)
        progress.finish()
        assert stream.getvalue() == ""


def test_the_documented_files_and_columns_are_the_ones_read() -> None:
    """docs/import.md carries `manage.py import_legacy --describe` verbatim: regenerate that
    section when a column changes."""
    assert describe() in DOCS.read_text(encoding="utf-8")
    for spec in FILES:
        assert f"### {spec.name}" in describe()
