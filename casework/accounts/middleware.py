"""Sign-in is required everywhere: a page is public only if it is listed here.

A form posted after the session has timed out is not lost: if the post passes the CSRF
check, what was typed (never passwords) is kept in the new session, the user signs in, and
the same page shows it again to check and submit (see `casework.frontend.context_processors`
and `init.js`). It is never submitted on the user's behalf.

`SessionTimeoutMiddleware` (before this one) ends a session after inactivity and after the
absolute limit, so a post sent after either time-out is kept the same way.
`TwoFactorMiddleware` (after this one) holds a signed-in user at the second-factor pages
until they have entered a code (or set up an app, where one is required)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from casework.accounts import sessions, two_factor
from casework.accounts.models import User

PUBLIC_URL_NAMES = ("login", "health")
RESTORE_SESSION_KEY = "casework_restore"
RESTORE_MAX_CHARACTERS = 200_000
NEVER_KEPT = ("csrfmiddlewaretoken",)
# Sent by pages that refresh themselves (`hx-headers='{"Casework-Background": "poll"}'`): such a
# request is not the person doing anything, so it does not keep their session alive.
BACKGROUND_HEADER = "Casework-Background"


def _no_response(_request: HttpRequest) -> HttpResponse:
    raise AssertionError("never called: only process_view is used")  # pragma: no cover


class LoginRequiredEverywhereMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.csrf = CsrfViewMiddleware(_no_response)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The path first: an API call that also carries a session cookie need not read the
        # session and the user (two queries) only to be let through.
        path = request.path_info
        if _exempt(path) or request.user.is_authenticated or self._is_public(path):
            return self.get_response(request)
        if request.method == "POST":
            self._keep_what_was_typed(request)
        elif request.headers.get("HX-Request") == "true":
            # A part of a page asking for itself again (a queue refreshing itself) after the
            # session ended: send the whole page to the sign-in page, which says why, rather
            # than put the sign-in page inside the part.
            response = HttpResponse(status=200)
            response["HX-Redirect"] = _sign_in_url(_page_behind(request))
            return response
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


def _sign_in_url(next_path: str) -> str:
    url = resolve_url(settings.LOGIN_URL)
    return f"{url}?{urlencode({'next': next_path})}" if next_path else url


def _page_behind(request: HttpRequest) -> str:
    """The page an htmx request was made from (this site only), as a path."""
    current = request.headers.get("HX-Current-URL", "")
    if not current or not url_has_allowed_host_and_scheme(
        current, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return ""
    parts = urlsplit(current)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _exempt(path: str) -> bool:
    # Static files are not activity; the API signs callers in with tokens, not sessions.
    return path.startswith(settings.STATIC_URL) or path.startswith("/api/")


def is_background(request: HttpRequest) -> bool:
    return bool(request.headers.get(BACKGROUND_HEADER))


class SessionTimeoutMiddleware:
    """Signs the user out after `CASEWORK_IDLE_TIMEOUT_MINUTES` without activity, and
    `CASEWORK_SESSION_MAX_HOURS` after signing in whatever the activity; the sign-in page then
    says why. Requests a page makes by itself (`BACKGROUND_HEADER`) are not activity.

    Goes after the authentication middleware and before `LoginRequiredEverywhereMiddleware`,
    which then treats the request as one from a signed-out user (keeping a posted form)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _exempt(request.path_info):  # before request.user, which reads the session
            return self.get_response(request)
        user = request.user
        if isinstance(user, User) and user.is_authenticated:
            session = request.session
            reason = sessions.timed_out(session)
            if reason:
                logout(request)
                request.session[sessions.SIGNED_OUT_REASON] = reason
            else:
                if not is_background(request):
                    sessions.activity(session)
                if session.get(sessions.RECORDED_KEY) != session.session_key:
                    # The key changed under the session (a password change keeps the user
                    # signed in with a new key): record the new one.
                    sessions.session_record(request, user)
        return self.get_response(request)


class TwoFactorMiddleware:
    """A signed-in user with an authenticator app must enter a code before anything else; a
    user who must have one (`two_factor.two_factor_required`) and has not must set one up.

    Goes after `LoginRequiredEverywhereMiddleware` and django-otp's `OTPMiddleware`. What the
    user must do is kept in the session, so a user with nothing to do costs no query."""

    ALWAYS_ALLOWED = ("logout", "health")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _exempt(request.path_info):  # before request.user, which reads the session
            return self.get_response(request)
        user = request.user
        if not isinstance(user, User) or not user.is_authenticated or _is_verified(user):
            return self.get_response(request)
        state = two_factor.remembered_state(request.session)
        if state != two_factor.NONE:
            # Worked out again while it blocks: an administrator may have reset the device.
            state = two_factor.state_remember(request.session, user)
        if state == two_factor.NONE:
            return self.get_response(request)
        target = "two-factor-verify" if state == two_factor.VERIFY else "two-factor-setup"
        allowed = (target, *self.ALWAYS_ALLOWED)
        if any(request.path_info == reverse(name) for name in allowed):
            return self.get_response(request)
        wanted = request.get_full_path() if request.method == "GET" else request.path
        return HttpResponseRedirect(f"{reverse(target)}?{urlencode({'next': wanted})}")


def _is_verified(user: User) -> bool:
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())
