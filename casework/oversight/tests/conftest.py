"""Fixtures for the dashboards: staff in two children's teams and an adults' team, and a
builder that writes cases and their history straight into the tables.

The dashboards only read, so the rows are made directly (fast, and exact about dates); one
test drives a real closure through the services to prove the selectors read what the
workflow writes.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.utils import timezone

from casework.accounts.models import User
from casework.cases.models import Allocation, Case, CaseStatus, Referral, ReferralKind
from casework.closure.models import ChecklistAnswer, Closure, ClosureState, GateAgreement
from casework.organisation.models import Role, ServiceArea, Team, TeamFunction
from casework.people.models import Person
from casework.tasks.models import Task, TaskStatus
from casework.transfers.models import Transfer, TransferState

TODAY = timezone.localdate()
_serial = itertools.count(1)


def at_noon(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


@dataclass
class Build:
    """Writes the rows the dashboards read."""

    ai: Team
    sgcp: Team
    adults: Team
    recorder: User

    def child(self, name: str = "Child") -> Person:
        n = next(_serial)
        return Person.objects.create(
            local_id=f"OV{n:06d}",
            given_name=f"{name}{n}",
            family_name="Example",
            date_of_birth=dt.date(2015, 1, 1),
        )

    def case(
        self,
        team: Team,
        *,
        opened_on: dt.date,
        workers: list[tuple[User | None, dt.date]] | None = None,
        closed_on: dt.date | None = None,
        subject: Person | None = None,
    ) -> Case:
        """A case and its allocation history: each (worker, from) runs until the next."""
        n = next(_serial)
        current = workers[-1][0] if workers and not closed_on else None
        case = Case.objects.create(
            reference=f"OV{n:07d}",
            service_area=team.service_area,
            subject=subject or self.child(),
            responsible_team=team,
            allocated_worker=current,
            status=CaseStatus.CLOSED if closed_on else CaseStatus.OPEN,
            opened_on=opened_on,
            closed_on=closed_on,
            closure_reason="RC7" if closed_on else "",
        )
        Referral.objects.create(
            case=case,
            kind=ReferralKind.REFERRAL,
            received_on=opened_on,
            source="2A",
            reason="Concern",
            recorded_by=self.recorder,
        )
        spans = workers or []
        for i, (worker, start) in enumerate(spans):
            end = spans[i + 1][1] if i + 1 < len(spans) else closed_on
            Allocation.objects.create(
                case=case, team=team, worker=worker, started_on=start, ended_on=end
            )
        return case

    def task(
        self,
        case: Case,
        *,
        due_on: dt.date,
        done_on: dt.date | None = None,
        assignee: User | None = None,
        role: str = Role.SOCIAL_WORKER,
        key: str = "",
        status: str = "",
    ) -> Task:
        return Task.objects.create(
            key=key or f"test:{next(_serial)}",
            case=case,
            title="Something due",
            role=role,
            team=case.responsible_team,
            assignee=assignee,
            due_on=due_on,
            status=status or (TaskStatus.DONE if done_on else TaskStatus.OPEN),
            completed_at=at_noon(done_on) if done_on else None,
        )

    def closure(
        self,
        case: Case,
        *,
        proposed_on: dt.date,
        closed_on: dt.date,
        steps: list[tuple[dt.date, dt.date | None]] | None = None,
    ) -> Closure:
        """A completed closure, with a deadline task for each (due, done) step."""
        closure = Closure.objects.create(
            case=case,
            pack_id="000-closing-cases",
            reason_id="no-longer-in-need",
            reason_label="No longer in need",
            national_code="RC7",
            state=ClosureState.CLOSED,
            proposed_by=self.recorder,
            proposed_on=proposed_on,
            closed_on=closed_on,
        )
        for i, (due_on, done_on) in enumerate(steps or []):
            self.task(case, due_on=due_on, done_on=done_on, key=f"closure:{closure.pk}:step:s{i}")
        return closure

    def transfer(
        self,
        case: Case,
        *,
        to_team: Team,
        requested_on: dt.date,
        completed_on: dt.date | None,
        discussed_on: dt.date | None = None,
        override_reason: str = "",
        moves_responsibility: bool = True,
    ) -> Transfer:
        """A transfer from the case's team; a completed one moves the case, as the service
        does."""
        transfer = Transfer.objects.create(
            case=case,
            pack_id="004-transfer-and-closure",
            from_team=case.responsible_team,
            to_team=to_team,
            moves_responsibility=moves_responsibility,
            state=TransferState.COMPLETED if completed_on else TransferState.REQUESTED,
            rationale="Needs",
            override_reason=override_reason,
            requested_by=self.recorder,
            requested_on=requested_on,
            discussed_on=discussed_on,
            completed_on=completed_on,
        )
        if completed_on and moves_responsibility:
            Case.objects.filter(pk=case.pk).update(responsible_team=to_team)
        return transfer

    def gate_agreed(self, closure: Closure, by: User, on: dt.date) -> GateAgreement:
        agreement = GateAgreement.objects.create(
            closure=closure, gate_id=f"gate-{next(_serial)}", agreed_by=by, role="x", note="OK"
        )
        GateAgreement.objects.filter(pk=agreement.pk).update(agreed_at=at_noon(on))
        return agreement

    def check_overridden(self, closure: Closure, by: User, on: dt.date) -> ChecklistAnswer:
        answer = ChecklistAnswer.objects.create(
            closure=closure,
            checklist_id="audit",
            item_id=f"item-{next(_serial)}",
            automatic_result=False,
            answer=ChecklistAnswer.Answer.YES,
            overridden=True,
            note="Seen on file",
            answered_by=by,
        )
        ChecklistAnswer.objects.filter(pk=answer.pk).update(answered_at=at_noon(on))
        return answer


@dataclass
class People:
    ai_manager: User
    ai_worker: User
    ai_worker2: User
    sgcp_manager: User
    sgcp_worker: User
    senior: User
    adults_manager: User
    support: User


@pytest.fixture
def people(make_team: Callable[..., Team], make_staff: Callable[..., User]) -> People:
    ai = make_team("ai")
    sgcp = make_team("sgcp", TeamFunction.SAFEGUARDING_CARE_PLANNING)
    csm = make_team("csm", TeamFunction.OTHER, holds_cases=False)
    adults = make_team("north", TeamFunction.ADULTS_LOCALITY, service_area=ServiceArea.ADULTS)
    return People(
        ai_manager=make_staff("aimanager", ai, Role.TEAM_MANAGER),
        ai_worker=make_staff("aiworker", ai),
        ai_worker2=make_staff("aiworkertwo", ai),
        sgcp_manager=make_staff("sgcpmanager", sgcp, Role.TEAM_MANAGER),
        sgcp_worker=make_staff("sgcpworker", sgcp),
        senior=make_staff("servicemanager", csm, Role.SERVICE_MANAGER),
        adults_manager=make_staff("adultsmanager", adults, Role.TEAM_MANAGER),
        support=make_staff("support", csm, Role.BUSINESS_SUPPORT),
    )


@pytest.fixture
def build(people: People) -> Build:
    teams = {t.code: t for t in Team.objects.all()}
    return Build(teams["ai"], teams["sgcp"], teams["north"], people.ai_manager)
