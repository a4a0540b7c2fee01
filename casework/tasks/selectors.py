"""Reads for tasks and notifications, through the access-scoped case selector: what is
waiting on a user, and the overdue work in the teams a manager runs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from casework.access.policy import cases_visible_to, need_to_know
from casework.accounts.models import User
from casework.organisation.models import MANAGER_ROLES, SERVICE_AREA_WIDE_ROLES, Membership
from casework.tasks.models import Notification, Task, TaskStatus


def tasks_for(user: User) -> QuerySet[Task]:
    """Open tasks `user` is the one to do: assigned to them, or for their role in the task's
    team (or, for roles that span a service area, in that area). Only on cases they may
    see. Soonest due first; undated last. One query."""
    memberships = Membership.objects.current().filter(user=user, role=OuterRef("role"))
    holds_role = Exists(
        memberships.filter(
            Q(team_id=OuterRef("team_id"))
            | Q(role__in=SERVICE_AREA_WIDE_ROLES)
            | Q(team__service_area=OuterRef("case__service_area"))
        )
    )
    return (
        Task.objects.filter(status=TaskStatus.OPEN)
        # EXISTS, not IN: under an OR, IN would have the database list every case the user
        # can see (tens of thousands) to check a handful of tasks.
        .filter(
            Q(case__isnull=True) | Exists(cases_visible_to(user).filter(pk=OuterRef("case_id")))
        )
        .filter(Q(assignee=user) | Q(assignee__isnull=True) & holds_role)
        .select_related("case__subject", "team")
        .order_by("due_on", "id")
    )


def unread_notifications(user: User) -> QuerySet[Notification]:
    return (
        Notification.objects.filter(recipient=user, read_at__isnull=True)
        .select_related("case__subject")
        .order_by("-created_at", "-id")
    )


def unread_notification_count(user: User) -> int:
    """For the header on every page: one indexed COUNT over one person's notifications."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notifications_page(
    user: User, *, before: int | None = None, size: int = 50
) -> tuple[list[Notification], int | None]:
    """A page of `user`'s notifications, read and unread, newest first, and the cursor of
    the next (older) page if there is one. Keyset by id, so a page deep in a long history
    costs the same as the first."""
    notes = Notification.objects.filter(recipient=user).select_related("case").order_by("-id")
    if before is not None:
        notes = notes.filter(pk__lt=before)
    rows = list(notes[: size + 1])
    return rows[:size], (rows[size - 1].pk if len(rows) > size else None)


@dataclass(frozen=True)
class OverdueRow:
    worker_name: str
    overdue: int
    oldest_due: dt.date


def overdue_by_worker(user: User, *, today: dt.date | None = None) -> list[OverdueRow]:
    """For the teams `user` manages (a senior manager: every team in their service area):
    open tasks past their due date on those cases, counted by the case's allocated worker
    (unallocated cases together), most overdue first. One query."""
    today = today or timezone.localdate()
    # Read the user's management first, as plain values: as subqueries ORed together they
    # made the database test every case in the authority (70 ms at a million cases).
    managed = [seat for seat in need_to_know(user).seats if seat.role in MANAGER_ROLES]
    if not managed:
        return []
    team_ids = sorted({seat.team_id for seat in managed})
    senior_areas = sorted({s.service_area for s in managed if s.role in SERVICE_AREA_WIDE_ROLES})
    rows = (
        Task.objects.filter(
            Q(case__responsible_team_id__in=team_ids) | Q(case__service_area__in=senior_areas),
            status=TaskStatus.OPEN,
            due_on__lt=today,
            case__in=cases_visible_to(user),
        )
        .values("case__allocated_worker__first_name", "case__allocated_worker__last_name")
        .annotate(overdue=Count("id"), oldest=Min("due_on"))
        .order_by("-overdue", "oldest")
    )
    return [
        OverdueRow(
            worker_name=" ".join(
                p
                for p in (
                    r["case__allocated_worker__first_name"],
                    r["case__allocated_worker__last_name"],
                )
                if p
            )
            or "Unallocated cases",
            overdue=r["overdue"],
            oldest_due=r["oldest"],
        )
        for r in rows
    ]
