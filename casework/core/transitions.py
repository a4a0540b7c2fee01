"""Race-safe state transitions, shared by every workflow (closures, transfers, pathways).

A transition applies only to the state and version the caller read: a conditional UPDATE
whose row count says whether it won. This holds on SQLite (writers serialise) and on
PostgreSQL (concurrent readers both see the old version, one UPDATE matches), so two people
acting at once get one success and one `Conflict`, never two results.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.db import models
from django.db.models import F

from casework.core.errors import Conflict

M = TypeVar("M", bound=models.Model)


def transition(
    obj: M, from_states: Iterable[str], to_state: str, *, noun: str, **changes: Any
) -> M:
    """Move `obj` to `to_state` if it is still in one of `from_states` at the version read,
    setting `changes` in the same UPDATE; return it fresh from the database."""
    manager = type(obj)._default_manager
    version: int = obj.version  # type: ignore[attr-defined]
    updated = manager.filter(pk=obj.pk, state__in=list(from_states), version=version).update(
        state=to_state, version=F("version") + 1, **changes
    )
    fresh = manager.get(pk=obj.pk)
    if updated != 1:
        raise Conflict(
            f"Someone else has just acted on this {noun} (it is now "
            f"'{fresh.get_state_display()}'). Reload the page to see what changed."  # type: ignore[attr-defined]
        )
    return fresh
