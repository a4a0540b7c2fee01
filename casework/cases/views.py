from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from casework.accounts.models import User
from casework.cases.selectors import case_page, my_open_cases, team_open_cases
from casework.closure.selectors import closure_readiness
from casework.core.errors import NotFound
from casework.organisation.models import Membership
from casework.tasks.selectors import overdue_by_worker, tasks_for, unread_notifications
from casework.transfers.models import ACTIVE_TRANSFER_STATES, Transfer
from casework.transfers.rereferral import coming_back

TASKS_SHOWN = 50
NOTIFICATIONS_SHOWN = 20


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - the middleware guarantees a signed-in user
    return user


def _parse_after(raw: str | None) -> tuple[dt.date, int] | None:
    """The keyset cursor `YYYY-MM-DD.id`; a malformed one starts from the beginning."""
    if not raw:
        return None
    try:
        day, _, pk = raw.partition(".")
        return dt.date.fromisoformat(day), int(pk)
    except ValueError:
        return None


def my_cases(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    team_cases, next_key = team_open_cases(user, after=_parse_after(request.GET.get("after")))
    return render(
        request,
        "cases/my_cases.html",
        {
            "my_cases": list(my_open_cases(user)[:100]),
            "team_cases": team_cases,
            "next_cursor": f"{next_key[0].isoformat()}.{next_key[1]}" if next_key else "",
            "memberships": Membership.objects.current().filter(user=user).select_related("team"),
            "tasks": list(tasks_for(user)[:TASKS_SHOWN]),
            "notifications": list(unread_notifications(user)[:NOTIFICATIONS_SHOWN]),
            "overdue_by_worker": overdue_by_worker(user),
            "today": timezone.localdate(),
        },
    )


def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    try:
        page = case_page(_user(request), case_id)
    except NotFound as missing:
        raise Http404(str(missing)) from missing
    readiness = closure_readiness(_user(request), page.case)
    return render(
        request,
        "cases/case_detail.html",
        {
            "page": page,
            "case": page.case,
            "readiness": readiness,
            "active_transfer": Transfer.objects.filter(
                case=page.case, state__in=ACTIVE_TRANSFER_STATES
            )
            .select_related("to_team")
            .first(),
            "returning": coming_back(_user(request), page.case),
        },
    )
