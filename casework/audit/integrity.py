"""The database's own guard on the audit log (X-01, issue 9 item 3) and the access log (X-02,
issue 9 item 2: `audit_accessevent`, guarded the same way by migration 0006).

Migration 0004 puts triggers on `audit_auditevent` so that the database itself refuses to
change or remove an audit event, whatever the application's code does: the model's
`AppendOnlyError` only stops the ORM paths that go through `AuditEvent.objects` and
`AuditEvent.save`, not the base manager, raw SQL or another program using the same role.

What each database refuses (as `django.db.IntegrityError`, message "audit events are
append-only"):

- PostgreSQL: every UPDATE and DELETE of a row, and TRUNCATE of the table (directly or
  through a `TRUNCATE ... CASCADE` of a table the audit log refers to).
- SQLite: every UPDATE and DELETE of a row (SQLite has no TRUNCATE). A program that has not
  registered `casework_audit_allows` (the `sqlite3` shell) gets "no such function" instead:
  it is refused either way.

Two deliberate, narrow openings, both per database connection and both off by default:

- Redaction (`audit_redaction`), for the future disposal of a person's records (issue 9
  item 6: remove personal data everywhere and leave a tombstone in the audit log). While it
  is open, inside one transaction, an UPDATE may change only `REDACTABLE_COLUMNS`, and may
  change `case_id` and `person_id` only to NULL (so that the case and person rows can go,
  while the event, its verb, date, actor and object stay as the tombstone). DELETE and
  TRUNCATE stay refused. On PostgreSQL it is the transaction-local setting
  `casework.audit_redaction = 'on'` (`SET LOCAL`), so it ends with the transaction even if
  the code that opened it does not.
- Wiping the whole database (`audit_wipe`), used only by the `flush` command (which this app
  overrides), which the test suite runs after every transactional test and which a
  developer runs to empty a database. On PostgreSQL it allows TRUNCATE only (`flush`
  truncates); on SQLite it allows DELETE (`flush` deletes every row).

The openings are guards against mistakes and bugs, not against an attacker who holds the
application's database role: that role can set the same settings, and if it owns the table
(because it runs the migrations) it can drop the trigger. In production the migrations run
as an owner role, and the application's role is granted only SELECT and INSERT on
`audit_auditevent` (plus USAGE on its sequence): then UPDATE, DELETE and TRUNCATE are refused
by privilege before any trigger runs, and the trigger covers everything else.

On SQLite, Django rebuilds a table (create, copy, drop, rename) for many schema changes,
and the rebuild drops the table's triggers. A later migration that alters `AuditEvent` on
SQLite must recreate them; `casework/audit/tests/test_append_only.py` fails if it does not.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

# Columns that hold what was said about a person, and so may be redacted on disposal.
REDACTABLE_COLUMNS = ("summary", "reason", "changes")
# Links that redaction may only clear (set to NULL), never point elsewhere.
CLEARABLE_COLUMNS = ("case_id", "person_id")

REDACTION = "redaction"
WIPE = "wipe"
_POSTGRES_SETTINGS = {REDACTION: "casework.audit_redaction", WIPE: "casework.audit_wipe"}

# SQLite has no session settings: the triggers ask a function registered on each
# connection, which answers from this per-connection set of open modes.
_sqlite_modes: weakref.WeakKeyDictionary[BaseDatabaseWrapper, set[str]] = (
    weakref.WeakKeyDictionary()
)


def register_sqlite_functions(
    sender: Any = None, *, connection: BaseDatabaseWrapper, **kwargs: Any
) -> None:
    """Give a new SQLite connection the function the audit triggers ask
    (`connection_created` receiver, connected in `AuditConfig.ready`)."""
    if connection.vendor != "sqlite":
        return
    modes: set[str] = set()
    _sqlite_modes[connection] = modes
    # Not deterministic: the answer changes while the connection lives.
    connection.connection.create_function(
        "casework_audit_allows", 1, lambda mode: mode in modes, deterministic=False
    )


def _sqlite_modes_for(connection: BaseDatabaseWrapper) -> set[str]:
    connection.ensure_connection()
    if connection not in _sqlite_modes:
        register_sqlite_functions(connection=connection)
    return _sqlite_modes[connection]


def _postgres_set(connection: BaseDatabaseWrapper, mode: str, on: bool, *, local: bool) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config(%s, %s, %s)",
            [_POSTGRES_SETTINGS[mode], "on" if on else "off", local],
        )


@contextmanager
def audit_redaction(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Let the statements inside redact audit events, for the disposal of a person's records.

    Only for a deliberate disposal service, inside its transaction; the event stays as the
    tombstone. Only `REDACTABLE_COLUMNS` may change, `case_id` and `person_id` only to NULL;
    nothing may be deleted. The model's own guard still refuses `AuditEvent.objects...update`
    and `save()`, so the service writes through the base manager:

        with transaction.atomic(), audit_redaction():
            AuditEvent._base_manager.filter(person=person).update(
                summary="Record disposed of under the retention schedule",
                reason="", changes={}, person=None,
            )
    """
    connection = connections[using]
    if not connection.in_atomic_block:
        # Outside a transaction the opening could outlive the disposal that needed it.
        raise RuntimeError("audit_redaction must be used inside the disposal's transaction")
    if connection.vendor == "postgresql":
        _postgres_set(connection, REDACTION, True, local=True)
        try:
            yield
        except BaseException:
            try:
                _postgres_set(connection, REDACTION, False, local=True)
            except DatabaseError:
                pass  # The transaction has failed, and SET LOCAL ends with it.
            raise
        _postgres_set(connection, REDACTION, False, local=True)
    elif connection.vendor == "sqlite":
        modes = _sqlite_modes_for(connection)
        modes.add(REDACTION)
        try:
            yield
        finally:
            modes.discard(REDACTION)
    else:
        yield


@contextmanager
def audit_wipe(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Let the statements inside empty the audit table along with every other table.

    For the `flush` command only: wiping a whole database is not changing its history.
    """
    connection = connections[using]
    if connection.vendor == "postgresql":
        _postgres_set(connection, WIPE, True, local=False)
        try:
            yield
        finally:
            try:
                _postgres_set(connection, WIPE, False, local=False)
            except DatabaseError:
                # A session that cannot be reset must not live on with the guard lifted.
                connection.close()
    elif connection.vendor == "sqlite":
        modes = _sqlite_modes_for(connection)
        modes.add(WIPE)
        try:
            yield
        finally:
            modes.discard(WIPE)
    else:
        yield
