"""Signed-in sessions: when each began and was last used, and ending them.

A session ends after `CASEWORK_IDLE_TIMEOUT_MINUTES` without activity and
`CASEWORK_SESSION_MAX_HOURS` after signing in, whatever the activity (see
`SessionTimeoutMiddleware`). Every session a user signs in with is recorded
(`SignedInSession`), so that disabling them ends all their sessions at once.
"""

from __future__ import annotations

import datetime as dt
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django.utils import timezone

from casework.accounts.models import SignedInSession, User

SIGNED_IN_AT = "casework_signed_in_at"
LAST_ACTIVE = "casework_last_active"
RECORDED_KEY = "casework_recorded_session"
SIGNED_OUT_REASON = "casework_signed_out"

# Activity is written to the session at most this often: a write on every request would make
# every page view a database write. The idle time-out allows for it (see `is_idle`).
ACTIVITY_PRECISION_SECONDS = 60

IDLE = "idle"
LIMIT = "limit"


def _now() -> float:
    return timezone.now().timestamp()


def idle_timeout_seconds() -> int:
    return int(settings.CASEWORK_IDLE_TIMEOUT_MINUTES) * 60


def max_age_seconds() -> int:
    return int(settings.CASEWORK_SESSION_MAX_HOURS) * 60 * 60


def session_started(request: HttpRequest, user: User) -> None:
    """Called on signing in: start both clocks and record the session against the user."""
    now = _now()
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_ACTIVE] = now
    session_record(request, user)
    # No session can outlive the absolute limit: older records are of sessions long gone.
    SignedInSession.objects.filter(
        user=user, signed_in_at__lt=timezone.now() - dt.timedelta(seconds=max_age_seconds())
    ).delete()


def session_record(request: HttpRequest, user: User) -> None:
    """Record the session's current key against `user` (again, if the key has changed)."""
    session = request.session
    if session.session_key is None:
        session.save()
    key = session.session_key
    if key is None:  # pragma: no cover - save() always gives the session a key
        return
    previous = session.get(RECORDED_KEY)
    if previous and previous != key:
        SignedInSession.objects.filter(session_key=previous).delete()
    SignedInSession.objects.update_or_create(
        session_key=key, defaults={"user": user, "signed_in_at": _signed_in_at(session)}
    )
    session[RECORDED_KEY] = key


def session_rekey(request: HttpRequest, user: User) -> None:
    """A new session key for a session that has just gained privilege (a second factor), so
    that a key seen before cannot be used to ride on it."""
    request.session.cycle_key()
    session_record(request, user)


def session_forget(request: HttpRequest) -> None:
    """Called on signing out: the session is about to be deleted."""
    key = getattr(request, "session", None) and request.session.session_key
    if key:
        SignedInSession.objects.filter(session_key=key).delete()


def sessions_end(*, user: User, keep: str | None = None) -> int:
    """End every session `user` signed in with (except the session `keep`), at once."""
    records = SignedInSession.objects.filter(user=user)
    if keep:
        records = records.exclude(session_key=keep)
    keys = list(records.values_list("session_key", flat=True))
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for key in keys:
        store().delete(key)
    records.delete()
    return len(keys)


def timed_out(session: SessionBase) -> str | None:
    """Why this signed-in session has ended (`IDLE` or `LIMIT`), or None if it has not.

    A session from before these clocks existed starts them now. A clock that is ahead of
    now (the server's time was put back) has not run out."""
    now = _now()
    signed_in_at = session.get(SIGNED_IN_AT)
    last_active = session.get(LAST_ACTIVE)
    if not isinstance(signed_in_at, int | float) or not isinstance(last_active, int | float):
        session[SIGNED_IN_AT] = session[LAST_ACTIVE] = now
        return None
    if now - signed_in_at >= max_age_seconds():
        return LIMIT
    # Activity is recorded to within ACTIVITY_PRECISION_SECONDS, so allow that much more:
    # nobody is signed out sooner than the time-out after their last action.
    if now - last_active >= idle_timeout_seconds() + ACTIVITY_PRECISION_SECONDS:
        return IDLE
    return None


def activity(session: SessionBase) -> None:
    """Someone did something: restart the idle clock (to within ACTIVITY_PRECISION_SECONDS)."""
    now = _now()
    last_active = session.get(LAST_ACTIVE)
    if not isinstance(last_active, int | float) or now - last_active >= (
        ACTIVITY_PRECISION_SECONDS
    ):
        session[LAST_ACTIVE] = now


def _signed_in_at(session: SessionBase) -> dt.datetime:
    started = session.get(SIGNED_IN_AT)
    if isinstance(started, int | float):
        return dt.datetime.fromtimestamp(started, tz=dt.UTC)
    return timezone.now()
