"""X-01 (issue 9 item 3): the audit log cannot be altered afterwards, and it is the database
that refuses, not only the model. The same tests run on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from casework.accounts.models import User
from casework.audit.integrity import (
    CLEARABLE_COLUMNS,
    REDACTABLE_COLUMNS,
    audit_redaction,
    audit_wipe,
)
from casework.audit.models import AppendOnlyError, AuditCategory, AuditEvent
from casework.cases.models import Case

TABLE = AuditEvent._meta.db_table
REFUSED = "append-only"


def _event(**extra: Any) -> AuditEvent:
    fields: dict[str, Any] = {
        "event_date": dt.date(2026, 4, 1),
        "verb": "test.recorded",
        "category": AuditCategory.CASE,
        "object_type": "cases.case",
        "object_id": "1",
        "summary": "Something happened",
        "reason": "Because",
        "changes": {"name": ["Before", "After"]},
        **extra,
    }
    return AuditEvent.objects.create(**fields)


@pytest.fixture
def event(open_case: Case, worker: User) -> AuditEvent:
    return _event(case=open_case, person=open_case.subject, actor=worker)


def _refused(sql: str, params: list[Any] | None = None) -> None:
    # A savepoint, because on PostgreSQL a failed statement spoils the whole transaction.
    with pytest.raises(IntegrityError, match=REFUSED), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def test_x01_inserting_an_event_still_works(event: AuditEvent) -> None:
    """X-01: the guard stops changes, not the record: new events are written as before."""
    assert AuditEvent.objects.filter(pk=event.pk, summary="Something happened").exists()


def test_x01_the_database_refuses_raw_update_and_delete(event: AuditEvent) -> None:
    """X-01: UPDATE and DELETE sent straight to the database, past the model, are refused by
    the database itself (a trigger), and the event is unchanged."""
    _refused(f"UPDATE {TABLE} SET summary = %s WHERE id = %s", ["rewritten", event.pk])  # noqa: S608
    _refused(f"UPDATE {TABLE} SET summary = %s", ["rewritten"])  # noqa: S608
    _refused(f"DELETE FROM {TABLE} WHERE id = %s", [event.pk])  # noqa: S608
    _refused(f"DELETE FROM {TABLE}")  # noqa: S608
    event.refresh_from_db()
    assert event.summary == "Something happened"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no TRUNCATE")
def test_x01_postgres_refuses_truncate(event: AuditEvent) -> None:
    """X-01: on PostgreSQL the audit table cannot be truncated, directly or by cascading from
    a table it refers to."""
    with connection.cursor() as cursor:
        # Check the inserts' deferred foreign keys now: PostgreSQL will not truncate a table
        # with checks pending, and that refusal would hide the trigger's.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    _refused(f"TRUNCATE {TABLE}")
    _refused(f"TRUNCATE {Case._meta.db_table} CASCADE")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_x01_the_model_refuses_before_the_database_is_asked(event: AuditEvent) -> None:
    """X-01: the ordinary ORM paths stop in Python with AppendOnlyError."""
    event.summary = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(summary="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_update([event], ["summary"])


def test_x01_orm_paths_past_the_model_guard_are_refused_by_the_database(
    event: AuditEvent,
) -> None:
    """X-01: the ORM paths the model cannot see (the base manager Django uses internally, a
    raw delete) reach the database, which refuses them."""
    base = AuditEvent._base_manager.filter(pk=event.pk)
    with pytest.raises(IntegrityError, match=REFUSED), transaction.atomic():
        base.update(summary="rewritten")
    with pytest.raises(IntegrityError, match=REFUSED), transaction.atomic():
        base.delete()
    with pytest.raises(IntegrityError, match=REFUSED), transaction.atomic():
        base._raw_delete(using="default")
    with pytest.raises(IntegrityError, match=REFUSED), transaction.atomic():
        AuditEvent._base_manager.bulk_update([event], ["summary"])
    event.refresh_from_db()
    assert event.summary == "Something happened"


def test_x01_disposal_can_redact_personal_data_and_leave_a_tombstone(
    event: AuditEvent,
) -> None:
    """X-01 with disposal (issue 9 item 6): inside audit_redaction a disposal may blank what
    was said and unlink the case and person; the event stays, with its verb, date and actor."""
    with transaction.atomic(), audit_redaction():
        AuditEvent._base_manager.filter(pk=event.pk).update(
            summary="Record disposed of", reason="", changes={}, case=None, person=None
        )
    tombstone = AuditEvent.objects.get(pk=event.pk)
    assert (tombstone.summary, tombstone.reason, tombstone.changes) == (
        "Record disposed of",
        "",
        {},
    )
    assert (tombstone.case_id, tombstone.person_id) == (None, None)
    assert (tombstone.verb, tombstone.event_date, tombstone.actor_id) == (
        event.verb,
        event.event_date,
        event.actor_id,
    )


def _new_values(event: AuditEvent, manager: User) -> dict[str, Any]:
    return {
        "id": event.pk + 1000,
        "occurred_at": event.occurred_at - dt.timedelta(days=1),
        "event_date": event.event_date - dt.timedelta(days=1),
        "actor_id": manager.pk,
        "verb": "test.rewritten",
        "category": AuditCategory.PERSON.value,
        "object_type": "people.person",
        "object_id": "2",
    }


def test_x01_every_other_column_is_covered_by_the_redaction_test(
    event: AuditEvent, manager: User
) -> None:
    """X-01: a column added to AuditEvent must be added to the test below (and on SQLite to
    the trigger's list of columns that never change, by a new migration)."""
    columns = {field.column for field in AuditEvent._meta.concrete_fields}
    opened = set(REDACTABLE_COLUMNS) | set(CLEARABLE_COLUMNS)
    assert columns - opened == set(_new_values(event, manager))


@pytest.mark.parametrize(
    "column",
    ["id", "occurred_at", "event_date", "actor_id", "verb", "category", "object_type", "object_id"],
)
def test_x01_redaction_cannot_rewrite_what_happened(
    event: AuditEvent, manager: User, column: str
) -> None:
    """X-01: even with redaction open, who, what, when and to what cannot change."""
    value = _new_values(event, manager)[column]
    with transaction.atomic(), audit_redaction():
        _refused(f"UPDATE {TABLE} SET {column} = %s WHERE id = %s", [value, event.pk])  # noqa: S608


def test_x01_redaction_cannot_point_an_event_at_another_case_or_person(
    event: AuditEvent, worker: User
) -> None:
    """X-01: redaction may clear the links to a case and a person, never move them."""
    other = _event(case=event.case, person=event.person, actor=worker)
    unlinked = _event(actor=worker)
    assert event.case_id is not None
    assert event.person_id is not None
    with transaction.atomic(), audit_redaction():
        _refused(f"UPDATE {TABLE} SET case_id = %s WHERE id = %s", [event.case_id + 1, other.pk])  # noqa: S608
        _refused(f"UPDATE {TABLE} SET person_id = %s WHERE id = %s", [event.person_id, unlinked.pk])  # noqa: S608


def test_x01_redaction_never_allows_delete(event: AuditEvent) -> None:
    """X-01: disposal leaves a tombstone: even with redaction open, events are not deleted."""
    with transaction.atomic(), audit_redaction():
        _refused(f"DELETE FROM {TABLE} WHERE id = %s", [event.pk])  # noqa: S608
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_x01_redaction_closes_when_its_block_ends(event: AuditEvent) -> None:
    """X-01: the opening lasts only for the block that asked for it."""
    with transaction.atomic():
        with audit_redaction():
            pass
        _refused(f"UPDATE {TABLE} SET summary = %s WHERE id = %s", ["rewritten", event.pk])  # noqa: S608


def test_x01_redaction_needs_a_transaction() -> None:
    """X-01: opened outside a transaction, the opening could outlive the disposal."""
    with pytest.raises(RuntimeError, match="inside the disposal's transaction"), audit_redaction():
        pass


@pytest.mark.django_db(transaction=True)
def test_x01_flush_empties_the_audit_table_and_the_guard_returns() -> None:
    """X-01: wiping the whole database (flush, as the test suite does after a transactional
    test) may empty the audit table; afterwards the guard is back."""
    _event()
    call_command("flush", interactive=False, reset_sequences=False, inhibit_post_migrate=True)
    assert not AuditEvent.objects.exists()
    event = _event()
    with pytest.raises(IntegrityError, match=REFUSED):
        AuditEvent._base_manager.filter(pk=event.pk).delete()
    with audit_wipe(), pytest.raises(IntegrityError, match=REFUSED):
        # The wipe opening is for emptying every table (DELETE on SQLite, TRUNCATE on
        # PostgreSQL), never for rewriting a row.
        AuditEvent._base_manager.filter(pk=event.pk).update(summary="rewritten")
