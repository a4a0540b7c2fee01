"""Step-down to early help and escalation from it (R004-07, R004-08), through the services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine
from django.utils import timezone

from casework.accounts.models import User
from casework.cases.models import Case
from casework.cases.services import (
    assessment_complete,
    assessment_start,
    case_open,
    plan_start,
)
from casework.core.errors import Conflict, InvalidInput, NotPermitted
from casework.organisation.models import Authority, Role, Team, TeamFunction
from casework.people.services import person_create
from casework.policy.services import pack_bind
from casework.tasks.models import Task
from casework.transfers.models import PathwayState
from casework.transfers.pathways import pathway_decide, pathway_request

RFEH = {
    "meeting_date": "2026-12-10",
    "plan_for_early_help": "Parenting group and school attendance support",
    "consent": True,
}


@pytest.fixture
def teams(
    authority: Authority, make_team: Callable[..., Team], make_staff: Callable[..., User]
) -> dict[str, User | Team]:
    pack_bind(
        actor=None,
        authority=authority,
        service_area="children",
        purpose="transfer",
        pack_id="004-transfer-and-closure",
    )
    ai = make_team("ai", TeamFunction.ASSESSMENT_INTERVENTION)
    eh = make_team("eh", TeamFunction.EARLY_HELP)
    return {
        "ai": ai,
        "eh": eh,
        "worker": make_staff("aiworker", ai),
        "duty": make_staff("ehduty", eh, Role.EARLY_HELP_DUTY_MANAGER),
        "eh_worker": make_staff("ehworker", eh),
    }


def _assessed_case(worker: User, team: Team) -> Case:
    today = timezone.localdate()
    child = person_create(
        actor=worker, given_name="Jo", family_name="Example", date_of_birth=dt.date(2017, 2, 2)
    )
    case = case_open(
        actor=worker,
        subject=child,
        team=team,
        received_on=today - dt.timedelta(days=50),
        source="2A",
        reason="Attendance",
        allocated_worker=worker,
    )
    assessment = assessment_start(
        actor=worker, case=case, kind="single", started_on=today - dt.timedelta(days=45)
    )
    plan_start(actor=worker, case=case, kind="early_help", started_on=today - dt.timedelta(days=2))
    assessment_complete(
        actor=worker,
        assessment=assessment,
        completed_on=today,
        outcome="Needs below the statutory threshold",
    )
    return case


def test_r004_08_step_down_needs_five_working_days_notice_and_a_plan(
    teams: dict[str, User | Team],
) -> None:
    """R004-08: a step-down after a full assessment books the meeting with at least 5
    working days' notice (counted over the Christmas bank holidays) and carries a plan; the
    early help duty manager decides with a rationale; the worker cannot decide it."""
    worker, duty = teams["worker"], teams["duty"]
    assert isinstance(worker, User)
    assert isinstance(duty, User)
    ai = teams["ai"]
    assert isinstance(ai, Team)
    with time_machine.travel(dt.datetime(2026, 12, 21, 10, tzinfo=dt.UTC), tick=False):
        case = _assessed_case(worker, ai)
        with pytest.raises(InvalidInput) as refused:
            pathway_request(
                actor=worker,
                case=case,
                pathway_id="step-down-full-assessment",
                answers={"consent": True},
                meeting_on=dt.date(2026, 12, 24),
            )
        problems = refused.value.by_field()
        # 21 Dec + 5 working days skips 25 and 28 December (Boxing Day's substitute).
        assert "on or after 30 December 2026" in problems["meeting_on"][0]
        assert "plan_for_early_help" in problems
        request = pathway_request(
            actor=worker,
            case=case,
            pathway_id="step-down-full-assessment",
            answers=RFEH,
            meeting_on=dt.date(2026, 12, 30),
        )
    assert request.to_team == teams["eh"]
    task = Task.objects.get(key=f"pathway:{request.pk}:decide")
    assert (task.role, task.due_on) == (Role.EARLY_HELP_DUTY_MANAGER, dt.date(2026, 12, 30))
    with pytest.raises(NotPermitted):
        pathway_decide(actor=worker, request=request, outcome="accepted", rationale="Fine")
    with pytest.raises(InvalidInput, match="Choose one of: accepted, threshold-dispute"):
        pathway_decide(actor=duty, request=request, outcome="maybe", rationale="Hmm")
    decided = pathway_decide(
        actor=duty,
        request=request,
        outcome="accepted",
        rationale="Meets early help criteria; TAF booked",
    )
    assert (decided.state, decided.outcome) == (PathwayState.DECIDED, "accepted")
    with pytest.raises(Conflict):
        pathway_decide(actor=duty, request=request, outcome="threshold-dispute", rationale="x")
    assert Task.objects.get(pk=task.pk).status == "done"


def test_r004_07_escalation_goes_to_the_team_that_held_the_case_within_three_months(
    authority: Authority,
    make_team: Callable[..., Team],
    make_staff: Callable[..., User],
) -> None:
    """R004-07: early help escalates to the front door normally, and to the team that
    closed the case within the last 3 months when there is one."""
    from casework.cases.services import case_close_imported, decision_record

    pack_bind(
        actor=None,
        authority=authority,
        service_area="children",
        purpose="transfer",
        pack_id="004-transfer-and-closure",
    )
    eh = make_team("eh", TeamFunction.EARLY_HELP)
    irt = make_team("irt", TeamFunction.FRONT_DOOR)
    sgcp = make_team("sgcp", TeamFunction.SAFEGUARDING_CARE_PLANNING)
    eh_worker = make_staff("ehw", eh)
    eh_manager = make_staff("ehm", eh, Role.TEAM_MANAGER)
    sgcp_worker = make_staff("sgw", sgcp)
    today = timezone.localdate()
    for name, previous_team in (("First", None), ("Returning", sgcp)):
        child = person_create(
            actor=eh_worker,
            given_name=name,
            family_name="Example",
            date_of_birth=dt.date(2016, 1, 1),
        )
        if previous_team is not None:
            earlier = case_open(
                actor=sgcp_worker,
                subject=child,
                team=previous_team,
                received_on=today - dt.timedelta(days=200),
                source="6",
                reason="Concern",
            )
            case_close_imported(
                actor=None,
                case=earlier,
                closed_on=today - dt.timedelta(days=40),
                reason_code="RC7",
                note="Stepped down to early help",
            )
        case = case_open(
            actor=eh_worker,
            subject=child,
            team=eh,
            received_on=today - dt.timedelta(days=30),
            source="5D",
            reason="TAF",
        )
        decision_record(
            actor=eh_manager,
            case=case,
            kind="transfer",
            decided_on=today,
            decision="Escalate: risks increasing",
        )
        request = pathway_request(
            actor=eh_worker, case=case, pathway_id="escalation-from-early-help", answers={}
        )
        expected = irt if previous_team is None else sgcp
        assert request.to_team == expected, name
