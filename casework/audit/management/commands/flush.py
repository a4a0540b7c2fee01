"""Django's `flush`, which empties every table, with the audit log's guard lifted for it.

The audit table refuses TRUNCATE (PostgreSQL) and DELETE (SQLite) from the application
(casework/audit/integrity.py). Emptying the whole database is not rewriting its history,
and the test suite flushes after every transactional test, so `flush` alone may empty it.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush

from casework.audit.integrity import audit_wipe


class Command(flush.Command):
    help = flush.Command.help + " The audit log's append-only guard is lifted for this alone."

    def handle(self, **options: Any) -> None:
        with audit_wipe(options["database"]):
            super().handle(**options)
