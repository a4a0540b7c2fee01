from django.apps import AppConfig
from django.db.backends.signals import connection_created


class AuditConfig(AppConfig):
    name = "casework.audit"
    label = "audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from casework.audit.integrity import register_sqlite_functions

        # The SQLite triggers that keep the audit log append-only ask this connection's
        # function whether redaction or a wipe is open (see casework/audit/integrity.py).
        connection_created.connect(
            register_sqlite_functions, dispatch_uid="casework.audit.sqlite_functions"
        )
