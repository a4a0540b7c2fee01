"""Doing a task and clearing notifications, from My work and the notifications page. The
actions are POST only and redirect back with a banner. Whether the user may do the task is
the service's decision."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from casework.core.errors import InvalidInput, NotPermitted
from casework.frontend.pages import id_from
from casework.frontend.pages import signed_in_user as _user
from casework.tasks.selectors import notifications_page, tasks_for, unread_notification_count
from casework.tasks.services import notifications_mark_read, task_complete


@require_POST
def task_done(request: HttpRequest, task_id: int) -> HttpResponse:
    user = _user(request)
    # Only a task waiting on this user is found at all: anyone else's is a 404.
    task = tasks_for(user).filter(pk=task_id).first()
    if task is None:
        raise Http404("There is no such task waiting on you.")
    try:
        task_complete(actor=user, task=task)
    except (InvalidInput, NotPermitted) as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"Done: {task.title}")
    return redirect("my-cases")


@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("notification")
    wanted = id_from(raw)
    ids = [wanted] if wanted is not None else None
    count = notifications_mark_read(actor=_user(request), ids=ids)
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked as read")
    back = request.POST.get("next", "")
    # Only back to a page of this site: never an open redirect.
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("my-cases")


@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    """Everything the user has been told, newest first, unread ones marked."""
    user = _user(request)
    raw = request.GET.get("before", "")
    page, next_before = notifications_page(user, before=id_from(raw))
    return render(
        request,
        "tasks/notifications.html",
        {
            "notes": page,
            "unread": unread_notification_count(user),
            "next_before": next_before,
            "here": reverse("notifications"),
        },
    )
