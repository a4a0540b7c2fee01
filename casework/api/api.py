"""Casework's JSON API, version 1 (`/api/v1/`), over the same selectors and services as the
screens: a case the caller cannot see is a 404, every rule is the service's, every change is
audited. Errors are problem documents (RFC 9457 fields) with a plain-English `detail`.

This is the first slice (issue 7): reading cases, their chronology and closure readiness,
people search and the caller's tasks, and recording a visit with an `Idempotency-Key`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI, Query, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer
from pydantic import Field

from casework.access.policy import case_for, cases_visible_to
from casework.accounts.models import User
from casework.api.closure import router as closure_router
from casework.api.models import ApiToken, IdempotentRequest
from casework.api.problems import ERRORS
from casework.api.services import token_digest
from casework.audit.models import AuditEvent
from casework.cases.models import Case, CaseStatus
from casework.cases.services import visit_record
from casework.closure.selectors import closure_readiness
from casework.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from casework.frontend.pages import signed_in_user as _user
from casework.people.selectors import people_search
from casework.tasks.selectors import tasks_for

PAGE_DEFAULT = 25
PAGE_MAX = 100


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`: a live token of an active user."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        found = (
            ApiToken.objects.select_related("user")
            .filter(digest=token_digest(token), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if found is None:
            return None
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
        request.user = found.user
        return found.user


api = NinjaAPI(
    title="Casework API",
    version="1",
    description="Case management for social care: the same rules and access as the screens.",
    auth=TokenAuth(),
    urls_namespace="api-v1",
)
api.add_router("", closure_router)


def _problem(
    request: HttpRequest, status: int, title: str, detail: str, **extra: Any
) -> HttpResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return api.create_response(request, body, status=status)


@api.exception_handler(NotFound)
def _not_found(request: HttpRequest, error: NotFound) -> HttpResponse:
    return _problem(request, 404, "Not found", str(error))


@api.exception_handler(NotPermitted)
def _not_permitted(request: HttpRequest, error: NotPermitted) -> HttpResponse:
    return _problem(request, 403, "Not permitted", str(error))


@api.exception_handler(Conflict)
def _conflict(request: HttpRequest, error: Conflict) -> HttpResponse:
    return _problem(request, 409, "Conflict", str(error))


@api.exception_handler(InvalidInput)
def _invalid(request: HttpRequest, error: InvalidInput) -> HttpResponse:
    errors = [{"field": p.field or "", "message": p.message} for p in error.problems]
    return _problem(
        request, 400, "Invalid input", " ".join(p.message for p in error.problems), errors=errors
    )


@api.exception_handler(ValidationError)
def _unreadable(request: HttpRequest, error: ValidationError) -> HttpResponse:
    errors = [
        {"field": ".".join(str(p) for p in e.get("loc", [])), "message": str(e.get("msg", ""))}
        for e in error.errors
    ]
    return _problem(
        request,
        422,
        "Unreadable request",
        "The request does not match the API's schema.",
        errors=errors,
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    """Ninja's own refusals (an unreadable body, for example) as problem documents."""
    detail = str(error)
    if "parse" in detail.lower():
        detail = "The request body is not valid JSON: check it and send again."
    return _problem(request, error.status_code, "Request refused", detail)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return _problem(
        request,
        401,
        "Not signed in",
        "Send a live API token as 'Authorization: Bearer <token>'. Make one in the admin.",
    )


# --- Cases ------------------------------------------------------------------------------------


class PersonOut(Schema):
    id: int
    local_id: str
    given_name: str
    family_name: str
    date_of_birth: dt.date | None


class CaseOut(Schema):
    id: int
    reference: str
    service_area: str
    status: str
    team: str
    allocated_worker: str | None
    opened_on: dt.date
    closed_on: dt.date | None
    subject: PersonOut


class CasePage(Schema):
    items: list[CaseOut]
    next: int | None = Field(description="Pass as `after` to get the next page.")


def _case_out(case: Case) -> CaseOut:
    person = case.subject
    return CaseOut(
        id=case.pk,
        reference=case.reference,
        service_area=case.service_area,
        status=case.status,
        team=case.responsible_team.code,
        allocated_worker=case.allocated_worker.username if case.allocated_worker else None,
        opened_on=case.opened_on,
        closed_on=case.closed_on,
        subject=PersonOut(
            id=person.pk,
            local_id=person.local_id,
            given_name=person.given_name,
            family_name=person.family_name,
            date_of_birth=person.date_of_birth,
        ),
    )


class CaseFilters(Schema):
    status: CaseStatus | None = None
    team: str | None = Field(default=None, max_length=40, description="A team code.")
    after: int | None = Field(default=None, ge=1, description="The `next` of a page.")
    limit: int = Field(default=PAGE_DEFAULT, ge=1, le=PAGE_MAX)


@api.get("/cases", response={200: CasePage, **ERRORS}, tags=["cases"])
def list_cases(request: HttpRequest, filters: Query[CaseFilters]) -> CasePage:
    """The cases the caller may see, most recently recorded first, a page at a time (keyset:
    pages stay right while cases are added)."""
    rows = cases_visible_to(_user(request)).select_related(
        "subject", "responsible_team", "allocated_worker"
    )
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.team:
        rows = rows.filter(responsible_team__code=filters.team)
    if filters.after is not None:
        rows = rows.filter(id__lt=filters.after)
    page = list(rows.order_by("-id")[: filters.limit + 1])
    more = len(page) > filters.limit
    page = page[: filters.limit]
    return CasePage(items=[_case_out(c) for c in page], next=page[-1].pk if more and page else None)


@api.get("/cases/{case_id}", response={200: CaseOut, **ERRORS}, tags=["cases"])
def get_case(request: HttpRequest, case_id: int) -> CaseOut:
    case = case_for(_user(request), case_id)
    case = Case.objects.select_related("subject", "responsible_team", "allocated_worker").get(
        pk=case.pk
    )
    return _case_out(case)


class EventOut(Schema):
    id: int
    occurred_on: dt.date
    category: str
    verb: str
    summary: str
    actor: str | None


class ChronologyPage(Schema):
    items: list[EventOut]
    next: int | None


class PageQuery(Schema):
    after: int | None = Field(default=None, ge=1, description="The `next` of a page.")
    limit: int = Field(default=PAGE_DEFAULT, ge=1, le=PAGE_MAX)


@api.get("/cases/{case_id}/chronology", response={200: ChronologyPage, **ERRORS}, tags=["cases"])
def chronology(request: HttpRequest, case_id: int, page: Query[PageQuery]) -> ChronologyPage:
    """The case's chronology (its audit log), newest first."""
    case = case_for(_user(request), case_id)
    rows = AuditEvent.objects.filter(case=case).select_related("actor").order_by("-id")
    if page.after:
        rows = rows.filter(id__lt=page.after)
    events = list(rows[: page.limit + 1])
    more = len(events) > page.limit
    events = events[: page.limit]
    return ChronologyPage(
        items=[
            EventOut(
                id=e.pk,
                occurred_on=e.event_date,
                category=e.category,
                verb=e.verb,
                summary=e.summary,
                actor=e.actor.username if e.actor else None,
            )
            for e in events
        ],
        next=events[-1].pk if more and events else None,
    )


class GateOut(Schema):
    gate: str
    label: str
    met: bool
    explanation: str


class ReadinessOut(Schema):
    procedure: str | None
    closure_in_progress: bool
    can_propose: bool
    gates: list[GateOut]


@api.get(
    "/cases/{case_id}/closure-readiness", response={200: ReadinessOut, **ERRORS}, tags=["closure"]
)
def readiness(request: HttpRequest, case_id: int) -> ReadinessOut:
    """Could this case close today, under its bound procedure, and what is missing."""
    user = _user(request)
    case = case_for(user, case_id)
    found = closure_readiness(user, case)
    rows = [*found.propose_gates, *found.closing_gates, *found.reason_gates]
    return ReadinessOut(
        procedure=found.pack.spec.title if found.pack else None,
        closure_in_progress=found.active,
        can_propose=found.can_propose,
        gates=[
            GateOut(
                gate=r.gate_id,
                label=r.result.gate.label,
                met=not r.result.outstanding,
                explanation=r.result.explanation if r.result.outstanding else "",
            )
            for r in rows
        ],
    )


class VisitIn(Schema):
    visited_on: dt.date
    subject_seen: bool
    seen_alone: bool = False
    home_visited: bool = False
    face_to_face: bool = True
    notes: str = Field(default="", max_length=20000)


class VisitOut(Schema):
    id: int
    case_id: int
    visited_on: dt.date
    subject_seen: bool


@api.post("/cases/{case_id}/visits", response={201: VisitOut, **ERRORS}, tags=["cases"])
def record_visit(request: HttpRequest, case_id: int, visit: VisitIn) -> Any:
    """Record a visit. Send an `Idempotency-Key` header: a retry with the same key returns
    the first answer and records nothing more."""
    user = _user(request)
    case = case_for(user, case_id)

    def act() -> tuple[int, dict[str, Any]]:
        made = visit_record(actor=user, case=case, **visit.dict())
        out = VisitOut(
            id=made.pk,
            case_id=case.pk,
            visited_on=made.visited_on,
            subject_seen=made.subject_seen,
        )
        return 201, out.dict()

    return _idempotent(request, user, act)


def _idempotent(request: HttpRequest, user: User, act: Any) -> Any:
    key = request.headers.get("Idempotency-Key", "")[:100]
    if not key:
        status, body = act()
        return Status(status, body)
    earlier = IdempotentRequest.objects.filter(user=user, key=key).first()
    if earlier is not None:
        if earlier.path != request.path:
            raise Conflict("That Idempotency-Key was used for a different request: use a new one.")
        return Status(earlier.status, earlier.body)
    try:
        with transaction.atomic():
            status, body = act()
            IdempotentRequest.objects.create(
                user=user, key=key, path=request.path, status=status, body=_jsonable(body)
            )
    except IntegrityError:
        # The same key raced in from a retry: the first answer stands.
        earlier = IdempotentRequest.objects.get(user=user, key=key)
        return Status(earlier.status, earlier.body)
    return Status(status, body)


def _jsonable(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in body.items()}


# --- People and tasks -------------------------------------------------------------------------


class SearchQuery(Schema):
    q: str = Field(min_length=1, max_length=200, description="Name, date of birth or identifier.")


class MatchOut(Schema):
    person: PersonOut
    score: float
    why: str


@api.get("/people", response={200: list[MatchOut], **ERRORS}, tags=["people"])
def search_people(request: HttpRequest, query: Query[SearchQuery]) -> list[MatchOut]:
    """People the caller may see who match, best first (tolerant of spelling)."""
    return [
        MatchOut(
            person=PersonOut(
                id=m.person.pk,
                local_id=m.person.local_id,
                given_name=m.person.given_name,
                family_name=m.person.family_name,
                date_of_birth=m.person.date_of_birth,
            ),
            score=round(m.score, 3),
            why=m.why,
        )
        for m in people_search(_user(request), query.q)
    ]


class TaskOut(Schema):
    id: int
    title: str
    role: str
    due_on: dt.date | None
    case_id: int | None
    requirement: str


@api.get("/tasks", response={200: list[TaskOut], **ERRORS}, tags=["tasks"])
def my_tasks(request: HttpRequest) -> list[TaskOut]:
    """Open tasks waiting on the caller, soonest due first."""
    return [
        TaskOut(
            id=t.pk,
            title=t.title,
            role=t.role,
            due_on=t.due_on,
            case_id=t.case_id,
            requirement=t.requirement,
        )
        for t in tasks_for(_user(request))[:PAGE_MAX]
    ]
