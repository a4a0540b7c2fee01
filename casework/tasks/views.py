"""Doing a task and clearing notifications, from My work. POST only; each redirects back
with a banner. Whether the user may do the task is the service's decision."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from casework.core.errors import InvalidInput, NotPermitted
from casework.frontend.pages import signed_in_user as _user
from casework.tasks.selectors import tasks_for
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
    ids = [int(raw)] if raw and raw.isdigit() else None
    count = notifications_mark_read(actor=_user(request), ids=ids)
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked as read")
    return redirect("my-cases")
