"""A terminal progress bar with the rate and the time remaining, in plain Python.

It draws on a terminal only (stderr, redrawn in place at most ten times a second) and is
silent when the stream is not a terminal (a log file, a pipe, the tests) or when asked to be
quiet, so logs are not filled with redraws.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

WIDTH = 30
REDRAW_EVERY = 0.1  # seconds


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds + 0.5))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def render(label: str, done: int, total: int, elapsed: float, unit: str = "rows") -> str:
    """One line: label, bar, percentage, counts, rate and time remaining; with no total
    (reading a file of unknown length) the count and the rate only."""
    rate = done / elapsed if elapsed > 0 else 0.0
    if total <= 0:
        return f"{label}: {done:,} {unit}, {rate:,.0f} {unit}/s"
    share = done / total
    filled = int(WIDTH * share)
    bar = "#" * filled + "-" * (WIDTH - filled)
    if done >= total:
        tail = f"took {_duration(elapsed)}"
    elif rate > 0:
        tail = f"{_duration((total - done) / rate)} left"
    else:
        tail = "time left unknown"
    return f"{label} [{bar}] {share:4.0%} {done:,}/{total:,} {unit}, {rate:,.0f} {unit}/s, {tail}"


class Progress:
    def __init__(
        self,
        stream: TextIO,
        *,
        quiet: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.enabled = not quiet and _is_terminal(stream)
        self.clock = clock
        self.label = ""
        self.total = 0
        self.done = 0
        self.unit = "rows"
        self.started = clock()
        self._drawn = 0.0
        self._width = 0

    def start(self, label: str, total: int, unit: str = "rows") -> None:
        self.label, self.total, self.done, self.unit = label, total, 0, unit
        self.started = self.clock()
        self._drawn = 0.0
        self._draw()

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = self.clock()
        if now - self._drawn >= REDRAW_EVERY or self.done == self.total:
            self._draw()

    def finish(self) -> None:
        if self.enabled:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0

    def _draw(self) -> None:
        if not self.enabled:
            return
        self._drawn = self.clock()
        line = render(self.label, self.done, self.total, self._drawn - self.started, self.unit)
        pad = max(0, self._width - len(line))
        self.stream.write("\r" + line + " " * pad)
        self.stream.flush()
        self._width = len(line)


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False
