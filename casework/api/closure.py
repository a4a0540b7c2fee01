"""Closure through the API: the same state machine and services as the screens (propose,
decide, checklist, authorise), plus case notes, which some procedures need before the
manager decides. Each action returns the closure as it now stands."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from casework.access.policy import case_for
from casework.accounts.models import User
from casework.api.problems import ERRORS
from casework.cases.models import Case, NoteKind
from casework.cases.services import note_add
from casework.closure.models import ACTIVE_STATES, Closure
from casework.closure.services import (
    checklist_answer,
    checklist_complete,
    closure_authorise,
    closure_decide,
    closure_propose,
)
from casework.core.errors import NotFound
from casework.frontend.pages import signed_in_user as _user

router = Router(tags=["closure"])

SLUG = r"^[a-z0-9][a-z0-9-]{0,59}$"


class ClosureOut(Schema):
    id: int
    case_id: int
    state: str
    procedure: str
    reason_id: str
    national_code: str
    proposed_on: dt.date
    case_status: str


def _out(closure: Closure) -> ClosureOut:
    case = Case.objects.only("status").get(pk=closure.case_id)
    return ClosureOut(
        id=closure.pk,
        case_id=closure.case_id,
        state=closure.state,
        procedure=closure.pack_id,
        reason_id=closure.reason_id,
        national_code=closure.national_code,
        proposed_on=closure.proposed_on,
        case_status=case.status,
    )


def _active(user: User, case_id: int) -> Closure:
    case = case_for(user, case_id)
    closure = Closure.objects.filter(case=case, state__in=ACTIVE_STATES).first()
    if closure is None:
        raise NotFound("This case has no closure in progress.")
    return closure


@router.get("/cases/{case_id}/closure", response={200: ClosureOut, **ERRORS})
def get_closure(request: HttpRequest, case_id: int) -> ClosureOut:
    """The closure in progress on the case."""
    return _out(_active(_user(request), case_id))


class ProposeIn(Schema):
    reason_id: str = Field(pattern=SLUG, description="One of the bound procedure's reasons.")
    note: str = Field(default="", max_length=5000)


@router.post("/cases/{case_id}/closure", response={201: ClosureOut, **ERRORS})
def propose(request: HttpRequest, case_id: int, body: ProposeIn) -> Any:
    user = _user(request)
    case = case_for(user, case_id)
    closure = closure_propose(actor=user, case=case, reason_id=body.reason_id, note=body.note)
    return Status(201, _out(closure))


class DecisionIn(Schema):
    outcome: Literal["agreed", "further_actions", "rejected"]
    note: str = Field(max_length=5000)
    actions: list[str] = Field(default_factory=list, max_length=50)


@router.post("/cases/{case_id}/closure/decision", response={200: ClosureOut, **ERRORS})
def decide(request: HttpRequest, case_id: int, body: DecisionIn) -> ClosureOut:
    user = _user(request)
    closure = closure_decide(
        actor=user,
        closure=_active(user, case_id),
        outcome=body.outcome,
        note=body.note,
        actions=body.actions,
    )
    return _out(closure)


class AnswerIn(Schema):
    answer: Literal["yes", "no", "na"]
    note: str = Field(default="", max_length=5000)
    evidence_date: dt.date | None = None


@router.put(
    "/cases/{case_id}/closure/checklists/{checklist_id}/items/{item_id}",
    response={200: ClosureOut, **ERRORS},
)
def answer_item(
    request: HttpRequest, case_id: int, checklist_id: str, item_id: str, body: AnswerIn
) -> ClosureOut:
    user = _user(request)
    closure = _active(user, case_id)
    checklist_answer(
        actor=user,
        closure=closure,
        checklist_id=checklist_id[:60],
        item_id=item_id[:60],
        answer=body.answer,
        note=body.note,
        evidence_date=body.evidence_date,
    )
    return _out(closure)


@router.post(
    "/cases/{case_id}/closure/checklists/{checklist_id}/completion",
    response={200: ClosureOut, **ERRORS},
)
def complete_checklist(request: HttpRequest, case_id: int, checklist_id: str) -> ClosureOut:
    user = _user(request)
    closure = checklist_complete(
        actor=user, closure=_active(user, case_id), checklist_id=checklist_id[:60]
    )
    return _out(closure)


class AuthoriseIn(Schema):
    compliance_review: str = Field(default="", max_length=10000)


@router.post("/cases/{case_id}/closure/authorisation", response={200: ClosureOut, **ERRORS})
def authorise(request: HttpRequest, case_id: int, body: AuthoriseIn) -> ClosureOut:
    user = _user(request)
    closure = closure_authorise(
        actor=user, closure=_active(user, case_id), compliance_review=body.compliance_review
    )
    return _out(closure)


class NoteIn(Schema):
    kind: NoteKind = NoteKind.GENERAL
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=20000)
    occurred_on: dt.date


class NoteOut(Schema):
    id: int
    case_id: int
    kind: str
    title: str
    occurred_on: dt.date


@router.post("/cases/{case_id}/notes", response={201: NoteOut, **ERRORS}, tags=["cases"])
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
    return Status(
        201,
        NoteOut(
            id=note.pk,
            case_id=note.case_id,
            kind=note.kind,
            title=note.title,
            occurred_on=note.occurred_on,
        ),
    )
