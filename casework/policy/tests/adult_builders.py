"""Builders for adults' cases, written only through the services (as a user would), for
evaluating the adults' packs against real records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone

from casework.accounts.models import User
from casework.cases.models import Assessment, Case, NoteKind
from casework.cases.services import (
    assessment_complete,
    assessment_start,
    case_open,
    consent_record,
    note_add,
    supervision_record,
    visit_record,
)
from casework.organisation.models import Role, ServiceArea, Team, TeamFunction
from casework.people.models import ContactRole, Person
from casework.people.services import (
    carer_link_add,
    key_safe_record,
    person_create,
    person_move_in,
    professional_contact_add,
)
from casework.policy.caseview import build_case_view
from casework.policy.conditions import EvaluationContext
from casework.policy.evaluate import ItemResult

TODAY = timezone.localdate()
# Cases are opened this long ago, so every dated record the tests need fits after it.
OPENED_DAYS_AGO = 400


def days_ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


@dataclass(frozen=True)
class AdultTeam:
    """An adults' locality team with a social worker and a team manager."""

    team: Team
    worker: User
    manager: User


def make_adult_team(
    make_team: Callable[..., Team], make_staff: Callable[..., User], code: str = "asc-south"
) -> AdultTeam:
    team = make_team(code, function=TeamFunction.ADULTS_LOCALITY, service_area=ServiceArea.ADULTS)
    return AdultTeam(
        team=team,
        worker=make_staff(f"{code}-worker", team),
        manager=make_staff(f"{code}-manager", team, Role.TEAM_MANAGER),
    )


def make_adult(
    actor: User,
    *,
    given_name: str = "Edna",
    age: int = 82,
    ethnicity: str = "WBRI",
    ethnicity_asked: bool = True,
) -> Person:
    return person_create(
        actor=actor,
        given_name=given_name,
        family_name="Client",
        date_of_birth=TODAY - dt.timedelta(days=age * 365 + 30),
        sex="F",
        ethnicity=ethnicity,
        ethnicity_asked=ethnicity_asked,
    )


def open_adult_case(staff: AdultTeam, person: Person | None = None) -> Case:
    """An adult's case opened OPENED_DAYS_AGO and allocated to the team's worker."""
    return case_open(
        actor=staff.worker,
        subject=person or make_adult(staff.worker),
        team=staff.team,
        received_on=days_ago(OPENED_DAYS_AGO),
        source="3A",
        reason="GP asked for a Care Act assessment after a fall at home.",
        allocated_worker=staff.worker,
    )


def assess(
    actor: User,
    case: Case,
    kind: str,
    *,
    started: int = 60,
    completed: int = 50,
    sent_to: str = "",
    authorise: bool = False,
    capacity: str = "",
    eligible_unmet_needs: bool | None = None,
    offered_and_declined: bool = False,
) -> Assessment:
    """Start an assessment `started` days ago and complete it `completed` days ago. Pass a
    manager as `actor` to authorise it."""
    assessment = assessment_start(actor=actor, case=case, kind=kind, started_on=days_ago(started))
    return assessment_complete(
        actor=actor,
        assessment=assessment,
        completed_on=days_ago(completed),
        outcome="Outcome recorded.",
        sent_to=sent_to,
        authorise=authorise,
        capacity=capacity,
        eligible_unmet_needs=eligible_unmet_needs,
        offered_and_declined=offered_and_declined,
    )


def context_for(case: Case, *, today: dt.date | None = None) -> EvaluationContext:
    return EvaluationContext(build_case_view(case, today=today))


def item(results: list[ItemResult], item_id: str) -> ItemResult:
    """One checklist item's result by its id ("1" to "18")."""
    return next(r for r in results if r.item.id == item_id)


def well_recorded_case(staff: AdultTeam) -> Case:
    """An adult's case whose record evidences every automatic item of the Case Audit Tool:
    ethnicity asked; GP and key safe recorded; a carer linked, with a carer's conversation
    shared with them; signed consent to share; a Care Act assessment completed, sent and
    authorised; the client seen face to face a week ago; a recent case note, a closure
    discussion and supervision."""
    worker, manager = staff.worker, staff.manager
    client = make_adult(worker)
    case = open_adult_case(staff, client)
    person_move_in(
        actor=worker,
        person=client,
        line_1="4 Elm Row",
        town="Testshire",
        postcode="TS1 4ER",
        started_on=days_ago(3000),
    )
    professional_contact_add(
        actor=worker,
        person=client,
        role=ContactRole.GP,
        organisation="Elm Row Surgery",
        started_on=days_ago(3000),
    )
    key_safe_record(actor=worker, person=client, location="Left of the front door", code="4821")
    daughter = person_create(
        actor=worker, given_name="Jean", family_name="Client", date_of_birth=days_ago(55 * 365)
    )
    carer_link_add(actor=worker, carer=daughter, cared_for=client, started_on=days_ago(900))
    assess(worker, case, "carer", sent_to="Jean Client (carer)")
    consent_record(
        actor=worker,
        case=case,
        kind="share_information",
        given_by="Edna Client",
        given_on=days_ago(300),
        signed=True,
    )
    assess(
        manager,
        case,
        "care_act",
        started=90,
        completed=70,
        sent_to="Edna Client; Jean Client; Elm Row Surgery",
        authorise=True,
        eligible_unmet_needs=False,
    )
    visit_record(actor=worker, case=case, visited_on=days_ago(7), subject_seen=True)
    note_add(
        actor=worker,
        case=case,
        title="Final visit",
        body="Edna is managing well with her daughter's support.",
        occurred_on=days_ago(7),
    )
    note_add(
        actor=manager,
        case=case,
        title="Closure discussion",
        body="Discussed closure with the worker; outcomes achieved.",
        occurred_on=days_ago(2),
        kind=NoteKind.CLOSURE_DISCUSSION,
    )
    supervision_record(
        actor=manager,
        case=case,
        held_on=days_ago(3),
        discussion="Reviewed outcomes and the plan to close.",
        actions="Close once the audit is complete.",
    )
    return case
