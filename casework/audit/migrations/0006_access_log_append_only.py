"""The access log is append-only too (issue 9 items 2 and 3), guarded exactly like the audit
log by migration 0004: on PostgreSQL the same trigger function (which compares whole rows,
so it serves any table with `summary`, `case_id` and `person_id` columns), on SQLite the same
pair of triggers with this table's unchanging columns listed. Disposal may redact `summary`
and clear `case_id`/`person_id` (casework/audit/integrity.py); nothing may delete a row but
`flush`.
"""

from typing import Any

from django.db import migrations

TABLE = "audit_accessevent"

POSTGRES_FORWARD = [
    f"""
    CREATE TRIGGER casework_access_append_only_row
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION casework_audit_append_only()
    """,
    f"""
    CREATE TRIGGER casework_access_append_only_truncate
    BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION casework_audit_append_only()
    """,
]
POSTGRES_REVERSE = [
    f"DROP TRIGGER IF EXISTS casework_access_append_only_truncate ON {TABLE}",
    f"DROP TRIGGER IF EXISTS casework_access_append_only_row ON {TABLE}",
]

SQLITE_IMMUTABLE = (
    "id",
    "occurred_at",
    "actor_id",
    "channel",
    "action",
    "url_name",
    "path",
    "emergency_access_id",
)
SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER casework_access_no_update BEFORE UPDATE ON {TABLE} FOR EACH ROW
    WHEN NOT casework_audit_allows('redaction')
        OR {" OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in SQLITE_IMMUTABLE)}
        OR (NEW.case_id IS NOT NULL AND NEW.case_id IS NOT OLD.case_id)
        OR (NEW.person_id IS NOT NULL AND NEW.person_id IS NOT OLD.person_id)
    BEGIN
        SELECT RAISE(ABORT, 'access log entries are append-only: UPDATE of {TABLE} refused');
    END
    """,
    f"""
    CREATE TRIGGER casework_access_no_delete BEFORE DELETE ON {TABLE} FOR EACH ROW
    WHEN NOT casework_audit_allows('wipe')
    BEGIN
        SELECT RAISE(ABORT, 'access log entries are append-only: DELETE of {TABLE} refused');
    END
    """,
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS casework_access_no_delete",
    "DROP TRIGGER IF EXISTS casework_access_no_update",
]


def _run(schema_editor: Any, statements: dict[str, list[str]]) -> None:
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


def forward(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, {"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD})


def reverse(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, {"postgresql": POSTGRES_REVERSE, "sqlite": SQLITE_REVERSE})


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0005_access_log"),
    ]

    operations = [
        migrations.RunPython(forward, reverse, elidable=False),
    ]
