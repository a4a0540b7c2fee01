"""The database refuses to change or remove audit events (X-01; issue 9 item 3).

PostgreSQL: one trigger function, fired before UPDATE or DELETE of each row and before
TRUNCATE of the table. SQLite: a trigger before UPDATE and one before DELETE of each row.
Both allow only the narrow openings described in casework/audit/integrity.py: redaction of
named columns (for disposal) and the wipe that `flush` does. The SQL is written out here,
not imported, so that this migration means the same thing whatever the code becomes.

Errors are integrity errors on both databases (SQLSTATE 23000 on PostgreSQL, SQLite's
RAISE(ABORT)), so the application sees `django.db.IntegrityError` either way.
"""

from typing import Any

from django.db import migrations

TABLE = "audit_auditevent"

POSTGRES_FORWARD = [
    # Columns other than the redactable ones are compared as a whole row (to_jsonb), so a
    # column added later is protected from redaction without changing this function.
    """
    CREATE OR REPLACE FUNCTION casework_audit_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $fn$
    BEGIN
        IF TG_OP = 'TRUNCATE' THEN
            IF coalesce(current_setting('casework.audit_wipe', true), '') = 'on' THEN
                RETURN NULL;
            END IF;
        ELSIF TG_OP = 'UPDATE'
            AND coalesce(current_setting('casework.audit_redaction', true), '') = 'on'
            AND (to_jsonb(NEW) - ARRAY['summary', 'reason', 'changes', 'case_id', 'person_id'])
                = (to_jsonb(OLD) - ARRAY['summary', 'reason', 'changes', 'case_id', 'person_id'])
            AND (NEW.case_id IS NULL OR NEW.case_id IS NOT DISTINCT FROM OLD.case_id)
            AND (NEW.person_id IS NULL OR NEW.person_id IS NOT DISTINCT FROM OLD.person_id)
        THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION USING
            ERRCODE = 'integrity_constraint_violation',
            MESSAGE = 'audit events are append-only: ' || TG_OP || ' of ' || TG_TABLE_NAME
                || ' refused',
            HINT = 'Only a disposal may redact events (casework.audit_redaction), and only'
                || ' flush may empty the table (casework/audit/integrity.py).';
    END;
    $fn$
    """,
    f"""
    CREATE TRIGGER casework_audit_append_only_row
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION casework_audit_append_only()
    """,
    f"""
    CREATE TRIGGER casework_audit_append_only_truncate
    BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION casework_audit_append_only()
    """,
]
POSTGRES_REVERSE = [
    f"DROP TRIGGER IF EXISTS casework_audit_append_only_truncate ON {TABLE}",
    f"DROP TRIGGER IF EXISTS casework_audit_append_only_row ON {TABLE}",
    "DROP FUNCTION IF EXISTS casework_audit_append_only()",
]

# SQLite cannot compare whole rows, so the columns that must never change are listed: a
# column added to AuditEvent must be added here (by a new migration) too.
SQLITE_IMMUTABLE = (
    "id",
    "occurred_at",
    "event_date",
    "actor_id",
    "verb",
    "category",
    "object_type",
    "object_id",
)
SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER casework_audit_no_update BEFORE UPDATE ON {TABLE} FOR EACH ROW
    WHEN NOT casework_audit_allows('redaction')
        OR {" OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in SQLITE_IMMUTABLE)}
        OR (NEW.case_id IS NOT NULL AND NEW.case_id IS NOT OLD.case_id)
        OR (NEW.person_id IS NOT NULL AND NEW.person_id IS NOT OLD.person_id)
    BEGIN
        SELECT RAISE(ABORT, 'audit events are append-only: UPDATE of {TABLE} refused');
    END
    """,
    f"""
    CREATE TRIGGER casework_audit_no_delete BEFORE DELETE ON {TABLE} FOR EACH ROW
    WHEN NOT casework_audit_allows('wipe')
    BEGIN
        SELECT RAISE(ABORT, 'audit events are append-only: DELETE of {TABLE} refused');
    END
    """,
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS casework_audit_no_delete",
    "DROP TRIGGER IF EXISTS casework_audit_no_update",
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
        ("audit", "0003_export_category"),
    ]

    operations = [
        migrations.RunPython(forward, reverse, elidable=False),
    ]
