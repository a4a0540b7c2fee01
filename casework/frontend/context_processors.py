"""Template context available on every page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from casework.accounts.middleware import RESTORE_SESSION_KEY


def service(request: HttpRequest) -> dict[str, str]:
    """The service's name, shown in the header and page titles; each council sets its own."""
    return {"service_name": settings.CASEWORK_SERVICE_NAME}


def restored_work(request: HttpRequest) -> dict[str, Any]:
    """What the user typed before their session timed out, once, on the page they posted it
    from (see LoginRequiredEverywhereMiddleware)."""
    session = getattr(request, "session", None)
    if session is None or request.method != "GET" or not request.user.is_authenticated:
        return {}
    kept = session.get(RESTORE_SESSION_KEY)
    if not kept or kept.get("path") != request.path:
        return {}
    del session[RESTORE_SESSION_KEY]
    return {"restored_fields": kept["fields"]}
