"""The caller's work through the API: open tasks waiting on them, and marking one done."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from casework.api.common import PAGE_MAX, JsonInt
from casework.api.problems import ERRORS
from casework.core.errors import NotFound
from casework.frontend.pages import signed_in_user as _user
from casework.tasks.models import Task
from casework.tasks.selectors import tasks_for, unread_notifications
from casework.tasks.services import notifications_mark_read, task_complete

router = Router(tags=["tasks"])


class TaskOut(Schema):
    id: int
    title: str
    role: str
    status: str
    due_on: dt.date | None
    case_id: int | None
    requirement: str


def _task_out(task: Task) -> TaskOut:
    return TaskOut(
        id=task.pk,
        title=task.title,
        role=task.role,
        status=task.status,
        due_on=task.due_on,
        case_id=task.case_id,
        requirement=task.requirement,
    )


@router.get("/tasks", response={200: list[TaskOut], **ERRORS})
def my_tasks(request: HttpRequest) -> list[TaskOut]:
    """Open tasks waiting on the caller (theirs, or their role's in their teams), soonest due
    first, at most 100."""
    return [_task_out(t) for t in tasks_for(_user(request))[:PAGE_MAX]]


@router.post("/tasks/{task_id}/done", response={200: TaskOut, **ERRORS})
def task_done(request: HttpRequest, task_id: int) -> TaskOut:
    """Mark a task done. Tasks that a procedure step closes (a signature, an authorisation)
    close themselves when the step is done; this is for the others."""
    user = _user(request)
    task = tasks_for(user).filter(pk=task_id).first()
    if task is None:
        raise NotFound("There is no open task with that ID waiting on you.")
    return _task_out(task_complete(actor=user, task=task))


class NotificationOut(Schema):
    id: int
    case_id: int | None
    event: str
    message: str
    requirement: str
    created_at: dt.datetime


@router.get("/notifications", response={200: list[NotificationOut], **ERRORS})
def my_notifications(request: HttpRequest) -> list[NotificationOut]:
    """The caller's unread notifications, newest first, at most 100."""
    return [
        NotificationOut(
            id=n.pk,
            case_id=n.case_id,
            event=n.event,
            message=n.message,
            requirement=n.requirement,
            created_at=n.created_at,
        )
        for n in unread_notifications(_user(request))[:PAGE_MAX]
    ]


class ReadIn(Schema):
    ids: list[JsonInt] | None = Field(
        default=None, max_length=PAGE_MAX, description="Those to mark read; leave out for all."
    )


class ReadOut(Schema):
    marked_read: int


@router.post("/notifications/read", response={200: ReadOut, **ERRORS})
def read_notifications(request: HttpRequest, body: ReadIn) -> ReadOut:
    """Mark your notifications read (another person's ids are ignored)."""
    return ReadOut(marked_read=notifications_mark_read(actor=_user(request), ids=body.ids))
