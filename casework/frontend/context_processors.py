"""Template context available on every page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from casework.access.policy import need_to_know
from casework.accounts.middleware import RESTORE_SESSION_KEY
from casework.accounts.models import User
from casework.organisation.models import MANAGER_ROLES, SERVICE_AREA_WIDE_ROLES
from casework.retention.selectors import REVIEWER_ROLES


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


@dataclass(frozen=True)
class Sections:
    """The parts of the service navigation offered to the signed-in user. Each page still
    checks access itself: this only decides which links to show."""

    team_cases: bool
    dashboards: bool
    exports: bool
    access_reviews: bool
    retention: bool


def _sections(user: User) -> Sections:
    roles = need_to_know(user).roles  # read once a request with the need to know
    return Sections(
        team_cases=bool(roles),
        dashboards=bool(roles & MANAGER_ROLES),
        exports=bool(roles & SERVICE_AREA_WIDE_ROLES),
        # Managers review emergency access by their people and to their teams' cases.
        access_reviews=bool(roles & MANAGER_ROLES),
        retention=bool(roles & REVIEWER_ROLES),
    )


def navigation(request: HttpRequest) -> dict[str, Any]:
    """`nav.team_cases`, `nav.dashboards`, `nav.exports`, ...: one query, and only on a page
    that draws the navigation (the object is lazy)."""
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_active:
        return {}
    return {"nav": SimpleLazyObject(lambda: _sections(user))}
