"""Creating and completing tasks, and notifying people by role. Idempotent by key, and
called inside the caller's transaction so they are written with the change they follow.

Every notification goes through `notify_users`: it writes the in-app notification now and
queues its email copy in the same transaction, for the task worker to send once the change
has committed: a change that rolls back emails nobody, and a failed email never undoes the
change (see `casework.tasks.delivery`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import connections, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from casework.access.policy import cases_visible_to
from casework.accounts.models import User
from casework.audit.models import AuditCategory
from casework.audit.services import audit_record
from casework.cases.models import Case
from casework.core.compiled import CompiledRead
from casework.core.errors import InvalidInput, NotPermitted
from casework.organisation.models import SERVICE_AREA_WIDE_ROLES, Membership, Team
from casework.tasks.delivery import notification_emails
from casework.tasks.models import Notification, Task, TaskStatus

MAX_ID = 2**63 - 1  # the largest BigAutoField value


def task_schedule(
    *,
    key: str,
    case: Case | None,
    title: str,
    role: str,
    due_on: dt.date | None,
    due_rule: str = "",
    assignee: User | None = None,
    requirement: str = "",
    escalate_to: str = "",
    team: Team | None = None,
) -> Task:
    """Create the task once; a second call with the same key returns the first."""
    task, _ = Task.objects.get_or_create(
        key=key,
        defaults={
            "case": case,
            "title": title,
            "role": role,
            "team": team or (case.responsible_team if case else None),
            "assignee": assignee,
            "due_on": due_on,
            "due_rule": due_rule,
            "requirement": requirement,
            "escalate_to": escalate_to,
        },
    )
    return task


@transaction.atomic
def task_complete(*, actor: User, task: Task) -> Task:
    task = Task.objects.select_for_update().get(pk=task.pk)
    if task.status != TaskStatus.OPEN:
        raise InvalidInput("This task is already finished.")
    if not _holds_role(actor, task):
        raise NotPermitted(
            f"This task is for the {task.get_role_display().lower()}; ask them to complete it."
        )
    task.status = TaskStatus.DONE
    task.completed_at = timezone.now()
    task.completed_by = actor
    task.save(update_fields=["status", "completed_at", "completed_by"])
    audit_record(
        actor=actor,
        verb="task.completed",
        category=AuditCategory.CASE,
        obj=task,
        case=task.case,
        person=task.case.subject if task.case else None,
        summary=f"Task done: {task.title}",
    )
    return task


def tasks_complete_by_key(*, actor: User | None, keys: list[str]) -> int:
    """Mark the tasks with these keys done because the work they asked for happened (e.g. a
    step was completed). Returns how many were open."""
    return Task.objects.filter(key__in=keys, status=TaskStatus.OPEN).update(
        status=TaskStatus.DONE, completed_at=timezone.now(), completed_by=actor
    )


def _holds_role(user: User, task: Task) -> bool:
    if task.assignee_id == user.pk:
        return True
    memberships = Membership.objects.current().filter(user=user)
    return memberships.filter(
        Q(role=task.role, team_id=task.team_id)
        | Q(role=task.role, role__in=SERVICE_AREA_WIDE_ROLES)
        | Q(role=task.role, team__service_area=task.case.service_area if task.case else "")
    ).exists()


def _holding(role: str, day: dt.date) -> QuerySet[Membership]:
    """The memberships in `role` on `day` of active accounts, with their users."""
    return (
        Membership.objects.current(day)
        .filter(role=role, user__is_active=True)
        .select_related("user")
        .order_by("user_id")
    )


# Who holds a role in a team: asked by every notification, so compiled once
# (casework.core.compiled).
_IN_TEAM = CompiledRead(lambda role, team_id, day: _holding(role, day).filter(team_id=team_id))


def role_holders(
    *, role: str, team: Team | None, service_area: str, case: Case | None = None
) -> list[User]:
    """Who currently holds `role` for work in `team`: its members in that role; if it has
    none, anyone with the role in the same service area of the same authority (e.g. the
    service manager, or the reviewing officers of the safeguarding unit), except people in
    other case-holding teams who may not see `case`: a vacancy in one team must not send a
    child's case to another team's manager. Active accounts only, each once."""
    today = timezone.localdate()
    current = _holding(role, today)
    if team is not None:
        in_team = [m.user for m in _IN_TEAM(role, team.pk, today)]
        if in_team:
            return list(dict.fromkeys(in_team))
        current = current.filter(team__authority_id=team.authority_id)
    if not service_area:
        return []
    area = list(current.filter(team__service_area=service_area).select_related("team"))
    if case is None:
        return list(dict.fromkeys(m.user for m in area))
    # Specialists whose team holds no cases (reviewing officers, the safeguarding unit) act
    # across the area by design; someone in another case-holding team is told only if they
    # may see the case. Rare (a vacancy), so a query per such candidate is acceptable.
    return list(
        dict.fromkeys(
            m.user
            for m in area
            if not m.team.holds_cases or cases_visible_to(m.user).filter(pk=case.pk).exists()
        )
    )


def users_with_role(case: Case, role: str) -> list[User]:
    """Who holds `role` for this case: in its team first; otherwise anyone with the role in
    its service area (e.g. the reviewing officers of the safeguarding unit)."""
    return role_holders(
        role=role, team=case.responsible_team, service_area=case.service_area, case=case
    )


def notify_users(
    *,
    key: str,
    users: Iterable[User],
    case: Case | None,
    event: str,
    message: str,
    requirement: str = "",
) -> list[Notification]:
    """Tell each of `users` once per key: an in-app notification now, and an email copy (to
    those with an address) queued with it, sent by the worker once the caller commits."""
    drafts = {
        user.pk: Notification(
            key=key,
            recipient=user,
            case=case,
            event=event,
            message=message,
            requirement=requirement,
        )
        for user in dict.fromkeys(users)
    }
    if not drafts:
        return []
    new = _insert_new_notifications(list(drafts.values()))
    told_before = [pk for pk in drafts if pk not in new]
    if told_before:  # notified under this key already (a sweep run twice, a step redone)
        for note in Notification.objects.filter(key=key, recipient_id__in=told_before):
            drafts[note.recipient_id] = note
    if new:
        notification_emails.enqueue(sorted(new.values()))
    return list(drafts.values())


def _insert_new_notifications(drafts: list[Notification]) -> dict[int, int]:
    """Insert the notifications no one has yet under their key, in one statement that
    leaves the others alone (`ON CONFLICT DO NOTHING`, on the `notify_once` constraint): a
    notification racing in from another transaction is not an error, and there is no
    read-then-insert-in-a-savepoint per recipient (four statements each, for
    `get_or_create`). Returns the new notifications' ids by recipient; each inserted draft
    becomes the saved notification."""
    connection = connections[Notification.objects.db]
    if not connection.features.can_return_rows_from_bulk_insert:
        return _get_or_create_each(drafts)  # SQLite before 3.35 has no RETURNING
    quote = connection.ops.quote_name
    meta = Notification._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    rows = [
        [f.get_db_prep_save(f.pre_save(draft, add=True), connection) for f in fields]
        for draft in drafts
    ]
    once = next(c for c in meta.constraints if c.name == "notify_once")
    unique = [
        quote(field.column)
        for field in fields
        if field.name in once.fields  # type: ignore[attr-defined]
    ]
    one_row = f"({', '.join(['%s'] * len(fields))})"
    columns = ", ".join(quote(field.column) for field in fields)
    returning = f"{quote(meta.pk.column)}, {quote(Notification.recipient.field.column)}"
    # Only the model's own table and column names are written into the text (quoted);
    # every value is a parameter.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608  # nosec B608
        f"VALUES {', '.join([one_row] * len(rows))} "
        f"ON CONFLICT ({', '.join(unique)}) DO NOTHING RETURNING {returning}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for row in rows for value in row])
        new = {recipient: pk for pk, recipient in cursor.fetchall()}
    for draft in drafts:
        if draft.recipient_id in new:
            draft.pk = new[draft.recipient_id]
            draft._state.adding, draft._state.db = False, connection.alias
    return new


def _get_or_create_each(drafts: list[Notification]) -> dict[int, int]:
    """`_insert_new_notifications` where the database cannot say which rows it inserted: a
    read, then an insert in a savepoint, for each recipient."""
    new = {}
    for draft in drafts:
        note, created = Notification.objects.get_or_create(
            key=draft.key,
            recipient_id=draft.recipient_id,
            defaults={
                "case": draft.case,
                "event": draft.event,
                "message": draft.message,
                "requirement": draft.requirement,
            },
        )
        if created:
            draft.pk, draft.created_at, draft._state = note.pk, note.created_at, note._state
            new[note.recipient_id] = note.pk
    return new


def notify_role(
    *, key: str, case: Case, role: str, event: str, message: str, requirement: str = ""
) -> list[Notification]:
    """Tell everyone holding `role` for the case, once per key."""
    return notify_users(
        key=key,
        users=users_with_role(case, role),
        case=case,
        event=event,
        message=message,
        requirement=requirement,
    )


def notifications_mark_read(*, actor: User, ids: list[int] | None = None) -> int:
    """Mark `actor`'s notifications read (those listed, or all). Only their own: another
    person's notification ids are ignored, and so are numbers that cannot be an id at all
    (SQLite refuses an integer beyond 64 bits outright). Returns how many changed."""
    mine = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if ids is not None:
        mine = mine.filter(pk__in=[i for i in ids if 0 < i <= MAX_ID])
    return mine.update(read_at=timezone.now())
