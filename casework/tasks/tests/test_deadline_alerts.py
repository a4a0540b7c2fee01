"""Reminders, due-day notices and escalation of overdue tasks (X-03), driven by the frozen
clock through the background task the scheduler enqueues."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from casework.accounts.models import User
from casework.audit.models import AuditEvent
from casework.cases.models import Case
from casework.cases.services import case_open
from casework.core.calendar import WorkingDayCalendar
from casework.organisation.models import (
    Authority,
    ClosureDay,
    Role,
    ServiceArea,
    Team,
    TeamFunction,
)
from casework.people.services import person_create
from casework.policy.evaluate import due_date
from casework.policy.models import PackPurpose
from casework.policy.schema import Protocol
from casework.policy.services import bound_pack
from casework.tasks.background import sweep_deadline_alerts
from casework.tasks.models import AlertStage, Notification, Task, TaskAlert, TaskStatus
from casework.tasks.services import task_schedule
from casework.tasks.sweeps import _alert, alert_windows, deadline_alerts

D = dt.date
NOTHING = {"reminded": 0, "due": 0, "overdue": 0, "escalated": 0}


def _at(day: dt.date) -> time_machine.travel:
    """09:00 UTC on `day` (10:00 in summer, in London), with the clock stopped."""
    return time_machine.travel(dt.datetime.combine(day, dt.time(9), dt.UTC), tick=False)


def _sweep(day: dt.date, capture: Callable[..., Any]) -> dict[str, int]:
    """The deadline sweep as the worker runs it, on `day`, then the worker sending the emails
    the sweep queued."""
    with _at(day), capture(execute=True):
        result: dict[str, int] = sweep_deadline_alerts.call()
    call_command(
        "db_worker", batch=True, startup_delay=False, reload=False, verbosity=0, stdout=StringIO()
    )
    return result


def _with_email(user: User) -> User:
    user.email = f"{user.username}@council.example"
    user.save(update_fields=["email"])
    return user


def _case(worker: User, team: Team) -> Case:
    child = person_create(
        actor=worker, given_name="Robin", family_name="Private", date_of_birth=D(2016, 6, 1)
    )
    return case_open(
        actor=worker,
        subject=child,
        team=team,
        received_on=D(2026, 3, 2),
        source="6",
        reason="Police protection",
        allocated_worker=worker,
    )


def _looked_after_protocol(authority: Authority) -> Protocol:
    pack = bound_pack(authority, ServiceArea.CHILDREN, PackPurpose.TRANSFER)
    assert pack is not None
    assert pack.spec.transfer is not None
    return next(p for p in pack.spec.transfer.protocols if p.id == "to-looked-after")


# Committed for real: the worker sends the emails in its own transactions.
@pytest.mark.django_db(transaction=True)
def test_x03_a_task_is_reminded_then_due_then_overdue_and_escalated_once_to_the_role_the_pack_names(  # noqa: E501
    authority: Authority,
    bind_004: Callable[..., None],
    make_team: Callable[..., Team],
    make_staff: Callable[..., User],
    mailoutbox: list[mail.EmailMessage],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """X-03, R004-05: procedure 004 says a transfer to the Looked After Children team
    happens within 10 working days of the team manager's discussion, and if it does not,
    the service manager is told. Discussed on Thursday 2 April 2026, it is due Monday 20
    April (Good Friday and Easter Monday do not count). The team manager who owns the
    deadline is reminded two working days before (Thursday 16 April, not Wednesday), told
    on the day, and told it is overdue on Tuesday 21 April, when exactly one escalation
    reaches the service manager (not the head of service, not another service area's
    service manager). Every notice is also emailed, after commit. Sweeping again, the same
    day or later, sends nothing new."""
    bind_004(PackPurpose.TRANSFER)
    protocol = _looked_after_protocol(authority)
    assert protocol.escalate_if_late is not None
    assert protocol.transfer_within is not None
    sgcp = make_team("sgcp", TeamFunction.SAFEGUARDING_CARE_PLANNING)
    senior = make_team("csc-senior", TeamFunction.OTHER)
    adults = make_team("adults-north", TeamFunction.ADULTS_LOCALITY, ServiceArea.ADULTS)
    worker = _with_email(make_staff("sgcpworker", sgcp))
    manager = _with_email(make_staff("sgcpmanager", sgcp, Role.TEAM_MANAGER))
    service_manager = _with_email(make_staff("csm", senior, Role.SERVICE_MANAGER))
    _with_email(make_staff("hos", senior, Role.HEAD_OF_SERVICE))
    _with_email(make_staff("asm", adults, Role.SERVICE_MANAGER))

    with _at(D(2026, 4, 2)):
        case = _case(worker, sgcp)
        task = task_schedule(
            key=f"test:{case.pk}:lac-deadline",
            case=case,
            title="Transfer to the Looked After Children team completes",
            role=Role.TEAM_MANAGER,
            due_on=due_date(protocol.transfer_within, D(2026, 4, 2), authority.calendar()),
            due_rule="10 working days from transfer.discussed (004-transfer-and-closure)",
            requirement="R004-05",
            escalate_to=protocol.escalate_if_late.role,
        )
    assert task.due_on == D(2026, 4, 20)
    assert task.escalate_to == Role.SERVICE_MANAGER

    sweep = django_capture_on_commit_callbacks
    assert _sweep(D(2026, 4, 2), sweep) == NOTHING
    assert _sweep(D(2026, 4, 15), sweep) == NOTHING  # three working days left

    assert _sweep(D(2026, 4, 16), sweep) == {**NOTHING, "reminded": 1}
    reminder = Notification.objects.get(event="task.reminder")
    assert reminder.recipient == manager
    assert reminder.message == (
        "Reminder: “Transfer to the Looked After Children team completes” is due on 20 April 2026."
    )
    assert [m.to for m in mailoutbox] == [[manager.email]]
    assert _sweep(D(2026, 4, 16), sweep) == NOTHING
    assert _sweep(D(2026, 4, 17), sweep) == NOTHING

    assert _sweep(D(2026, 4, 20), sweep) == {**NOTHING, "due": 1}
    assert Notification.objects.get(event="task.due").recipient == manager

    assert _sweep(D(2026, 4, 21), sweep) == {**NOTHING, "overdue": 1, "escalated": 1}
    assert Notification.objects.get(event="task.overdue").recipient == manager
    escalation = Notification.objects.get(event="task.escalated")
    assert escalation.recipient == service_manager
    assert escalation.case == case
    assert escalation.requirement == "X-03"
    assert "Escalated to you as service manager" in escalation.message
    assert AuditEvent.objects.filter(verb="task.escalated", case=case).count() == 1
    assert [m.to for m in mailoutbox] == [
        [manager.email],
        [manager.email],
        [manager.email],
        [service_manager.email],
    ]

    for later in (D(2026, 4, 21), D(2026, 4, 22), D(2026, 5, 29)):
        assert _sweep(later, sweep) == NOTHING
    assert Notification.objects.count() == 4
    assert len(mailoutbox) == 4
    assert sorted(TaskAlert.objects.filter(task=task).values_list("stage", flat=True)) == [
        "due",
        "overdue",
        "reminder",
    ]
    assert TaskAlert.objects.get(task=task, stage=AlertStage.OVERDUE).escalated == 1


def test_x03_windows_count_working_days_so_nobody_is_escalated_over_a_bank_holiday(
    open_case: Case,
) -> None:
    """X-03: with a two-working-day reminder, a task due Thursday 2 April 2026 is reminded
    on Tuesday 31 March (not Monday), is due on the Thursday and stays "due" over Good
    Friday, the weekend and Easter Monday; it becomes overdue on Tuesday 7 April, the first
    working day after. An authority closure day counts like a bank holiday, and a due date
    on a non-working day counts as the next working day. Each window is checked by the
    query the sweep runs."""
    task = task_schedule(
        key="easter", case=open_case, title="Sign", role=Role.TEAM_MANAGER, due_on=D(2026, 4, 2)
    )
    calendar = WorkingDayCalendar("ENG")

    def stage_on(today: dt.date, cal: WorkingDayCalendar = calendar) -> list[str]:
        windows = alert_windows(today, cal, 2)
        found = Task.objects.filter(pk=task.pk)
        return [s.value for s in AlertStage if found.filter(windows.stage_filter(s)).exists()]

    assert stage_on(D(2026, 3, 30)) == []
    assert stage_on(D(2026, 3, 31)) == ["reminder"]
    assert stage_on(D(2026, 4, 1)) == ["reminder"]
    assert stage_on(D(2026, 4, 2)) == ["due"]
    for holiday in (D(2026, 4, 3), D(2026, 4, 4), D(2026, 4, 5), D(2026, 4, 6)):
        assert stage_on(holiday) == ["due"]
    assert stage_on(D(2026, 4, 7)) == ["overdue"]
    # The council is closed on Tuesday 7 April too: overdue only on the Wednesday.
    closed = WorkingDayCalendar("ENG", [D(2026, 4, 7)])
    assert stage_on(D(2026, 4, 7), closed) == ["due"]
    assert stage_on(D(2026, 4, 8), closed) == ["overdue"]
    # No reminders at all when the lead time is 0.
    assert alert_windows(D(2026, 4, 1), calendar, 0).remind_until is None
    assert stage_on(D(2026, 4, 1), calendar) == ["reminder"]

    # A due date on a weekend counts as the Monday: due Saturday 18 April is reminded on
    # Thursday 16 (two working days before the Monday), due on Monday 20, overdue Tuesday.
    Task.objects.filter(pk=task.pk).update(due_on=D(2026, 4, 18))
    assert stage_on(D(2026, 4, 15)) == []
    assert stage_on(D(2026, 4, 16)) == ["reminder"]
    assert stage_on(D(2026, 4, 18)) == ["reminder"]
    assert stage_on(D(2026, 4, 20)) == ["due"]
    assert stage_on(D(2026, 4, 21)) == ["overdue"]


def test_x03_only_open_dated_tasks_are_swept_and_each_goes_to_whoever_it_waits_on(
    open_case: Case,
    worker: User,
    manager: User,
    make_staff: Callable[..., User],
    team_ai: Team,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """X-03: a task assigned to a worker tells that worker only; a task for a role tells
    everyone in the team holding it; an overdue task whose procedure names nobody to
    escalate to is not escalated (its doers are still told); done and undated tasks are
    left alone; an inactive account is told nothing."""
    make_staff("worker2", team_ai)
    left = make_staff("leaver", team_ai, Role.TEAM_MANAGER)
    left.is_active = False
    left.save(update_fields=["is_active"])
    today = D(2026, 6, 10)  # a Wednesday
    yesterday = D(2026, 6, 9)
    task_schedule(
        key="mine",
        case=open_case,
        title="Visit",
        role=Role.SOCIAL_WORKER,
        due_on=yesterday,
        assignee=worker,
    )
    task_schedule(key="team", case=open_case, title="Review", role=Role.SOCIAL_WORKER, due_on=today)
    task_schedule(
        key="manager", case=open_case, title="Sign", role=Role.TEAM_MANAGER, due_on=yesterday
    )
    done = task_schedule(
        key="done", case=open_case, title="Done", role=Role.SOCIAL_WORKER, due_on=yesterday
    )
    Task.objects.filter(pk=done.pk).update(
        status=TaskStatus.DONE, completed_at=dt.datetime.now(dt.UTC)
    )
    task_schedule(
        key="undated", case=open_case, title="Some day", role=Role.TEAM_MANAGER, due_on=None
    )

    with django_capture_on_commit_callbacks(execute=True):
        result = deadline_alerts(today)
    assert (result.reminded, result.due, result.overdue, result.escalated) == (0, 1, 2, 0)
    told = {
        (n.key.split(":")[2], n.recipient.username)
        for n in Notification.objects.select_related("recipient")
    }
    assert told == {
        ("overdue", "worker"),  # "Visit", assigned to them alone
        ("due", "worker"),  # "Review", for the team's social workers
        ("due", "worker2"),
        ("overdue", "manager"),  # "Sign": the active team manager only
    }
    assert not Notification.objects.filter(event="task.escalated").exists()
    assert not TaskAlert.objects.filter(task__key__in=["done", "undated"]).exists()


def test_x03_recording_a_stage_twice_is_refused_by_the_database_not_by_a_prior_read(
    open_case: Case, manager: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    """X-03: two sweeps that both decided to act on the same task and stage (a race) tell
    its people once: the second insert of the stage hits the unique constraint and the
    second sweep backs off without notifying anyone."""
    task = task_schedule(
        key="race",
        case=open_case,
        title="Sign",
        role=Role.TEAM_MANAGER,
        due_on=D(2026, 6, 9),
        escalate_to=Role.TEAM_MANAGER,
    )
    with django_capture_on_commit_callbacks(execute=True):
        first = _alert(task.pk, AlertStage.OVERDUE, D(2026, 6, 10))
        second = _alert(task.pk, AlertStage.OVERDUE, D(2026, 6, 10))
    assert (first.overdue, first.escalated) == (1, 1)
    assert (second.overdue, second.escalated) == (0, 0)
    assert Notification.objects.filter(recipient=manager).count() == 2  # overdue, escalated
    assert TaskAlert.objects.filter(task=task).count() == 1


def test_x03_closure_days_of_the_authority_move_the_escalation(
    authority: Authority,
    open_case: Case,
    manager: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """X-03: the sweep uses the task's authority's own calendar: with Tuesday 7 April 2026 a
    closure day, a task due Thursday 2 April is not escalated until Wednesday 8 April."""
    ClosureDay.objects.create(authority=authority, day=D(2026, 4, 7), reason="Staff day")
    task_schedule(
        key="easter",
        case=open_case,
        title="Sign",
        role=Role.TEAM_MANAGER,
        due_on=D(2026, 4, 2),
        escalate_to=Role.TEAM_MANAGER,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert deadline_alerts(D(2026, 4, 7)).overdue == 0
        assert deadline_alerts(D(2026, 4, 8)).escalated == 1
