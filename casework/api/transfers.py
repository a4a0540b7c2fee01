"""Transfers between teams and the step-down, escalation and in/out-of-area pathways through the
API (procedure 004, issue 7): the same selectors and services as the transfer screens, so the
same rules refuse the same mistakes.

A transfer: the sending worker requests it (`POST /cases/{id}/transfer`), writes the summary
(`PUT .../transfer/summary`); the sending manager records the discussion, audits the record
and authorises; the receiving manager accepts or declines (`POST .../transfer/decision`); a
manager of either team completes it at the protocol's transfer point. A pathway: the holding
team asks (`POST /cases/{id}/pathways/{pathway_id}/requests`), the role the pack names decides
(`POST /cases/{id}/pathway-requests/{request_id}/decision`), and a decision that ends the case
is followed by a closure proposal (`.../closure`).

Every case route starts from the case the caller may see (`case_for`); other ids (pathway
requests) are looked up through that case. Each action returns what it acted on as it now
stands. Refusals are the services' own, as problem documents."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import P, PathEx, Query, Router, Schema, Status
from pydantic import Field, StringConstraints

from casework.access.policy import case_for
from casework.accounts.models import User
from casework.api.common import (
    LONG_TEXT,
    NOTE,
    SLUG,
    AnswerValue,
    FieldId,
    IsoDate,
    PageQuery,
    PersonOut,
    QuestionOut,
    file_answer,
    keyset_page,
    person_out,
)
from casework.api.problems import ERRORS
from casework.cases.models import Case
from casework.closure.selectors import prefill_description
from casework.core.errors import InvalidInput, NotFound
from casework.frontend.pages import signed_in_user as _user
from casework.organisation.models import Team
from casework.policy.evaluate import checklist_results, form_fields, route
from casework.policy.loader import load_pack
from casework.policy.schema import Pathway
from casework.policy.vocabulary import ROUTING_TRIGGERS
from casework.transfers.documents import placement_letter_pdf
from casework.transfers.models import (
    ACTIVE_TRANSFER_STATES,
    OutOfAreaPlacement,
    PathwayRequest,
    PathwayState,
    Transfer,
)
from casework.transfers.pathways import pathway_close_case, pathway_decide, pathway_request
from casework.transfers.selectors import (
    TransferPage,
    out_of_area_register,
    transfer_page,
    transfer_queue,
)
from casework.transfers.services import (
    TransferContext,
    transfer_audit_record,
    transfer_authorise,
    transfer_complete,
    transfer_decide,
    transfer_discuss,
    transfer_recommendation,
    transfer_request,
    transfer_summary_initial,
    transfer_summary_submit,
    transfer_withdraw,
)

router = Router(tags=["transfers"])

API = "/api/v1"

TeamCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
Username = Annotated[str, StringConstraints(pattern=r"^[\w.@+-]{1,150}$")]
if TYPE_CHECKING:
    Trigger = str
else:
    # The routing vocabulary, as an enum in the description, so a client (and the fuzzer)
    # sees the triggers a pack's routing rules may use.
    Trigger = Literal[tuple(ROUTING_TRIGGERS)]

PathwayId = PathEx[str, P(pattern=SLUG, description="A pathway of the bound transfer procedure.")]

TRANSFER_RELATED = (
    "case__responsible_team",
    "case__allocated_worker",
    "from_team",
    "to_team",
    "recommended_team",
    "requested_by",
    "audited_by",
    "authorised_by",
    "decided_by",
    "receiving_worker",
)


def _username(user: User | None) -> str | None:
    return user.username if user else None


def _code(team: Team | None) -> str | None:
    return team.code if team else None


# --- What a transfer looks like ------------------------------------------------------------


class TransferOut(Schema):
    id: int
    case_id: int
    case_reference: str
    case_team: str = Field(description="The team that holds the case now.")
    case_allocated_worker: str | None
    state: str
    state_label: str
    procedure: str
    protocol_id: str = Field(description="The pack's protocol that governs it, if any.")
    from_team: str
    to_team: str
    moves_responsibility: bool = Field(
        description="False for support that leaves the case with the sending team (R004-04)."
    )
    rationale: str
    request_details: dict[str, Any]
    trigger: str
    recommended_team: str | None = Field(description="What the procedure's routing chose.")
    recommendation_rule: str
    override_reason: str = Field(description="Why a manager chose another team (R004-03).")
    requested_by: str
    requested_on: dt.date
    discussed_on: dt.date | None
    agreed_transfer_date: dt.date | None
    summary_submitted_at: dt.datetime | None
    audited_by: str | None
    authorised_by: str | None
    authorised_on: dt.date | None
    decided_by: str | None
    decided_on: dt.date | None
    decline_reason: str = Field(description="Why it was declined or withdrawn.")
    receiving_worker: str | None
    completed_on: dt.date | None


def _transfer_out(transfer: Transfer) -> TransferOut:
    """`transfer` with TRANSFER_RELATED selected (or a few queries more)."""
    case = transfer.case
    return TransferOut(
        id=transfer.pk,
        case_id=transfer.case_id,
        case_reference=case.reference,
        case_team=case.responsible_team.code,
        case_allocated_worker=_username(case.allocated_worker),
        state=transfer.state,
        state_label=transfer.get_state_display(),
        procedure=transfer.pack_id,
        protocol_id=transfer.protocol_id,
        from_team=transfer.from_team.code,
        to_team=transfer.to_team.code,
        moves_responsibility=transfer.moves_responsibility,
        rationale=transfer.rationale,
        request_details=transfer.request_details,
        trigger=transfer.trigger,
        recommended_team=_code(transfer.recommended_team),
        recommendation_rule=transfer.recommendation_rule,
        override_reason=transfer.override_reason,
        requested_by=transfer.requested_by.username,
        requested_on=transfer.requested_on,
        discussed_on=transfer.discussed_on,
        agreed_transfer_date=transfer.agreed_transfer_date,
        summary_submitted_at=transfer.summary_submitted_at,
        audited_by=_username(transfer.audited_by),
        authorised_by=_username(transfer.authorised_by),
        authorised_on=transfer.authorised_on,
        decided_by=_username(transfer.decided_by),
        decided_on=transfer.decided_on,
        decline_reason=transfer.decline_reason,
        receiving_worker=_username(transfer.receiving_worker),
        completed_on=transfer.completed_on,
    )


def _fresh(transfer: Transfer) -> TransferOut:
    """The transfer as it now stands. Read by id, not through `case_for`: a receiving team
    that has just declined no longer sees the case, and is still told what it did."""
    return _transfer_out(Transfer.objects.select_related(*TRANSFER_RELATED).get(pk=transfer.pk))


def _active(user: User, case_id: int) -> Transfer:
    case = case_for(user, case_id)
    transfer = Transfer.objects.filter(case=case, state__in=ACTIVE_TRANSFER_STATES).first()
    if transfer is None:
        raise NotFound("This case has no transfer in progress.")
    return transfer


class TransferStepOut(Schema):
    label: str
    who: str
    status: str = Field(description="Completed, To do, Waiting, Cannot start yet or Not needed.")
    detail: str


class OutstandingGateOut(Schema):
    id: str
    label: str
    explanation: str
    record_at: str = Field(description="Where in the record the missing thing is recorded.")


class TransferYouOut(Schema):
    can_request: bool = Field(description="You may ask for a transfer (none is in progress).")
    can_withdraw: bool
    sending_manager: bool = Field(description="You discuss, audit and authorise.")
    receiving_manager: bool = Field(description="You accept or decline.")


class TransferDetailOut(TransferOut):
    steps: list[TransferStepOut] = Field(
        description="The transfer's task list, in procedure order."
    )
    outstanding_gates: list[OutstandingGateOut] = Field(
        description="Conditions that stop authorisation until the record is put right."
    )
    you: TransferYouOut


@router.get("/cases/{case_id}/transfer", response={200: TransferDetailOut, **ERRORS})
def get_transfer(request: HttpRequest, case_id: int) -> TransferDetailOut:
    """The case's transfer in progress (else its latest): every step of procedure 004 with its
    status and who does it, the conditions still outstanding before it can be authorised,
    and what the caller may do. A case that has never had a transfer is a 404."""
    page = transfer_page(_user(request), case_id)
    transfer = page.current()
    transfer.case = page.case
    out = _transfer_out(transfer)
    return TransferDetailOut(
        **out.model_dump(),
        steps=[
            TransferStepOut(label=s.label, who=s.who, status=s.status, detail=s.detail)
            for s in page.steps()
        ],
        outstanding_gates=[
            OutstandingGateOut(
                id=g.gate_id,
                label=g.gate.label,
                explanation=g.explanation,
                record_at=g.gate.record_at,
            )
            for g in (page.outstanding_gates() if page.active else [])
        ],
        you=TransferYouOut(
            can_request=page.spec is not None and not page.active and page.can_ask,
            can_withdraw=page.can_withdraw,
            sending_manager=page.active and page.is_sending_manager,
            receiving_manager=page.active and page.is_receiving_manager,
        ),
    )


@router.get("/cases/{case_id}/transfers", response={200: list[TransferOut], **ERRORS})
def list_transfers(request: HttpRequest, case_id: int) -> list[TransferOut]:
    """Every transfer of the case, newest first: the one in progress, and those completed,
    declined or withdrawn."""
    case = case_for(_user(request), case_id)
    rows = Transfer.objects.filter(case=case).select_related(*TRANSFER_RELATED)
    return [_transfer_out(t) for t in rows.order_by("-id")]


# --- Routing and the request ----------------------------------------------------------------


class RoutingRecommendationOut(Schema):
    trigger: str
    description: str = Field(description="What happened, in words.")
    team: str | None = Field(description="The team the procedure recommends; null if none.")
    team_name: str | None
    rule: str | None = Field(description="The routing rule that chose it (R004-03).")
    explanation: str


@router.get(
    "/cases/{case_id}/transfer/recommendations",
    response={200: list[RoutingRecommendationOut], **ERRORS},
)
def recommendations(request: HttpRequest, case_id: int) -> list[RoutingRecommendationOut]:
    """For each trigger the procedure routes, the team it recommends for this case now and
    the rule that chose it (R004-03). Send the trigger with the request to have the case
    routed there; a manager may choose another team with a reason."""
    page = transfer_page(_user(request), case_id)
    pack, spec = page.procedure()
    answers = []
    for trigger in dict.fromkeys(r.trigger for r in spec.routing):
        found = route(pack, trigger, page.evaluation)
        answers.append(
            RoutingRecommendationOut(
                trigger=trigger,
                description=ROUTING_TRIGGERS.get(trigger, trigger),
                team=found.team if found else None,
                team_name=pack.spec.teams.get(found.team, found.team) if found else None,
                rule=found.rule.id if found else None,
                explanation=found.explanation if found else "No rule applies to this case.",
            )
        )
    return answers


class TransferRequestIn(Schema):
    to_team: TeamCode | None = Field(
        default=None,
        description="The code of the team that should take the case. Leave it out to send "
        "the case where the procedure's routing recommends for `trigger`.",
    )
    rationale: str = Field(max_length=LONG_TEXT, description="Why the case should move.")
    trigger: Trigger | None = Field(
        default=None, description="What happened, so the procedure can recommend a team."
    )
    override_reason: str = Field(
        default="",
        max_length=NOTE,
        description="Managers only: why another team than the recommended one.",
    )
    request_details: dict[FieldId, Annotated[str, StringConstraints(max_length=NOTE)] | None] = (
        Field(
            default_factory=dict,
            max_length=20,
            description="What the protocol asks for with the request, by name, e.g. "
            '`next_care_team_meeting` ("YYYY-MM-DD", R004-05), or `end_date` and `plan` for '
            "wrap-around support (R004-04).",
        )
    )


def _team(case: Case, code: str) -> Team:
    team = Team.objects.filter(authority_id=case.responsible_team.authority_id, code=code).first()
    if team is None:
        raise InvalidInput(f"There is no team with the code '{code}'.", field="to_team")
    return team


@router.post("/cases/{case_id}/transfer", response={201: TransferOut, **ERRORS})
def request_transfer(request: HttpRequest, case_id: int, body: TransferRequestIn) -> Any:
    """Ask to transfer the case (R004-02, R004-03): the holding team's worker, with the
    rationale and what the protocol needs. With a `trigger`, the procedure recommends a
    team; choosing another needs a manager and an `override_reason`."""
    user = _user(request)
    page = transfer_page(user, case_id)
    trigger = body.trigger or ""
    code = body.to_team
    if code is None:
        recommended = transfer_recommendation(user, page.case, trigger) if trigger else None
        if recommended is None:
            raise InvalidInput(
                "Choose the team that should take the case (`to_team`), or give a `trigger` "
                "for which the procedure recommends one.",
                field="to_team",
            )
        code = recommended.team
    transfer = transfer_request(
        actor=user,
        case=page.case,
        to_team=_team(page.case, code),
        rationale=body.rationale,
        request_details=dict(body.request_details),
        trigger=trigger,
        override_reason=body.override_reason,
    )
    return Status(201, _fresh(transfer))


# --- The sending team's steps ---------------------------------------------------------------


class TransferDiscussionIn(Schema):
    discussed_on: IsoDate | None = Field(default=None, description="Today if not given.")
    agreed_transfer_date: IsoDate | None = Field(
        default=None, description="Leave out for the latest date the procedure allows."
    )


@router.post("/cases/{case_id}/transfer/discussion", response={200: TransferOut, **ERRORS})
def discuss(request: HttpRequest, case_id: int, body: TransferDiscussionIn) -> TransferOut:
    """The sending manager records the transfer discussion, which starts the protocol's
    clock (10 working days to the looked-after team, R004-05), and the agreed date."""
    user = _user(request)
    transfer = transfer_discuss(
        actor=user,
        transfer=_active(user, case_id),
        discussed_on=body.discussed_on or timezone.localdate(),
        agreed_transfer_date=body.agreed_transfer_date,
    )
    return _fresh(transfer)


class TransferSummaryOut(Schema):
    transfer_id: int
    case_id: int
    title: str
    state: str = Field(description="The transfer's state; the summary is written while requested.")
    submitted_at: dt.datetime | None
    questions: list[QuestionOut]
    answers: dict[str, Any] = Field(
        description="Once submitted, the summary; before, what the record and the request fill in."
    )


def _summary_out(page: TransferPage) -> TransferSummaryOut:
    transfer, (pack, spec) = page.current(), page.procedure()
    submitted = transfer.summary_submitted_at is not None
    if submitted:
        answers = dict(transfer.summary)
    else:
        ctx = TransferContext(transfer, page.case, pack, page.evaluation)
        answers = {**transfer_summary_initial(ctx), **transfer.request_details}
    return TransferSummaryOut(
        transfer_id=transfer.pk,
        case_id=page.case.pk,
        title=pack.spec.forms[spec.summary_form].title,
        state=transfer.state,
        submitted_at=transfer.summary_submitted_at,
        questions=[
            QuestionOut(
                id=s.field.id,
                label=s.field.label,
                type=s.field.type,
                hint=s.field.hint,
                required=s.field.required,
                shown=s.shown,
                options=list(s.field.options),
                prefilled_from=prefill_description(s.field.prefill)
                if s.field.prefill and not submitted
                else "",
            )
            for s in form_fields(pack, spec.summary_form, page.evaluation, answers)
        ],
        answers=answers,
    )


@router.get("/cases/{case_id}/transfer/summary", response={200: TransferSummaryOut, **ERRORS})
def get_summary(request: HttpRequest, case_id: int) -> TransferSummaryOut:
    """The transfer summary of the case's transfer (R004-02): its headings, which apply, and
    the answers; before it is written, pre-filled from the record and the request. The
    receiving team reads it here before deciding."""
    return _summary_out(transfer_page(_user(request), case_id))


class TransferSummaryIn(Schema):
    answers: dict[FieldId, AnswerValue] = Field(
        default_factory=dict,
        max_length=100,
        description="Answers by heading id, over the pre-filled ones; every heading that "
        "applies must end up answered.",
    )


@router.put("/cases/{case_id}/transfer/summary", response={200: TransferSummaryOut, **ERRORS})
def write_summary(
    request: HttpRequest, case_id: int, body: TransferSummaryIn
) -> TransferSummaryOut:
    """Write (or rewrite, until authorised) the transfer summary: the sending team, with
    every heading that applies answered (R004-02)."""
    user = _user(request)
    transfer = _active(user, case_id)
    transfer_summary_submit(actor=user, transfer=transfer, answers=dict(body.answers))
    return _summary_out(transfer_page(user, case_id))


class TransferAuditItemOut(Schema):
    id: str
    section: str
    text: str
    automatic: bool = Field(description="The record is checked automatically for this item.")
    record_shows: bool | None = Field(description="What the automatic check found, if any.")
    evidence: list[str]
    answer: Literal["yes", "no"] | None = Field(description="The manager's confirmation.")
    note: str
    overridden: bool = Field(description="The manager's answer differs from the record.")


class TransferAuditOut(Schema):
    transfer_id: int
    case_id: int
    audited_by: str | None
    items: list[TransferAuditItemOut]


def _audit_out(page: TransferPage) -> TransferAuditOut:
    transfer, (pack, spec) = page.current(), page.procedure()
    items = []
    for result in checklist_results(pack, spec.audit_checklist, page.evaluation):
        saved = transfer.audit.get(result.item.id, {})
        items.append(
            TransferAuditItemOut(
                id=result.item.id,
                section=result.section.title,
                text=result.item.text,
                automatic=result.automatic,
                record_shows=result.passed,
                evidence=result.evidence,
                answer=saved.get("answer"),
                note=saved.get("note", ""),
                overridden=bool(saved.get("overridden")),
            )
        )
    return TransferAuditOut(
        transfer_id=transfer.pk,
        case_id=page.case.pk,
        audited_by=_username(transfer.audited_by),
        items=items,
    )


@router.get("/cases/{case_id}/transfer/audit", response={200: TransferAuditOut, **ERRORS})
def get_audit(request: HttpRequest, case_id: int) -> TransferAuditOut:
    """The audit of the record for transfer (chronology, recording, relationships,
    genogram; R004-02): what the automatic checks found, with their evidence, and the
    manager's answers so far."""
    return _audit_out(transfer_page(_user(request), case_id))


class TransferAuditAnswerIn(Schema):
    answer: Literal["yes", "no"]
    note: str = Field(
        default="",
        max_length=NOTE,
        description="Needed where the answer differs from what the record shows.",
    )


class TransferAuditIn(Schema):
    answers: dict[FieldId, TransferAuditAnswerIn] = Field(
        default_factory=dict, max_length=50, description="Every item, by id."
    )


@router.put("/cases/{case_id}/transfer/audit", response={200: TransferAuditOut, **ERRORS})
def record_audit(request: HttpRequest, case_id: int, body: TransferAuditIn) -> TransferAuditOut:
    """The sending manager confirms each audit item, with a note where they differ from the
    automatic check (R004-02)."""
    user = _user(request)
    transfer_audit_record(
        actor=user,
        transfer=_active(user, case_id),
        answers={k: {"answer": v.answer, "note": v.note} for k, v in body.answers.items()},
    )
    return _audit_out(transfer_page(user, case_id))


@router.post("/cases/{case_id}/transfer/authorisation", response={200: TransferOut, **ERRORS})
def authorise(request: HttpRequest, case_id: int) -> TransferOut:
    """The sending manager authorises: refused until the summary is written, the audit done
    and the procedure's conditions met, each said with where to record it (R004-02). The
    receiving team is then asked to decide."""
    user = _user(request)
    return _fresh(transfer_authorise(actor=user, transfer=_active(user, case_id)))


# --- The receiving team's decision, completion, withdrawal ----------------------------------


class TransferDecisionIn(Schema):
    decision: Literal["accept", "decline"]
    reason: str = Field(default="", max_length=NOTE, description="Needed to decline.")
    receiving_worker: Username | None = Field(
        default=None,
        description="Username of the worker in your team who takes the case; leave out to "
        "allocate later.",
    )


@router.post("/cases/{case_id}/transfer/decision", response={200: TransferOut, **ERRORS})
def decide(request: HttpRequest, case_id: int, body: TransferDecisionIn) -> TransferOut:
    """A manager of the receiving team accepts (naming the worker, if known) or declines with
    a reason. Where the protocol moves the case on acceptance, it moves now. Once declined,
    the receiving team no longer sees the case."""
    user = _user(request)
    transfer = _active(user, case_id)
    worker = None
    if body.receiving_worker is not None:
        worker = User.objects.filter(username=body.receiving_worker, is_active=True).first()
        if worker is None:
            raise InvalidInput(
                f"There is no member of staff with the username '{body.receiving_worker}'.",
                field="receiving_worker",
            )
    decided = transfer_decide(
        actor=user,
        transfer=transfer,
        accept=body.decision == "accept",
        reason=body.reason,
        receiving_worker=worker,
    )
    return _fresh(decided)


@router.post("/cases/{case_id}/transfer/completion", response={200: TransferOut, **ERRORS})
def complete(request: HttpRequest, case_id: int) -> TransferOut:
    """A manager of either team moves the case at the transfer point: on the agreed date
    (even if someone missed the transfer meeting, R004-05) or once the named meeting is
    recorded (the CiN review, R004-06). Wrap-around support starts without moving it."""
    user = _user(request)
    return _fresh(transfer_complete(actor=user, transfer=_active(user, case_id)))


class TransferWithdrawalIn(Schema):
    reason: str = Field(max_length=NOTE, description="Why the transfer is withdrawn.")


@router.post("/cases/{case_id}/transfer/withdrawal", response={200: TransferOut, **ERRORS})
def withdraw(request: HttpRequest, case_id: int, body: TransferWithdrawalIn) -> TransferOut:
    """Withdraw the transfer in progress, with a reason: the requester, or a sending
    manager for someone else's request."""
    user = _user(request)
    withdrawn = transfer_withdraw(actor=user, transfer=_active(user, case_id), reason=body.reason)
    return _fresh(withdrawn)


# --- Pathways: step-down, escalation, into and out of the authority ---------------------------


class PathwayOut(Schema):
    id: str
    label: str
    kind: Literal["step_down", "escalation", "transfer_in", "transfer_out"]
    requirements: list[str]
    to_team: str | None = Field(description="The deciding team, when the pack names one.")
    decided_by: str = Field(description="The role that decides.")
    outcomes: list[str]
    closes_on: list[str] = Field(description="Outcomes after which the case is closed.")
    meeting_notice_working_days: int | None = Field(
        description="A meeting must be booked at least this many working days ahead."
    )
    questions: list[QuestionOut] = Field(description="The form sent with the request.")
    action: str


@router.get("/cases/{case_id}/pathways", response={200: list[PathwayOut], **ERRORS})
def list_pathways(request: HttpRequest, case_id: int) -> list[PathwayOut]:
    """The routes out of (or into) the holding team that fit the case now (R004-07 to
    R004-10): step-down to early help, escalation from it, transfers in and out of the
    authority; each with its form, who decides and the possible outcomes."""
    page = transfer_page(_user(request), case_id)
    if page.pack is None:
        return []
    pack = page.pack
    return [
        PathwayOut(
            id=p.id,
            label=p.label,
            kind=p.kind,
            requirements=list(p.requirement),
            to_team=p.to_team,
            decided_by=p.decided_by,
            outcomes=list(p.outcomes),
            closes_on=list(p.closes_on),
            meeting_notice_working_days=p.meeting_notice.working_days if p.meeting_notice else None,
            questions=[
                QuestionOut(
                    id=s.field.id,
                    label=s.field.label,
                    type=s.field.type,
                    hint=s.field.hint,
                    required=s.field.required,
                    shown=s.shown,
                    options=list(s.field.options),
                    prefilled_from="",
                )
                for s in (form_fields(pack, p.form, page.evaluation) if p.form else [])
            ],
            action=f"POST {API}/cases/{page.case.pk}/pathways/{p.id}/requests",
        )
        for p in page.pathway_options()
    ]


class PathwayRequestOut(Schema):
    id: int
    case_id: int
    pathway_id: str
    label: str
    kind: str
    state: str
    to_team: str | None = Field(description="The team asked to decide; null for the holder.")
    answers: dict[str, Any]
    meeting_on: dt.date | None
    requested_by: str
    requested_on: dt.date
    outcome: str
    rationale: str
    decided_by: str | None
    decided_on: dt.date | None
    closes_case: bool = Field(
        description="Decided in a way that ends the case: propose closure with `.../closure`."
    )


def _pathway_of(asked: PathwayRequest) -> Pathway | None:
    spec = load_pack(asked.pack_id).spec.transfer
    return next((p for p in (spec.pathways if spec else []) if p.id == asked.pathway_id), None)


def _request_out(asked: PathwayRequest) -> PathwayRequestOut:
    """`asked` with to_team, requested_by and decided_by selected (or a query more each)."""
    pathway = _pathway_of(asked)
    return PathwayRequestOut(
        id=asked.pk,
        case_id=asked.case_id,
        pathway_id=asked.pathway_id,
        label=pathway.label if pathway else asked.pathway_id,
        kind=asked.kind,
        state=asked.state,
        to_team=_code(asked.to_team),
        answers=asked.answers,
        meeting_on=asked.meeting_on,
        requested_by=asked.requested_by.username,
        requested_on=asked.requested_on,
        outcome=asked.outcome,
        rationale=asked.rationale,
        decided_by=_username(asked.decided_by),
        decided_on=asked.decided_on,
        closes_case=bool(
            pathway and asked.state == PathwayState.DECIDED and asked.outcome in pathway.closes_on
        ),
    )


def _fresh_request(asked: PathwayRequest) -> PathwayRequestOut:
    """As it now stands, read by id: the deciding team stops seeing the case once it has
    decided, and is still told what it decided."""
    return _request_out(
        PathwayRequest.objects.select_related("to_team", "requested_by", "decided_by").get(
            pk=asked.pk
        )
    )


def _request_on_case(user: User, case_id: int, request_id: int) -> PathwayRequest:
    asked = PathwayRequest.objects.filter(case=case_for(user, case_id), pk=request_id).first()
    if asked is None:
        raise NotFound("There is no pathway request with that ID on this case.")
    return asked


@router.get("/cases/{case_id}/pathway-requests", response={200: list[PathwayRequestOut], **ERRORS})
def list_pathway_requests(request: HttpRequest, case_id: int) -> list[PathwayRequestOut]:
    """Every step-down, escalation or move asked for on the case, newest first, with its
    decision."""
    page = transfer_page(_user(request), case_id)
    return [_request_out(r) for r in page.requests]


class PathwayRequestIn(Schema):
    answers: dict[FieldId, AnswerValue] = Field(
        default_factory=dict,
        max_length=100,
        description="The pathway's form, by question id (see `GET .../pathways`).",
    )
    meeting_on: IsoDate | None = Field(
        default=None, description="The meeting booked, where the pathway needs notice."
    )


@router.post(
    "/cases/{case_id}/pathways/{pathway_id}/requests",
    response={201: PathwayRequestOut, **ERRORS},
)
def ask(request: HttpRequest, case_id: int, pathway_id: PathwayId, body: PathwayRequestIn) -> Any:
    """Ask for a step-down, escalation or move (R004-07 to R004-10): the holding team, with
    the pathway's form answered, the meeting booked with the notice it needs, and its
    conditions met. The receiving team can then read the case to decide."""
    user = _user(request)
    page = transfer_page(user, case_id)
    asked = pathway_request(
        actor=user,
        case=page.case,
        pathway_id=pathway_id,
        answers={k: v for k, v in body.answers.items() if v not in (None, "")},
        meeting_on=body.meeting_on,
    )
    return Status(201, _fresh_request(asked))


class PathwayDecisionIn(Schema):
    outcome: str = Field(pattern=SLUG, description="One of the pathway's `outcomes`.")
    rationale: str = Field(max_length=LONG_TEXT, description="Why (R004-08).")


@router.post(
    "/cases/{case_id}/pathway-requests/{request_id}/decision",
    response={200: PathwayRequestOut, **ERRORS},
)
def decide_pathway(
    request: HttpRequest, case_id: int, request_id: int, body: PathwayDecisionIn
) -> PathwayRequestOut:
    """The role the pathway names (e.g. the early help duty manager) records the outcome
    and the rationale. An outcome that ends the case asks the holding worker to close it."""
    user = _user(request)
    decided = pathway_decide(
        actor=user,
        request=_request_on_case(user, case_id, request_id),
        outcome=body.outcome,
        rationale=body.rationale,
    )
    return _fresh_request(decided)


class ClosureStartedOut(Schema):
    closure_id: int
    case_id: int
    state: str
    reason_id: str
    national_code: str
    closure: str = Field(description="GET it to follow the closure's own procedure.")


@router.post(
    "/cases/{case_id}/pathway-requests/{request_id}/closure",
    response={201: ClosureStartedOut, **ERRORS},
)
def close_after_pathway(request: HttpRequest, case_id: int, request_id: int) -> Any:
    """After a decision that ends the case (a step-down accepted, a family referred to its
    new authority), propose closure with the pathway's national code (R003-08); the closure
    then follows its own procedure under `/cases/{case_id}/closure`."""
    user = _user(request)
    closure = pathway_close_case(actor=user, request=_request_on_case(user, case_id, request_id))
    return Status(
        201,
        ClosureStartedOut(
            closure_id=closure.pk,
            case_id=closure.case_id,
            state=closure.state,
            reason_id=closure.reason_id,
            national_code=closure.national_code,
            closure=f"{API}/cases/{closure.case_id}/closure",
        ),
    )


# --- The caller's queue and the register ----------------------------------------------------


class QueuedCaseOut(Schema):
    id: int
    reference: str
    subject: PersonOut


class QueuedTransferOut(Schema):
    id: int
    case: QueuedCaseOut
    state: str
    from_team: str
    to_team: str
    protocol_id: str
    moves_responsibility: bool
    rationale: str
    requested_by: str
    requested_on: dt.date
    authorised_on: dt.date | None


class QueuedRequestOut(Schema):
    id: int
    case: QueuedCaseOut
    pathway_id: str
    label: str
    kind: str
    to_team: str | None
    meeting_on: dt.date | None
    requested_by: str
    requested_on: dt.date


class TransferQueueOut(Schema):
    to_decide: list[QueuedTransferOut] = Field(
        description="Transfers offered to your teams: accept or decline."
    )
    to_authorise: list[QueuedTransferOut] = Field(
        description="Transfers your teams are sending that are not yet authorised."
    )
    requests: list[QueuedRequestOut] = Field(
        description="Step-downs, escalations and moves asked of your teams."
    )


def _brief(case: Case) -> QueuedCaseOut:
    return QueuedCaseOut(id=case.pk, reference=case.reference, subject=person_out(case.subject))


def _queued(transfer: Transfer) -> QueuedTransferOut:
    return QueuedTransferOut(
        id=transfer.pk,
        case=_brief(transfer.case),
        state=transfer.state,
        from_team=transfer.from_team.code,
        to_team=transfer.to_team.code,
        protocol_id=transfer.protocol_id,
        moves_responsibility=transfer.moves_responsibility,
        rationale=transfer.rationale,
        requested_by=transfer.requested_by.username,
        requested_on=transfer.requested_on,
        authorised_on=transfer.authorised_on,
    )


@router.get("/transfers", response={200: TransferQueueOut, **ERRORS})
def queue(request: HttpRequest) -> TransferQueueOut:
    """What waits on the caller's teams: transfers offered to them, transfers they are
    sending that still need authorising, and pathway requests asked of them; oldest first.
    Only cases the caller may see."""
    found = transfer_queue(_user(request))
    return TransferQueueOut(
        to_decide=[_queued(t) for t in found.to_decide],
        to_authorise=[_queued(t) for t in found.to_authorise],
        requests=[
            QueuedRequestOut(
                id=r.pk,
                case=_brief(r.case),
                pathway_id=r.pathway_id,
                label=(p.label if (p := _pathway_of(r)) else r.pathway_id),
                kind=r.kind,
                to_team=_code(r.to_team),
                meeting_on=r.meeting_on,
                requested_by=r.requested_by.username,
                requested_on=r.requested_on,
            )
            for r in found.requests
        ],
    )


class PlacementOut(Schema):
    id: int
    case: QueuedCaseOut
    team: str = Field(description="The team that holds the case.")
    request_id: int
    host_authority: str
    placed_on: dt.date
    placement_type: str
    placement_address: str
    host_contact: str
    notification_sent_on: dt.date | None
    recorded_by: str


class PlacementPage(Schema):
    items: list[PlacementOut]
    next: int | None = Field(description="Pass as `after` to get the next page.")


def _placement_out(entry: OutOfAreaPlacement) -> PlacementOut:
    return PlacementOut(
        id=entry.pk,
        case=_brief(entry.case),
        team=entry.case.responsible_team.code,
        request_id=entry.request_id,
        host_authority=entry.host_authority,
        placed_on=entry.placed_on,
        placement_type=entry.placement_type,
        placement_address=entry.placement_address,
        host_contact=entry.host_contact,
        notification_sent_on=entry.notification_sent_on,
        recorded_by=entry.recorded_by.username,
    )


@router.get("/out-of-area-placements", response={200: PlacementPage, **ERRORS})
def placements(request: HttpRequest, page: Query[PageQuery]) -> PlacementPage:
    """The duty fostering register (R004-10): looked-after children placed in another
    authority's area, with the notification sent to it, for the cases the caller may see;
    most recently recorded first, a page at a time."""
    found, following = keyset_page(out_of_area_register(_user(request)), page)
    return PlacementPage(items=[_placement_out(e) for e in found], next=following)


@router.get(
    "/cases/{case_id}/pathway-requests/{request_id}/letter",
    response={200: None, **ERRORS},
    openapi_extra=file_answer(
        "The notification letter to the host authority, as a PDF.", "application/pdf"
    ),
)
def placement_letter(request: HttpRequest, case_id: int, request_id: int) -> HttpResponse:
    """The letter notifying the host authority of a looked-after child placed in its area
    (R004-10), for a request entered in the duty fostering register."""
    asked = _request_on_case(_user(request), case_id, request_id)
    if not OutOfAreaPlacement.objects.filter(request=asked).exists():
        raise NotFound("That request placed no child in another area, so it has no letter.")
    response = HttpResponse(placement_letter_pdf(asked), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="placement-notification-{asked.case.reference}.pdf"'
    )
    return response
