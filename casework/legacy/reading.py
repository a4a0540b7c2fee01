"""Reading the import files: each row parsed column by column into typed values, every problem
with a column kept (not only the first), and a checksum of the parsed values."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from casework.core.identifiers import nhs_number_problem, upn_problem
from casework.legacy.spec import (
    FALSE_WORDS,
    FILES,
    LEGACY_ID_MAX,
    LIST_SEPARATOR,
    TRUE_WORDS,
    Column,
    FileSpec,
    Type,
)
from casework.people.models import Disability

# Legacy notes can be long; the csv module's default limit (128 KiB a field) is not a rule of
# ours, but a field larger than this is almost certainly a broken quote swallowing the file.
FIELD_SIZE_LIMIT = 4 * 1024 * 1024


@dataclass(frozen=True)
class Reject:
    """One reason a row was not imported (a row can have several)."""

    file: str
    line: int
    legacy_id: str
    field: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "legacy_id": self.legacy_id,
            "field": self.field,
            "reason": self.reason,
        }


@dataclass(slots=True)
class Row:
    """One data row: where it is, its legacy ID, its parsed values and what is wrong with it."""

    spec: FileSpec
    line: int
    legacy_id: str
    values: dict[str, Any]
    problems: list[tuple[str, str]] = field(default_factory=list)
    checksum: str = ""
    # Filled by the checks: the Casework IDs the row's references resolve to.
    resolved: dict[str, Any] = field(default_factory=dict)

    def problem(self, column: str, reason: str) -> None:
        self.problems.append((column, reason))

    def rejects(self) -> list[Reject]:
        return [
            Reject(self.spec.name, self.line, self.legacy_id, column, reason)
            for column, reason in self.problems
        ]


class FileError(Exception):
    """A file that cannot be read as the documented CSV at all: nothing is imported."""

    def __init__(self, file: str, line: int, column: str, reason: str) -> None:
        self.reject = Reject(file, line, "", column, reason)
        super().__init__(f"{file} line {line}: {reason}")


class _Bad(Exception):
    """A cell that cannot be read as its column's type; the message says why."""


Parse = Callable[[str], Any]


def _text(col: Column) -> Parse:
    limit = col.max_length

    def parse(raw: str) -> str:
        if limit is not None and len(raw) > limit:
            raise _Bad(f"This is {len(raw)} characters long; at most {limit} fit.")
        if "\x00" in raw:
            raise _Bad("This contains a NUL character: remove it.")
        return raw

    return parse


def _date(raw: str) -> dt.date:
    try:
        if len(raw) == 10:
            return dt.date.fromisoformat(raw)
    except ValueError:
        pass
    raise _Bad(f"'{raw}' is not a date: write dates as YYYY-MM-DD, like 2019-03-31.")


_BOOLEANS = {**dict.fromkeys(TRUE_WORDS, True), **dict.fromkeys(FALSE_WORDS, False)}


def _bool(raw: str) -> bool:
    value = _BOOLEANS.get(raw.lower())
    if value is None:
        raise _Bad(f"'{raw}' is not yes or no: write yes or no.")
    return value


def _code(col: Column) -> Parse:
    allowed = col.code_values

    def parse(raw: str) -> str:
        if raw in allowed:
            return raw
        raise _Bad(f"'{raw}' is not one of the codes allowed here (docs/import.md).")

    return parse


def _codes(col: Column) -> Parse:
    allowed = col.code_values
    order = [code for code, _label in col.codes]

    def parse(raw: str) -> list[str]:
        codes = {c.strip() for c in raw.split(LIST_SEPARATOR)} - {""}
        unknown = sorted(codes - allowed)
        if unknown:
            raise _Bad(
                f"{', '.join(repr(c) for c in unknown)} {'is' if len(unknown) == 1 else 'are'} "
                "not among the codes allowed here (docs/import.md)."
            )
        return [code for code in order if code in codes]

    return parse


def parser(col: Column) -> Parse:
    """How to read a (stripped, not empty) cell of `col`: its typed value, or _Bad."""
    if col.type is Type.DATE:
        return _date
    if col.type is Type.BOOL:
        return _bool
    if col.type is Type.CODE:
        return _code(col)
    if col.type is Type.CODES:
        return _codes(col)
    return _text(col)


def empty(col: Column) -> Any:
    """The value of an empty cell (or an absent optional column)."""
    return [] if col.type is Type.CODES else col.default


def _canonical(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, list):
        return LIST_SEPARATOR.join(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def checksum(spec: FileSpec, values: dict[str, Any]) -> str:
    """SHA-256 of the row's values as read (so "Yes" and "yes", or an empty cell and the
    column's default, are the same), in the documented column order, NUL between them (no
    value can contain one)."""
    text = "\x00".join(_canonical(values[col.name]) for col in spec.columns)
    return hashlib.sha256(text.encode()).hexdigest()


# Checks within one row that need no other row and no database, per file.
def _check_person(row: Row) -> None:
    v = row.values
    local_id = v["local_id"]
    if local_id and not (local_id.isascii() and local_id.isalnum()):
        row.problem("local_id", "A local ID is letters and digits only (the census rule).")
    if v["nhs_number"]:
        v["nhs_number"] = v["nhs_number"].replace(" ", "")
        problem = nhs_number_problem(v["nhs_number"])
        if problem:
            row.problem("nhs_number", problem)
    if v["upn"]:
        v["upn"] = v["upn"].upper()
        problem = upn_problem(v["upn"])
        if problem:
            row.problem("upn", problem)
    disabilities = v["disabilities"] or []
    if Disability.NONE in disabilities and len(disabilities) > 1:
        row.problem(
            "disabilities", "NONE (no disability) cannot be given together with a disability."
        )


def _check_case(row: Row) -> None:
    v = row.values
    if v["closed_on"] and not v["closure_reason"]:
        row.problem("closure_reason", "A closed case needs its closure reason code.")
    if v["closure_reason"] and not v["closed_on"]:
        row.problem(
            "closed_on",
            "A closure reason is given but no closure date: give both, or neither for an "
            "open case.",
        )
    if v["closed_on"] and v["opened_on"] and v["closed_on"] < v["opened_on"]:
        row.problem("closed_on", "The case cannot close before it opened: check both dates.")


def _check_relationship(row: Row) -> None:
    v = row.values
    if v["person_legacy_id"] and v["person_legacy_id"] == v["relative_legacy_id"]:
        row.problem("relative_legacy_id", "A person cannot be related to themselves.")
    if v["started_on"] and v["ended_on"] and v["ended_on"] < v["started_on"]:
        row.problem("ended_on", "The relationship cannot end before it started.")


def _check_plan(row: Row) -> None:
    v = row.values
    kind = v["kind"]
    if v["ended_on"] and v["started_on"] and v["ended_on"] < v["started_on"]:
        row.problem("ended_on", "A plan cannot end before it starts: check both dates.")
    if kind == "cp":
        if not v["category"]:
            row.problem("category", "A child protection plan needs its category of abuse.")
        v["latest_category"] = v["latest_category"] or v["category"]
    elif kind:
        for name in ("category", "latest_category"):
            if v[name]:
                row.problem(name, "A category of abuse is for child protection plans only.")
    if kind == "lac":
        if not v["legal_status"]:
            row.problem(
                "legal_status", "A looked-after episode needs the legal status (SSDA903 code)."
            )
    elif kind and v["legal_status"]:
        row.problem("legal_status", "A legal status is for looked-after episodes (lac) only.")


def _check_visit(row: Row) -> None:
    v = row.values
    if v["seen_alone"] and v["subject_seen"] is False:
        row.problem(
            "seen_alone", "A person who was not seen cannot have been seen alone: check both."
        )


ROW_CHECKS: dict[str, Callable[[Row], None]] = {
    "people.csv": _check_person,
    "relationships.csv": _check_relationship,
    "cases.csv": _check_case,
    "plans.csv": _check_plan,
    "visits.csv": _check_visit,
}


def _header(spec: FileSpec, header: list[str]) -> list[str]:
    names = [h.strip() for h in header]
    if names and names[0].startswith("\ufeff"):
        names[0] = names[0][1:]
    known = {c.name for c in spec.columns}
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise FileError(spec.name, 1, name, f"The header names column '{name}' twice.")
        seen.add(name)
        if name not in known:
            raise FileError(
                spec.name,
                1,
                name,
                f"Column '{name}' is not one Casework reads: remove it, or check its spelling "
                "against docs/import.md.",
            )
    for col in spec.columns:
        if col.required and col.name not in seen:
            raise FileError(
                spec.name, 1, col.name, f"The header has no column '{col.name}', which is required."
            )
    return names


@dataclass(frozen=True)
class _Layout:
    """How to read one file's rows, given its header."""

    spec: FileSpec
    cells: tuple[tuple[str, Parse, bool, Any], ...]  # per header column: name, parse, required
    absent: tuple[tuple[str, Any], ...]  # columns not in the header, with their empty value
    id_at: int | None

    @classmethod
    def of(cls, spec: FileSpec, names: list[str]) -> _Layout:
        columns = [spec.column(name) for name in names]
        return cls(
            spec,
            tuple((c.name, parser(c), c.required, empty(c)) for c in columns),
            tuple((c.name, empty(c)) for c in spec.columns if c.name not in names),
            names.index("legacy_id") if "legacy_id" in names else None,
        )


def read_file(spec: FileSpec, path: Path) -> Iterator[Row]:
    """The rows of one file, parsed. Raises FileError for a file that is not readable as the
    documented CSV (bad encoding, unknown or missing columns)."""
    csv.field_size_limit(FIELD_SIZE_LIMIT)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                raise FileError(spec.name, 1, "", "The file is empty: it needs a header row.")
            layout = _Layout.of(spec, _header(spec, header))
            starts = reader.line_num + 1  # a quoted value may run over several lines
            for cells in reader:
                line, starts = starts, reader.line_num + 1
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    continue
                yield _row(layout, line, cells)
        except UnicodeDecodeError as bad:
            raise FileError(
                spec.name,
                _first_line_not_utf8(path),
                "",
                "The file is not UTF-8 text from this line: save it as UTF-8 (CSV UTF-8 in Excel).",
            ) from bad
        except csv.Error as bad:
            raise FileError(
                spec.name, reader.line_num, "", f"The file is not well-formed CSV here: {bad}."
            ) from bad


def _first_line_not_utf8(path: Path) -> int:
    """Text is decoded a block at a time, so the reader cannot say where: look line by line
    (a line break is one byte in UTF-8, so no character spans two lines)."""
    with path.open("rb") as raw:
        for number, line in enumerate(raw, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 1


def _row(layout: _Layout, line: int, cells: list[str]) -> Row:
    spec = layout.spec
    legacy_id = ""
    if layout.id_at is not None and layout.id_at < len(cells):
        legacy_id = cells[layout.id_at].strip()[:LEGACY_ID_MAX]
    values: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    if len(cells) != len(layout.cells):
        problems.append(
            (
                "",
                f"The row has {len(cells)} values but the header has {len(layout.cells)} "
                "columns: check for a missing or extra comma, or an unquoted comma inside a "
                "value.",
            )
        )
    for (name, parse, required, blank), cell in zip(layout.cells, cells, strict=False):
        raw = cell.strip()
        if raw:
            try:
                values[name] = parse(raw)
            except _Bad as bad:
                problems.append((name, str(bad)))
                values[name] = None
        else:
            if required:
                problems.append((name, f"{name} is required and is empty."))
            values[name] = blank
    for name, _parse, _required, blank in layout.cells[len(cells) :]:
        values[name] = blank
    for name, blank in layout.absent:
        values[name] = blank
    row = Row(spec, line, legacy_id, values, problems)
    if not problems:
        check = ROW_CHECKS.get(spec.name)
        if check is not None:
            check(row)
        if not row.problems:
            row.checksum = checksum(spec, values)
    return row


def present_files(folder: Path) -> dict[str, Path]:
    return {spec.name: folder / spec.name for spec in FILES if (folder / spec.name).is_file()}
