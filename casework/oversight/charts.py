"""A dashboard chart: a table of figures (the accessible source of truth, and the CSV) and the
horizontal bar chart drawn from some of its columns as inline SVG.

Drawn on the server, so it needs no JavaScript library and prints. Each row's label sits above
its bars, so long team and worker names never collide with the bars; each bar carries its
value and its series' short name in text, so the series do not depend on colour alone
(WCAG 1.4.1). The SVG is one image (`role="img"` with an `aria-label`, a <title> and a
<desc>); the table beside it has the same figures for anyone who cannot see the picture.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# GOV.UK Frontend's colours that reach 3:1 against white (WCAG 1.4.11).
BLUE = "#1d70b8"
GREEN = "#00703c"
RED = "#d4351c"
GREY = "#505a5f"
PURPLE = "#4c2c92"

WIDTH = 480
LABEL_HEIGHT = 22
BAR_HEIGHT = 18
BAR_GAP = 4
ROW_GAP = 14
LEGEND_LINE = 24
# Room at the right of the longest bar for its value and series name.
TEXT_ROOM = 150

Cell = str | int | float | dt.date


@dataclass(frozen=True)
class Series:
    """One plotted column of the table: `column` is its index in each row."""

    name: str
    short: str
    column: int
    colour: str = BLUE


@dataclass(frozen=True)
class Bar:
    series: Series
    value: float
    y: int
    width: int

    @property
    def text(self) -> str:
        value = f"{self.value:g}"
        return f"{value} {self.series.short}" if self.series.short else value

    @property
    def text_x(self) -> int:
        return self.width + 6

    @property
    def text_y(self) -> int:
        return self.y + BAR_HEIGHT - 4


@dataclass(frozen=True)
class ChartRow:
    label: str
    label_y: int
    bars: list[Bar]


@dataclass
class Chart:
    """What one dashboard section shows: its figures as a table, which columns are drawn,
    and what it says when there is nothing to show."""

    id: str
    title: str
    requirement: str
    definition: str
    columns: list[str]
    rows: list[list[Cell]]
    series: list[Series]
    empty: str
    summary: str = ""
    # Columns after the first that are numbers (right-aligned in the table).
    numeric: set[int] = field(default_factory=set)

    @property
    def wide(self) -> bool:
        """A table too wide to sit beside its chart goes under it instead."""
        return len(self.columns) > 3

    @property
    def is_empty(self) -> bool:
        return not self.rows

    @property
    def plotted(self) -> bool:
        """Whether any bar has a length: an all-zero chart says so in words instead."""
        return any(_number(row[s.column]) > 0 for row in self.rows for s in self.series)

    @property
    def maximum(self) -> float:
        values = [_number(row[s.column]) for row in self.rows for s in self.series]
        return max([*values, 0.0])

    def legend(self) -> list[tuple[Series, int, int]]:
        """Each series and where its key goes (x, y of the swatch), when there is more than
        one series; keys wrap onto a new line rather than run off the drawing."""
        if len(self.series) < 2:
            return []
        keys, x, y = [], 0, 4
        for series in self.series:
            width = 30 + 8 * len(series.name)
            if x and x + width > WIDTH:
                x, y = 0, y + LEGEND_LINE
            keys.append((series, x, y))
            x += width
        return keys

    @property
    def legend_height(self) -> int:
        keys = self.legend()
        return keys[-1][2] + LEGEND_LINE + 4 if keys else 0

    def drawing(self) -> list[ChartRow]:
        """Where each row's label and bars go; bars scale to the largest value."""
        scale = (WIDTH - TEXT_ROOM) / self.maximum if self.maximum else 0.0
        y = self.legend_height
        drawn = []
        for row in self.rows:
            label_y = y + LABEL_HEIGHT - 6
            y += LABEL_HEIGHT
            bars = []
            for series in self.series:
                value = _number(row[series.column])
                bars.append(Bar(series, value, y, round(value * scale)))
                y += BAR_HEIGHT + BAR_GAP
            drawn.append(ChartRow(str(row[0]), label_y, bars))
            y += ROW_GAP
        return drawn

    @property
    def height(self) -> int:
        per_row = LABEL_HEIGHT + len(self.series) * (BAR_HEIGHT + BAR_GAP) + ROW_GAP
        return self.legend_height + per_row * len(self.rows)

    @property
    def width(self) -> int:
        return WIDTH

    def description(self) -> str:
        """The chart in words, for the SVG's <desc>: every bar's value, row by row."""
        parts = []
        for row in self.rows:
            values = ", ".join(f"{s.name.lower()} {_number(row[s.column]):g}" for s in self.series)
            parts.append(f"{row[0]}: {values}")
        return f"{'; '.join(parts)}. The table after the chart has the same figures."

    def csv_rows(self) -> list[list[str]]:
        """The header and rows for a CSV download, with dates in ISO form."""
        return [list(self.columns)] + [
            [c.isoformat() if isinstance(c, dt.date) else str(c) for c in row] for row in self.rows
        ]


def _number(cell: Cell) -> float:
    return float(cell) if isinstance(cell, int | float) else 0.0
