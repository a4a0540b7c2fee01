"""Cases through the API: the list and one case, the chronology, closure readiness, and
referrals (which open a case, or join the open one as a new contact)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from casework.access.policy import case_for, cases_visible_to
from casework.accounts.models import User
from casework.api.common import (
    NOTE,
    AnswerValue,
    FieldId,
    IsoDate,
    JsonInt,
    Page,
    PageQuery,
    PersonOut,
    keyset_page,
    person_out,
)
from casework.api.problems import ERRORS
from casework.audit.models import AuditEvent
from casework.cases.models import Case, CaseStatus, ReferralKind, RiskFlag
from casework.cases.services import (
    case_allocate,
    case_complexity_decide,
    case_open,
    case_risk_flags_set,
    referral_record,
)
from casework.closure.selectors import closure_readiness
from casework.core.codes import PrimaryNeed, ReferralSource
from casework.core.errors import InvalidInput, NotFound
from casework.frontend.pages import signed_in_user as _user
from casework.organisation.models import Team
from casework.people.selectors import person_for_intake
from casework.transfers.rereferral import coming_back, re_referral_review_record

router = Router(tags=["cases"])


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


def case_out(case: Case) -> CaseOut:
    return CaseOut(
        id=case.pk,
        reference=case.reference,
        service_area=case.service_area,
        status=case.status,
        team=case.responsible_team.code,
        allocated_worker=case.allocated_worker.username if case.allocated_worker else None,
        opened_on=case.opened_on,
        closed_on=case.closed_on,
        subject=person_out(case.subject),
    )


class CaseFilters(PageQuery):
    status: CaseStatus | None = None
    team: str | None = Field(default=None, max_length=40, description="A team code.")
    opened_from: IsoDate | None = Field(default=None, description="Opened on or after.")
    opened_to: IsoDate | None = Field(default=None, description="Opened on or before.")
    closed_from: IsoDate | None = Field(default=None, description="Closed on or after.")
    closed_to: IsoDate | None = Field(default=None, description="Closed on or before.")


def filtered_cases(user: User, filters: CaseFilters) -> QuerySet[Case]:
    """The cases `user` may see, narrowed by the filters (the list and the export share it)."""
    rows = cases_visible_to(user)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.team:
        rows = rows.filter(responsible_team__code=filters.team)
    for bound, lookup in (
        (filters.opened_from, "opened_on__gte"),
        (filters.opened_to, "opened_on__lte"),
        (filters.closed_from, "closed_on__gte"),
        (filters.closed_to, "closed_on__lte"),
    ):
        if bound is not None:
            rows = rows.filter(**{lookup: bound})
    return rows


@router.get("/cases", response={200: Page[CaseOut], **ERRORS})
def list_cases(request: HttpRequest, filters: Query[CaseFilters]) -> Page[CaseOut]:
    """The cases the caller may see, most recently opened record first, a page at a time
    (keyset: pages stay right while cases are added)."""
    rows = filtered_cases(_user(request), filters).select_related(
        "subject", "responsible_team", "allocated_worker"
    )
    found, following = keyset_page(rows, filters)
    return Page[CaseOut](items=[case_out(c) for c in found], next=following)


def _full_case(case: Case) -> Case:
    return Case.objects.select_related("subject", "responsible_team", "allocated_worker").get(
        pk=case.pk
    )


@router.get("/cases/{case_id}", response={200: CaseOut, **ERRORS})
def get_case(request: HttpRequest, case_id: int) -> CaseOut:
    return case_out(_full_case(case_for(_user(request), case_id)))


class EventOut(Schema):
    id: int
    occurred_on: dt.date
    category: str
    verb: str
    summary: str
    actor: str | None


class ChronologyFilters(PageQuery):
    category: str | None = Field(default=None, max_length=40, description="e.g. `visit`.")
    occurred_from: IsoDate | None = Field(default=None, description="On or after.")
    occurred_to: IsoDate | None = Field(default=None, description="On or before.")


@router.get("/cases/{case_id}/chronology", response={200: Page[EventOut], **ERRORS})
def chronology(
    request: HttpRequest, case_id: int, filters: Query[ChronologyFilters]
) -> Page[EventOut]:
    """The case's chronology (its audit log), newest first."""
    case = case_for(_user(request), case_id)
    rows = AuditEvent.objects.filter(case=case).select_related("actor")
    if filters.category:
        rows = rows.filter(category=filters.category)
    if filters.occurred_from:
        rows = rows.filter(event_date__gte=filters.occurred_from)
    if filters.occurred_to:
        rows = rows.filter(event_date__lte=filters.occurred_to)
    events, following = keyset_page(rows, filters)
    return Page[EventOut](
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
        next=following,
    )


class ReadinessGateOut(Schema):
    gate: str
    label: str
    met: bool
    explanation: str


class ReadinessOut(Schema):
    procedure: str | None
    closure_in_progress: bool
    can_propose: bool
    gates: list[ReadinessGateOut]


@router.get(
    "/cases/{case_id}/closure-readiness",
    response={200: ReadinessOut, **ERRORS},
    tags=["closure"],
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
            ReadinessGateOut(
                gate=r.gate_id,
                label=r.result.gate.label,
                met=not r.result.outstanding,
                explanation=r.result.explanation if r.result.outstanding else "",
            )
            for r in rows
        ],
    )


# --- Referrals --------------------------------------------------------------------------------


class ReferralOut(Schema):
    id: int
    case_id: int
    kind: str
    received_on: dt.date
    source: str
    primary_need: str
    reason: str
    no_further_action: bool


class NewReferralIn(Schema):
    person_id: JsonInt = Field(ge=1, description="From `GET /people` or `POST /people`.")
    team: str = Field(min_length=1, max_length=40, description="The code of your team.")
    received_on: IsoDate
    source: ReferralSource
    reason: str = Field(min_length=1, max_length=20000)
    kind: ReferralKind = ReferralKind.REFERRAL
    primary_need: PrimaryNeed | None = None
    allocate_to_me: bool = False


class KnownBefore(Schema):
    """R003-07: a returning family's last episode, to read beside the new referral."""

    earlier_case_id: int
    earlier_reference: str
    closed_on: dt.date | None
    is_re_referral: bool = Field(description="Within 12 months of an earlier referral.")
    last_summary_headings: list[dict[str, Any]] = Field(
        description="The last signed closure summary, heading by heading (empty if none)."
    )


class OpenedOut(Schema):
    case: CaseOut
    referral: ReferralOut
    known_before: KnownBefore | None


def _known_before(user: User, case: Case) -> KnownBefore | None:
    back = coming_back(user, case)
    if back is None:
        return None
    return KnownBefore(
        earlier_case_id=back.previous_case.pk,
        earlier_reference=back.previous_case.reference,
        closed_on=back.previous_case.closed_on,
        is_re_referral=back.is_re_referral,
        last_summary_headings=list(back.summary.content["headings"]) if back.summary else [],
    )


def _referral_out(referral: Any) -> ReferralOut:
    return ReferralOut(
        id=referral.pk,
        case_id=referral.case_id,
        kind=referral.kind,
        received_on=referral.received_on,
        source=referral.source,
        primary_need=referral.primary_need,
        reason=referral.reason,
        no_further_action=referral.no_further_action,
    )


@router.post("/referrals", response={201: OpenedOut, **ERRORS}, tags=["referrals"])
def new_referral(request: HttpRequest, body: NewReferralIn) -> Any:
    """Open a case for a person from a contact or referral, held by one of your teams. A
    person who already has an open case in that service is refused: add the contact to
    that case instead (`POST /cases/{case_id}/referrals`). For a family known before, the
    answer carries their last episode and its signed closure summary (`known_before`)."""
    user = _user(request)
    person = person_for_intake(user, body.person_id)
    team = Team.objects.filter(code=body.team).first()
    if team is None:
        raise NotFound(f"There is no team with the code {body.team!r}.")
    case = case_open(
        actor=user,
        subject=person,
        team=team,
        received_on=body.received_on,
        source=body.source,
        reason=body.reason,
        kind=body.kind,
        primary_need=body.primary_need or "",
        allocated_worker=user if body.allocate_to_me else None,
    )
    case = _full_case(case)
    opened = OpenedOut(
        case=case_out(case),
        referral=_referral_out(case.referrals.get()),
        known_before=_known_before(user, case),
    )
    return Status(201, opened)


class ContactIn(Schema):
    received_on: IsoDate
    source: ReferralSource
    reason: str = Field(min_length=1, max_length=20000)
    kind: ReferralKind = ReferralKind.CONTACT
    primary_need: PrimaryNeed | None = None
    no_further_action: bool = False


@router.get("/cases/{case_id}/referrals", response={200: Page[ReferralOut], **ERRORS})
def case_referrals(request: HttpRequest, case_id: int, page: Query[PageQuery]) -> Page[ReferralOut]:
    """The contacts and referrals on the case, most recently recorded first."""
    case = case_for(_user(request), case_id)
    found, following = keyset_page(case.referrals.all(), page)
    return Page[ReferralOut](items=[_referral_out(r) for r in found], next=following)


@router.post("/cases/{case_id}/referrals", response={201: ReferralOut, **ERRORS})
def add_contact(request: HttpRequest, case_id: int, body: ContactIn) -> Any:
    """Record a new contact or referral on an open case."""
    user = _user(request)
    referral = referral_record(
        actor=user,
        case=case_for(user, case_id),
        received_on=body.received_on,
        source=body.source,
        reason=body.reason,
        kind=body.kind,
        primary_need=body.primary_need or "",
        no_further_action=body.no_further_action,
    )
    return Status(201, _referral_out(referral))


# --- Allocation, complexity and risk ------------------------------------------------------


class AllocationIn(Schema):
    worker: str | None = Field(
        default=None,
        pattern=r"^[\w.@+-]{1,150}$",
        description="Username of a worker in the team that holds the case; null unallocates.",
    )
    started_on: IsoDate
    reason: str = Field(default="", max_length=NOTE)


@router.post("/cases/{case_id}/allocation", response={200: CaseOut, **ERRORS})
def allocate(request: HttpRequest, case_id: int, body: AllocationIn) -> CaseOut:
    """Allocate the case to a worker in its team (a manager), keeping the history."""
    user = _user(request)
    case = case_for(user, case_id)
    worker = None
    if body.worker is not None:
        worker = User.objects.filter(username=body.worker, is_active=True).first()
        if worker is None:
            raise InvalidInput(f"There is no active user {body.worker!r}.", field="worker")
    case_allocate(
        actor=user, case=case, worker=worker, started_on=body.started_on, reason=body.reason
    )
    return case_out(_full_case(case))


class ComplexityIn(Schema):
    is_complex: bool
    reason: str = Field(min_length=1, max_length=NOTE)


class RiskOut(Schema):
    case_id: int
    is_complex: bool | None
    risk_flags: list[str]


def _risk_out(case: Case) -> RiskOut:
    case.refresh_from_db(fields=["is_complex", "risk_flags"])
    return RiskOut(case_id=case.pk, is_complex=case.is_complex, risk_flags=list(case.risk_flags))


@router.put("/cases/{case_id}/complexity", response={200: RiskOut, **ERRORS})
def decide_complexity(request: HttpRequest, case_id: int, body: ComplexityIn) -> RiskOut:
    """Record whether the case is complex (a manager decides; procedure 000 asks for more
    closing-summary headings when it is)."""
    user = _user(request)
    case = case_for(user, case_id)
    case_complexity_decide(actor=user, case=case, is_complex=body.is_complex, reason=body.reason)
    return _risk_out(case)


class RiskFlagsIn(Schema):
    flags: list[RiskFlag] = Field(max_length=len(RiskFlag.values))
    reason: str = Field(min_length=1, max_length=NOTE)


@router.put("/cases/{case_id}/risk-flags", response={200: RiskOut, **ERRORS})
def set_risk_flags(request: HttpRequest, case_id: int, body: RiskFlagsIn) -> RiskOut:
    """Set the case's risk flags (procedures use them to escalate); the reason is kept."""
    user = _user(request)
    case = case_for(user, case_id)
    case_risk_flags_set(actor=user, case=case, flags=list(body.flags), reason=body.reason)
    return _risk_out(case)


# --- A returning family -----------------------------------------------------------------------


class ReReferralReviewIn(Schema):
    answers: dict[FieldId, AnswerValue] = Field(
        max_length=50, description="The re-referral review form of the closure procedure."
    )


class ReReferralReviewOut(Schema):
    id: int
    case_id: int
    earlier_case_id: int
    answers: dict[str, Any]


@router.post(
    "/cases/{case_id}/re-referral-review",
    response={201: ReReferralReviewOut, **ERRORS},
    tags=["referrals"],
)
def review_re_referral(request: HttpRequest, case_id: int, body: ReReferralReviewIn) -> Any:
    """R003-07: the front door's judgements on a returning family, read against the last
    closure summary (`known_before` when the case was opened): whether further statutory
    intervention is needed, whether the parent is following the agreed arrangements, and
    whether partner agencies completed the agreed support."""
    user = _user(request)
    review = re_referral_review_record(
        actor=user, case=case_for(user, case_id), answers=dict(body.answers)
    )
    return Status(
        201,
        ReReferralReviewOut(
            id=review.pk,
            case_id=review.case_id,
            earlier_case_id=review.previous_case_id,
            answers=dict(review.answers),
        ),
    )
