"""Issue 10 item 4: `manage.py import_legacy` imports the documented CSV files, checked row by
row, with a report of rejects and nothing half-imported; re-runs are idempotent; a
reconciliation gives counts and checksums. Done when: importing the same files twice leaves
the same counts and checksums."""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, models
from django.test import Client

from casework.audit.models import AuditEvent
from casework.cases.models import Allocation, Case, CaseNote, CaseStatus, Plan, Referral, Visit
from casework.legacy import writing
from casework.legacy.models import LegacyKind, LegacyRecord
from casework.legacy.reading import read_file
from casework.legacy.spec import FILES, FileSpec
from casework.people.models import Person, PersonNameKey, Relationship
from casework.people.selectors import people_search

from .conftest import Run, Staff
from .generate import TeamSpec, generate

pytestmark = pytest.mark.django_db

EXAMPLE_COUNTS: dict[type[models.Model], int] = {
    Person: 6,
    Relationship: 4,
    Case: 5,
    Referral: 6,
    Plan: 4,
    Visit: 5,
    CaseNote: 4,
}


def counts() -> dict[str, int]:
    return {
        **{model.__name__: model._default_manager.count() for model in EXAMPLE_COUNTS},
        "audit": AuditEvent.objects.count(),
        "mapping": LegacyRecord.objects.count(),
        "allocations": Allocation.objects.count(),
        "name_keys": PersonNameKey.objects.count(),
    }


def imported(kind: LegacyKind, legacy_id: str, source: str = "legacy") -> int:
    return LegacyRecord.objects.get(source=source, kind=kind, legacy_id=legacy_id).object_id


def edit(folder: Path, name: str, change: Callable[[list[list[str]]], None]) -> None:
    """Change the rows of one file (header first) in place."""
    path = folder / name
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    change(rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


def append(folder: Path, name: str, *rows: dict[str, str]) -> None:
    def add(existing: list[list[str]]) -> None:
        header = existing[0]
        for row in rows:
            assert set(row) <= set(header), set(row) - set(header)
            existing.append([row.get(column, "") for column in header])

    edit(folder, name, add)


def line_of(folder: Path, name: str, legacy_id: str) -> int:
    with (folder / name).open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if row and row[0] == legacy_id:
                return number
    raise AssertionError(f"{legacy_id} not in {name}")


def file_checksum(folder: Path, spec: FileSpec) -> str:
    """A file's checksum as docs/import.md defines it: SHA-256 over "legacy_id TAB
    row_checksum" lines sorted by legacy ID."""
    rows = sorted((row.legacy_id, row.checksum) for row in read_file(spec, folder / spec.name))
    return hashlib.sha256("".join(f"{i}\t{c}\n" for i, c in rows).encode()).hexdigest()


def test_the_example_set_imports_whole(
    staff: Staff, examples: Path, run_import: Callable[..., Run]
) -> None:
    """Every row of docs/examples/legacy is imported, with what the services would give it:
    references and local IDs in the app's scheme, an allocation per case, name keys for
    search, one audit event per person and per case (by the system), and a mapping row each."""
    result = run_import(examples)

    assert {m: m._default_manager.count() for m in EXAMPLE_COUNTS} == EXAMPLE_COUNTS
    assert result.reconciliation["written"] is True
    assert result.rejects == []
    for spec in FILES:
        f = result.file(spec.name)
        assert f["read"] == f["imported"] > 0, spec.name
        assert f["unchanged"] == f["rejected"] == 0
    assert result.in_casework == {
        "person": 6,
        "relationship": 4,
        "case": 5,
        "referral": 6,
        "plan": 4,
        "visit": 5,
        "note": 4,
    }
    assert LegacyRecord.objects.count() == sum(EXAMPLE_COUNTS.values())

    amelia = Person.objects.get(pk=imported(LegacyKind.PERSON, "P1"))
    assert (amelia.given_name, amelia.other_names, amelia.nhs_number) == (
        "Amelia",
        "Rose",
        "9990001014",
    )
    assert re.fullmatch(r"P\d{8}", amelia.local_id)
    assert amelia.local_id == f"P{amelia.pk:08d}"
    assert amelia.disabilities == ["NONE"]
    assert Person.objects.get(pk=imported(LegacyKind.PERSON, "P4")).local_id == "LEG4412"
    assert Person.objects.get(pk=imported(LegacyKind.PERSON, "P4")).disabilities == ["COMM", "LD"]
    # Each name word's sound code, and each pair of them (a first and a family name together).
    assert set(amelia.name_keys.values_list("key", flat=True)) == {
        "54",
        "63",
        "62",
        "54+62",
        "54+63",
        "62+63",
    }

    open_case = Case.objects.get(pk=imported(LegacyKind.CASE, "C1"))
    assert open_case.reference == f"C{open_case.pk:07d}"
    assert (open_case.status, open_case.responsible_team, open_case.allocated_worker) == (
        CaseStatus.OPEN,
        staff.ai,
        staff.ai_worker,
    )
    assert open_case.subject == amelia
    closed = Case.objects.get(pk=imported(LegacyKind.CASE, "C2"))
    assert (closed.status, str(closed.closed_on), closed.closure_reason) == (
        CaseStatus.CLOSED,
        "2024-02-20",
        "RC7",
    )
    assert closed.risk_flags == ["domestic_abuse"]
    [allocation] = closed.allocations.all()
    assert (allocation.worker, str(allocation.ended_on)) == (staff.sgcp_worker, "2024-02-20")
    adults = Case.objects.get(pk=imported(LegacyKind.CASE, "C4"))
    assert adults.service_area == "adults"
    cp = Plan.objects.get(pk=imported(LegacyKind.PLAN, "PL2"))
    assert (cp.initial_category, cp.latest_category) == ("NEG", "EMO")

    events = AuditEvent.objects.filter(actor__isnull=True)
    assert events.count() == AuditEvent.objects.count() == 6 + 5
    person_event = events.get(verb="person.imported", person=amelia)
    assert person_event.category == "person"
    # No name or date of birth in the log line, as the imports before it.
    assert "Amelia" not in person_event.summary
    assert "Hart" not in person_event.summary
    case_event = events.get(verb="case.imported", case=closed)
    assert case_event.category == "case"
    assert str(case_event.event_date) == "2023-05-02"
    assert "closed 20 February 2024 (RC7)" in case_event.summary
    assert "C2" in case_event.reason


def test_an_imported_case_opens_for_its_team_worker_and_the_person_is_found(
    staff: Staff, examples: Path, run_import: Callable[..., Run]
) -> None:
    """The imported case's page works for a worker in its team, and the people search
    (name keys) finds the imported person, also by a loosely typed name."""
    run_import(examples)
    case = Case.objects.get(pk=imported(LegacyKind.CASE, "C1"))
    client = Client()
    client.force_login(staff.ai_worker)
    page = client.get(f"/cases/{case.pk}/")
    assert page.status_code == 200
    assert case.reference in page.content.decode()

    amelia = Person.objects.get(pk=imported(LegacyKind.PERSON, "P1"))
    for typed in ("Amelia Hart", "Emilia Harte", "9990001014"):
        found = [m.person for m in people_search(staff.ai_worker, typed)]
        assert amelia in found, typed


def test_importing_the_same_files_twice_changes_nothing(
    staff: Staff, examples: Path, run_import: Callable[..., Run]
) -> None:
    """Done-when of issue 10 item 4: the second run imports nothing, writes nothing (not even
    an audit event), and reports the same counts and checksums."""
    first = run_import(examples)
    before = counts()
    second = run_import(examples)

    assert counts() == before
    assert second.checksums == first.checksums
    assert second.in_casework == first.in_casework
    assert second.rejects == []
    for spec in FILES:
        f = second.file(spec.name)
        assert f["imported"] == 0
        assert f["unchanged"] == f["read"] == first.file(spec.name)["read"]
    assert second.reconciliation["written"] is False


def test_the_checksums_are_the_documented_ones(
    staff: Staff, examples: Path, run_import: Callable[..., Run]
) -> None:
    """A kind's checksum is SHA-256 over "legacy_id TAB row_checksum" lines sorted by legacy
    ID, so it depends on the files only, not on the database (docs/import.md)."""
    result = run_import(examples)
    for spec in FILES:
        rows = sorted(
            (row.legacy_id, row.checksum) for row in read_file(spec, examples / spec.name)
        )
        digest = hashlib.sha256("".join(f"{i}\t{c}\n" for i, c in rows).encode()).hexdigest()
        assert result.checksums[spec.kind.value] == digest, spec.name


@pytest.fixture
def bad_rows(examples: Path) -> Path:
    """The example set with rows that must be rejected, each for one plain reason, and rows
    that depend on them."""
    append(
        examples,
        "people.csv",
        {
            "legacy_id": "P7",
            "given_name": "Bad",
            "family_name": "Date",
            "date_of_birth": "2019-02-30",
        },
        {
            "legacy_id": "P8",
            "given_name": "Bad",
            "family_name": "Number",
            "nhs_number": "9990001015",
        },
        {
            "legacy_id": "P9",
            "given_name": "Good",
            "family_name": "Person",
            "date_of_birth": "2016-05-05",
        },
    )
    append(
        examples,
        "relationships.csv",
        {"legacy_id": "R9", "person_legacy_id": "P8", "relative_legacy_id": "P9", "kind": "parent"},
    )
    append(
        examples,
        "cases.csv",
        # Depends on a rejected person.
        {
            "legacy_id": "C10",
            "person_legacy_id": "P7",
            "team_code": "ai",
            "opened_on": "2024-01-02",
        },
        # An unknown team.
        {
            "legacy_id": "C11",
            "person_legacy_id": "P9",
            "team_code": "nowhere",
            "opened_on": "2024-01-02",
        },
        # An unknown closure code.
        {
            "legacy_id": "C12",
            "person_legacy_id": "P9",
            "team_code": "ai",
            "opened_on": "2022-01-02",
            "closed_on": "2022-03-01",
            "closure_reason": "RC99",
        },
        # A second open children's case for Leo (C3 is open).
        {
            "legacy_id": "C13",
            "person_legacy_id": "P4",
            "team_code": "sgcp",
            "opened_on": "2024-10-01",
        },
        # Fine: a closed case for the good person.
        {
            "legacy_id": "C14",
            "person_legacy_id": "P9",
            "team_code": "ai",
            "opened_on": "2023-01-02",
            "closed_on": "2023-03-01",
            "closure_reason": "RC8",
        },
    )
    append(
        examples,
        "visits.csv",
        # On a case rejected because of its person: rejected too, a chain.
        {
            "legacy_id": "V10",
            "case_legacy_id": "C10",
            "visited_on": "2024-02-01",
            "visited_by": "ai-worker",
            "subject_seen": "yes",
        },
        # A case nobody has.
        {
            "legacy_id": "V11",
            "case_legacy_id": "C404",
            "visited_on": "2024-02-01",
            "visited_by": "ai-worker",
            "subject_seen": "yes",
        },
        # In the future, and after the case closed.
        {
            "legacy_id": "V12",
            "case_legacy_id": "C14",
            "visited_on": "2099-01-01",
            "visited_by": "ai-worker",
            "subject_seen": "yes",
        },
        # Fine.
        {
            "legacy_id": "V13",
            "case_legacy_id": "C14",
            "visited_on": "2023-02-01",
            "visited_by": "ai-worker",
            "subject_seen": "yes",
        },
    )
    append(
        examples,
        "plans.csv",
        # A CP plan while the CiN plan PL1 is open on the same case.
        {
            "legacy_id": "PL9",
            "case_legacy_id": "C1",
            "kind": "cp",
            "started_on": "2024-05-01",
            "category": "PHY",
        },
    )
    append(
        examples,
        "referrals.csv",
        {
            "legacy_id": "F9",
            "case_legacy_id": "C14",
            "kind": "referral",
            "received_on": "2023-01-02",
            "source": "X1",
            "reason": "Unknown source code.",
            "recorded_by": "ai-worker",
        },
        {
            "legacy_id": "F10",
            "case_legacy_id": "C14",
            "kind": "referral",
            "received_on": "2023-01-02",
            "source": "2A",
            "reason": "By someone unknown.",
            "recorded_by": "nobody",
        },
    )
    return examples


# (file, legacy ID, field, words the reason contains)
EXPECTED_REJECTS = [
    ("people.csv", "P7", "date_of_birth", "'2019-02-30' is not a date"),
    ("people.csv", "P8", "nhs_number", "check digit is wrong"),
    ("relationships.csv", "R9", "person_legacy_id", "Its person P8 was rejected (people.csv line"),
    ("cases.csv", "C10", "person_legacy_id", "Its person P7 was rejected (people.csv line"),
    ("cases.csv", "C11", "team_code", "There is no team with code 'nowhere'"),
    ("cases.csv", "C12", "closure_reason", "'RC99' is not one of the codes"),
    ("cases.csv", "C13", "closed_on", "one open case per person per service area"),
    ("visits.csv", "V10", "case_legacy_id", "Its case C10 was rejected (cases.csv line"),
    (
        "visits.csv",
        "V11",
        "case_legacy_id",
        "Its case C404 is not in cases.csv and was not imported before",
    ),
    ("visits.csv", "V12", "visited_on", "cannot be in the future"),
    ("visits.csv", "V12", "visited_on", "after the case closed (2023-03-01)"),
    ("plans.csv", "PL9", "started_on", "overlaps the child in need plan on the same case"),
    ("referrals.csv", "F9", "source", "'X1' is not one of the codes"),
    ("referrals.csv", "F10", "recorded_by", "no Casework account with username 'nobody'"),
]


def _assert_rejects(folder: Path, result: Run) -> None:
    by_row = {(r["file"], r["legacy_id"], r["field"]): r for r in result.rejects}
    for file, legacy_id, column, words in EXPECTED_REJECTS:
        reject = by_row.get((file, legacy_id, column))
        assert reject is not None, (file, legacy_id, column, result.rejects)
        assert reject["line"] == line_of(folder, file, legacy_id)
        reasons = [
            r["reason"]
            for r in result.rejects
            if (r["file"], r["legacy_id"], r["field"]) == (file, legacy_id, column)
        ]
        assert any(words in reason for reason in reasons), (words, reasons)
    assert {r["legacy_id"] for r in result.rejects} == {e[1] for e in EXPECTED_REJECTS}
    with (result.report / "rejects.csv").open(encoding="utf-8", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert len(lines) == len(result.rejects)
    assert set(lines[0]) == {"file", "line", "legacy_id", "field", "reason"}


def test_rejected_rows_are_reported_and_nothing_is_written(
    staff: Staff, bad_rows: Path, run_import: Callable[..., Run]
) -> None:
    """Every rejected row is reported with file, line, field and a plain-English reason,
    rows that depend on a rejected row are rejected naming it, and by default nothing at all
    is written (the command fails and says how to go on)."""
    result = run_import(bad_rows, fails=True)

    _assert_rejects(bad_rows, result)
    assert "Nothing was imported" in result.error
    assert "--import-valid" in result.error
    assert result.reconciliation["written"] is False
    assert counts() == {key: 0 for key in counts()}
    assert result.file("visits.csv")["rejected"] == 3
    assert result.file("visits.csv")["imported"] == 0


def test_import_valid_imports_the_rows_that_passed_and_their_chains(
    staff: Staff, bad_rows: Path, run_import: Callable[..., Run]
) -> None:
    """With --import-valid the rows that passed are imported, whole chains (a good person
    with their good case and its good visit), and nothing that depends on a rejected row.
    Running it again imports nothing more and reports the same rejects."""
    result = run_import(bad_rows, import_valid=True)

    _assert_rejects(bad_rows, result)
    assert result.reconciliation["written"] is True
    assert Person.objects.count() == 6 + 1
    assert Case.objects.count() == 5 + 1
    assert Visit.objects.count() == 5 + 1
    assert Relationship.objects.count() == 4
    good = Case.objects.get(pk=imported(LegacyKind.CASE, "C14"))
    assert good.subject_id == imported(LegacyKind.PERSON, "P9")
    assert list(good.visits.values_list("visited_on", flat=True)) == [
        Visit.objects.get(pk=imported(LegacyKind.VISIT, "V13")).visited_on
    ]
    for kind, legacy_id in [
        (LegacyKind.PERSON, "P7"),
        (LegacyKind.CASE, "C10"),
        (LegacyKind.VISIT, "V10"),
        (LegacyKind.PLAN, "PL9"),
    ]:
        assert not LegacyRecord.objects.filter(kind=kind, legacy_id=legacy_id).exists()
    assert result.file("cases.csv") == {
        "present": True,
        "read": 10,
        "imported": 6,
        "unchanged": 0,
        "rejected": 4,
        "of_which_changed": 0,
    }

    before = counts()
    again = run_import(bad_rows, import_valid=True)
    assert counts() == before
    assert again.checksums == result.checksums
    assert len(again.rejects) == len(result.rejects)
    assert again.file("cases.csv")["unchanged"] == 6


def test_a_changed_row_is_reported_not_overwritten(
    staff: Staff, examples: Path, run_import: Callable[..., Run]
) -> None:
    """A row imported before whose values have changed is rejected as changed (imported
    records may have been worked on since), and nothing else is written by default."""
    run_import(examples)
    before = counts()

    def rename(rows: list[list[str]]) -> None:
        rows[1][2] = "Amelie"

    edit(examples, "people.csv", rename)
    result = run_import(examples, fails=True)

    [reject] = result.rejects
    assert (reject["file"], reject["line"], reject["legacy_id"]) == ("people.csv", 2, "P1")
    assert "imported before and its row has changed" in reject["reason"]
    assert result.file("people.csv")["of_which_changed"] == 1
    assert counts() == before
    assert Person.objects.get(pk=imported(LegacyKind.PERSON, "P1")).given_name == "Amelia"


def test_records_added_later_to_an_imported_case_are_audited(
    staff: Staff, examples: Path, run_import: Callable[..., Run]
) -> None:
    """Visits exported after the first run go onto the cases imported then, with one audit
    event per case saying how many were added."""
    visits = (examples / "visits.csv").read_text()
    (examples / "visits.csv").unlink()
    first = run_import(examples)
    assert first.file("visits.csv")["present"] is False
    assert Visit.objects.count() == 0

    (examples / "visits.csv").write_text(visits)
    second = run_import(examples)
    assert second.file("visits.csv")["imported"] == 5
    assert second.file("cases.csv")["unchanged"] == 5
    events = AuditEvent.objects.filter(verb="case.records_imported")
    c1 = Case.objects.get(pk=imported(LegacyKind.CASE, "C1"))
    assert events.get(case=c1).summary == "2 visits imported from earlier records"
    assert events.get(case=c1).person == c1.subject
    assert events.count() == 4  # C1, C2, C3, C4


def test_an_unreadable_file_stops_everything(
    staff: Staff, examples: Path, run_import: Callable[..., Run]
) -> None:
    """A file whose header has a column Casework does not read (a misspelling would lose
    data silently) is reported at line 1 and nothing is imported, even with --import-valid."""

    def misspell(rows: list[list[str]]) -> None:
        rows[0][rows[0].index("notes")] = "note"

    edit(examples, "visits.csv", misspell)
    result = run_import(examples, fails=True, import_valid=True)
    [reject] = result.rejects
    assert (reject["file"], reject["line"], reject["field"]) == ("visits.csv", 1, "note")
    assert "not one Casework reads" in reject["reason"]
    assert counts() == {key: 0 for key in counts()}


def test_a_dry_run_writes_nothing_and_fails_on_rejects(
    staff: Staff, examples: Path, run_import: Callable[..., Run]
) -> None:
    result = run_import(examples, dry_run=True)
    assert counts() == {key: 0 for key in counts()}
    assert "Dry run" in result.reconciliation["verdict"]
    assert "34 rows would be imported" in result.reconciliation["verdict"]
    assert result.in_casework["case"] == 0

    append(examples, "notes.csv", {"legacy_id": "N20", "case_legacy_id": "C404"})
    checked = run_import(examples, fails=True, dry_run=True)
    assert "1 row rejected" in checked.error
    assert counts() == {key: 0 for key in counts()}


TEAMS = [
    TeamSpec("ai", "children", ("ai-worker", "ai-worker2")),
    TeamSpec("adults-north", "adults", ("adults-north-worker",)),
]


def test_an_interrupted_run_leaves_whole_batches_and_a_rerun_completes(
    staff: Staff, tmp_path: Path, run_import: Callable[..., Run], monkeypatch: Any
) -> None:
    """With batches of 7 rows, a failure in the second batch leaves exactly the first batch,
    complete (rows, mapping, audit events), and the command says to run it again; the re-run
    finishes and gives the same counts and checksums as the files themselves."""
    folder = tmp_path / "generated"
    sizes = generate(folder, 12, TEAMS)
    real = writing.Writer._mapping
    calls = [0]

    def fail_second(writer: writing.Writer, *args: Any) -> None:
        calls[0] += 1
        if calls[0] == 2:
            # Inside the second batch's transaction, after its people were inserted: as a
            # lost connection or a killed process would.
            assert Person.objects.count() == 14
            raise ConnectionError("the database went away")
        real(writer, *args)

    monkeypatch.setattr(writing.Writer, "_mapping", fail_second)
    stopped = run_import(folder, fails=True, batch_size=7)
    assert "stopped after 1 whole batch " in stopped.error
    assert "run the same command again" in stopped.error
    assert Person.objects.count() == 7
    assert LegacyRecord.objects.count() == 7
    assert AuditEvent.objects.filter(verb="person.imported").count() == 7
    assert stopped.file("people.csv")["imported"] == 7

    monkeypatch.setattr(writing.Writer, "_mapping", real)
    finished = run_import(folder, batch_size=7)
    assert finished.file("people.csv")["unchanged"] == 7
    assert finished.file("people.csv")["imported"] == sizes["people.csv"] - 7
    total = sum(sizes.values())
    assert LegacyRecord.objects.count() == total
    assert Case.objects.count() == 12
    assert AuditEvent.objects.filter(verb="case.imported").count() == 12
    assert AuditEvent.objects.filter(verb="person.imported").count() == sizes["people.csv"]
    for spec in FILES:
        assert finished.checksums[spec.kind.value] == file_checksum(folder, spec), spec.name
    again = run_import(folder, batch_size=7)
    assert again.checksums == finished.checksums


def test_a_generated_set_imports_in_many_batches(
    staff: Staff, tmp_path: Path, run_import: Callable[..., Run]
) -> None:
    """The generator's files pass every check, in batches smaller than a file; the rate is
    in the output (measured properly on PostgreSQL by the benchmarks, not here)."""
    folder = tmp_path / "generated"
    sizes = generate(folder, 40, TEAMS)
    result = run_import(folder, batch_size=25)
    assert result.rejects == []
    assert Case.objects.count() == 40
    assert LegacyRecord.objects.count() == sum(sizes.values())
    assert "cases/s" in result.stdout
    assert Case.objects.filter(reference__regex=r"^C\d{7}$").count() == 40


# One bad row added to the example set: (file, row, field, words of the reason).
ONE_BAD_ROW = [
    pytest.param(
        "people.csv",
        {
            "legacy_id": "P20",
            "given_name": "Too",
            "family_name": "Late",
            "date_of_birth": "2099-01-01",
        },
        "date_of_birth",
        "cannot be in the future",
        id="born-in-the-future",
    ),
    pytest.param(
        "people.csv",
        {
            "legacy_id": "P20",
            "given_name": "Both",
            "family_name": "Dates",
            "date_of_birth": "2020-01-01",
            "expected_date_of_birth": "2020-02-01",
        },
        "expected_date_of_birth",
        "not both",
        id="born-and-expected",
    ),
    pytest.param(
        "people.csv",
        {
            "legacy_id": "P20",
            "given_name": "Dies",
            "family_name": "Early",
            "date_of_birth": "2020-01-01",
            "date_of_death": "2019-01-01",
        },
        "date_of_death",
        "before the date of birth",
        id="dies-before-birth",
    ),
    pytest.param(
        "people.csv",
        {"legacy_id": "P20", "given_name": "Bad", "family_name": "Upn", "upn": "A931200120001"},
        "upn",
        "check letter does not match",
        id="upn-check-letter",
    ),
    pytest.param(
        "people.csv",
        {
            "legacy_id": "P20",
            "given_name": "Same",
            "family_name": "Number",
            "nhs_number": "9990001014",
        },
        "nhs_number",
        "is also on line 2",
        id="nhs-number-twice",
    ),
    pytest.param(
        "people.csv",
        {
            "legacy_id": "P20",
            "given_name": "None",
            "family_name": "AndSome",
            "disabilities": "NONE;MOB",
        },
        "disabilities",
        "NONE (no disability) cannot be given together",
        id="none-and-more",
    ),
    pytest.param(
        "people.csv",
        {"legacy_id": "P1", "given_name": "Second", "family_name": "Amelia"},
        "legacy_id",
        "appears more than once in people.csv (first on line 2)",
        id="id-twice",
    ),
    pytest.param(
        "people.csv",
        {"legacy_id": "P20", "given_name": "", "family_name": "Nameless"},
        "given_name",
        "given_name is required and is empty",
        id="required-empty",
    ),
    pytest.param(
        "relationships.csv",
        {
            "legacy_id": "R20",
            "person_legacy_id": "P2",
            "relative_legacy_id": "P2",
            "kind": "parent",
        },
        "relative_legacy_id",
        "cannot be related to themselves",
        id="related-to-self",
    ),
    pytest.param(
        "relationships.csv",
        {
            "legacy_id": "R20",
            "person_legacy_id": "P2",
            "relative_legacy_id": "P1",
            "kind": "parent",
        },
        "kind",
        "The same relationship is also on line 2",
        id="relationship-twice",
    ),
    pytest.param(
        "cases.csv",
        {
            "legacy_id": "C20",
            "person_legacy_id": "P6",
            "team_code": "adults-north",
            "opened_on": "2020-01-01",
            "closed_on": "2020-02-01",
            "closure_reason": "RC8",
        },
        "closure_reason",
        "a children's reason",
        id="adults-case-with-rc-code",
    ),
    pytest.param(
        "cases.csv",
        {
            "legacy_id": "C20",
            "person_legacy_id": "P4",
            "team_code": "ai",
            "opened_on": "2020-01-01",
            "closed_on": "2020-02-01",
        },
        "closure_reason",
        "needs its closure reason code",
        id="closed-without-reason",
    ),
    pytest.param(
        "cases.csv",
        {
            "legacy_id": "C20",
            "person_legacy_id": "P4",
            "team_code": "ai",
            "opened_on": "2020-03-01",
            "closed_on": "2020-02-01",
            "closure_reason": "RC8",
        },
        "closed_on",
        "cannot close before it opened",
        id="closes-before-opening",
    ),
    pytest.param(
        "cases.csv",
        {
            "legacy_id": "C20",
            "person_legacy_id": "P2",
            "team_code": "ai",
            "worker_username": "sgcp-worker",
            "opened_on": "2024-01-01",
        },
        "worker_username",
        "not a current member of Team AI",
        id="worker-of-another-team",
    ),
    pytest.param(
        "cases.csv",
        {
            "legacy_id": "C20",
            "person_legacy_id": "P1",
            "team_code": "ai",
            "opened_on": "2014-01-01",
            "closed_on": "2014-02-01",
            "closure_reason": "RC8",
        },
        "opened_on",
        "more than 40 weeks before the person's (expected) birth",
        id="opened-long-before-birth",
    ),
    pytest.param(
        "plans.csv",
        {"legacy_id": "PL20", "case_legacy_id": "C2", "kind": "cin", "started_on": "2023-09-01"},
        "ended_on",
        "The case closed on 2024-02-20: its plans must have ended",
        id="open-plan-on-closed-case",
    ),
    pytest.param(
        "plans.csv",
        {"legacy_id": "PL20", "case_legacy_id": "C3", "kind": "cp", "started_on": "2024-09-15"},
        "category",
        "needs its category of abuse",
        id="cp-without-category",
    ),
    pytest.param(
        "plans.csv",
        {"legacy_id": "PL20", "case_legacy_id": "C3", "kind": "lac", "started_on": "2024-09-15"},
        "legal_status",
        "needs the legal status",
        id="lac-without-legal-status",
    ),
    pytest.param(
        "plans.csv",
        {
            "legacy_id": "PL20",
            "case_legacy_id": "C3",
            "kind": "cin",
            "started_on": "2024-09-15",
            "legal_status": "C2",
        },
        "legal_status",
        "for looked-after episodes (lac) only",
        id="legal-status-on-cin",
    ),
    pytest.param(
        "visits.csv",
        {
            "legacy_id": "V20",
            "case_legacy_id": "C3",
            "visited_on": "2024-09-15",
            "visited_by": "ai-worker",
            "subject_seen": "no",
            "seen_alone": "yes",
        },
        "seen_alone",
        "not seen cannot have been seen alone",
        id="alone-but-not-seen",
    ),
    pytest.param(
        "visits.csv",
        {
            "legacy_id": "V20",
            "case_legacy_id": "C3",
            "visited_on": "2024-09-15",
            "visited_by": "ai-worker",
            "subject_seen": "maybe",
        },
        "subject_seen",
        "'maybe' is not yes or no",
        id="not-yes-or-no",
    ),
    pytest.param(
        "notes.csv",
        {
            "legacy_id": "N20",
            "case_legacy_id": "C3",
            "occurred_on": "2024-01-01",
            "author": "ai-worker",
            "title": "Early",
            "body": "Before the case.",
        },
        "occurred_on",
        "before the case opened (2024-09-10)",
        id="note-before-opening",
    ),
    pytest.param(
        "referrals.csv",
        {
            "legacy_id": "F20",
            "case_legacy_id": "C5",
            "kind": "contact",
            "received_on": "2021-07-01",
            "source": "1A",
            "reason": "After closure.",
            "recorded_by": "ai-worker",
        },
        "received_on",
        "after the case closed (2021-06-30)",
        id="referral-after-closure",
    ),
]


@pytest.mark.parametrize(("file", "row", "column", "words"), ONE_BAD_ROW)
def test_each_rule_rejects_its_row_with_a_plain_reason(
    staff: Staff,
    examples: Path,
    run_import: Callable[..., Run],
    file: str,
    row: dict[str, str],
    column: str,
    words: str,
) -> None:
    """One bad row among good ones: it alone is rejected, at its line, on its column, with
    a reason saying what is wrong; nothing is written."""
    append(examples, file, row)
    result = run_import(examples, fails=True)
    rejected = [r for r in result.rejects if r["field"] == column]
    assert rejected, result.rejects
    assert {r["legacy_id"] for r in result.rejects} == {row["legacy_id"]}
    with (examples / file).open(encoding="utf-8") as handle:
        last_line = sum(1 for _ in handle)
    assert rejected[0]["line"] == last_line
    assert any(words in r["reason"] for r in rejected), rejected
    assert LegacyRecord.objects.count() == 0


def test_a_relationship_already_in_casework_is_not_added_twice(
    staff: Staff, examples: Path, run_import: Callable[..., Run]
) -> None:
    run_import(examples)
    append(
        examples,
        "relationships.csv",
        {
            "legacy_id": "R99",
            "person_legacy_id": "P2",
            "relative_legacy_id": "P1",
            "kind": "parent",
        },
    )
    result = run_import(examples, fails=True)
    [reject] = result.rejects
    assert (reject["legacy_id"], reject["field"]) == ("R99", "kind")
    assert "already in Casework" in reject["reason"]


def test_lines_are_counted_as_the_file_has_them(
    staff: Staff, examples: Path, run_import: Callable[..., Run]
) -> None:
    """A quoted value over several lines moves the lines after it: the report gives the
    line each row starts on, as an editor shows it."""
    append(
        examples,
        "notes.csv",
        {
            "legacy_id": "N20",
            "case_legacy_id": "C3",
            "occurred_on": "2024-09-20",
            "author": "ai-worker",
            "title": "Long",
            "body": "First line.\nSecond line.\n",
        },
        {
            "legacy_id": "N21",
            "case_legacy_id": "C3",
            "occurred_on": "bad",
            "author": "ai-worker",
            "title": "Bad date",
            "body": "Body.",
        },
    )
    result = run_import(examples, fails=True)
    [reject] = result.rejects
    assert (reject["legacy_id"], reject["line"]) == ("N21", 9)


def test_a_file_that_is_not_utf8_is_refused(
    staff: Staff, examples: Path, run_import: Callable[..., Run]
) -> None:
    (examples / "notes.csv").write_bytes(
        b"legacy_id,case_legacy_id,occurred_on,author,title,body\n"
        b"N1,C1,2024-01-09,ai-worker,Caf\xe9,Latin-1 text\n"
    )
    result = run_import(examples, fails=True)
    [reject] = result.rejects
    assert (reject["file"], reject["line"]) == ("notes.csv", 2)
    assert "not UTF-8" in reject["reason"]
    assert Person.objects.count() == 0


def test_a_multi_line_note_is_imported_whole(
    staff: Staff, examples: Path, run_import: Callable[..., Run]
) -> None:
    append(
        examples,
        "notes.csv",
        {
            "legacy_id": "N20",
            "case_legacy_id": "C3",
            "occurred_on": "2024-09-20",
            "author": "ai-worker",
            "title": "Long",
            "body": 'First line, with a comma.\n"Quoted".',
        },
    )
    run_import(examples)
    note = CaseNote.objects.get(pk=imported(LegacyKind.NOTE, "N20"))
    assert note.body == 'First line, with a comma.\n"Quoted".'


@pytest.mark.django_db(transaction=True)
def test_batches_written_side_by_side_stay_whole_when_one_fails(
    staff: Staff, tmp_path: Path, run_import: Callable[..., Run], monkeypatch: Any
) -> None:
    """On PostgreSQL, outside a transaction, batches of a file are written two at a time on
    their own connections (SQLite: one at a time). A batch that fails leaves nothing of
    itself; every other batch is whole (rows, mapping, audit events); the re-run completes
    with the checksums of the files."""
    folder = tmp_path / "generated"
    sizes = generate(folder, 30, TEAMS)
    real = writing.Writer._mapping
    failed = [False]

    def fail_one_visit_batch(writer: writing.Writer, kind: LegacyKind, rows: Any, pks: Any) -> None:
        if kind == LegacyKind.VISIT and not failed[0]:
            failed[0] = True
            raise ConnectionError("the database went away")
        real(writer, kind, rows, pks)

    monkeypatch.setattr(writing.Writer, "_mapping", fail_one_visit_batch)
    stopped = run_import(folder, fails=True, batch_size=10, jobs=2)
    assert "run the same command again" in stopped.error
    visits = LegacyRecord.objects.filter(kind=LegacyKind.VISIT).count()
    assert visits % 10 == 0
    assert visits < sizes["visits.csv"]
    assert Visit.objects.count() == visits
    assert Case.objects.count() == AuditEvent.objects.filter(verb="case.imported").count() == 30
    assert not LegacyRecord.objects.filter(kind=LegacyKind.NOTE).exists()

    monkeypatch.setattr(writing.Writer, "_mapping", real)
    finished = run_import(folder, batch_size=10, jobs=2)
    assert finished.reconciliation["batches_at_once"] == (
        2 if connection.vendor == "postgresql" else 1
    )
    assert LegacyRecord.objects.count() == sum(sizes.values())
    assert Visit.objects.count() == sizes["visits.csv"]
    assert finished.file("visits.csv")["unchanged"] == visits
    for spec in FILES:
        assert finished.checksums[spec.kind.value] == file_checksum(folder, spec), spec.name


def test_casework_carries_on_numbering_after_an_import(
    staff: Staff, examples: Path, run_import: Callable[..., Run]
) -> None:
    """IDs are taken from each table's own counter, so people and cases added on screen
    afterwards get the next numbers, and their references and local IDs do not clash."""
    from casework.cases.services import case_open
    from casework.people.services import person_create

    run_import(examples)
    highest_case = Case.objects.order_by("-pk").first()
    assert highest_case is not None
    person = person_create(actor=staff.ai_worker, given_name="New", family_name="Person")
    assert person.pk > imported(LegacyKind.PERSON, "P6")
    assert person.local_id == f"P{person.pk:08d}"
    case = case_open(
        actor=staff.ai_worker,
        subject=person,
        team=staff.ai,
        received_on=highest_case.opened_on,
        source="2A",
        reason="A new referral after the import.",
    )
    assert case.pk > highest_case.pk
    assert case.reference == f"C{case.pk:07d}"


def test_a_later_export_adds_only_what_is_new(
    staff: Staff, tmp_path: Path, run_import: Callable[..., Run]
) -> None:
    """A second folder for the same source (new legacy IDs) adds its rows beside the first
    set's; the first set's totals are part of the reconciliation, unchanged."""
    first = generate(tmp_path / "first", 8, TEAMS)
    run_import(tmp_path / "first")
    second = generate(tmp_path / "second", 5, TEAMS, prefix="B", identifiers=False, seed=2)
    result = run_import(tmp_path / "second")
    assert result.file("cases.csv")["imported"] == 5
    assert result.in_casework["case"] == 13
    assert LegacyRecord.objects.count() == sum(first.values()) + sum(second.values())
