"""Submitting twice does nothing twice (issue 6): forms that add a new record (a visit, a
note, a document, a referral) carry a one-time token in a hidden field. Spending it inside
the write's transaction records it with a unique key, so a second post of the same form (a
double click past the button's own guard, a resubmitted page, Back and submit again, two
tabs) is refused by the database, even when the two race, and nothing is written twice.

Forms whose service already refuses a repeat (the closure and transfer state machines) do
not need one. A post without a token (an older page, a script) is processed as before."""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction
from django.http import HttpRequest

from casework.core.models import SpentFormToken

FIELD = "once"


class AlreadySubmitted(Exception):
    """This form was already submitted; the first submission's result stands."""


def issue() -> str:
    return secrets.token_urlsafe(24)


def spend(request: HttpRequest) -> None:
    """Call inside the transaction that writes: raises AlreadySubmitted if the token in the
    post was spent before (the caller's transaction then writes nothing)."""
    token = request.POST.get(FIELD, "")[:64]
    if not token:
        return
    try:
        with transaction.atomic():
            SpentFormToken.objects.create(token=token)
    except IntegrityError as repeat:
        raise AlreadySubmitted from repeat


def token_for(request: HttpRequest) -> str:
    """The token for the form on this page: the posted one when it is shown again with
    errors (nothing was written, so it is still unspent), else a new one."""
    return request.POST.get(FIELD, "")[:64] or issue()


ALREADY_SAVED = "That was already saved, so it has not been saved again."
