"""Trying a service without keeping what it does: for "Check your answers" and inline
validation, the screens ask the one place the rules live (the service) whether it would
accept the input, in a transaction that is always rolled back."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from casework.core.errors import InvalidInput


class _TrialOnly(Exception):
    """Raised to roll back a trial run: nothing the service wrote is kept."""


def refusal_of(call: Callable[[], object]) -> InvalidInput | None:
    """The service's refusal, or None if it would accept. Nothing is written either way
    (services must not have effects outside the database; none does)."""
    try:
        with transaction.atomic():
            call()
            raise _TrialOnly
    except _TrialOnly:
        return None
    except InvalidInput as refused:
        return refused
