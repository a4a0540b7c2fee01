"""Signing in (password, then a code for those with an authenticator app), the page shown
when sign-in is locked, and each person's own two-factor settings."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import verify_token

from casework.accounts import sessions, two_factor
from casework.accounts.forms import CodeForm, SignInForm
from casework.accounts.lockout import locked_out
from casework.accounts.models import User
from casework.frontend.pages import signed_in_user

SIGNED_OUT_MESSAGES = {
    sessions.IDLE: "You were signed out because you had not used {service} for {idle}.",
    sessions.LIMIT: "You were signed out because you had been signed in for {limit}.",
}


def _amount(number: int, unit: str) -> str:
    return f"{number} {unit}{'' if number == 1 else 's'}"


class SignInView(LoginView):
    """Django's sign-in page, saying why the user was signed out when a time-out did it."""

    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        reason = request.session.pop(sessions.SIGNED_OUT_REASON, None)
        if reason in SIGNED_OUT_MESSAGES:
            said = SIGNED_OUT_MESSAGES[reason].format(
                service=settings.CASEWORK_SERVICE_NAME,
                idle=_amount(int(settings.CASEWORK_IDLE_TIMEOUT_MINUTES), "minute"),
                limit=_amount(int(settings.CASEWORK_SESSION_MAX_HOURS), "hour"),
            )
            messages.info(request, f"{said} Sign in again to carry on.")
        return super().get(request, *args, **kwargs)


def _next_page(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: the code from the user's authenticator app. Wrong codes
    slow down (django-otp's throttling) and count towards the sign-in lockout (django-axes)."""
    user = signed_in_user(request)
    device = two_factor.device_for(user)
    if device is None:
        return redirect(_next_page(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, throttled = device.verify_is_allowed()
        if not allowed:
            wait = (throttled or {}).get("locked_until") or timezone.now()
            seconds = max(1, math.ceil((wait - timezone.now()).total_seconds()))
            form.add_error(
                "code",
                f"You entered a wrong code. Wait {seconds} second{'s' if seconds != 1 else ''}, "
                "then enter the code your authenticator app shows now",
            )
        elif verify_token(user, device.persistent_id, form.cleaned_data["code"]) is not None:
            device.refresh_from_db()
            otp_login(request, device)
            sessions.session_rekey(request, user)
            return redirect(_next_page(request))
        else:
            locked = _count_failure(request, user)
            if locked is not None:
                return locked
            form.add_error(
                "code",
                "The code is not right. Enter the code your authenticator app shows now: "
                "each code lasts 30 seconds",
            )
    return _page(request, "accounts/two_factor_verify.html", form, {"next": _next_page(request)})


def _count_failure(request: HttpRequest, user: User) -> HttpResponse | None:
    """A wrong code is a failed sign-in, as a wrong password is: too many lock sign-in."""
    credentials = {"username": user.get_username()}
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    if not getattr(request, "axes_locked_out", False):
        return None
    logout(request)
    return locked_out(request, None, credentials)


@never_cache
@require_http_methods(["GET"])
def two_factor_status(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    return render(
        request,
        "accounts/two_factor.html",
        {
            "device": two_factor.device_for(user),
            "required": two_factor.two_factor_required(user),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Set up (or replace) an authenticator app: scan the QR code or type the secret, then
    confirm with the first code. Other sessions of the user are ended when it is set up."""
    user = signed_in_user(request)
    if two_factor.has_device(user) and not _verified(request):
        # Replacing an app needs a code from the current one (an administrator can reset it).
        return _code_first(request)
    device = two_factor.new_device(user, request.session)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if two_factor.device_confirm(user=user, device=device, code=form.cleaned_data["code"]):
            request.session.pop(two_factor.PENDING_KEY, None)
            otp_login(request, device)
            sessions.session_rekey(request, user)
            sessions.sessions_end(user=user, keep=request.session.session_key)
            two_factor.state_remember(request.session, user)
            messages.success(
                request,
                "Your authenticator app is set up. Each time you sign in, you will be asked "
                "for the code it shows",
            )
            return redirect(_next_page(request) if request.POST.get("next") else "two-factor")
        form.add_error(
            "code",
            f"The code is not right. Check the app shows an entry for "
            f"{settings.CASEWORK_SERVICE_NAME}, then enter the code it shows now",
        )
    return _page(
        request,
        "accounts/two_factor_setup.html",
        form,
        {
            "qr_code": two_factor.qr_code_svg(device),
            "secret": two_factor.secret_for_typing(device),
            "required": two_factor.two_factor_required(user),
            "replacing": two_factor.has_device(user),
            "next": request.POST.get("next") or request.GET.get("next") or "",
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_remove(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if two_factor.has_device(user) and not _verified(request):
        return _code_first(request)
    if request.method == "POST":
        two_factor.devices_remove(user=user)
        two_factor.state_remember(request.session, user)
        messages.success(request, "Your authenticator app has been removed")
        return redirect("two-factor")
    return render(
        request,
        "accounts/two_factor_remove.html",
        {"required": two_factor.two_factor_required(user)},
    )


def _code_first(request: HttpRequest) -> HttpResponse:
    return redirect(f"{resolve_url('two-factor-verify')}?{urlencode({'next': request.path})}")


def _verified(request: HttpRequest) -> bool:
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified and is_verified())


def _page(
    request: HttpRequest, template: str, form: CodeForm, context: dict[str, Any]
) -> HttpResponse:
    return render(request, template, {"form": form, **context}, status=400 if form.errors else 200)
