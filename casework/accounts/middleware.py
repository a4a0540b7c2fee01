"""Sign-in is required everywhere: a page is public only if it is listed here.

A form posted after the session has timed out is not lost: if the post passes the CSRF
check, what was typed (never passwords) is kept in the new session, the user signs in, and
the same page shows it again to check and submit (see `casework.frontend.context_processors`
and `init.js`). It is never submitted on the user's behalf."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import reverse

PUBLIC_URL_NAMES = ("login", "health")
RESTORE_SESSION_KEY = "casework_restore"
RESTORE_MAX_CHARACTERS = 200_000
NEVER_KEPT = ("csrfmiddlewaretoken",)


def _no_response(_request: HttpRequest) -> HttpResponse:
    raise AssertionError("never called: only process_view is used")  # pragma: no cover


class LoginRequiredEverywhereMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.csrf = CsrfViewMiddleware(_no_response)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated or self._is_public(request.path_info):
            return self.get_response(request)
        if request.method == "POST":
            self._keep_what_was_typed(request)
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)

    def _keep_what_was_typed(self, request: HttpRequest) -> None:
        # Only a post this browser really made: a forged cross-site post has no valid token.
        if self.csrf.process_view(request, None, (), {}) is not None:  # type: ignore[arg-type]
            return
        fields = [
            [name, value]
            for name in request.POST
            if name not in NEVER_KEPT and "password" not in name.lower()
            for value in request.POST.getlist(name)
        ]
        if fields and sum(len(v) for _, v in fields) <= RESTORE_MAX_CHARACTERS:
            request.session[RESTORE_SESSION_KEY] = {"path": request.path, "fields": fields}

    @staticmethod
    def _is_public(path: str) -> bool:
        # The API signs callers in with its own tokens and answers 401 itself.
        if path.startswith(settings.STATIC_URL) or path.startswith("/api/"):
            return True
        return any(path == reverse(name) for name in PUBLIC_URL_NAMES)
