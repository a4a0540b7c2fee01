"""What happens to sessions when someone signs in or out, is disabled, or has their password
changed. Connected in `AccountsConfig.ready`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_save, pre_save
from django.http import HttpRequest

from casework.accounts import sessions, two_factor
from casework.accounts.models import User

_END_SESSIONS = "_casework_end_sessions"


def on_sign_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    sessions.session_started(request, user)
    two_factor.state_remember(request.session, user)


def on_sign_out(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    if request is not None:
        sessions.session_forget(request)


def before_user_saved(sender: Any, instance: User, update_fields: Any, **kwargs: Any) -> None:
    """Note whether this save disables the user or changes their password: either ends every
    session they have (Django would refuse each on its next request anyway; this removes the
    sessions themselves at once, whichever way the save was made)."""
    if instance.pk is None or (
        update_fields is not None and not {"is_active", "password"} & set(update_fields)
    ):
        return
    before = User.objects.filter(pk=instance.pk).values("is_active", "password").first()
    if before is None:
        return
    disabled = before["is_active"] and not instance.is_active
    setattr(instance, _END_SESSIONS, disabled or before["password"] != instance.password)


def after_user_saved(sender: Any, instance: User, created: bool, **kwargs: Any) -> None:
    if getattr(instance, _END_SESSIONS, False):
        setattr(instance, _END_SESSIONS, False)
        sessions.sessions_end(user=instance)


def connect() -> None:
    user_logged_in.connect(on_sign_in, dispatch_uid="casework.accounts.on_sign_in")
    user_logged_out.connect(on_sign_out, dispatch_uid="casework.accounts.on_sign_out")
    pre_save.connect(before_user_saved, sender=User, dispatch_uid="casework.accounts.before")
    post_save.connect(after_user_saved, sender=User, dispatch_uid="casework.accounts.after")
