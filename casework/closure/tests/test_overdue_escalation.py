"""X-03: a closure step that is overdue is escalated one step up the line the pack names
(`overdue_escalation`): a worker's late step to their team manager, a team manager's to the
service manager; the deadline sweep tells them once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import time_machine
from django.utils import timezone

from casework.accounts.models import User
from casework.cases.models import Case
from casework.closure.services import closure_propose
from casework.organisation.models import Role, Team
from casework.policy.evaluate import overdue_escalation
from casework.policy.loader import load_pack
from casework.tasks.background import sweep_deadline_alerts
from casework.tasks.models import Notification, Task
from casework.tasks.services import task_schedule


def test_x03_the_packs_name_who_hears_of_overdue_work_one_step_up_the_line() -> None:
    for pack_id in ("000-closing-cases", "002-adults-closure", "004-transfer-and-closure"):
        pack = load_pack(pack_id)
        assert overdue_escalation(pack, None, Role.SOCIAL_WORKER) == Role.TEAM_MANAGER
        assert overdue_escalation(pack, None, Role.TEAM_MANAGER) == Role.SERVICE_MANAGER
        # A step or task may name its own; never the late role itself.
        assert overdue_escalation(pack, Role.HEAD_OF_SERVICE, Role.TEAM_MANAGER) == (
            Role.HEAD_OF_SERVICE
        )
        assert overdue_escalation(pack, Role.TEAM_MANAGER, Role.TEAM_MANAGER) == ""


def test_x03_an_overdue_closure_step_reaches_the_team_manager_once(
    bind: Callable[[str], None],
    child_case: Case,
    worker: User,
    manager: User,
    make_staff: Callable[..., User],
    team_ai: Team,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Procedure 000: the worker presents the case for closure within 20 working days of
    the proposal; the manager discusses and agrees it within 15. Each late step goes to the
    next role up, once."""
    bind("000-closing-cases")
    make_staff("area-manager", team_ai, Role.SERVICE_MANAGER)
    closure = closure_propose(actor=worker, case=child_case, reason_id="no-longer-in-need")
    tasks = {t.role: t for t in Task.objects.filter(case=child_case, key__contains="closure")}
    assert tasks[Role.SOCIAL_WORKER].escalate_to == Role.TEAM_MANAGER
    assert tasks[Role.TEAM_MANAGER].escalate_to == Role.SERVICE_MANAGER
    late = max(t.due_on for t in tasks.values() if t.due_on) + dt.timedelta(days=7)
    assert closure.proposed_on == timezone.localdate()

    def sweep() -> None:
        at = dt.datetime.combine(late, dt.time(9), dt.UTC)
        with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
            sweep_deadline_alerts.call()

    sweep()
    sweep()
    escalations = Notification.objects.filter(case=child_case, event="task.escalated")
    recipients = sorted(n.recipient.username for n in escalations)
    assert recipients == ["area-manager", "manager"]


def test_x02_a_vacancy_never_sends_a_childs_case_to_another_teams_manager(
    open_case: Case,
    make_staff: Callable[..., User],
    team_sgcp: Team,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Team AI has no team manager: the overdue task is not escalated to SGCP's manager, who
    has no need to know about the child."""
    make_staff("sgcp-manager", team_sgcp, Role.TEAM_MANAGER)
    task_schedule(
        key="late-visit",
        case=open_case,
        title="Visit the child",
        role=Role.SOCIAL_WORKER,
        due_on=timezone.localdate() - dt.timedelta(days=10),
        escalate_to=Role.TEAM_MANAGER,
    )
    with django_capture_on_commit_callbacks(execute=True):
        sweep_deadline_alerts.call()
    escalated = Notification.objects.filter(case=open_case, event="task.escalated")
    assert not escalated.exists()
    assert not Notification.objects.filter(recipient__username="sgcp-manager").exists()
