"""The work recorded on a case, through the API: visits, case notes, assessments, plans and
meetings. Lists are newest first; each POST goes through the same service as the screens'
recording forms, so the same rules refuse the same mistakes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.db.models import Model, QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from casework.access.policy import case_for
from casework.accounts.models import User
from casework.api.common import LONG_TEXT, IsoDate, Page, PageQuery, keyset_page
from casework.api.problems import ERRORS
from casework.cases.models import (
    Assessment,
    AssessmentKind,
    CapacityOutcome,
    CaseNote,
    DecisionKind,
    ManagerDecision,
    Meeting,
    MeetingKind,
    NoteKind,
    Plan,
    PlanKind,
    SupervisionRecord,
    Visit,
)
from casework.cases.services import (
    assessment_complete,
    assessment_start,
    decision_record,
    meeting_record,
    note_add,
    plan_end,
    plan_start,
    supervision_record,
    visit_record,
)
from casework.core.codes import CategoryOfAbuse, LegalStatus
from casework.core.errors import NotFound
from casework.frontend.pages import signed_in_user as _user

router = Router(tags=["recording"])


def _one_on_case(user: User, case_id: int, rows: QuerySet[Any], row_id: int, what: str) -> Any:
    """A record on a case the caller can see; another case's record is not found."""
    found: Model | None = rows.filter(case=case_for(user, case_id), pk=row_id).first()
    if found is None:
        raise NotFound(f"There is no {what} with that ID on this case.")
    return found


# --- Visits -----------------------------------------------------------------------------------


class VisitIn(Schema):
    visited_on: IsoDate
    subject_seen: bool
    seen_alone: bool = False
    home_visited: bool = False
    face_to_face: bool = True
    notes: str = Field(default="", max_length=LONG_TEXT)


class VisitOut(Schema):
    id: int
    case_id: int
    visited_on: dt.date
    visited_by: str
    subject_seen: bool
    seen_alone: bool
    home_visited: bool
    face_to_face: bool
    notes: str


def _visit_out(visit: Visit) -> VisitOut:
    return VisitOut(
        id=visit.pk,
        case_id=visit.case_id,
        visited_on=visit.visited_on,
        visited_by=visit.visited_by.username,
        subject_seen=visit.subject_seen,
        seen_alone=visit.seen_alone,
        home_visited=visit.home_visited,
        face_to_face=visit.face_to_face,
        notes=visit.notes,
    )


@router.get("/cases/{case_id}/visits", response={200: Page[VisitOut], **ERRORS})
def list_visits(request: HttpRequest, case_id: int, page: Query[PageQuery]) -> Page[VisitOut]:
    """The case's visits, most recently recorded first."""
    case = case_for(_user(request), case_id)
    found, following = keyset_page(case.visits.select_related("visited_by"), page)
    return Page[VisitOut](items=[_visit_out(v) for v in found], next=following)


@router.post("/cases/{case_id}/visits", response={201: VisitOut, **ERRORS})
def record_visit(request: HttpRequest, case_id: int, body: VisitIn) -> Any:
    """Record a visit. Send an `Idempotency-Key` header so that a retry records nothing more."""
    user = _user(request)
    visit = visit_record(actor=user, case=case_for(user, case_id), **body.dict())
    return Status(201, _visit_out(visit))


# --- Case notes -------------------------------------------------------------------------------


class NoteIn(Schema):
    kind: NoteKind = NoteKind.GENERAL
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=LONG_TEXT)
    occurred_on: IsoDate


class NoteOut(Schema):
    id: int
    case_id: int
    kind: str
    title: str
    body: str
    occurred_on: dt.date
    author: str


def _note_out(note: CaseNote) -> NoteOut:
    return NoteOut(
        id=note.pk,
        case_id=note.case_id,
        kind=note.kind,
        title=note.title,
        body=note.body,
        occurred_on=note.occurred_on,
        author=note.author.username,
    )


@router.get("/cases/{case_id}/notes", response={200: Page[NoteOut], **ERRORS})
def list_notes(request: HttpRequest, case_id: int, page: Query[PageQuery]) -> Page[NoteOut]:
    """The case notes, most recently recorded first."""
    case = case_for(_user(request), case_id)
    found, following = keyset_page(case.notes.select_related("author"), page)
    return Page[NoteOut](items=[_note_out(n) for n in found], next=following)


@router.post("/cases/{case_id}/notes", response={201: NoteOut, **ERRORS})
def add_note(request: HttpRequest, case_id: int, body: NoteIn) -> Any:
    user = _user(request)
    note = note_add(
        actor=user,
        case=case_for(user, case_id),
        kind=body.kind,
        title=body.title,
        body=body.body,
        occurred_on=body.occurred_on,
    )
    return Status(201, _note_out(note))


# --- Assessments ------------------------------------------------------------------------------


class AssessmentOut(Schema):
    id: int
    case_id: int
    kind: str
    started_on: dt.date
    completed_on: dt.date | None
    authorised_on: dt.date | None
    outcome: str
    factors: list[str]


def _assessment_out(assessment: Assessment) -> AssessmentOut:
    return AssessmentOut(
        id=assessment.pk,
        case_id=assessment.case_id,
        kind=assessment.kind,
        started_on=assessment.started_on,
        completed_on=assessment.completed_on,
        authorised_on=assessment.authorised_on,
        outcome=assessment.outcome,
        factors=list(assessment.factors),
    )


class AssessmentIn(Schema):
    kind: AssessmentKind
    started_on: IsoDate


class AssessmentCompletionIn(Schema):
    completed_on: IsoDate
    outcome: str = Field(min_length=1, max_length=LONG_TEXT)
    factors: list[Annotated[str, Field(max_length=10)]] = Field(
        default_factory=list, max_length=40, description="CIN census assessment factor codes."
    )
    sent_to: str = Field(default="", max_length=300)
    authorise: bool = Field(default=False, description="A manager may authorise as they complete.")
    capacity: CapacityOutcome | None = None
    eligible_unmet_needs: bool | None = None
    offered_and_declined: bool = False


@router.get("/cases/{case_id}/assessments", response={200: list[AssessmentOut], **ERRORS})
def list_assessments(request: HttpRequest, case_id: int) -> list[AssessmentOut]:
    case = case_for(_user(request), case_id)
    return [_assessment_out(a) for a in case.assessments.order_by("-started_on", "-id")]


@router.post("/cases/{case_id}/assessments", response={201: AssessmentOut, **ERRORS})
def start_assessment(request: HttpRequest, case_id: int, body: AssessmentIn) -> Any:
    user = _user(request)
    made = assessment_start(
        actor=user, case=case_for(user, case_id), kind=body.kind, started_on=body.started_on
    )
    return Status(201, _assessment_out(made))


@router.post(
    "/cases/{case_id}/assessments/{assessment_id}/completion",
    response={200: AssessmentOut, **ERRORS},
)
def complete_assessment(
    request: HttpRequest, case_id: int, assessment_id: int, body: AssessmentCompletionIn
) -> AssessmentOut:
    user = _user(request)
    assessment = _one_on_case(user, case_id, Assessment.objects.all(), assessment_id, "assessment")
    done = assessment_complete(
        actor=user,
        assessment=assessment,
        completed_on=body.completed_on,
        outcome=body.outcome,
        factors=body.factors,
        sent_to=body.sent_to,
        authorise=body.authorise,
        capacity=body.capacity or "",
        eligible_unmet_needs=body.eligible_unmet_needs,
        offered_and_declined=body.offered_and_declined,
    )
    return _assessment_out(done)


# --- Plans ------------------------------------------------------------------------------------


class PlanOut(Schema):
    id: int
    case_id: int
    kind: str
    started_on: dt.date
    ended_on: dt.date | None
    category: str
    legal_status: str
    summary: str
    outcome: str


def _plan_out(plan: Plan) -> PlanOut:
    return PlanOut(
        id=plan.pk,
        case_id=plan.case_id,
        kind=plan.kind,
        started_on=plan.started_on,
        ended_on=plan.ended_on,
        category=plan.latest_category,
        legal_status=plan.legal_status,
        summary=plan.summary,
        outcome=plan.outcome,
    )


class PlanIn(Schema):
    kind: PlanKind
    started_on: IsoDate
    summary: str = Field(default="", max_length=LONG_TEXT)
    category: CategoryOfAbuse | None = Field(
        default=None, description="Required for a child protection plan."
    )
    legal_status: LegalStatus | None = Field(
        default=None, description="Required for a looked-after episode."
    )


class PlanEndIn(Schema):
    ended_on: IsoDate
    outcome: str = Field(default="", max_length=LONG_TEXT)


@router.get("/cases/{case_id}/plans", response={200: list[PlanOut], **ERRORS})
def list_plans(request: HttpRequest, case_id: int) -> list[PlanOut]:
    case = case_for(_user(request), case_id)
    return [_plan_out(p) for p in case.plans.order_by("-started_on", "-id")]


@router.post("/cases/{case_id}/plans", response={201: PlanOut, **ERRORS})
def start_plan(request: HttpRequest, case_id: int, body: PlanIn) -> Any:
    user = _user(request)
    plan = plan_start(
        actor=user,
        case=case_for(user, case_id),
        kind=body.kind,
        started_on=body.started_on,
        summary=body.summary,
        category=body.category or "",
        legal_status=body.legal_status or "",
    )
    return Status(201, _plan_out(plan))


@router.post("/cases/{case_id}/plans/{plan_id}/end", response={200: PlanOut, **ERRORS})
def end_plan(request: HttpRequest, case_id: int, plan_id: int, body: PlanEndIn) -> PlanOut:
    user = _user(request)
    plan = _one_on_case(user, case_id, Plan.objects.all(), plan_id, "plan")
    return _plan_out(plan_end(actor=user, plan=plan, ended_on=body.ended_on, outcome=body.outcome))


# --- Meetings ---------------------------------------------------------------------------------


class Attendee(Schema):
    name: str = Field(min_length=1, max_length=200)
    role: str = Field(default="", max_length=200)


class MeetingIn(Schema):
    kind: MeetingKind
    held_on: IsoDate
    attendees: list[Attendee] = Field(default_factory=list, max_length=100)
    minutes: str = Field(default="", max_length=LONG_TEXT * 5)


class MeetingOut(Schema):
    id: int
    case_id: int
    kind: str
    held_on: dt.date
    attendees: list[dict[str, str]]
    minutes: str


def _meeting_out(meeting: Meeting) -> MeetingOut:
    return MeetingOut(
        id=meeting.pk,
        case_id=meeting.case_id,
        kind=meeting.kind,
        held_on=meeting.held_on,
        attendees=list(meeting.attendees),
        minutes=meeting.minutes,
    )


@router.get("/cases/{case_id}/meetings", response={200: Page[MeetingOut], **ERRORS})
def list_meetings(request: HttpRequest, case_id: int, page: Query[PageQuery]) -> Page[MeetingOut]:
    """The case's meetings, most recently recorded first."""
    case = case_for(_user(request), case_id)
    found, following = keyset_page(case.meetings.all(), page)
    return Page[MeetingOut](items=[_meeting_out(m) for m in found], next=following)


@router.post("/cases/{case_id}/meetings", response={201: MeetingOut, **ERRORS})
def record_meeting(request: HttpRequest, case_id: int, body: MeetingIn) -> Any:
    user = _user(request)
    meeting = meeting_record(
        actor=user,
        case=case_for(user, case_id),
        kind=body.kind,
        held_on=body.held_on,
        attendees=[a.dict() for a in body.attendees],
        minutes=body.minutes,
    )
    return Status(201, _meeting_out(meeting))


# --- Supervision and managers' decisions -----------------------------------------------------


class SupervisionIn(Schema):
    held_on: IsoDate
    discussion: str = Field(min_length=1, max_length=LONG_TEXT)
    actions: str = Field(default="", max_length=LONG_TEXT)


class SupervisionOut(Schema):
    id: int
    case_id: int
    held_on: dt.date
    supervisor: str
    worker: str
    discussion: str
    actions: str


def _supervision_out(row: SupervisionRecord) -> SupervisionOut:
    return SupervisionOut(
        id=row.pk,
        case_id=row.case_id,
        held_on=row.held_on,
        supervisor=row.supervisor.username,
        worker=row.worker.username,
        discussion=row.discussion,
        actions=row.actions,
    )


@router.get("/cases/{case_id}/supervisions", response={200: Page[SupervisionOut], **ERRORS})
def list_supervisions(
    request: HttpRequest, case_id: int, page: Query[PageQuery]
) -> Page[SupervisionOut]:
    """Case supervision, most recently recorded first."""
    case = case_for(_user(request), case_id)
    found, following = keyset_page(case.supervisions.select_related("supervisor", "worker"), page)
    return Page[SupervisionOut](items=[_supervision_out(s) for s in found], next=following)


@router.post("/cases/{case_id}/supervisions", response={201: SupervisionOut, **ERRORS})
def record_supervision(request: HttpRequest, case_id: int, body: SupervisionIn) -> Any:
    """Record case supervision of the allocated worker (a manager)."""
    user = _user(request)
    made = supervision_record(actor=user, case=case_for(user, case_id), **body.dict())
    row = SupervisionRecord.objects.select_related("supervisor", "worker").get(pk=made.pk)
    return Status(201, _supervision_out(row))


class ManagerDecisionIn(Schema):
    kind: DecisionKind
    decided_on: IsoDate
    decision: str = Field(min_length=1, max_length=LONG_TEXT)
    rationale: str = Field(default="", max_length=LONG_TEXT)


class ManagerDecisionOut(Schema):
    id: int
    case_id: int
    kind: str
    decided_on: dt.date
    manager: str
    decision: str
    rationale: str


def _decision_out(row: ManagerDecision) -> ManagerDecisionOut:
    return ManagerDecisionOut(
        id=row.pk,
        case_id=row.case_id,
        kind=row.kind,
        decided_on=row.decided_on,
        manager=row.manager.username,
        decision=row.decision,
        rationale=row.rationale,
    )


@router.get("/cases/{case_id}/decisions", response={200: Page[ManagerDecisionOut], **ERRORS})
def list_decisions(
    request: HttpRequest, case_id: int, page: Query[PageQuery]
) -> Page[ManagerDecisionOut]:
    """Managers' decisions on the case, most recently recorded first."""
    case = case_for(_user(request), case_id)
    found, following = keyset_page(case.decisions.select_related("manager"), page)
    return Page[ManagerDecisionOut](items=[_decision_out(d) for d in found], next=following)


@router.post("/cases/{case_id}/decisions", response={201: ManagerDecisionOut, **ERRORS})
def record_decision(request: HttpRequest, case_id: int, body: ManagerDecisionIn) -> Any:
    """Record a manager's decision, with its rationale (a manager of the case)."""
    user = _user(request)
    made = decision_record(actor=user, case=case_for(user, case_id), **body.dict())
    row = ManagerDecision.objects.select_related("manager").get(pk=made.pk)
    return Status(201, _decision_out(row))
