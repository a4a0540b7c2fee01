"""What every screen shares: the signed-in user, and the wrapper for case-scoped pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from casework.accounts.models import User
from casework.core.errors import NotFound, NotPermitted

CaseView = Callable[[HttpRequest, int], HttpResponse]


def signed_in_user(request: HttpRequest) -> User:
    """The user making the request. The sign-in middleware (screens) or the API's token check
    has already refused anyone else."""
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - guaranteed by the middleware or TokenAuth
    return user


def refused(request: HttpRequest, message: str, **context: object) -> HttpResponse:
    """The plain 403 page: what the user cannot do, and whom to ask."""
    return render(
        request, "closure/not_permitted.html", {"message": message, **context}, status=403
    )


def case_page(view: CaseView) -> CaseView:
    """A case-scoped page (GET and POST): a case the user may not see is a 404, and an
    action their role does not allow is the plain 403 page, never a crash."""

    @wraps(view)
    def wrapper(request: HttpRequest, case_id: int) -> HttpResponse:
        try:
            return view(request, case_id)
        except NotFound as missing:
            raise Http404(str(missing)) from missing
        except NotPermitted as not_allowed:
            return refused(request, str(not_allowed))

    return require_http_methods(["GET", "POST"])(wrapper)


def id_from(raw: str | None) -> int | None:
    """A record ID typed in a URL or form, or None. Only ASCII digits, at most 18 of them
    (`"²".isdigit()` is true but `int("²")` fails, and a 30-digit number overflows the
    database's integers): odd input is "no such record", never a server error."""
    if raw and raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return int(raw)
    return None
