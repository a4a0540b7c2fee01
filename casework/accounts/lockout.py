"""Locking sign-in after repeated failures (django-axes): the page a locked-out user sees,
unlocking from the admin, and the client's address behind a council's reverse proxy."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """django-axes' lockout page (`AXES_LOCKOUT_CALLABLE`): what happened and what to do."""
    username = str((credentials or {}).get("username") or request.POST.get("username") or "")
    cool_off: dt.timedelta | None = get_cool_off(request)
    unlock_at = None
    if cool_off is not None:
        latest = (
            AccessAttempt.objects.filter(
                username=username, ip_address=getattr(request, "axes_ip_address", None)
            )
            .order_by("-attempt_time")
            .values_list("attempt_time", flat=True)
            .first()
        )
        unlock_at = (latest or timezone.now()) + cool_off
    minutes = (
        max(1, math.ceil((unlock_at - timezone.now()).total_seconds() / 60)) if unlock_at else 0
    )
    return render(
        request,
        "accounts/locked_out.html",
        {
            "username": username,
            "failure_limit": get_failure_limit(request, credentials),
            "unlock_at": _clock(unlock_at) if unlock_at else "",
            "minutes": minutes,
        },
        status=getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429),
    )


def _clock(moment: dt.datetime) -> str:
    """3:05pm, the GOV.UK style for times, in the service's time zone."""
    local = timezone.localtime(moment)
    return f"{local.hour % 12 or 12}:{local:%M}{'am' if local.hour < 12 else 'pm'}"


def sign_in_unlock(username: str) -> int:
    """Clear the failed sign-ins recorded for `username`, from every address (the admin's
    "Unlock sign-in" action)."""
    return int(AxesProxyHandler.reset_attempts(username=username))


def client_ip(request: HttpRequest) -> str | None:
    """The address failed sign-ins are counted against (`AXES_CLIENT_IP_CALLABLE`).

    Behind `CASEWORK_TRUSTED_PROXIES` reverse proxies, each of which appends the address it
    received from to X-Forwarded-For, the client is that many entries from the right; entries
    further left were sent by the client and could be anything."""
    hops = int(settings.CASEWORK_TRUSTED_PROXIES)
    remote = request.META.get("REMOTE_ADDR")
    if hops <= 0:
        return str(remote) if remote else None
    forwarded = [
        part.strip()
        for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")
        if part.strip()
    ]
    if len(forwarded) >= hops:
        return forwarded[-hops]
    return str(remote) if remote else None
