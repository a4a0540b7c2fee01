"""Closure through the API: the same state machine, selectors and services as the closure
screens. A client reads `GET /cases/{id}/closure` to see every step with its status, who
does it and which operation does it, the conditions (gates) still outstanding, the forms,
checklists, further actions and signed documents; then acts. Each action on the closure
returns the closure as it now stands; each action on a form returns the form.

Every route starts from the case the caller may see (`case_for`), and every other id (a
form, step, gate, further action or document) is looked up through that case's closure, so
an id from another case is simply not found."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any, Literal

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import P, PathEx, Router, Schema, Status
from pydantic import Field, StringConstraints

from casework.access.policy import case_for
from casework.accounts.models import User
from casework.api.common import (
    NOTE,
    SLUG,
    AnswerValue,
    FieldId,
    IsoDate,
    JsonInt,
    Out,
    PackId,
    QuestionOut,
    file_answer,
)
from casework.api.problems import ERRORS, Problem
from casework.closure.documents import TamperedDocument, signed_document_pdf
from casework.closure.models import (
    ACTIVE_STATES,
    Closure,
    FurtherAction,
    Sharing,
    SignedDocument,
)
from casework.closure.selectors import (
    CLOSURE_VIEW_RELATED,
    ClosureView,
    closure_view,
    prefill_description,
    proposal_view,
)
from casework.closure.services import (
    checklist_answer,
    checklist_complete,
    closure_authorise,
    closure_decide,
    closure_finish,
    closure_pack,
    closure_propose,
    closure_resubmit,
    closure_step_complete,
    closure_withdraw,
    form_save_draft,
    form_submit,
    further_action_complete,
    gate_agree,
    proposal_evaluation,
    summary_share,
    summary_sign,
)
from casework.core.errors import InvalidInput, NotFound
from casework.frontend.pages import signed_in_user as _user
from casework.policy.schema import Step

logger = logging.getLogger(__name__)

router = Router(tags=["closure"])

API = "/api/v1"

FormState = Literal["not_started", "draft", "submitted", "signing", "signed"]


# --- What a closure looks like -------------------------------------------------------------


class StepOut(Out):
    id: str
    label: str
    kind: str
    role: str = Field(description="The role that does it (for `sign`, see `signatures`).")
    signatures: list[str] = Field(description="For a `sign` step, the roles that sign.")
    applies: bool = Field(description="False when the pack's `when` does not hold here.")
    optional: bool
    status: str = Field(description="As on the task list: To do, In progress, Completed, ...")
    hints: list[str] = Field(description="Who does it, when it is due, why it cannot start.")
    done_by: str | None
    done_at: dt.datetime | None
    you_can_act: bool = Field(description="The caller may do this step now.")
    action: str = Field(description="The operation that does this step.")
    form_id: str | None
    checklist_id: str | None
    gates: list[str]
    requirements: list[str]


class GateOut(Out):
    id: str
    label: str
    effect: Literal["block", "needs_agreement", "escalate"]
    status: str = Field(
        description="Does not apply, Met, Agreed, Needs agreement, Escalated or Not met."
    )
    outstanding: bool = Field(description="Still stops a step (or the close) until put right.")
    explanation: str
    record_at: str = Field(description="Where in the record the missing thing is recorded.")
    agree_roles: list[str] = Field(description="Who may agree to go on without it.")
    agreed_by: str | None
    agreed_role: str | None
    agreement_note: str


class FormSummaryOut(Out):
    id: str
    title: str
    step_id: str
    state: FormState
    url: str


class ChecklistSummaryOut(Out):
    id: str
    title: str
    step_id: str
    answered: int
    total: int


class FurtherActionOut(Out):
    id: int
    description: str
    done: bool
    done_by: str | None
    done_at: dt.datetime | None
    note: str


class SignatureOut(Out):
    role: str
    signer: str
    signer_name: str
    signed_at: dt.datetime
    content_hash: str


class ClosureDocumentOut(Out):
    id: int
    form_id: str
    title: str
    version: int
    supersedes_id: int | None = Field(description="The version this one corrects.")
    content_hash: str = Field(description="SHA-256 of the canonical content that is signed.")
    created_at: dt.datetime
    signatures: list[SignatureOut]
    still_to_sign: list[str] = Field(description="Roles whose signature is still needed.")
    pdf_url: str = Field(description="GET it (with your token) for the PDF.")


class ClosureOut(Out):
    id: int
    case_id: int
    state: str
    state_label: str
    procedure: str
    reason_id: str
    reason_label: str
    national_code: str
    proposed_on: dt.date
    case_status: str
    steps: list[StepOut]
    gates: list[GateOut] = Field(description="The conditions on this closure's steps.")
    forms: list[FormSummaryOut]
    checklists: list[ChecklistSummaryOut]
    further_actions: list[FurtherActionOut]
    documents: list[ClosureDocumentOut]


def _closure_url(case_id: int) -> str:
    return f"{API}/cases/{case_id}/closure"


def _sign_step(v: ClosureView) -> Step | None:
    return v.step_of_kind("sign")


def _closure_document_out(v: ClosureView, document: SignedDocument) -> ClosureDocumentOut:
    signatures = v.signatures(document)
    sign_step = _sign_step(v)
    needed = sign_step.signatures if sign_step and document.form_id == v.sign_form_id else []
    signed = {s.role for s in signatures}
    return ClosureDocumentOut(
        id=document.pk,
        form_id=document.form_id,
        title=v.document_title(document),
        version=document.version,
        supersedes_id=document.supersedes_id,
        content_hash=document.content_hash,
        created_at=document.created_at,
        signatures=[
            SignatureOut(
                role=s.role,
                signer=s.signer.username,
                signer_name=s.signer.display_name,
                signed_at=s.signed_at,
                content_hash=s.content_hash,
            )
            for s in signatures
        ],
        still_to_sign=[r for r in needed if r not in signed],
        pdf_url=f"{_closure_url(v.case.pk)}/documents/{document.pk}/pdf",
    )


def _form_state(v: ClosureView, form_id: str) -> FormState:
    document = v.document(form_id)
    if document is not None:
        if _closure_document_out(v, document).still_to_sign:
            return "signing"
        return "signed"
    response = v.responses.get(form_id)
    if response is None:
        return "not_started"
    return "draft" if response.submitted_at is None else "submitted"


def _step_action(v: ClosureView, step: Step) -> str:
    base = _closure_url(v.case.pk)
    if step.kind == "propose":
        return f"POST {base}"
    if v.decision_step is not None and step.id == v.decision_step.id:
        return f"POST {base}/decision"
    if step.kind == "form":
        return f"PUT {base}/forms/{step.form}, then POST {base}/forms/{step.form}/submission"
    if step.kind == "checklist":
        return (
            f"PUT {base}/checklists/{step.checklist}/items/{{item_id}}, "
            f"then POST {base}/checklists/{step.checklist}/completion"
        )
    if step.kind == "authorise":
        return f"POST {base}/authorisation"
    if step.kind == "sign":
        return f"POST {base}/forms/{v.sign_form_id}/signatures"
    if step.kind == "share":
        return f"POST {base}/forms/{v.sign_form_id}/sharings"
    return f"POST {base}/steps/{step.id}/completion"


def _out(user: User, case_id: int) -> ClosureOut:
    """The case's closure (the active one, else the latest) as the task list shows it."""
    return _closure_out(closure_view(user, case_id))


def _closure_out(v: ClosureView) -> ClosureOut:
    closure = v.closure
    if closure is None:
        raise NotFound("This case has no closure.")
    case = v.case  # read by closure_view in this request, after any change it made
    applicable = {s.id for s in v.steps}
    steps = [
        StepOut(
            id=row.step.id,
            label=row.step.label,
            kind=row.step.kind,
            role=row.step.role,
            signatures=list(row.step.signatures),
            applies=row.step.id in applicable,
            optional=row.step.optional,
            status=row.status,
            hints=row.hints,
            done_by=row.record.done_by.username if row.record else None,
            done_at=row.record.done_at if row.record else None,
            # The task list links a step for the person who can do it, or to view it once
            # done; only the first is an invitation to act.
            you_can_act=row.record is None and bool(row.url),
            action=_step_action(v, row.step),
            form_id=row.step.form,
            checklist_id=row.step.checklist,
            gates=list(row.step.gates),
            requirements=list(row.step.requirement),
        )
        for row in v.step_rows()
    ]
    gate_ids = [*v.closure_gate_ids(), *(g for s in v.steps for g in s.gates)]
    gates = [
        GateOut(
            id=row.gate_id,
            label=row.label,
            effect=row.result.gate.effect,
            status=row.status,
            outstanding=row.outstanding,
            explanation=row.explanation,
            record_at=row.record_at,
            agree_roles=list(row.result.gate.roles),
            agreed_by=row.agreement.agreed_by.username if row.agreement else None,
            agreed_role=row.agreement.role if row.agreement else None,
            agreement_note=row.agreement.note if row.agreement else "",
        )
        for row in v.gates_for(gate_ids)
    ]
    spec = v.pack.spec if v.pack else None
    forms = [
        FormSummaryOut(
            id=s.form,
            title=spec.forms[s.form].title,
            step_id=s.id,
            state=_form_state(v, s.form),
            url=f"{_closure_url(v.case.pk)}/forms/{s.form}",
        )
        for s in v.steps
        if s.kind == "form" and s.form and spec
    ]
    checklists = [
        ChecklistSummaryOut(
            id=s.checklist,
            title=spec.checklists[s.checklist].title,
            step_id=s.id,
            answered=len(v.checklist_answers(s.checklist)),
            total=sum(len(section.items) for section in spec.checklists[s.checklist].sections),
        )
        for s in v.steps
        if s.checklist and spec
    ]
    return ClosureOut(
        id=closure.pk,
        case_id=closure.case_id,
        state=closure.state,
        state_label=closure.get_state_display(),
        procedure=closure.pack_id,
        reason_id=closure.reason_id,
        reason_label=closure.reason_label,
        national_code=closure.national_code,
        proposed_on=closure.proposed_on,
        case_status=case.status,
        steps=steps,
        gates=gates,
        forms=forms,
        checklists=checklists,
        further_actions=[_action_out(a) for a in v.further_actions()],
        documents=[_closure_document_out(v, d) for d in v.documents()],
    )


def _action_out(action: FurtherAction) -> FurtherActionOut:
    return FurtherActionOut(
        id=action.pk,
        description=action.description,
        done=action.done_at is not None,
        done_by=action.done_by.username if action.done_by else None,
        done_at=action.done_at,
        note=action.note,
    )


def _active(user: User, case_id: int) -> Closure:
    case = case_for(user, case_id)
    closure = Closure.objects.filter(case=case, state__in=ACTIVE_STATES).first()
    if closure is None:
        raise NotFound("This case has no closure in progress.")
    return closure


def _latest(user: User, case_id: int) -> tuple[ClosureView, Closure]:
    """The case's latest closure, finished or not: a signed summary is signed, corrected
    and downloaded after the case has closed."""
    v = closure_view(user, case_id)
    if v.closure is None:
        raise NotFound("This case has no closure.")
    return v, v.closure


@router.get("/cases/{case_id}/closure", response={200: ClosureOut, **ERRORS})
def get_closure(request: HttpRequest, case_id: int) -> ClosureOut:
    """The closure in progress on the case: every step of the procedure with its status,
    who does it and the operation that does it (`you_can_act` says whether the caller may
    do it now); the conditions on its steps and whether each is met or agreed; its forms,
    checklists, further actions and frozen documents. A case with no closure in progress
    is a 404."""
    user = _user(request)
    _active(user, case_id)
    return _out(user, case_id)


class ProposeIn(Schema):
    reason_id: str = Field(pattern=SLUG, description="One of the bound procedure's reasons.")
    note: str = Field(default="", max_length=NOTE)


@router.post("/cases/{case_id}/closure", response={201: ClosureOut, **ERRORS})
def propose(request: HttpRequest, case_id: int, body: ProposeIn) -> Any:
    """Propose closing the case, with one of the procedure's reasons (R000-01, R000-02).
    Conditions that block a proposal are refused with what to record and where."""
    user = _user(request)
    # The case and its record are read once, in the proposal's transaction, for its gates and
    # for the task list sent back: a proposal writes to the closure, not to the case or the
    # record the procedure reads.
    with transaction.atomic():
        case = case_for(user, case_id, related=CLOSURE_VIEW_RELATED)
        evaluation = proposal_evaluation(case, closure_pack(case), case_is_current=True)
        closure = closure_propose(
            actor=user, case=case, reason_id=body.reason_id, note=body.note, evaluation=evaluation
        )
        return Status(201, _closure_out(proposal_view(user, case, closure, evaluation)))


class DecisionIn(Schema):
    outcome: Literal["agreed", "further_actions", "rejected"]
    note: str = Field(max_length=NOTE)
    actions: list[Annotated[str, StringConstraints(max_length=500)]] = Field(
        default_factory=list, max_length=50
    )


@router.post("/cases/{case_id}/closure/decision", response={200: ClosureOut, **ERRORS})
def decide(request: HttpRequest, case_id: int, body: DecisionIn) -> ClosureOut:
    """The manager's decision: agreed, further actions (listed in `actions`, each tracked
    to done) or rejected, with the note of the closure discussion."""
    user = _user(request)
    closure_decide(
        actor=user,
        closure=_active(user, case_id),
        outcome=body.outcome,
        note=body.note,
        actions=body.actions,
    )
    return _out(user, case_id)


# --- Further actions, resubmission, withdrawal ----------------------------------------------


@router.get(
    "/cases/{case_id}/closure/further-actions",
    response={200: list[FurtherActionOut], **ERRORS},
)
def list_further_actions(request: HttpRequest, case_id: int) -> list[FurtherActionOut]:
    """The further actions the manager asked for on the case's latest closure, in order."""
    v, _ = _latest(_user(request), case_id)
    return [_action_out(a) for a in v.further_actions()]


class ActionDoneIn(Schema):
    note: str = Field(default="", max_length=NOTE, description="What was done.")


@router.post(
    "/cases/{case_id}/closure/further-actions/{action_id}/completion",
    response={200: ClosureOut, **ERRORS},
)
def complete_further_action(
    request: HttpRequest, case_id: int, action_id: int, body: ActionDoneIn
) -> ClosureOut:
    """Record one further action as done, saying what was done (R002-04). An action is
    recorded done once; a second time is a 409."""
    user = _user(request)
    action = _active(user, case_id).actions.filter(pk=action_id).first()
    if action is None:
        raise NotFound("There is no such action on this closure.")
    further_action_complete(actor=user, action=action, note=body.note)
    return _out(user, case_id)


@router.post("/cases/{case_id}/closure/resubmission", response={200: ClosureOut, **ERRORS})
def resubmit(request: HttpRequest, case_id: int) -> ClosureOut:
    """Send the closure back to the manager once every further action is done."""
    user = _user(request)
    closure_resubmit(actor=user, closure=_active(user, case_id))
    return _out(user, case_id)


class WithdrawIn(Schema):
    reason: str = Field(default="", max_length=NOTE, description="Why it is withdrawn.")


@router.post("/cases/{case_id}/closure/withdrawal", response={200: ClosureOut, **ERRORS})
def withdraw(request: HttpRequest, case_id: int, body: WithdrawIn) -> ClosureOut:
    """Withdraw the closure, with the reason; the case stays open. For the person who
    proposed it, or a team manager."""
    user = _user(request)
    closure_withdraw(actor=user, closure=_active(user, case_id), reason=body.reason)
    return _out(user, case_id)


# --- Steps that are facts, agreements, finishing --------------------------------------------


class StepDoneIn(Schema):
    note: str = Field(default="", max_length=NOTE)


@router.post(
    "/cases/{case_id}/closure/steps/{step_id}/completion", response={200: ClosureOut, **ERRORS}
)
def complete_step(
    request: HttpRequest, case_id: int, step_id: PackId, body: StepDoneIn
) -> ClosureOut:
    """Record a step that is a fact rather than a form (a discussion, a decision such as
    the case's complexity, a meeting held, a task done), with a note. Forms, checklists,
    authorisation, signatures and sharing have operations of their own (see each step's
    `action`)."""
    user = _user(request)
    closure = _active(user, case_id)
    if closure_view(user, case_id).step(step_id) is None:
        raise NotFound("This procedure has no such step.")
    closure_step_complete(actor=user, closure=closure, step_id=step_id, note=body.note)
    return _out(user, case_id)


class AgreementIn(Schema):
    note: str = Field(default="", max_length=NOTE, description="Why you agree.")


@router.post(
    "/cases/{case_id}/closure/gates/{gate_id}/agreement", response={200: ClosureOut, **ERRORS}
)
def agree_gate(
    request: HttpRequest, case_id: int, gate_id: PackId, body: AgreementIn
) -> ClosureOut:
    """A role the procedure names agrees to go on although a condition is not met (e.g. a
    Service Manager or Head of Service for a client never seen, R002-13), with a note. A
    condition that blocks cannot be agreed past: the missing record is needed."""
    user = _user(request)
    closure = _active(user, case_id)
    if closure_view(user, case_id).gate_row(gate_id) is None:
        raise NotFound("This procedure has no such condition.")
    gate_agree(actor=user, closure=closure, gate_id=gate_id, note=body.note)
    return _out(user, case_id)


@router.post("/cases/{case_id}/closure/finish", response={200: ClosureOut, **ERRORS})
def finish(request: HttpRequest, case_id: int) -> ClosureOut:
    """Close a closure whose steps are all done but which waited for something on the
    record (a plan still open, an escalation not answered); refused with what is missing."""
    user = _user(request)
    closure_finish(actor=user, closure=_active(user, case_id))
    return _out(user, case_id)


# --- Checklists and authorisation -----------------------------------------------------------


class AnswerIn(Schema):
    answer: Literal["yes", "no", "na"]
    note: str = Field(default="", max_length=NOTE)
    evidence_date: IsoDate | None = None


@router.put(
    "/cases/{case_id}/closure/checklists/{checklist_id}/items/{item_id}",
    response={200: ClosureOut, **ERRORS},
)
def answer_item(
    request: HttpRequest,
    case_id: int,
    checklist_id: PackId,
    item_id: PathEx[str, P(max_length=60)],
    body: AnswerIn,
) -> ClosureOut:
    """Confirm or override one checklist item, with a note (and the date of the record
    that shows it, where the checklist asks)."""
    user = _user(request)
    closure = _active(user, case_id)
    checklist_answer(
        actor=user,
        closure=closure,
        checklist_id=checklist_id,
        item_id=item_id,
        answer=body.answer,
        note=body.note,
        evidence_date=body.evidence_date,
    )
    return _out(user, case_id)


@router.post(
    "/cases/{case_id}/closure/checklists/{checklist_id}/completion",
    response={200: ClosureOut, **ERRORS},
)
def complete_checklist(request: HttpRequest, case_id: int, checklist_id: PackId) -> ClosureOut:
    """Complete a checklist once every item is answered."""
    user = _user(request)
    checklist_complete(actor=user, closure=_active(user, case_id), checklist_id=checklist_id)
    return _out(user, case_id)


class AuthoriseIn(Schema):
    compliance_review: str = Field(default="", max_length=10000)


@router.post("/cases/{case_id}/closure/authorisation", response={200: ClosureOut, **ERRORS})
def authorise(request: HttpRequest, case_id: int, body: AuthoriseIn) -> ClosureOut:
    """Authorise the closure once every earlier step is done, with the compliance review
    where the procedure asks for one."""
    user = _user(request)
    closure_authorise(
        actor=user, closure=_active(user, case_id), compliance_review=body.compliance_review
    )
    return _out(user, case_id)


# --- Forms (summaries), signatures and sharing ----------------------------------------------


class SharingOut(Schema):
    recipient: str
    kind: str
    method: str
    shared_on: dt.date
    recorded_by: str


class FormOut(Schema):
    id: str
    case_id: int
    closure_id: int
    title: str
    purpose: str
    step_id: str
    state: FormState
    version: int | None = Field(description="Send as `expected_version` when saving.")
    updated_at: dt.datetime | None
    updated_by: str | None
    submitted_at: dt.datetime | None
    questions: list[QuestionOut]
    answers: dict[str, Any] = Field(
        description="The saved answers; before the first save, those pre-filled from the record."
    )
    document: ClosureDocumentOut | None = Field(description="The latest signed (frozen) version.")
    sharings: list[SharingOut]


def _form_step(v: ClosureView, form_id: str) -> Step:
    step = v.form_step(form_id)
    if step is None:
        raise NotFound("That form is not part of this closure.")
    return step


def _form_out(v: ClosureView, form_id: str) -> FormOut:
    assert v.closure is not None  # noqa: S101 - the caller found it
    assert v.pack is not None  # noqa: S101 - a closure has its pack
    step = _form_step(v, form_id)
    spec = v.pack.spec.forms[form_id]
    response = v.responses.get(form_id)
    answers, sources = v.form_answers(form_id)
    document = v.document(form_id)
    return FormOut(
        id=form_id,
        case_id=v.case.pk,
        closure_id=v.closure.pk,
        title=spec.title,
        purpose=spec.purpose,
        step_id=step.id,
        state=_form_state(v, form_id),
        version=response.version if response else None,
        updated_at=response.updated_at if response else None,
        updated_by=response.updated_by.username if response else None,
        submitted_at=response.submitted_at if response else None,
        questions=[
            QuestionOut(
                id=s.field.id,
                label=s.field.label,
                type=s.field.type,
                hint=s.field.hint,
                required=s.field.required,
                shown=s.shown,
                options=list(s.field.options),
                # As on the screens: said only while the pre-filled answer says something.
                prefilled_from=prefill_description(sources[s.field.id])
                if s.field.id in sources and answers.get(s.field.id) not in (None, "")
                else "",
            )
            for s in v.form_states(form_id, answers)
        ],
        answers=answers,
        document=_closure_document_out(v, document) if document else None,
        sharings=[
            SharingOut(
                recipient=s.recipient,
                kind=s.recipient_kind,
                method=s.method,
                shared_on=s.shared_on,
                recorded_by=s.recorded_by.username,
            )
            for s in (document.sharings.select_related("recorded_by") if document else [])
        ],
    )


def _fresh_form(user: User, case_id: int, form_id: str) -> FormOut:
    return _form_out(closure_view(user, case_id), form_id)


@router.get("/cases/{case_id}/closure/forms/{form_id}", response={200: FormOut, **ERRORS})
def get_form(request: HttpRequest, case_id: int, form_id: PackId) -> FormOut:
    """A form of the closure (a summary, a record, feedback): its questions, which of them
    apply now, the answers (pre-filled from the record where the procedure says, until
    someone changes them, R000-06, R003-04), its state, and once signed, who signed it."""
    v, _ = _latest(_user(request), case_id)
    return _form_out(v, form_id)


class FormAnswersIn(Schema):
    answers: dict[FieldId, AnswerValue] = Field(
        default_factory=dict,
        max_length=100,
        description="Answers by question id; questions not sent keep their answer.",
    )
    expected_version: JsonInt | None = Field(
        default=None,
        ge=1,
        description="The `version` you read: if someone saved since, the save is a 409.",
    )


@router.put("/cases/{case_id}/closure/forms/{form_id}", response={200: FormOut, **ERRORS})
def save_form(request: HttpRequest, case_id: int, form_id: PackId, body: FormAnswersIn) -> FormOut:
    """Save answers to the form as a draft (the first save starts from the pre-filled
    answers). Send `expected_version` so that a save from elsewhere in the meantime is a
    409 rather than silently overwritten. A submitted form can no longer be changed."""
    user = _user(request)
    closure = _active(user, case_id)
    v = closure_view(user, case_id)
    _form_step(v, form_id)
    form_save_draft(
        actor=user,
        closure=closure,
        form_id=form_id,
        answers=body.answers,
        expected_version=body.expected_version,
    )
    return _fresh_form(user, case_id, form_id)


@router.post(
    "/cases/{case_id}/closure/forms/{form_id}/submission", response={200: FormOut, **ERRORS}
)
def submit_form(request: HttpRequest, case_id: int, form_id: PackId) -> FormOut:
    """Submit the saved form: refused with each required question still unanswered (by
    question id in `errors`), or the conditions still outstanding for its step."""
    user = _user(request)
    closure = _active(user, case_id)
    _form_step(closure_view(user, case_id), form_id)
    form_submit(actor=user, closure=closure, form_id=form_id)
    return _fresh_form(user, case_id, form_id)


def _require_signed_form(v: ClosureView, form_id: str) -> None:
    """Signatures and sharing are on the form the procedure's sign step signs, as on the
    screens (the service itself would freeze and sign whichever form it is given)."""
    _form_step(v, form_id)
    if _sign_step(v) is not None and v.sign_form_id != form_id and v.pack is not None:
        title = v.pack.spec.forms[v.sign_form_id or ""].title
        raise InvalidInput(f"This form is not signed: the signatures are on the {title.lower()}.")


@router.post(
    "/cases/{case_id}/closure/forms/{form_id}/signatures", response={200: FormOut, **ERRORS}
)
def sign_form(request: HttpRequest, case_id: int, form_id: PackId) -> FormOut:
    """Sign the submitted summary in the role you hold that has not signed yet. The first
    signature freezes its content and SHA-256; every signer signs that same hash, and
    nobody signs twice (R000-09, X-05). The last signature needed may close the case. A
    corrected version is signed the same way, even after the case has closed."""
    user = _user(request)
    v, closure = _latest(user, case_id)
    _form_step(v, form_id)
    summary_sign(actor=user, closure=closure, form_id=form_id)
    return _fresh_form(user, case_id, form_id)


class RecipientIn(Schema):
    recipient: str = Field(max_length=200, description="Who received it.")
    kind: Literal["family", "professional"]
    method: Sharing.Method


class SharingIn(Schema):
    recipients: list[RecipientIn] = Field(default_factory=list, max_length=20)
    shared_on: IsoDate | None = Field(default=None, description="Today if not given.")


@router.post("/cases/{case_id}/closure/forms/{form_id}/sharings", response={200: FormOut, **ERRORS})
def share_form(request: HttpRequest, case_id: int, form_id: PackId, body: SharingIn) -> FormOut:
    """Record who the signed summary went to, how and when (R003-06); only once everyone
    has signed it. Where sharing is the last step, the case closes."""
    user = _user(request)
    v, closure = _latest(user, case_id)
    _require_signed_form(v, form_id)
    summary_share(
        actor=user,
        closure=closure,
        recipients=[
            {"recipient": r.recipient, "kind": r.kind, "method": r.method.value}
            for r in body.recipients
        ],
        shared_on=body.shared_on or timezone.localdate(),
    )
    return _fresh_form(user, case_id, form_id)


# --- Frozen documents -----------------------------------------------------------------------


@router.get(
    "/cases/{case_id}/closure/documents", response={200: list[ClosureDocumentOut], **ERRORS}
)
def list_documents(request: HttpRequest, case_id: int) -> list[ClosureDocumentOut]:
    """The frozen documents of the case's latest closure: the signed summary (every
    version), or what was frozen at authorisation where the procedure has no signatures."""
    v, _ = _latest(_user(request), case_id)
    return [_closure_document_out(v, d) for d in v.documents()]


@router.get(
    "/cases/{case_id}/closure/documents/{document_id}/pdf",
    response={200: None, 500: Problem, **ERRORS},
    openapi_extra=file_answer(
        "The document as a PDF, exactly as signed, with its SHA-256.", "application/pdf"
    ),
)
def document_pdf(request: HttpRequest, case_id: int, document_id: int) -> Any:
    """A frozen document as a PDF, showing exactly the content that was signed, its hash and
    its signatures (X-05). Never printed if the stored content no longer matches the hash."""
    user = _user(request)
    case = case_for(user, case_id)
    document = (
        SignedDocument.objects.filter(closure__case=case, pk=document_id)
        .select_related("closure__case")
        .first()
    )
    if document is None:
        raise NotFound("There is no such document on this case's closure.")
    try:
        pdf = signed_document_pdf(document)
    except TamperedDocument:
        logger.error("Signed document %s does not match its hash", document.pk)
        return Status(
            500,
            Problem(
                title="Document cannot be printed",
                status=500,
                detail="The stored summary no longer matches what was signed, so it is not "
                "printed. Tell your system administrator straight away.",
            ),
        )
    filename = f"{case.reference}-{document.form_id}-v{document.version}.pdf"
    return HttpResponse(
        pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
