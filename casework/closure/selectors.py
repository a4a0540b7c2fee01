"""Reads for the closure screens. Every read starts from the access-scoped `case_for`, so a
case the user may not see raises NotFound exactly like a missing one; the views turn that
into a 404. Nothing here writes: the screens change things only through `services`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from casework.access.policy import (
    case_again,
    case_for,
    cases_visible_to,
    holds_role_for_case,
    need_to_know,
)
from casework.accounts.models import User
from casework.cases.models import Case, CaseStatus, Meeting
from casework.closure.models import (
    ChecklistAnswer,
    Closure,
    ClosureState,
    FormResponse,
    FurtherAction,
    GateAgreement,
    Signature,
    SignedDocument,
    StepRecord,
)
from casework.closure.services import canonical_content, content_hash, signed_form_id
from casework.core.compiled import CompiledRead
from casework.organisation.models import Role
from casework.policy.caseview import AlreadyRead, build_case_view
from casework.policy.conditions import EvaluationContext
from casework.policy.evaluate import (
    FieldState,
    GateResult,
    ItemResult,
    applicable_steps,
    checklist_results,
    evaluate_gate,
    form_fields,
)
from casework.policy.loader import PolicyPack, load_pack
from casework.policy.models import PackPurpose
from casework.policy.prefill import prefill
from casework.policy.schema import Checklist, ClosureReason, Form, Step
from casework.policy.services import bound_pack
from casework.policy.vocabulary import PREFILL_SOURCES
from casework.tasks.models import Task, TaskStatus

# Short names for the closure's state, for GOV.UK tags (the long label is shown beside it).
STATE_TAGS: dict[str, tuple[str, str]] = {
    ClosureState.PROPOSED: ("Proposed", ""),
    ClosureState.FURTHER_ACTIONS: ("Further actions", "govuk-tag--yellow"),
    ClosureState.AGREED: ("Agreed", "govuk-tag--turquoise"),
    ClosureState.AUTHORISED: ("Authorised", "govuk-tag--purple"),
    ClosureState.CLOSED: ("Closed", "govuk-tag--green"),
    ClosureState.WITHDRAWN: ("Withdrawn", "govuk-tag--grey"),
    ClosureState.REJECTED: ("Rejected", "govuk-tag--red"),
}

# Where on the case page each kind of missing record is shown (and, as the record screens
# arrive, recorded). Checked in order; the first keyword found in a gate's `record_at` wins.
_RECORD_AT_ANCHORS: tuple[tuple[str, str], ...] = (
    ("visit", "visits"),
    ("household", "household"),
    ("family", "household"),
    ("person", "household"),
    ("contact", "contacts"),
    ("agenc", "contacts"),
    ("professional", "contacts"),
    ("plan", "plans"),
)

MANAGER_LADDER = (
    Role.TEAM_MANAGER,
    Role.SENIOR_FIELDWORK_MANAGER,
    Role.SERVICE_MANAGER,
    Role.HEAD_OF_SERVICE,
)


def role_label(role: str) -> str:
    return str(Role(role).label)


def roles_text(roles: Iterable[str]) -> str:
    return " or ".join(role_label(r).lower() for r in roles)


# Where a gate's missing record is made: the recording form for it when there is one (the
# earliest word in the gate's "record it in" text wins), else the case page's section.
_RECORD_AT_FORMS: tuple[tuple[str, str], ...] = (
    ("visit", "visit"),
    ("note", "note"),
    ("decision", "decision"),
    ("supervision", "supervision"),
    ("meeting", "meeting"),
    ("minutes", "meeting"),
    # Gates about assessments ask for them to be completed (or none left in progress).
    ("assessment", "assessment-complete"),
    ("plan", "plan"),
)


def record_at_url(case: Case, record_at: str) -> str:
    """Where to record what a gate found missing: the short form that records it (a visit,
    a note, a decision...), the documents page, or the case page section that shows it."""
    lowered = record_at.lower()
    found = sorted(
        (lowered.index(word), what) for word, what in _RECORD_AT_FORMS if word in lowered
    )
    if found:
        form_url = reverse("case-record", kwargs={"case_id": case.pk})
        return f"{form_url}?{urlencode({'what': found[0][1]})}"
    if "document" in lowered or "genogram" in lowered or "chronology" in lowered:
        return reverse("case-documents", kwargs={"case_id": case.pk})
    base = reverse("case-detail", kwargs={"case_id": case.pk})
    anchor = next((a for word, a in _RECORD_AT_ANCHORS if word in lowered), "chronology")
    return f"{base}#{anchor}"


def with_query(url_name: str, case: Case, **params: str) -> str:
    url = reverse(url_name, kwargs={"case_id": case.pk})
    return f"{url}?{urlencode(params)}" if params else url


@dataclass(frozen=True)
class GateRow:
    """A gate's result as a user sees it: met or not, why, where to record what is missing,
    and whether someone has agreed to go on without it."""

    result: GateResult
    record_url: str
    agreement: GateAgreement | None = None
    agree_url: str = ""
    applies_to: str = ""

    @property
    def gate_id(self) -> str:
        return self.result.gate_id

    @property
    def label(self) -> str:
        return self.result.gate.label

    @property
    def status(self) -> str:
        r = self.result
        if not r.applies:
            return "Does not apply"
        if r.passed:
            return "Met"
        if self.agreement is not None:
            return "Agreed"
        if r.gate.effect == "needs_agreement":
            return "Needs agreement"
        if r.gate.effect == "escalate":
            return "Escalated"
        return "Not met"

    @property
    def tag_class(self) -> str:
        return {
            "Does not apply": "govuk-tag--grey",
            "Met": "govuk-tag--green",
            "Agreed": "govuk-tag--green",
            "Needs agreement": "govuk-tag--yellow",
            "Escalated": "govuk-tag--orange",
            "Not met": "govuk-tag--red",
        }[self.status]

    @property
    def outstanding(self) -> bool:
        return self.result.outstanding and self.agreement is None

    @property
    def explanation(self) -> str:
        return self.result.explanation

    @property
    def record_at(self) -> str:
        return self.result.gate.record_at

    @property
    def agreeable(self) -> bool:
        return self.result.gate.effect != "block"

    @property
    def agree_roles(self) -> str:
        return roles_text(self.result.gate.roles)

    @property
    def agreement_role(self) -> str:
        return role_label(self.agreement.role).lower() if self.agreement else ""


def gate_rows(
    case: Case,
    results: Iterable[GateResult],
    agreements: dict[str, GateAgreement] | None = None,
    *,
    applies_to: str = "",
) -> list[GateRow]:
    agreements = agreements or {}
    return [
        GateRow(
            result=r,
            record_url=record_at_url(case, r.gate.record_at),
            agreement=agreements.get(r.gate_id) if r.gate.effect != "block" else None,
            agree_url=with_query("closure-agreement", case, gate=r.gate_id)
            if r.gate.effect != "block"
            else "",
            applies_to=applies_to,
        )
        for r in results
    ]


def _propose_step(pack: PolicyPack) -> Step | None:
    """The pack's proposal step; some procedures name none (the worker still proposes)."""
    spec = pack.spec.closure
    return next((s for s in spec.steps if s.kind == "propose"), None) if spec else None


def propose_role(pack: PolicyPack) -> str:
    step = _propose_step(pack)
    return step.role if step else Role.SOCIAL_WORKER


def _decision_step(pack: PolicyPack) -> Step | None:
    spec = pack.spec.closure
    return next((s for s in spec.steps if s.kind == "decide"), None) if spec else None


def _latest_closure(case: Case) -> Closure | None:
    return (
        Closure.objects.filter(case=case)
        .select_related("proposed_by", "decided_by", "authorised_by")
        .order_by("-created_at", "-id")
        .first()
    )


# --- The readiness panel on the case page -------------------------------------------------


@dataclass
class Readiness:
    """Could this case close today? The bound procedure, the closure in progress if any,
    and otherwise every gate a proposal and a closure must pass, with the facts."""

    case: Case
    pack: PolicyPack | None
    closure: Closure | None
    propose_gates: list[GateRow] = field(default_factory=list)
    closing_gates: list[GateRow] = field(default_factory=list)
    reason_gates: list[GateRow] = field(default_factory=list)
    can_propose: bool = False

    @property
    def active(self) -> bool:
        return self.closure is not None and self.closure.is_active

    @property
    def state_tag(self) -> tuple[str, str]:
        return STATE_TAGS[self.closure.state] if self.closure else ("", "")

    @property
    def blocked(self) -> bool:
        return any(g.result.blocks for g in self.propose_gates)

    @property
    def tasks_url(self) -> str:
        return reverse("closure-tasks", kwargs={"case_id": self.case.pk})

    @property
    def propose_url(self) -> str:
        return reverse("closure-propose", kwargs={"case_id": self.case.pk})


def closure_readiness(
    user: User, case: Case, *, already_read: AlreadyRead | None = None
) -> Readiness:
    """For the case page. Runs a fixed number of queries however big the record is, fewer
    when given what the page has already read of the case in this request."""
    case = case_again(user, case)
    pack = bound_pack(case.responsible_team.authority, case.service_area, PackPurpose.CLOSURE)
    closure = _latest_closure(case)
    if closure is not None and closure.is_active:
        return Readiness(case, load_pack(closure.pack_id), closure)
    if pack is None or pack.spec.closure is None:
        return Readiness(case, None, closure)
    readiness = Readiness(case, pack, closure)
    if case.status != CaseStatus.OPEN:
        return readiness
    # Only gates are evaluated here, so only what the procedure's conditions read is built.
    evaluation = EvaluationContext(
        build_case_view(case, already_read=already_read, shape=pack.case_view_shape)
    )
    propose = _propose_step(pack)
    spec = pack.spec.closure
    propose_ids = list(dict.fromkeys(propose.gates if propose else []))
    closing_ids = [g for g in dict.fromkeys(spec.gates) if g not in propose_ids]
    readiness.propose_gates = gate_rows(
        case, [evaluate_gate(pack, g, evaluation) for g in propose_ids]
    )
    readiness.closing_gates = gate_rows(
        case, [evaluate_gate(pack, g, evaluation) for g in closing_ids]
    )
    for reason in spec.reasons:
        readiness.reason_gates += gate_rows(
            case,
            [evaluate_gate(pack, g, evaluation) for g in reason.gates],
            applies_to=reason.label,
        )
    readiness.can_propose = holds_role_for_case(user, case, propose_role(pack))
    return readiness


# --- One closure, for its pages ------------------------------------------------------------


@dataclass(frozen=True)
class StepRow:
    """One line of the task list. `display` is how GOV.UK task lists show a status: a tag
    for work to do, plain text once done, grey text when it cannot start or does not apply."""

    step: Step
    status: str
    display: str
    tag_class: str
    url: str
    hints: list[str]
    record: StepRecord | None = None


def _signatures_in_order() -> QuerySet[Signature]:
    return Signature.objects.select_related("signer").order_by("signed_at", "id")


# Read for every task list: compiled once (casework.core.compiled).
_STEP_RECORDS = CompiledRead(
    lambda closure_id: StepRecord.objects.filter(closure_id=closure_id).select_related("done_by")
)
_OPEN_TASKS = CompiledRead(lambda *keys: Task.objects.filter(key__in=keys, status=TaskStatus.OPEN))


@dataclass
class ClosureView:
    """A case, its closure (the active one, else the latest) and its procedure, evaluated
    once for a page."""

    user: User
    case: Case
    closure: Closure | None
    pack: PolicyPack | None
    _evaluation: EvaluationContext | None = None
    _roles: dict[str, bool] = field(default_factory=dict)
    _documents: list[SignedDocument] | None = None
    # The closure was written by a proposal in this transaction (see `proposal_view`), so
    # nothing but its step records can be recorded against it yet.
    _just_proposed: bool = False

    # -- basics
    @property
    def evaluation(self) -> EvaluationContext:
        if self._evaluation is None:
            self._evaluation = EvaluationContext(build_case_view(self.case))
        return self._evaluation

    def holds(self, role: str) -> bool:
        if role not in self._roles:
            self._roles[role] = holds_role_for_case(self.user, self.case, role)
        return self._roles[role]

    @property
    def in_progress(self) -> bool:
        return self.closure is not None and self.closure.state in (
            ClosureState.AGREED,
            ClosureState.AUTHORISED,
        )

    @property
    def active(self) -> bool:
        return self.closure is not None and self.closure.is_active

    @property
    def state_tag(self) -> tuple[str, str]:
        return STATE_TAGS[self.closure.state] if self.closure else ("", "")

    @property
    def all_steps(self) -> list[Step]:
        spec = self.pack.spec.closure if self.pack else None
        return list(spec.steps) if spec else []

    @property
    def steps(self) -> list[Step]:
        return applicable_steps(self.pack, self.evaluation) if self.pack else []

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.all_steps if s.id == step_id), None)

    def step_of_kind(self, kind: str) -> Step | None:
        return next((s for s in self.steps if s.kind == kind), None)

    @property
    def propose_step(self) -> Step | None:
        return _propose_step(self.pack) if self.pack else None

    @property
    def decision_step(self) -> Step | None:
        return _decision_step(self.pack) if self.pack else None

    @property
    def reason(self) -> ClosureReason | None:
        spec = self.pack.spec.closure if self.pack else None
        if spec is None or self.closure is None:
            return None
        return next((r for r in spec.reasons if r.id == self.closure.reason_id), None)

    # -- what has been done
    @cached_property
    def records(self) -> dict[str, StepRecord]:
        if self.closure is None:
            return {}
        if self._just_proposed:  # what `closure_propose` recorded, carried by the closure
            return {r.step_id: r for r in self.closure.steps.all()}
        return {r.step_id: r for r in _STEP_RECORDS(self.closure.pk)}

    @cached_property
    def agreements(self) -> dict[str, GateAgreement]:
        if self.closure is None or self._just_proposed:
            return {}
        rows = GateAgreement.objects.filter(closure=self.closure).select_related("agreed_by")
        return {a.gate_id: a for a in rows}

    @cached_property
    def responses(self) -> dict[str, FormResponse]:
        if self.closure is None or self._just_proposed:
            return {}
        rows = FormResponse.objects.filter(closure=self.closure).select_related("updated_by")
        return {r.form_id: r for r in rows}

    def further_actions(self) -> list[FurtherAction]:
        if self.closure is None or self._just_proposed:
            return []
        return list(self.closure.actions.select_related("done_by"))

    def further_action(self, action_id: int) -> FurtherAction | None:
        if self.closure is None:
            return None
        return self.closure.actions.filter(pk=action_id).first()

    def open_tasks(self) -> dict[str, Task]:
        """The open deadline for each step, by step id."""
        if self.closure is None:
            return {}
        prefix = f"closure:{self.closure.pk}:step:"
        tasks = _OPEN_TASKS(*(prefix + s.id for s in self.all_steps))
        return {t.key.removeprefix(prefix): t for t in tasks}

    def meetings(self, kind: str | None) -> list[Meeting]:
        return list(self.case.meetings.filter(kind=kind or "")) if kind else []

    # -- gates
    def gate_row(self, gate_id: str) -> GateRow | None:
        if self.pack is None or gate_id not in self.pack.spec.gates:
            return None
        result = evaluate_gate(self.pack, gate_id, self.evaluation)
        return gate_rows(self.case, [result], self.agreements)[0]

    def gates_for(self, gate_ids: Iterable[str]) -> list[GateRow]:
        rows = [self.gate_row(g) for g in dict.fromkeys(gate_ids)]
        return [r for r in rows if r is not None]

    def escalation_gate_ids(self) -> list[str]:
        """Escalations on the closure's steps: the named role must answer them before the
        case can close."""
        if self.pack is None:
            return []
        return [
            g
            for s in self.steps
            for g in s.gates
            if g in self.pack.spec.gates and self.pack.spec.gates[g].effect == "escalate"
        ]

    def steps_still_to_do(self) -> list[Step]:
        return [s for s in self.steps if not s.optional and s.id not in self.records]

    def closure_gate_ids(self) -> list[str]:
        spec = self.pack.spec.closure if self.pack else None
        return list(spec.gates) if spec else []

    def agreement_rows(self) -> list[GateRow]:
        """Gates someone may agree past (never-seen clients) or that are escalated, on any
        step of this closure, still outstanding or already agreed."""
        if self.pack is None or self.closure is None:
            return []
        ids = [*self.closure_gate_ids()]
        for step in self.steps:
            ids.extend(step.gates)
        reason = self.reason
        if reason:
            ids.extend(reason.gates)
        rows = self.gates_for(ids)
        return [
            r for r in rows if r.agreeable and (r.result.outstanding or r.agreement is not None)
        ]

    # -- forms
    def form(self, form_id: str) -> Form | None:
        return self.pack.spec.forms.get(form_id) if self.pack else None

    def form_step(self, form_id: str) -> Step | None:
        return next((s for s in self.steps if s.kind == "form" and s.form == form_id), None)

    def form_states(self, form_id: str, answers: dict[str, Any] | None = None) -> list[FieldState]:
        assert self.pack is not None  # noqa: S101 - only called once a form is found
        return form_fields(self.pack, form_id, self.evaluation, answers)

    def form_answers(self, form_id: str) -> tuple[dict[str, Any], dict[str, str]]:
        """The saved draft's answers and pre-fill sources; before the first save, what
        the record would fill in."""
        response = self.responses.get(form_id)
        if response is not None:
            return dict(response.answers), dict(response.prefilled)
        answers: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for state in self.form_states(form_id):
            source = state.field.prefill
            if source:
                answers[state.field.id] = prefill(source, self.case).text
                sources[state.field.id] = source
        return answers, sources

    @property
    def sign_form_id(self) -> str | None:
        """The form the sign step signs (see `signed_form_id`)."""
        return signed_form_id(self.pack, self.steps) if self.pack else None

    def documents(self) -> list[SignedDocument]:
        """Every frozen document of the closure: the signed summary, or what was frozen at
        authorisation where the procedure asks for no signatures. Latest version first."""
        if self.closure is None or self._just_proposed:
            return []
        if self._documents is None:  # read once for the page: each form's state asks
            self._documents = list(
                SignedDocument.objects.filter(closure=self.closure)
                .prefetch_related(Prefetch("signatures", queryset=_signatures_in_order()))
                .order_by("form_id", "-version")
            )
        return self._documents

    def document(self, form_id: str | None = None) -> SignedDocument | None:
        """The latest version of the document for `form_id` (by default the signed summary,
        else the first document frozen)."""
        documents = self.documents()
        wanted = form_id or self.sign_form_id
        chosen = next((d for d in documents if d.form_id == wanted), None)
        if chosen is None and form_id is None and documents:
            chosen = documents[0]
        return chosen

    def document_title(self, document: SignedDocument) -> str:
        return str(document.content.get("title", document.form_id))

    def signatures(self, document: SignedDocument | None) -> list[Signature]:
        if document is None:
            return []
        # Prefetched by `documents()`: one query for every version's signatures, not one each.
        prefetched = getattr(document, "_prefetched_objects_cache", {}).get("signatures")
        if prefetched is not None:
            return list(prefetched)
        return list(_signatures_in_order().filter(document=document))

    def sign_role(self, document: SignedDocument | None) -> str | None:
        """The role the user would sign as: the first signature asked for that they hold and
        that nobody has given yet (as the service decides it)."""
        step = self.step_of_kind("sign")
        if step is None:
            return None
        signed = {s.role for s in self.signatures(document)}
        return next((r for r in step.signatures if r not in signed and self.holds(r)), None)

    def content_to_sign(self) -> tuple[dict[str, Any], str] | None:
        """Exactly what a signature signs: the frozen document once someone has signed, else
        the submitted form as the first signature will freeze it."""
        document = self.document(self.sign_form_id) if self.sign_form_id else None
        if document is not None:
            return document.content, document.content_hash
        form_id = self.sign_form_id
        if form_id is None or self.pack is None:
            return None
        response = self.responses.get(form_id)
        if response is None or response.submitted_at is None:
            return None
        shown = [s.field for s in self.form_states(form_id, response.answers) if s.shown]
        content = canonical_content(
            self.pack.spec.forms[form_id].title,
            self.case,
            response.answers,
            {f.id: f.label for f in shown},
        )
        return content, content_hash(content)

    # -- checklists
    def checklist(self, checklist_id: str) -> Checklist | None:
        return self.pack.spec.checklists.get(checklist_id) if self.pack else None

    def checklist_step(self, checklist_id: str) -> Step | None:
        return next((s for s in self.steps if s.checklist == checklist_id), None)

    def checklist_results(self, checklist_id: str) -> list[ItemResult]:
        assert self.pack is not None  # noqa: S101 - only called once a checklist is found
        return checklist_results(self.pack, checklist_id, self.evaluation)

    @cached_property
    def _checklist_answers(self) -> list[ChecklistAnswer]:
        """Every checklist's answers, read once: the task list asks which checklists are
        begun, and each checklist's summary how far."""
        if self.closure is None or self._just_proposed:
            return []
        return list(
            ChecklistAnswer.objects.filter(closure=self.closure).select_related("answered_by")
        )

    def checklist_answers(
        self, checklist_id: str, *, reread: bool = False
    ) -> dict[str, ChecklistAnswer]:
        """`reread`: the request has saved answers since it first asked."""
        if reread:
            self.__dict__.pop("_checklist_answers", None)  # cached_property's own slot
        return {a.item_id: a for a in self._checklist_answers if a.checklist_id == checklist_id}

    # -- the task list
    def step_url(self, step: Step) -> str:
        case = self.case
        if step.kind == "propose":
            return reverse("closure-propose", kwargs={"case_id": case.pk})
        if self.decision_step is not None and step.id == self.decision_step.id:
            return reverse("closure-decide", kwargs={"case_id": case.pk})
        if step.kind == "form" and step.form:
            return with_query("closure-form", case, form=step.form)
        if step.kind == "checklist" and step.checklist:
            return with_query("closure-checklist", case, checklist=step.checklist)
        if step.kind == "authorise":
            return reverse("closure-authorise", kwargs={"case_id": case.pk})
        if step.kind == "sign":
            return reverse("closure-sign", kwargs={"case_id": case.pk})
        if step.kind == "share":
            return reverse("closure-share", kwargs={"case_id": case.pk})
        return with_query("closure-step", case, step=step.id)

    def step_rows(self) -> list[StepRow]:
        applicable = {s.id for s in self.steps}
        tasks = self.open_tasks()
        document = self.document(self.sign_form_id) if self.sign_form_id else None
        answered = {a.checklist_id for a in self._checklist_answers}
        viewable_when_done = {"decide", "form", "checklist", "sign", "share", "authorise"}
        rows = []
        for step in self.all_steps:
            if step.kind == "sign":
                hints = [f"Signed by the {roles_text(step.signatures).replace(' or ', ' and ')}"]
            else:
                hints = [f"Done by the {role_label(step.role).lower()}"]
            record = self.records.get(step.id)
            task = tasks.get(step.id)
            if task is not None and task.due_on and record is None:
                hints.append(f"Due {task.due_on.day} {task.due_on:%B %Y}")
            if record is not None:
                done_at = timezone.localtime(record.done_at)
                hints.append(
                    f"Done by {record.done_by.display_name} on {done_at.day} {done_at:%B %Y}"
                )
            if step.id not in applicable:
                status, display, tag = "Not applicable", "muted", ""
            elif record is not None:
                status, display, tag = "Completed", "text", ""
            else:
                status, display, tag, reason = self._open_status(step, document, answered)
                if reason:
                    hints.append(reason)
            url = ""
            if step.id in applicable and self.closure is not None and step.kind != "propose":
                if record is not None:
                    url = self.step_url(step) if step.kind in viewable_when_done else ""
                elif display == "tag" and self._may_act(step, document):
                    url = self.step_url(step)
            rows.append(StepRow(step, status, display, tag, url, hints, record))
        return rows

    def _may_act(self, step: Step, document: SignedDocument | None) -> bool:
        if step.kind == "sign":
            return self.sign_role(document) is not None
        return self.holds(step.role)

    def _open_status(
        self, step: Step, document: SignedDocument | None, answered: set[str]
    ) -> tuple[str, str, str, str]:
        """Status, how to show it, its tag class, and why, for a step not yet done."""
        assert self.closure is not None  # noqa: S101 - only called for a closure's steps
        state = self.closure.state
        if state in (ClosureState.CLOSED, ClosureState.WITHDRAWN, ClosureState.REJECTED):
            return "Not done", "muted", "", ""
        if self.decision_step is not None and step.id == self.decision_step.id:
            if state == ClosureState.FURTHER_ACTIONS:
                return (
                    "Further actions",
                    "tag",
                    "govuk-tag--yellow",
                    "Waiting for the further actions to be done",
                )
            return "To do", "tag", "", "Waiting for the decision"
        if state not in (ClosureState.AGREED, ClosureState.AUTHORISED):
            return "Cannot start yet", "muted", "", "Once the closure is agreed"
        if step.kind == "authorise":
            done = set(self.records)
            before = self.steps[: self.steps.index(step)]
            if any(not s.optional and s.id not in done for s in before):
                return "Cannot start yet", "muted", "", "Once the steps above are done"
        if step.kind == "sign":
            response = self.responses.get(self.sign_form_id or "")
            if response is None or response.submitted_at is None:
                return "Cannot start yet", "muted", "", "Once the summary is submitted"
            if document is not None:
                return "In progress", "tag", "govuk-tag--turquoise", "Not everyone has signed"
        if step.kind == "share" and document is None:
            return "Cannot start yet", "muted", "", "Once the summary is signed"
        if step.kind == "form" and step.form in self.responses:
            return "In progress", "tag", "govuk-tag--turquoise", "Draft saved"
        if step.kind == "checklist" and step.checklist in answered:
            return "In progress", "tag", "govuk-tag--turquoise", "Some items answered"
        if step.optional:
            return "Optional", "tag", "govuk-tag--grey", ""
        return "To do", "tag", "", ""


# What a closure's pages read of its case: the subject, and the team's authority for the
# procedure and the calendar (`build_case_view(case, case_is_current=True)` relies on both).
CLOSURE_VIEW_RELATED = ("subject", "responsible_team__authority", "allocated_worker")


def closure_view(
    user: User, case_id: int, *, evaluation: EvaluationContext | None = None
) -> ClosureView:
    """The case (access-checked: NotFound if the user may not see it) with its active or
    latest closure and the procedure governing it; `evaluation`, the case's record as the
    procedure reads it, if the caller has just built it."""
    case = case_for(user, case_id, related=CLOSURE_VIEW_RELATED)
    closure = _latest_closure(case)
    if closure is not None:
        pack: PolicyPack | None = load_pack(closure.pack_id)
    else:
        pack = bound_pack(case.responsible_team.authority, case.service_area, PackPurpose.CLOSURE)
    return ClosureView(user=user, case=case, closure=closure, pack=pack, _evaluation=evaluation)


def proposal_view(
    user: User, case: Case, closure: Closure, evaluation: EvaluationContext
) -> ClosureView:
    """The task list of the closure `closure_propose` has just written, for the proposal's
    answer, without reading again what the proposal read: `case`, as `case_for` read it for
    `user` in the same transaction (proposing writes nothing to the case), and `evaluation`,
    built from it. No one else can see the closure before the transaction commits, so
    nothing but its step records (and the deadlines it set) can be recorded against it:
    those are read; agreements, answers, documents and further actions are known to be none.
    A test holds the answer equal to what reading the closure afresh gives."""
    if closure.case_id != case.pk:
        raise ValueError("The closure is of another case.")
    return ClosureView(
        user=user,
        case=case,
        closure=closure,
        pack=load_pack(closure.pack_id),
        _evaluation=evaluation,
        _just_proposed=True,
    )


def prefill_description(source: str) -> str:
    return PREFILL_SOURCES.get(source, source)


# --- The team queue -------------------------------------------------------------------------


@dataclass
class Queue:
    awaiting_decision: list[Closure]
    further_actions: list[Closure]
    awaiting_authorisation: list[Closure]
    agreed_in_progress: list[Closure]

    @property
    def empty(self) -> bool:
        return not (
            self.awaiting_decision
            or self.further_actions
            or self.awaiting_authorisation
            or self.agreed_in_progress
        )


QUEUE_LIMIT = 200


def is_manager(user: User) -> bool:
    """Holds a manager's role in a current membership (the need to know carries them)."""
    return not need_to_know(user).roles.isdisjoint(MANAGER_LADDER)


def closure_queue(user: User) -> Queue:
    """Closures waiting on managers, for the cases `user` may see, oldest first. A fixed
    number of queries however many closures there are."""
    rows = list(
        Closure.objects.filter(
            case__in=cases_visible_to(user),
            state__in=[
                ClosureState.PROPOSED,
                ClosureState.FURTHER_ACTIONS,
                ClosureState.AGREED,
                ClosureState.AUTHORISED,
            ],
        )
        .select_related(
            "case__subject", "case__responsible_team", "case__allocated_worker", "proposed_by"
        )
        .annotate(
            actions_total=Count("actions"),
            actions_open=Count("actions", filter=Q(actions__done_at__isnull=True)),
        )
        .order_by("proposed_on", "id")[:QUEUE_LIMIT]
    )

    def has_authorise_step(closure: Closure) -> bool:
        spec = load_pack(closure.pack_id).spec.closure
        return spec is not None and any(s.kind == "authorise" for s in spec.steps)

    agreed: list[Closure] = [c for c in rows if c.state == ClosureState.AGREED]
    authorised: list[Closure] = [c for c in rows if c.state == ClosureState.AUTHORISED]
    return Queue(
        awaiting_decision=[c for c in rows if c.state == ClosureState.PROPOSED],
        further_actions=[c for c in rows if c.state == ClosureState.FURTHER_ACTIONS],
        awaiting_authorisation=[c for c in agreed if has_authorise_step(c)],
        # Authorised closures may still wait on a manager, e.g. for a signature (000).
        agreed_in_progress=[c for c in agreed if not has_authorise_step(c)] + authorised,
    )


def days_waiting(since: dt.date) -> int:
    return (timezone.localdate() - since).days
