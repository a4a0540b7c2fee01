"""What is waiting on a user (J1: "my work"), and the overdue work by worker a manager sees:
the tasks are the right person's, only on cases they may see, and doing one is one click."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework.accounts.models import User
from casework.cases.models import Case
from casework.organisation.models import Role, Team
from casework.tasks.models import Notification, Task, TaskStatus
from casework.tasks.selectors import overdue_by_worker, tasks_for
from casework.tasks.services import task_schedule

TODAY = timezone.localdate()


def _task(case: Case | None, key: str, role: str, due: int, **extra: Any) -> Task:
    return task_schedule(
        key=key,
        case=case,
        title=f"Task {key}",
        role=role,
        due_on=TODAY + dt.timedelta(days=due),
        **extra,
    )


def test_x03_my_tasks_are_mine_by_assignment_or_by_role_in_my_team(
    open_case: Case,
    worker: User,
    manager: User,
    outsider: User,
    make_staff: Callable[..., User],
    team_ai: Team,
) -> None:
    """X-03: a worker sees tasks assigned to them and tasks for their role in their team,
    soonest first; not the manager's, not another team's, not finished ones."""
    admin = make_staff("admin-ai", team_ai, Role.BUSINESS_SUPPORT)
    _task(open_case, "for-workers", Role.SOCIAL_WORKER, 3)
    _task(open_case, "overdue", Role.SOCIAL_WORKER, -2)
    _task(open_case, "for-manager", Role.TEAM_MANAGER, 1)
    _task(open_case, "for-support", Role.BUSINESS_SUPPORT, 5)
    done = _task(open_case, "done", Role.SOCIAL_WORKER, 0)
    Task.objects.filter(pk=done.pk).update(status=TaskStatus.DONE, completed_at=timezone.now())
    assert [t.key for t in tasks_for(worker)] == ["overdue", "for-workers"]
    assert [t.key for t in tasks_for(manager)] == ["for-manager"]
    assert [t.key for t in tasks_for(admin)] == ["for-support"]
    assert list(tasks_for(outsider)) == []


def test_x03_doing_a_task_from_my_work(open_case: Case, worker: User, outsider: User) -> None:
    """X-03: "Mark as done" finishes the task once, with a banner; someone it is not waiting
    on gets a 404 and the task stays open."""
    task = _task(open_case, "visit", Role.SOCIAL_WORKER, 1)
    other = Client()
    other.force_login(outsider)
    assert other.post(reverse("task-done", args=[task.pk])).status_code == 404
    assert Task.objects.get(pk=task.pk).status == TaskStatus.OPEN
    client = Client()
    client.force_login(worker)
    page = client.get(reverse("my-cases"))
    assert b"Task visit" in page.content
    done = client.post(reverse("task-done", args=[task.pk]), follow=True)
    assert b"Done: Task visit" in done.content
    assert Task.objects.get(pk=task.pk).status == TaskStatus.DONE
    # A second click (a double submit, or a stale page) changes nothing.
    assert client.post(reverse("task-done", args=[task.pk])).status_code == 404


def test_notifications_are_read_one_or_all_and_only_ones_own(
    open_case: Case, worker: User, manager: User
) -> None:
    mine = [
        Notification.objects.create(
            key=f"k{n}", recipient=worker, case=open_case, event="x", message=f"Note {n}"
        )
        for n in range(3)
    ]
    theirs = Notification.objects.create(
        key="k9", recipient=manager, case=open_case, event="x", message="Manager's"
    )
    client = Client()
    client.force_login(worker)
    assert b"Note 2" in client.get(reverse("my-cases")).content
    client.post(reverse("notifications-read"), {"notification": mine[0].pk})
    client.post(reverse("notifications-read"), {"notification": theirs.pk})
    assert Notification.objects.filter(read_at__isnull=True).count() == 3
    client.post(reverse("notifications-read"))
    assert list(Notification.objects.filter(read_at__isnull=True)) == [theirs]


def test_x03_managers_see_overdue_work_by_worker(
    open_case: Case,
    worker: User,
    manager: User,
    make_staff: Callable[..., User],
    team_ai: Team,
) -> None:
    """X-03: the team manager sees, per worker, how many tasks on their cases are overdue
    and the oldest due date; a worker sees no such table."""
    _task(open_case, "a", Role.SOCIAL_WORKER, -10)
    _task(open_case, "b", Role.BUSINESS_SUPPORT, -3)
    _task(open_case, "c", Role.SOCIAL_WORKER, 2)
    rows = overdue_by_worker(manager)
    assert [(r.worker_name, r.overdue, r.oldest_due) for r in rows] == [
        (worker.display_name, 2, TODAY - dt.timedelta(days=10))
    ]
    assert overdue_by_worker(worker) == []
    client = Client()
    client.force_login(manager)
    assert b"Overdue work in your teams" in client.get(reverse("my-cases")).content


def test_my_work_reads_a_fixed_number_of_queries(
    open_case: Case, worker: User, django_assert_max_num_queries: Any
) -> None:
    for n in range(10):
        _task(open_case, f"t{n}", Role.SOCIAL_WORKER, n)
        Notification.objects.create(
            key=f"n{n}", recipient=worker, case=open_case, event="x", message=f"Note {n}"
        )
    client = Client()
    client.force_login(worker)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("my-cases"))
    assert response.content.count(b"Mark as done") == 10


def test_j3_managers_see_their_teams_work_and_workers_are_refused(
    open_case: Case, worker: User, manager: User, django_assert_max_num_queries: Any
) -> None:
    """J3: the team page counts closures, transfers and requests waiting, unallocated cases
    and overdue work by worker, each linking to its queue, in a fixed number of queries; a
    worker is told plainly it is for managers."""
    _task(open_case, "late", Role.SOCIAL_WORKER, -4)
    client = Client()
    client.force_login(manager)
    with django_assert_max_num_queries(20):
        page = client.get(reverse("team-work"))
    html = page.content.decode()
    assert "Your teams' work" in html
    assert worker.display_name in html
    assert "/closures/queue/#awaiting-decision" in html
    refused = Client()
    refused.force_login(worker)
    response = refused.get(reverse("team-work"))
    assert response.status_code == 403
    assert b"for team managers and senior managers" in response.content
