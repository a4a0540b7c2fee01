"""Checking the parsed rows against each other and against the database, without writing.

Files are checked in dependency order (people, relationships, cases, then what hangs off
cases), so a row whose parent was rejected is rejected too, naming the parent. Everything the
checks need from the database is read up front in a few queries per kind, not per row.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import connection

from casework.accounts.models import User
from casework.cases.models import Case, CaseStatus, Plan, PlanKind
from casework.core.codes import CinClosureReason
from casework.legacy.models import LegacyKind, LegacyRecord
from casework.legacy.reading import Reject, Row
from casework.legacy.spec import ADULT_CLOSURE_REASONS, FILE_FOR_KIND, FILES, FileSpec, Type
from casework.organisation.models import Membership, ServiceArea, Team
from casework.people.models import Person, Relationship

# A referral may come up to 40 weeks before birth (CIN rule 8606), as case_open allows.
UNBORN_WINDOW = dt.timedelta(weeks=40)
_T = TypeVar("_T")


def in_chunk() -> int:
    """Values per IN (...) query: within SQLite's limit on parameters; on PostgreSQL large,
    since each query may scan a table (NHS numbers and UPNs are not indexed)."""
    return 900 if connection.vendor == "sqlite" else 10_000


def chunks(items: Iterable[_T], size: int | None = None) -> Iterator[list[_T]]:
    size = size or in_chunk()
    batch: list[_T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def long(day: dt.date) -> str:
    return day.isoformat()


@dataclass(frozen=True)
class PersonFacts:
    born: dt.date | None
    expected: dt.date | None
    died: dt.date | None


@dataclass(frozen=True)
class CaseFacts:
    opened_on: dt.date
    closed_on: dt.date | None
    service_area: str
    person: PersonFacts
    # ("db", pk) for a case already in Casework, ("new", legacy ID) for one in this file.
    key: tuple[str, Any]


@dataclass
class FileCounts:
    read: int = 0
    new: int = 0
    unchanged: int = 0
    rejected: int = 0
    changed: int = 0
    present: bool = False


@dataclass
class Checked:
    """The outcome of the checks: the new rows to write (per kind, in file order), the
    rejects, and the counts per file."""

    source: str
    new: dict[LegacyKind, list[Row]]
    rejects: list[Reject]
    counts: dict[str, FileCounts]
    mapping: dict[LegacyKind, dict[str, tuple[int, str]]]
    rows_rejected: int = 0

    @property
    def to_write(self) -> int:
        return sum(len(rows) for rows in self.new.values())


@dataclass
class _Period:
    kind: str
    start: dt.date
    end: dt.date | None
    where: str


def _overlaps(a: _Period, b: _Period) -> bool:
    a_end = a.end or dt.date.max
    b_end = b.end or dt.date.max
    return a.start < b_end and b.start < a_end


def _clash(a: str, b: str) -> bool:
    return a == b or {a, b} == {PlanKind.CHILD_IN_NEED, PlanKind.CHILD_PROTECTION}


@dataclass
class Checker:
    source: str
    rows: dict[str, list[Row]]
    today: dt.date
    mapping: dict[LegacyKind, dict[str, tuple[int, str]]] = field(default_factory=dict)
    new: dict[LegacyKind, dict[str, Row]] = field(default_factory=dict)
    rejected: dict[LegacyKind, dict[str, int]] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    counts: dict[str, FileCounts] = field(default_factory=dict)
    people: dict[str, PersonFacts] = field(default_factory=dict)  # by legacy ID
    cases: dict[str, CaseFacts] = field(default_factory=dict)  # by legacy ID
    teams: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    memberships: set[tuple[int, int]] = field(default_factory=set)
    rows_rejected: int = 0
    # Records imported before that rows refer to, as they are in Casework now, by pk.
    _db_people: dict[int, PersonFacts] = field(default_factory=dict)
    _db_cases: dict[int, CaseFacts] = field(default_factory=dict)

    # --- Loading what the checks need --------------------------------------------------------

    def _load(self) -> None:
        for kind in LegacyKind:
            self.mapping[kind] = {}
            self.new[kind] = {}
            self.rejected[kind] = {}
        for kind_name, legacy_id, object_id, checksum in LegacyRecord.objects.filter(
            source=self.source
        ).values_list("kind", "legacy_id", "object_id", "row_checksum"):
            self.mapping[LegacyKind(kind_name)][legacy_id] = (object_id, checksum)
        for team in Team.objects.values(
            "id", "code", "name", "service_area", "holds_cases", "active"
        ):
            self.teams.setdefault(team["code"], []).append(dict(team))
        usernames = {
            row.values.get(col.name)
            for spec in FILES
            for col in spec.columns
            if col.type is Type.USER
            for row in self.rows.get(spec.name, [])
        } - {None, ""}
        for batch in chunks(sorted(str(u) for u in usernames)):
            for user in User.objects.filter(username__in=batch).values(
                "id", "username", "is_active"
            ):
                self.users[user["username"]] = dict(user)
        self.memberships = set(
            Membership.objects.current(self.today).values_list("user_id", "team_id")
        )
        self._load_mapped_people()
        self._load_mapped_cases()

    def _mapped_refs(self, kind: LegacyKind) -> set[int]:
        """The pks of already imported records of `kind` that rows refer to."""
        mapped = self.mapping[kind]
        found: set[int] = set()
        for spec in FILES:
            refs = [c.name for c in spec.columns if c.refers_to == kind]
            for row in self.rows.get(spec.name, []):
                for name in refs:
                    target = mapped.get(row.values.get(name) or "")
                    if target is not None:
                        found.add(target[0])
        return found

    def _load_mapped_people(self) -> None:
        by_pk: dict[int, PersonFacts] = {}
        for batch in chunks(sorted(self._mapped_refs(LegacyKind.PERSON))):
            for pk, born, expected, died in Person.objects.filter(pk__in=batch).values_list(
                "pk", "date_of_birth", "expected_date_of_birth", "date_of_death"
            ):
                by_pk[pk] = PersonFacts(born, expected, died)
        self._db_people = by_pk

    def _load_mapped_cases(self) -> None:
        by_pk: dict[int, CaseFacts] = {}
        for batch in chunks(sorted(self._mapped_refs(LegacyKind.CASE))):
            for values in Case.objects.filter(pk__in=batch).values(
                "pk",
                "opened_on",
                "closed_on",
                "status",
                "service_area",
                "subject__date_of_birth",
                "subject__expected_date_of_birth",
                "subject__date_of_death",
            ):
                by_pk[values["pk"]] = CaseFacts(
                    values["opened_on"],
                    values["closed_on"] if values["status"] == CaseStatus.CLOSED else None,
                    values["service_area"],
                    PersonFacts(
                        values["subject__date_of_birth"],
                        values["subject__expected_date_of_birth"],
                        values["subject__date_of_death"],
                    ),
                    ("db", values["pk"]),
                )
        self._db_cases = by_pk

    # --- Shared steps -------------------------------------------------------------------------

    def _reject(self, row: Row) -> None:
        self.rejects.extend(row.rejects())
        self.counts[row.spec.name].rejected += 1
        self.rows_rejected += 1

    def _triage(self, row: Row, seen: dict[str, int]) -> bool:
        """Count the row and settle the simple cases; True when it is new and worth checking
        further."""
        spec = row.spec
        counts = self.counts[spec.name]
        counts.read += 1
        kind = spec.kind
        if row.legacy_id and row.legacy_id in seen:
            row.problems = [
                (
                    "legacy_id",
                    f"Legacy ID {row.legacy_id} appears more than once in {spec.name} "
                    f"(first on line {seen[row.legacy_id]}): each record once.",
                )
            ]
            self._reject(row)
            return False
        if row.legacy_id:
            seen[row.legacy_id] = row.line
        mapped = self.mapping[kind].get(row.legacy_id)
        if mapped is not None:
            if not row.problems and mapped[1] == row.checksum:
                counts.unchanged += 1
                return False
            counts.changed += 1
            if not row.problems:
                row.problem(
                    "",
                    f"This {spec.noun} was imported before and its row has changed since. "
                    "Imported records are not overwritten (they may have been worked on in "
                    "Casework since): make the change in Casework, or give the row the values "
                    "it was imported with.",
                )
            self._reject(row)
            return False
        if row.problems:
            self._reject_new(row)
            return False
        return True

    def _reject_new(self, row: Row) -> None:
        if row.legacy_id:
            self.rejected[row.spec.kind].setdefault(row.legacy_id, row.line)
        self._reject(row)

    def _accept(self, row: Row) -> None:
        self.new[row.spec.kind][row.legacy_id] = row
        self.counts[row.spec.name].new += 1

    def _refer(self, row: Row, column: str, kind: LegacyKind) -> bool:
        """Whether the row's reference in `column` leads to a record that is (or will be)
        in Casework; if not, the problem is recorded on the row."""
        legacy_id = row.values[column]
        target = FILE_FOR_KIND[kind]
        mapped = self.mapping[kind].get(legacy_id)
        if mapped is not None:
            present = self._db_people if kind == LegacyKind.PERSON else self._db_cases
            if mapped[0] in present:
                return True
            row.problem(
                column,
                f"Its {target.noun} {legacy_id} was imported before but is no longer in "
                "Casework (its records may have been destroyed under the retention schedule).",
            )
            return False
        if legacy_id in self.new[kind]:
            return True
        if legacy_id in self.rejected[kind]:
            row.problem(
                column,
                f"Its {target.noun} {legacy_id} was rejected ({target.name} line "
                f"{self.rejected[kind][legacy_id]}).",
            )
            return False
        row.problem(
            column,
            f"Its {target.noun} {legacy_id} is not in {target.name} and was not imported before.",
        )
        return False

    def _person(self, legacy_id: str) -> PersonFacts:
        mapped = self.mapping[LegacyKind.PERSON].get(legacy_id)
        if mapped is not None:
            return self._db_people[mapped[0]]
        return self.people[legacy_id]

    def _case(self, legacy_id: str) -> CaseFacts:
        mapped = self.mapping[LegacyKind.CASE].get(legacy_id)
        if mapped is not None:
            return self._db_cases[mapped[0]]
        return self.cases[legacy_id]

    def _user(self, row: Row, column: str) -> dict[str, Any] | None:
        username = row.values[column]
        if not username:
            return None
        user = self.users.get(username)
        if user is None:
            row.problem(
                column,
                f"There is no Casework account with username '{username}': add the account "
                "first (disabled, for someone who has left), or correct the username.",
            )
        return user

    def _not_future(self, row: Row, column: str, what: str) -> None:
        day = row.values[column]
        if day is not None and day > self.today:
            row.problem(column, f"The {what} date cannot be in the future.")

    def _on_case(self, row: Row, column: str, what: str, case: CaseFacts, *, born: bool) -> None:
        """The checks every date recorded on a case shares (as the case services do): not in
        the future, not before the case opened (or the person was born), not after the case
        closed or the person died."""
        day: dt.date | None = row.values[column]
        if day is None:
            return
        self._not_future(row, column, what)
        person = case.person
        if born and person.born and day < person.born:
            row.problem(
                column,
                f"The {what} date is before the person was born ({long(person.born)}).",
            )
        if person.died and day > person.died:
            row.problem(column, f"The {what} date is after the person died ({long(person.died)}).")
        if day < case.opened_on:
            row.problem(
                column,
                f"The {what} date is before the case opened ({long(case.opened_on)}).",
            )
        if case.closed_on and day > case.closed_on:
            row.problem(
                column,
                f"The {what} date is after the case closed ({long(case.closed_on)}).",
            )

    # --- Each file ----------------------------------------------------------------------------

    def check(self) -> Checked:
        for spec in FILES:
            self.counts[spec.name] = FileCounts(present=spec.name in self.rows)
        self._load()
        self._people()
        self._relationships()
        self._cases()
        self._case_records(
            FILE_FOR_KIND[LegacyKind.REFERRAL], "received_on", "received", born=False
        )
        self._plans()
        self._case_records(FILE_FOR_KIND[LegacyKind.VISIT], "visited_on", "visit", born=True)
        self._case_records(FILE_FOR_KIND[LegacyKind.NOTE], "occurred_on", "note", born=True)
        self.rejects.sort(key=lambda r: ([s.name for s in FILES].index(r.file), r.line))
        return Checked(
            source=self.source,
            new={kind: list(rows.values()) for kind, rows in self.new.items()},
            rejects=self.rejects,
            counts=self.counts,
            mapping=self.mapping,
            rows_rejected=self.rows_rejected,
        )

    def _rows(self, spec: FileSpec) -> list[Row]:
        return self.rows.get(spec.name, [])

    def _people(self) -> None:
        spec = FILE_FOR_KIND[LegacyKind.PERSON]
        seen: dict[str, int] = {}
        candidates: list[Row] = []
        local_ids: dict[str, int] = {}
        nhs: dict[str, int] = {}
        upns: dict[str, int] = {}
        for row in self._rows(spec):
            if not self._triage(row, seen):
                continue
            v = row.values
            born, expected, died = (
                v["date_of_birth"],
                v["expected_date_of_birth"],
                v["date_of_death"],
            )
            if born and born > self.today:
                row.problem(
                    "date_of_birth",
                    "The date of birth cannot be in the future. For an unborn child, give "
                    "expected_date_of_birth instead.",
                )
            if born and expected:
                row.problem(
                    "expected_date_of_birth",
                    "Give either a date of birth or an expected date of birth, not both.",
                )
            if died:
                self._not_future(row, "date_of_death", "death")
                if born and died < born:
                    row.problem("date_of_death", "The date of death is before the date of birth.")
                if expected and not born:
                    row.problem("date_of_death", "An unborn child cannot have a date of death.")
            for column, value, first in (
                ("local_id", v["local_id"], local_ids),
                ("nhs_number", v["nhs_number"], nhs),
                ("upn", v["upn"], upns),
            ):
                if not value:
                    continue
                if value in first:
                    row.problem(
                        column,
                        f"This {column.replace('_', ' ')} is also on line {first[value]}: "
                        "one person, one record.",
                    )
                else:
                    first[value] = row.line
            candidates.append(row)
        taken = self._identifiers_in_use(local_ids, nhs, upns)
        for row in candidates:
            for column in ("local_id", "nhs_number", "upn"):
                value = row.values[column]
                if value and (column, value) in taken:
                    label = column.replace("_", " ")
                    row.problem(
                        column,
                        f"A person already in Casework has this {label} "
                        f"({taken[(column, value)]}): one person, one record. If it is the "
                        "same person, leave the row out; if not, check the number.",
                    )
            if row.problems:
                self._reject_new(row)
            else:
                self._accept(row)
                v = row.values
                self.people[row.legacy_id] = PersonFacts(
                    v["date_of_birth"], v["expected_date_of_birth"], v["date_of_death"]
                )

    def _identifiers_in_use(
        self, local_ids: dict[str, int], nhs: dict[str, int], upns: dict[str, int]
    ) -> dict[tuple[str, str], str]:
        taken: dict[tuple[str, str], str] = {}
        for column, values in (("local_id", local_ids), ("nhs_number", nhs), ("upn", upns)):
            for batch in chunks(sorted(values)):
                for value, local_id in Person.objects.filter(
                    **{f"{column}__in": batch}
                ).values_list(column, "local_id"):
                    taken[(column, value)] = f"local ID {local_id}"
        return taken

    def _relationships(self) -> None:
        spec = FILE_FOR_KIND[LegacyKind.RELATIONSHIP]
        seen: dict[str, int] = {}
        mapped_people = self.mapping[LegacyKind.PERSON]
        existing: set[tuple[int, int, str]] = set()
        pks = self._mapped_refs(LegacyKind.PERSON)
        for batch in chunks(sorted(pks)):
            existing |= {
                (a, b, k)
                for a, b, k in Relationship.objects.filter(person_id__in=batch).values_list(
                    "person_id", "relative_id", "kind"
                )
                if b in pks
            }
        in_file: dict[tuple[str, str, str], int] = {}
        for row in self._rows(spec):
            if not self._triage(row, seen):
                continue
            v = row.values
            ok = self._refer(row, "person_legacy_id", LegacyKind.PERSON)
            ok = self._refer(row, "relative_legacy_id", LegacyKind.PERSON) and ok
            self._not_future(row, "started_on", "start")
            self._not_future(row, "ended_on", "end")
            key = (v["person_legacy_id"], v["relative_legacy_id"], v["kind"])
            if ok:
                a, b = mapped_people.get(key[0]), mapped_people.get(key[1])
                if key in in_file:
                    row.problem("kind", f"The same relationship is also on line {in_file[key]}.")
                elif a is not None and b is not None and (a[0], b[0], key[2]) in existing:
                    row.problem("kind", "This relationship is already in Casework.")
            if row.problems:
                self._reject_new(row)
            else:
                in_file[key] = row.line
                self._accept(row)

    def _team(self, row: Row, is_open: bool) -> dict[str, Any] | None:
        code = row.values["team_code"]
        found = self.teams.get(code, [])
        if not found:
            row.problem(
                "team_code",
                f"There is no team with code '{code}' in Casework: add the team first, or "
                "correct the code.",
            )
            return None
        if len(found) > 1:
            row.problem(
                "team_code",
                f"More than one authority has a team with code '{code}': import each "
                "authority's records into its own Casework.",
            )
            return None
        team = found[0]
        if not team["holds_cases"]:
            row.problem(
                "team_code", f"{team['name']} does not hold cases: choose a team that does."
            )
        elif is_open and not team["active"]:
            row.problem(
                "team_code", f"{team['name']} is no longer active: an open case needs a live team."
            )
        return team

    def _open_cases_in_casework(self) -> dict[tuple[int, str], str]:
        """Open cases already in Casework of the imported people that new cases are for."""
        mapped = self.mapping[LegacyKind.PERSON]
        pks = {
            mapped[row.values["person_legacy_id"]][0]
            for row in self._rows(FILE_FOR_KIND[LegacyKind.CASE])
            if row.values.get("person_legacy_id") in mapped
        }
        found: dict[tuple[int, str], str] = {}
        for batch in chunks(sorted(pks)):
            for subject, area, reference in Case.objects.filter(
                subject_id__in=batch, status=CaseStatus.OPEN
            ).values_list("subject_id", "service_area", "reference"):
                found[(subject, area)] = reference
        return found

    def _cases(self) -> None:
        spec = FILE_FOR_KIND[LegacyKind.CASE]
        seen: dict[str, int] = {}
        open_in_casework = self._open_cases_in_casework()
        open_in_file: dict[tuple[str, str], int] = {}
        mapped_people = self.mapping[LegacyKind.PERSON]
        for row in self._rows(spec):
            if not self._triage(row, seen):
                continue
            v = row.values
            is_open = v["closed_on"] is None
            person_ok = self._refer(row, "person_legacy_id", LegacyKind.PERSON)
            team = self._team(row, is_open)
            worker = self._user(row, "worker_username")
            if worker is not None and team is not None and is_open:
                if not worker["is_active"] or (worker["id"], team["id"]) not in self.memberships:
                    row.problem(
                        "worker_username",
                        f"{worker['username']} is not a current member of {team['name']}: "
                        "an open case can be allocated only to someone in its team (leave it "
                        "empty for unallocated).",
                    )
            opened: dt.date = v["opened_on"]
            self._not_future(row, "opened_on", "opening")
            self._not_future(row, "closed_on", "closure")
            person = self._person(v["person_legacy_id"]) if person_ok else None
            if person is not None:
                birth = person.born or person.expected
                if birth and opened < birth - UNBORN_WINDOW:
                    row.problem(
                        "opened_on",
                        "A case cannot open more than 40 weeks before the person's "
                        f"(expected) birth ({long(birth)}).",
                    )
                if person.died and opened > person.died:
                    row.problem(
                        "opened_on", f"The person died ({long(person.died)}) before this date."
                    )
            area = team["service_area"] if team is not None else ""
            reason = v["closure_reason"]
            if reason and area == ServiceArea.CHILDREN and reason not in CinClosureReason.values:
                row.problem(
                    "closure_reason",
                    f"'{reason}' is an adults' outcome: a children's case closes with a CIN "
                    "census reason, RC1 to RC9.",
                )
            if reason and area == ServiceArea.ADULTS and reason not in ADULT_CLOSURE_REASONS:
                row.problem(
                    "closure_reason",
                    f"'{reason}' is a children's reason: an adults' case closes with one of the "
                    "Client Level Data NFA outcomes.",
                )
            if is_open and person is not None and team is not None:
                key = (v["person_legacy_id"], area)
                mapped = mapped_people.get(key[0])
                existing = open_in_casework.get((mapped[0], area)) if mapped else None
                if existing:
                    row.problem(
                        "closed_on",
                        f"The person already has an open case in Casework ({existing}) in "
                        "this service area: one open case per person per service area.",
                    )
                elif key in open_in_file:
                    row.problem(
                        "closed_on",
                        f"The person's case on line {open_in_file[key]} is open too: one open "
                        "case per person per service area (give the earlier one its closure).",
                    )
            if row.problems or team is None or person is None:
                self._reject_new(row)
                continue
            if is_open:
                open_in_file[(v["person_legacy_id"], area)] = row.line
            row.resolved["team_id"] = team["id"]
            row.resolved["team_name"] = team["name"]
            row.resolved["service_area"] = area
            row.resolved["worker_id"] = worker["id"] if worker else None
            self.cases[row.legacy_id] = CaseFacts(
                opened, v["closed_on"], area, person, ("new", row.legacy_id)
            )
            self._accept(row)

    def _case_records(self, spec: FileSpec, day: str, what: str, *, born: bool) -> None:
        seen: dict[str, int] = {}
        author = next((c.name for c in spec.columns if c.type is Type.USER), None)
        for row in self._rows(spec):
            if not self._triage(row, seen):
                continue
            if self._refer(row, "case_legacy_id", LegacyKind.CASE):
                self._on_case(row, day, what, self._case(row.values["case_legacy_id"]), born=born)
            user = self._user(row, author) if author else None
            if row.problems:
                self._reject_new(row)
                continue
            if author:
                row.resolved["user_id"] = user["id"] if user else None
            self._accept(row)

    def _existing_plans(self) -> dict[tuple[str, Any], list[_Period]]:
        periods: dict[tuple[str, Any], list[_Period]] = defaultdict(list)
        pks = self._mapped_refs(LegacyKind.CASE)
        for batch in chunks(sorted(pks)):
            for case_id, kind, start, end in Plan.objects.filter(case_id__in=batch).values_list(
                "case_id", "kind", "started_on", "ended_on"
            ):
                periods[("db", case_id)].append(
                    _Period(kind, start, end, f"already in Casework, from {long(start)}")
                )
        return periods

    def _plans(self) -> None:
        spec = FILE_FOR_KIND[LegacyKind.PLAN]
        seen: dict[str, int] = {}
        periods = self._existing_plans()
        for row in self._rows(spec):
            if not self._triage(row, seen):
                continue
            v = row.values
            case = None
            if self._refer(row, "case_legacy_id", LegacyKind.CASE):
                case = self._case(v["case_legacy_id"])
                self._on_case(row, "started_on", "plan start", case, born=True)
                self._on_case(row, "ended_on", "plan end", case, born=False)
                if case.closed_on and v["ended_on"] is None:
                    row.problem(
                        "ended_on",
                        f"The case closed on {long(case.closed_on)}: its plans must have ended "
                        "by then. Give the plan's end date.",
                    )
            mine = _Period(v["kind"], v["started_on"], v["ended_on"], f"line {row.line}")
            if case is not None and not row.problems:
                for other in periods[case.key]:
                    if _clash(mine.kind, other.kind) and _overlaps(mine, other):
                        label = PlanKind(other.kind).label.lower()
                        row.problem(
                            "started_on",
                            f"It overlaps the {label} on the same case ({other.where}): two "
                            "plans of the same kind, or a child in need and a child protection "
                            "plan, cannot run at the same time.",
                        )
                        break
            if row.problems or case is None:
                self._reject_new(row)
                continue
            periods[case.key].append(mine)
            self._accept(row)


def check(source: str, rows: dict[str, list[Row]], today: dt.date) -> Checked:
    return Checker(source, rows, today).check()
