"""Writing the audit log. Services call `audit_record` inside their own transaction, so the
event and the change it describes are committed together or not at all."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from casework.accounts.models import User
from casework.audit.models import AuditEvent


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    """The named fields' current values, for a before/after comparison."""
    return {name: _jsonable(getattr(instance, name)) for name in fields}


def changes_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def audit_record(
    *,
    actor: User | None,
    verb: str,
    category: str,
    obj: models.Model,
    summary: str,
    case: Any = None,
    person: Any = None,
    event_date: dt.date | None = None,
    reason: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    if not transaction.get_connection().in_atomic_block:
        # An event written outside the change's transaction could survive a rolled-back
        # change (or vanish while the change stays): both break X-01.
        raise RuntimeError("audit_record must be called inside the service's transaction")
    return AuditEvent.objects.create(
        actor=actor,
        verb=verb,
        category=category,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        case=case,
        person=person,
        summary=summary[:300],
        event_date=event_date or timezone.localdate(),
        reason=reason,
        changes=_jsonable(changes or {}),
    )
