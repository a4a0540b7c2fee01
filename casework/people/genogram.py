"""A genogram drawing for the case page: the subject with their family in generations
(grandparents, parents and step-parents, the subject with siblings and partners, children),
others to the side; squares for males, circles for females, diamonds when unknown; a cross
for someone who has died; a thicker outline for the subject; shading for people who live in
the home. Drawn as inline SVG with a text alternative, so it needs no JavaScript and prints.

It is a picture of what is recorded, not a clinical genogram: relationships between relatives
(for example which parent a sibling shares) are not drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from casework.people.models import Person, RelationshipKind

GENERATION = {
    RelationshipKind.GRANDPARENT: -2,
    RelationshipKind.PARENT: -1,
    RelationshipKind.STEP_PARENT: -1,
    RelationshipKind.AUNT_UNCLE: -1,
    RelationshipKind.FOSTER_CARER: -1,
    RelationshipKind.SIBLING: 0,
    RelationshipKind.HALF_SIBLING: 0,
    RelationshipKind.PARTNER: 0,
    RelationshipKind.FORMER_PARTNER: 0,
    RelationshipKind.CHILD: 1,
    RelationshipKind.STEP_CHILD: 1,
    RelationshipKind.FOSTER_CHILD: 1,
    RelationshipKind.NIECE_NEPHEW: 1,
    RelationshipKind.GRANDCHILD: 2,
}
BOX = 36
COLUMN = 190
ROW = 110
MARGIN = 20


@dataclass(frozen=True)
class Relative:
    person: Person
    kind: str
    label: str
    in_household: bool


def _shape(person: Person, x: int, y: int, *, subject: bool, home: bool) -> str:
    fill = "#d2e2f1" if home else "#ffffff"
    stroke = f'stroke="#0b0c0c" stroke-width="{4 if subject else 2}"'
    half = BOX // 2
    if person.sex == "M":
        body = (
            f'<rect x="{x - half}" y="{y - half}" width="{BOX}" height="{BOX}" '
            f'fill="{fill}" {stroke}/>'
        )
    elif person.sex == "F":
        body = f'<circle cx="{x}" cy="{y}" r="{half}" fill="{fill}" {stroke}/>'
    else:
        points = f"{x},{y - half} {x + half},{y} {x},{y + half} {x - half},{y}"
        body = f'<polygon points="{points}" fill="{fill}" {stroke}/>'
    if person.date_of_death:
        body += (
            f'<line x1="{x - half}" y1="{y - half}" x2="{x + half}" y2="{y + half}" '
            'stroke="#0b0c0c" stroke-width="2"/>'
            f'<line x1="{x + half}" y1="{y - half}" x2="{x - half}" y2="{y + half}" '
            'stroke="#0b0c0c" stroke-width="2"/>'
        )
    return body


def _caption(x: int, y: int, lines: list[str]) -> str:
    """Beside the shape (to its right), so connectors never run through the words."""
    left = x + BOX // 2 + 6
    spans = "".join(
        f'<tspan x="{left}" dy="{0 if i == 0 else 16}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return f'<text x="{left}" y="{y - 4}" font-size="13" fill="#0b0c0c">{spans}</text>'


def _connector(subject: tuple[int, int], other: tuple[int, int], dashed: bool) -> str:
    """An elbow from the subject to a relative through a bar between the rows: up for older
    generations, down for younger, and a bracket above the row for the same generation."""
    (sx, sy), (x, y) = subject, other
    half = BOX // 2
    if y < sy:
        path = f"M{sx},{sy - half} V{(sy + y) // 2} H{x} V{y + half}"
    elif y > sy:
        path = f"M{sx},{sy + half} V{(sy + y) // 2} H{x} V{y - half}"
    else:
        path = f"M{sx},{sy - half} V{sy - half - 14} H{x} V{y - half}"
    dash = ' stroke-dasharray="6 4"' if dashed else ""
    return f'<path d="{path}" fill="none" stroke="#505a5f" stroke-width="2"{dash}/>'


def genogram_svg(subject: Person, relatives: list[Relative], subject_at_home: bool = True) -> str:
    """The drawing as an SVG element (already escaped)."""
    rows: dict[int, list[Relative | None]] = {g: [] for g in range(-2, 3)}
    others: list[Relative] = []
    for relative in relatives:
        generation = GENERATION.get(RelationshipKind(relative.kind))
        if generation is None:
            others.append(relative)
        else:
            rows[generation].append(relative)
    rows[0].insert(len(rows[0]) // 2, None)  # the subject, in the middle of their generation
    used = [g for g in range(-2, 3) if rows[g]]
    width_cols = max(max(len(rows[g]) for g in used), 1) + (1 if others else 0)
    width = MARGIN * 2 + width_cols * COLUMN
    height = MARGIN * 2 + len(used) * ROW
    centre: dict[str, tuple[int, int]] = {}
    parts: list[str] = []
    widest = max(len(rows[g]) for g in used)
    for row_index, generation in enumerate(used):
        y = MARGIN + row_index * ROW + BOX
        offset = (widest - len(rows[generation])) * COLUMN // 2
        for col, placed in enumerate(rows[generation]):
            x = MARGIN + offset + col * COLUMN + BOX
            centre["subject" if placed is None else str(placed.person.pk)] = (x, y)
    sx, sy = centre["subject"]
    for relative in relatives:
        key = str(relative.person.pk)
        if key in centre:
            parts.append(_connector((sx, sy), centre[key], relative.kind in _LOOSE))
    for relative in relatives:
        key = str(relative.person.pk)
        if key in centre:
            x, y = centre[key]
            parts.append(_shape(relative.person, x, y, subject=False, home=relative.in_household))
            parts.append(_caption(x, y, [relative.person.full_name, relative.label]))
    parts.append(_shape(subject, sx, sy, subject=True, home=subject_at_home))
    parts.append(_caption(sx, sy, [subject.full_name, "Subject"]))
    for index, relative in enumerate(others):
        x = width - MARGIN - COLUMN + BOX
        y = MARGIN + BOX + index * (ROW // 2 + 20)
        parts.append(_shape(relative.person, x, y, subject=False, home=relative.in_household))
        parts.append(_caption(x, y, [relative.person.full_name, relative.label]))
        height = max(height, y + BOX + 40)
    title = f"Genogram of {subject.full_name}: " + "; ".join(
        f"{r.person.full_name}, {r.label.lower()}" for r in relatives
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="cw-genogram" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="genogram-title"><title id="genogram-title">{escape(title)}</title>'
        + "".join(parts)
        + "</svg>"
    )


_LOOSE = {
    RelationshipKind.FORMER_PARTNER,
    RelationshipKind.STEP_PARENT,
    RelationshipKind.FOSTER_CARER,
}
