"""The unread-notification count for the header on every page."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from django.http import HttpRequest

from casework.accounts.models import User
from casework.tasks.selectors import unread_notification_count


def notifications(request: HttpRequest) -> dict[str, Callable[[], int]]:
    """`unread_notification_count`, counted only if a template uses it (templates call a
    callable), and at most once per request however often it is used."""
    user = getattr(request, "user", None)
    if not isinstance(user, User):
        return {}

    @cache
    def count() -> int:
        return unread_notification_count(user)

    return {"unread_notification_count": count}
