"""Writing the checked rows: in batches, each batch one transaction with its mapping rows and
its audit events, so an interrupted run leaves whole batches and a re-run carries on.

Rows are inserted in bulk (casework.legacy.bulk), not one service call each, but they get
what the services would give them: a case reference and a person's local ID in the app's own
scheme (`C` and 7 digits, `P` and 8, from the row's number), the person's name keys for
search, an allocation for each case, and an audit event per person and per case (actor empty:
the system). Records added to a person or case that an earlier run imported get one audit
event per person or case and batch.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, connections, transaction
from django.utils import timezone

from casework.audit.models import AuditCategory, AuditEvent
from casework.cases.models import (
    Allocation,
    Case,
    CaseNote,
    CaseStatus,
    Plan,
    Referral,
    Visit,
)
from casework.core.dates import long_date
from casework.legacy.bulk import Table, allocate_ids
from casework.legacy.checking import Checked, chunks
from casework.legacy.models import LegacyKind, LegacyRecord
from casework.legacy.progress import Progress
from casework.legacy.reading import Row
from casework.legacy.spec import FILES, FileSpec
from casework.people.matching import sound_keys
from casework.people.models import Person, PersonNameKey, Relationship

IMPORTED_FROM = "imported from earlier records"

MAPPING = Table(
    LegacyRecord,
    ("source", "kind", "legacy_id", "object_id", "row_checksum", "imported_at"),
    with_id=False,
)
EVENTS = Table(
    AuditEvent,
    (
        "event_date",
        "actor_id",
        "verb",
        "category",
        "object_type",
        "object_id",
        "case_id",
        "person_id",
        "summary",
        "reason",
        "changes",
    ),
    with_id=False,
)
NAME_KEYS = Table(PersonNameKey, ("person_id", "key"), with_id=False)
ALLOCATIONS = Table(
    Allocation,
    ("case_id", "team_id", "worker_id", "started_on", "ended_on", "reason"),
    with_id=False,
)
PEOPLE = Table(
    Person,
    (
        "local_id",
        "given_name",
        "family_name",
        "other_names",
        "date_of_birth",
        "expected_date_of_birth",
        "date_of_death",
        "sex",
        "ethnicity",
        "ethnicity_asked",
        "nhs_number",
        "upn",
        "disabilities",
    ),
    with_id=True,
)
RELATIONSHIPS = Table(
    Relationship,
    ("person_id", "relative_id", "kind", "has_parental_responsibility", "started_on", "ended_on"),
    with_id=True,
)
CASES = Table(
    Case,
    (
        "reference",
        "service_area",
        "subject_id",
        "responsible_team_id",
        "allocated_worker_id",
        "status",
        "opened_on",
        "closed_on",
        "closure_reason",
        "risk_flags",
    ),
    with_id=True,
)
REFERRALS = Table(
    Referral,
    (
        "case_id",
        "kind",
        "received_on",
        "source",
        "primary_need",
        "reason",
        "no_further_action",
        "recorded_by_id",
    ),
    with_id=True,
)
PLANS = Table(
    Plan,
    (
        "case_id",
        "kind",
        "started_on",
        "ended_on",
        "initial_category",
        "latest_category",
        "legal_status",
        "summary",
        "outcome",
    ),
    with_id=True,
)
VISITS = Table(
    Visit,
    (
        "case_id",
        "visited_on",
        "visited_by_id",
        "subject_seen",
        "seen_alone",
        "home_visited",
        "face_to_face",
        "notes",
    ),
    with_id=True,
)
NOTES = Table(
    CaseNote, ("case_id", "kind", "occurred_on", "author_id", "title", "body"), with_id=True
)


@dataclass
class Writer:
    checked: Checked
    today: dt.date
    now: dt.datetime
    batch_size: int
    progress: Progress
    ids: dict[LegacyKind, dict[str, int]] = field(default_factory=dict)
    created_people: set[int] = field(default_factory=set)
    created_cases: set[int] = field(default_factory=set)
    written: Counter[LegacyKind] = field(default_factory=Counter)
    batches: int = 0
    jobs: int = 2
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for kind, mapped in self.checked.mapping.items():
            self.ids[kind] = {legacy_id: pk for legacy_id, (pk, _sum) in mapped.items()}

    @property
    def source(self) -> str:
        return self.checked.source

    def run(self) -> None:
        self.progress.start("Importing", self.checked.to_write)
        try:
            for spec in FILES:
                batches = list(chunks(self.checked.new[spec.kind], self.batch_size))
                if self.parallel > 1 and len(batches) > 1:
                    self._in_parallel(spec, batches)
                else:
                    for batch in batches:
                        write_batch(self, spec, batch)
        finally:
            self.progress.finish()

    @property
    def parallel(self) -> int:
        """How many batches of one file to write at once. Batches of a file depend only on
        earlier files, so they can go in side by side, each on its own connection: the
        database's work (indexes, foreign key checks at commit) then uses a second core.
        Only on PostgreSQL (SQLite has one writer at a time), and not inside a caller's
        transaction (the other connections could not see what it has written)."""
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            return 1
        return self.jobs

    def _in_parallel(self, spec: FileSpec, batches: list[list[Row]]) -> None:
        queue = deque(batches)
        failures: list[BaseException] = []

        def work() -> None:
            try:
                while not failures:
                    with self.lock:
                        if not queue:
                            return
                        batch = queue.popleft()
                    write_batch(self, spec, batch)
            except BaseException as stop:  # noqa: BLE001 - handed to the main thread
                failures.append(stop)
            finally:
                connections.close_all()  # this thread's own connection

        threads = [threading.Thread(target=work, daemon=True) for _ in range(self.parallel)]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                thread.join()
        except BaseException as stop:
            # Interrupted (Ctrl-C): let each connection finish or roll back its batch first.
            failures.append(stop)
            for thread in threads:
                thread.join()
            raise
        if failures:
            raise failures[0]

    def _mapping(self, kind: LegacyKind, rows: Sequence[Row], pks: Sequence[int]) -> None:
        MAPPING.insert(
            [
                [self.source, kind.value, row.legacy_id, pk, row.checksum, self.now]
                for row, pk in zip(rows, pks, strict=True)
            ],
            self.now,
        )

    def reason(self, kind: LegacyKind, row: Row) -> str:
        return f"Legacy import from '{self.source}': {kind.label.lower()} {row.legacy_id}."


def _event(
    *,
    event_date: dt.date,
    verb: str,
    category: str,
    object_type: str,
    object_id: int,
    case_id: int | None,
    person_id: int | None,
    summary: str,
    reason: str,
) -> list[Any]:
    """An audit event row (the columns of EVENTS), by the system (no actor)."""
    return [
        event_date,
        None,
        verb,
        category,
        object_type,
        str(object_id),
        case_id,
        person_id,
        summary[:300],
        reason,
        {},
    ]


def _people(writer: Writer, rows: Sequence[Row]) -> list[int]:
    pks = allocate_ids(Person, len(rows))
    people: list[list[Any]] = []
    keys: list[list[Any]] = []
    events: list[list[Any]] = []
    for row, pk in zip(rows, pks, strict=True):
        v = row.values
        other = v["other_names"] or ""
        people.append(
            [
                pk,
                # As person_create does: a person without a local ID gets P and their number.
                v["local_id"] or f"P{pk:08d}",
                v["given_name"],
                v["family_name"],
                other,
                v["date_of_birth"],
                v["expected_date_of_birth"],
                v["date_of_death"],
                v["sex"],
                v["ethnicity"] or "",
                v["ethnicity_asked"],
                v["nhs_number"] or "",
                v["upn"] or "",
                v["disabilities"],
            ]
        )
        keys.extend(
            [pk, key] for key in sorted(sound_keys(v["given_name"], v["family_name"], other))
        )
        events.append(
            _event(
                event_date=writer.today,
                verb="person.imported",
                category=AuditCategory.PERSON,
                object_type="people.person",
                object_id=pk,
                case_id=None,
                person_id=pk,
                summary=f"Person record {IMPORTED_FROM}",
                reason=writer.reason(LegacyKind.PERSON, row),
            )
        )
    now = timezone.now()
    PEOPLE.insert(people, now)
    NAME_KEYS.insert(keys, now)
    EVENTS.insert(events, now)
    return pks


def _relationships(writer: Writer, rows: Sequence[Row]) -> list[int]:
    people = writer.ids[LegacyKind.PERSON]
    pks = allocate_ids(Relationship, len(rows))
    links = []
    owners = []
    for row, pk in zip(rows, pks, strict=True):
        v = row.values
        person = people[v["person_legacy_id"]]
        links.append(
            [
                pk,
                person,
                people[v["relative_legacy_id"]],
                v["kind"],
                v["has_parental_responsibility"],
                v["started_on"],
                v["ended_on"],
            ]
        )
        owners.append((person, pk))
    now = timezone.now()
    RELATIONSHIPS.insert(links, now)
    _audit_added(
        writer,
        owners,
        object_type="people.relationship",
        earlier=writer.created_people,
        verb="person.records_imported",
        category=AuditCategory.PERSON,
        noun=("relationship", "relationships"),
        on_case=False,
        now=now,
    )
    return pks


def _case_summary(row: Row) -> str:
    v = row.values
    text = (
        f"Case {IMPORTED_FROM}: opened {long_date(v['opened_on'])} in {row.resolved['team_name']}"
    )
    if v["closed_on"]:
        text += f", closed {long_date(v['closed_on'])} ({v['closure_reason']})"
    return text


def _cases(writer: Writer, rows: Sequence[Row]) -> list[int]:
    people = writer.ids[LegacyKind.PERSON]
    pks = allocate_ids(Case, len(rows))
    cases, allocations, events = [], [], []
    for row, pk in zip(rows, pks, strict=True):
        v = row.values
        closed = v["closed_on"] is not None
        subject = people[v["person_legacy_id"]]
        team, worker = row.resolved["team_id"], row.resolved["worker_id"]
        cases.append(
            [
                pk,
                # As case_open does: C and the case's number.
                f"C{pk:07d}",
                row.resolved["service_area"],
                subject,
                team,
                worker,
                CaseStatus.CLOSED.value if closed else CaseStatus.OPEN.value,
                v["opened_on"],
                v["closed_on"],
                v["closure_reason"] or "",
                v["risk_flags"],
            ]
        )
        allocations.append(
            [pk, team, worker, v["opened_on"], v["closed_on"], IMPORTED_FROM.capitalize()]
        )
        events.append(
            _event(
                event_date=v["opened_on"],
                verb="case.imported",
                category=AuditCategory.CASE,
                object_type="cases.case",
                object_id=pk,
                case_id=pk,
                person_id=subject,
                summary=_case_summary(row),
                reason=writer.reason(LegacyKind.CASE, row),
            )
        )
    now = timezone.now()
    CASES.insert(cases, now)
    ALLOCATIONS.insert(allocations, now)
    EVENTS.insert(events, now)
    return pks


def _audit_added(
    writer: Writer,
    owners: list[tuple[int, int]],
    *,
    object_type: str,
    earlier: set[int],
    verb: str,
    category: str,
    noun: tuple[str, str],
    on_case: bool,
    now: dt.datetime,
) -> None:
    """One audit event per person or case imported by an earlier run that this batch adds
    records to (those imported in this run are covered by their own event)."""
    added: dict[int, list[int]] = {}
    for owner, pk in owners:
        if owner not in earlier:
            added.setdefault(owner, []).append(pk)
    if not added:
        return
    subjects: dict[int, int] = {}
    if on_case:
        for batch in chunks(sorted(added)):
            subjects.update(Case.objects.filter(pk__in=batch).values_list("pk", "subject_id"))
    events = []
    for owner, pks in added.items():
        count = len(pks)
        events.append(
            _event(
                event_date=writer.today,
                verb=verb,
                category=category,
                object_type=object_type,
                object_id=pks[0],
                case_id=owner if on_case else None,
                person_id=subjects.get(owner) if on_case else owner,
                summary=f"{count} {noun[0] if count == 1 else noun[1]} {IMPORTED_FROM}",
                reason=f"Legacy import from '{writer.source}'.",
            )
        )
    EVENTS.insert(events, now)


@dataclass(frozen=True)
class CaseRecords:
    """How one file of records on cases becomes rows."""

    table: Table
    object_type: str
    category: str
    noun: tuple[str, str]
    build: Callable[[Row], list[Any]]  # the row's values after the ID and case_id


def _write_case_records(writer: Writer, rows: Sequence[Row], how: CaseRecords) -> list[int]:
    cases = writer.ids[LegacyKind.CASE]
    pks = allocate_ids(how.table.model, len(rows))
    records = []
    owners = []
    for row, pk in zip(rows, pks, strict=True):
        case = cases[row.values["case_legacy_id"]]
        records.append([pk, case, *how.build(row)])
        owners.append((case, pk))
    now = timezone.now()
    how.table.insert(records, now)
    _audit_added(
        writer,
        owners,
        object_type=how.object_type,
        earlier=writer.created_cases,
        verb="case.records_imported",
        category=how.category,
        noun=how.noun,
        on_case=True,
        now=now,
    )
    return pks


def _referral(row: Row) -> list[Any]:
    v = row.values
    return [
        v["kind"],
        v["received_on"],
        v["source"],
        v["primary_need"] or "",
        v["reason"],
        v["no_further_action"],
        row.resolved["user_id"],
    ]


def _plan(row: Row) -> list[Any]:
    v = row.values
    return [
        v["kind"],
        v["started_on"],
        v["ended_on"],
        v["category"] or "",
        v["latest_category"] or "",
        v["legal_status"] or "",
        v["summary"] or "",
        v["outcome"] or "",
    ]


def _visit(row: Row) -> list[Any]:
    v = row.values
    return [
        v["visited_on"],
        row.resolved["user_id"],
        v["subject_seen"],
        v["seen_alone"],
        v["home_visited"],
        v["face_to_face"],
        v["notes"] or "",
    ]


def _note(row: Row) -> list[Any]:
    v = row.values
    return [v["kind"], v["occurred_on"], row.resolved["user_id"], v["title"], v["body"]]


CASE_RECORDS: dict[LegacyKind, CaseRecords] = {
    LegacyKind.REFERRAL: CaseRecords(
        REFERRALS, "cases.referral", AuditCategory.REFERRAL, ("referral", "referrals"), _referral
    ),
    LegacyKind.PLAN: CaseRecords(PLANS, "cases.plan", AuditCategory.PLAN, ("plan", "plans"), _plan),
    LegacyKind.VISIT: CaseRecords(
        VISITS, "cases.visit", AuditCategory.VISIT, ("visit", "visits"), _visit
    ),
    LegacyKind.NOTE: CaseRecords(
        NOTES, "cases.casenote", AuditCategory.NOTE, ("case note", "case notes"), _note
    ),
}


def _write(writer: Writer, kind: LegacyKind, rows: Sequence[Row]) -> list[int]:
    if kind == LegacyKind.PERSON:
        return _people(writer, rows)
    if kind == LegacyKind.RELATIONSHIP:
        return _relationships(writer, rows)
    if kind == LegacyKind.CASE:
        return _cases(writer, rows)
    return _write_case_records(writer, rows, CASE_RECORDS[kind])


def write_batch(writer: Writer, spec: FileSpec, rows: Sequence[Row]) -> None:
    """Write one batch of one file, with its mapping rows and audit events, in one
    transaction; only once it has committed does the run count it and remember its IDs."""
    kind = spec.kind
    with transaction.atomic():
        pks = _write(writer, kind, rows)
        writer._mapping(kind, rows, pks)
    with writer.lock:
        writer.ids[kind].update((row.legacy_id, pk) for row, pk in zip(rows, pks, strict=True))
        if kind == LegacyKind.PERSON:
            writer.created_people.update(pks)
        elif kind == LegacyKind.CASE:
            writer.created_cases.update(pks)
        writer.written[kind] += len(rows)
        writer.batches += 1
        writer.progress.advance(len(rows))
