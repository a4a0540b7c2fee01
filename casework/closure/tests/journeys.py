"""Journeys through the closure workflow for the requirement tests (test_requirements_*.py).

Every record here is made through the services a user's actions go through (cases, people,
policy binding and the closure workflow itself), never by writing models directly, so each
test exercises what a worker or manager would actually meet. Helpers take the people who act
as arguments, so a test always shows who does what.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from casework.accounts.models import User
from casework.cases.models import Case, NoteKind
from casework.cases.services import (
    assessment_complete,
    assessment_start,
    case_complexity_decide,
    case_open,
    consent_record,
    decision_record,
    document_upload,
    meeting_record,
    note_add,
    supervision_record,
    visit_record,
)
from casework.closure.models import Closure, ClosureState
from casework.closure.services import (
    checklist_answer,
    checklist_complete,
    closure_decide,
    closure_propose,
    closure_step_complete,
    form_save_draft,
    form_submit,
    summary_share,
    summary_sign,
)
from casework.core.calendar import WorkingDayCalendar
from casework.core.errors import ServiceError
from casework.organisation.models import Role, ServiceArea, Team, TeamFunction
from casework.people.models import ContactRole, Person
from casework.people.services import (
    key_safe_record,
    person_create,
    person_move_in,
    professional_contact_add,
)
from casework.policy.loader import load_pack


def today() -> dt.date:
    """Today as the services see it (follows time_machine.travel)."""
    return timezone.localdate()


def days_ago(days: int) -> dt.date:
    return today() - dt.timedelta(days=days)


def calendar_for(case: Case) -> WorkingDayCalendar:
    """The working-day calendar of the authority holding the case (bank holidays included)."""
    return case.responsible_team.authority.calendar()


def working_days_after(case: Case, start: dt.date, n: int) -> dt.date:
    return calendar_for(case).add_working_days(start, n)


def refusal(error: ServiceError) -> str:
    """The refusal a user is shown, as one string."""
    return str(error)


def reload(closure: Closure) -> Closure:
    return Closure.objects.get(pk=closure.pk)


def case_status(case: Case) -> str:
    case.refresh_from_db()
    return case.status


# --- Children -------------------------------------------------------------------------------


def propose_and_agree(
    case: Case, worker: User, manager: User, reason_id: str = "no-longer-in-need"
) -> Closure:
    """The worker proposes; the team manager agrees after the closure discussion."""
    closure = closure_propose(actor=worker, case=case, reason_id=reason_id, note="Plan achieved")
    closure = closure_decide(
        actor=manager, closure=closure, outcome="agreed", note="Discussed in supervision: agreed"
    )
    assert closure.state == ClosureState.AGREED
    return closure


def answer_checklist(
    closure: Closure,
    checklist_id: str,
    actor: User,
    *,
    answer: str = "yes",
    note: str = "Checked on the record",
    evidence_date: dt.date | None = None,
    skip: Iterable[str] = (),
) -> None:
    """Answer every item of a checklist the same way, with a note (and evidence date)."""
    pack = load_pack(closure.pack_id)
    skipped = set(skip)
    for section in pack.spec.checklists[checklist_id].sections:
        for item in section.items:
            if item.id in skipped:
                continue
            checklist_answer(
                actor=actor,
                closure=closure,
                checklist_id=checklist_id,
                item_id=item.id,
                answer=answer,
                note=note,
                evidence_date=evidence_date if evidence_date is not None else today(),
            )


CLOSING_SUMMARY_000 = {
    "agreed_outcome": "Attendance above 95% for a term",
    "outcome_evidence": "School attendance data, 3 November",
    "outcome_achieved": True,
    "reasons_for_closure": "The agreed outcome was achieved and sustained",
}


def closing_000_to_authorise(
    case: Case, worker: User, manager: User, *, is_complex: bool = False
) -> Closure:
    """Procedure 000 up to (not including) authorisation: agreed, complexity decided, the
    closing summary written, the case presented, and the supervisor's audit done."""
    closure = propose_and_agree(case, worker, manager)
    case_complexity_decide(
        actor=manager, case=case, is_complex=is_complex, reason="Decided in supervision"
    )
    closure_step_complete(actor=manager, closure=closure, step_id="decide-complexity")
    answers: dict[str, object] = dict(CLOSING_SUMMARY_000)
    if is_complex:
        answers |= {
            "family_response": "Engaged well after the first month",
            "work_plan_if_re_referred": "Start with a school meeting",
        }
    form_save_draft(actor=worker, closure=closure, form_id="closing-summary", answers=answers)
    form_submit(actor=worker, closure=closure, form_id="closing-summary")
    closure_step_complete(actor=worker, closure=closure, step_id="present-for-closure")
    answer_checklist(closure, "supervisor-audit", manager)
    checklist_complete(actor=manager, closure=closure, checklist_id="supervisor-audit")
    return reload(closure)


def record_final_meeting(case: Case, worker: User, *, on: dt.date | None = None) -> None:
    meeting_record(
        actor=worker,
        case=case,
        kind="final",
        held_on=on or today(),
        attendees=[{"name": "Jo Example", "role": "mother"}, {"name": "Head", "role": "school"}],
        minutes="Reasons for closure explained; the family's feedback heard; safety plan agreed.",
    )


SEVEN_POINTS = {
    "family_can_meet_needs": "Routines are stable and the child is in school every day",
    "why_no_longer_required": "Goals met; parenting work helped; earlier school contact needed",
    "handed_over": "School: attendance monitoring",
    "family_strategies": "Grandmother helps at mornings; call the school if things slip",
    "sustainability_confidence": "Family 9/10, worker 8/10, school 8/10",
    "decision_understood": True,
    "safety_plan_score": 8,
}

CLOSURE_SUMMARY_003 = {
    "intervention_and_impact": "Parenting programme: routines now stable",
    "safety_plan": "School monitors attendance; mother calls the front door if worried",
    "minutes_uploaded": True,
}


def ending_003_until_signing(
    case: Case,
    closure: Closure,
    worker: User,
    manager: User,
    *,
    decision_kind: str = "advise_closure",
) -> None:
    """Procedure 003 after agreement, up to the signatures: final meeting, the seven
    points, the closure summary, the manager's decision, key documents and the file checks."""
    record_final_meeting(case, worker)
    closure_step_complete(actor=worker, closure=closure, step_id="final-meeting")
    form_save_draft(actor=worker, closure=closure, form_id="ending-evidence", answers=SEVEN_POINTS)
    form_submit(actor=worker, closure=closure, form_id="ending-evidence")
    form_save_draft(
        actor=worker, closure=closure, form_id="case-closure-summary", answers=CLOSURE_SUMMARY_003
    )
    form_submit(actor=worker, closure=closure, form_id="case-closure-summary")
    decision_record(
        actor=manager, case=case, kind=decision_kind, decided_on=today(), decision="End"
    )
    upload_minutes(case, worker)
    answer_checklist(closure, "ending-checks", manager)
    checklist_complete(actor=manager, closure=closure, checklist_id="ending-checks")


def sign_and_share_003(closure: Closure, worker: User, manager: User) -> None:
    summary_sign(actor=worker, closure=closure, form_id="case-closure-summary")
    summary_sign(actor=manager, closure=closure, form_id="case-closure-summary")
    summary_share(
        actor=worker,
        closure=closure,
        shared_on=today(),
        recipients=[{"recipient": "Jo Example", "kind": "family", "method": "in_person"}],
    )


def upload_minutes(case: Case, worker: User) -> None:
    document_upload(
        actor=worker,
        case=case,
        kind="minutes",
        title="Final meeting minutes",
        upload=SimpleUploadedFile("minutes.pdf", b"%PDF-1.4 minutes", "application/pdf"),
    )


def complete_assessment(case: Case, actor: User, kind: str, *, started: int = 20) -> None:
    """An assessment of `kind` started `started` days ago and completed today."""
    assessment = assessment_start(actor=actor, case=case, kind=kind, started_on=days_ago(started))
    assessment_complete(
        actor=actor, assessment=assessment, completed_on=today(), outcome="Completed"
    )


def make_child(worker: User, given_name: str = "Sam", *, age: int = 9) -> Person:
    return person_create(
        actor=worker,
        given_name=given_name,
        family_name="Example",
        date_of_birth=days_ago(age * 365 + 30),
        sex="F",
        ethnicity="WBRI",
        ethnicity_asked=True,
    )


def open_child_case(
    worker: User, team: Team, child: Person, *, received_on: dt.date | None = None
) -> Case:
    return case_open(
        actor=worker,
        subject=child,
        team=team,
        received_on=received_on or today(),
        source="2A",
        reason="School concerned about attendance",
        primary_need="N1",
        allocated_worker=worker,
    )


# --- Adults ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdultStaff:
    """An adults' locality team (worker, team manager) and the senior managers above it."""

    team: Team
    worker: User
    manager: User
    service_manager: User
    head_of_service: User


def adult_staff(make_team: Callable[..., Team], make_staff: Callable[..., User]) -> AdultStaff:
    team = make_team("north", TeamFunction.ADULTS_LOCALITY, service_area=ServiceArea.ADULTS)
    seniors = make_team(
        "asc-senior", TeamFunction.OTHER, service_area=ServiceArea.ADULTS, holds_cases=False
    )
    return AdultStaff(
        team=team,
        worker=make_staff("adultworker", team),
        manager=make_staff("adultmanager", team, Role.TEAM_MANAGER),
        service_manager=make_staff("servicemanager", seniors, Role.SERVICE_MANAGER),
        head_of_service=make_staff("headofservice", seniors, Role.HEAD_OF_SERVICE),
    )


def open_adult_case(staff: AdultStaff, *, ethnicity_asked: bool = True) -> Case:
    client = person_create(
        actor=staff.worker,
        given_name="Pat",
        family_name="Client",
        date_of_birth=dt.date(1945, 5, 1),
        sex="F",
        ethnicity="WBRI",
        ethnicity_asked=ethnicity_asked,
    )
    person_move_in(
        actor=staff.worker,
        person=client,
        line_1="9 Care Close",
        town="Testford",
        postcode="TE9 9CC",
        started_on=dt.date(2000, 1, 1),
    )
    return case_open(
        actor=staff.worker,
        subject=client,
        team=staff.team,
        received_on=days_ago(200),
        source="3A",
        reason="Needs support at home after a fall",
        allocated_worker=staff.worker,
    )


def record_adult_essentials(
    case: Case,
    staff: AdultStaff,
    *,
    seen_days_ago: int | None = 3,
    supervision: bool = True,
    closure_discussion: bool = True,
) -> None:
    """The record a well-kept adult case has before closure: GP and key safe, signed consent
    to share, a Care Act assessment completed, sent and authorised, a recent face-to-face
    visit (unless `seen_days_ago` is None), a recent note, supervision and the closure
    discussion in the case notes."""
    client = case.subject
    professional_contact_add(
        actor=staff.worker,
        person=client,
        role=ContactRole.GP,
        organisation="Care Close Surgery",
        started_on=dt.date(2010, 1, 1),
    )
    key_safe_record(actor=staff.worker, person=client, location="By the door", code="1234")
    consent_record(
        actor=staff.worker,
        case=case,
        kind="share_information",
        given_by="Pat Client",
        given_on=days_ago(150),
        signed=True,
    )
    assessment = assessment_start(
        actor=staff.worker, case=case, kind="care_act", started_on=days_ago(120)
    )
    assessment_complete(
        actor=staff.manager,
        assessment=assessment,
        completed_on=days_ago(100),
        outcome="Eligible needs met by reablement",
        sent_to="Pat Client; Care Close Surgery",
        authorise=True,
        eligible_unmet_needs=False,
    )
    if seen_days_ago is not None:
        visit_record(
            actor=staff.worker,
            case=case,
            visited_on=days_ago(seen_days_ago),
            subject_seen=True,
            face_to_face=True,
        )
    note_add(
        actor=staff.worker,
        case=case,
        title="Final review",
        body="Managing well at home",
        occurred_on=days_ago(3),
    )
    if supervision:
        supervision_record(
            actor=staff.manager, case=case, held_on=days_ago(2), discussion="Ready to close"
        )
    if closure_discussion:
        record_closure_discussion(case, staff)


def record_closure_discussion(case: Case, staff: AdultStaff) -> None:
    note_add(
        actor=staff.manager,
        case=case,
        kind=NoteKind.CLOSURE_DISCUSSION,
        title="Closure discussion",
        body="Discussed with the worker: outcomes achieved",
        occurred_on=today(),
    )
