"""The closure screens (journeys 2 and 3). Each page reads through `selectors` (a case the
user may not see is a 404), changes things only through `services`, and after a change
redirects with a success banner (Post/Redirect/Get). Every page works without JavaScript;
`autosave.js` only adds saving drafts as the worker types."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from casework.cases.models import CaseStatus
from casework.closure.documents import TamperedDocument, signed_document_pdf
from casework.closure.forms import (
    SHARE_ROWS,
    AgreementForm,
    AuthoriseForm,
    ChecklistForm,
    DecisionForm,
    FurtherActionForm,
    NoteForm,
    PackForm,
    ProposeForm,
    ShareForm,
    WithdrawForm,
    answer_text,
    checklist_initial,
    item_field,
    show_problems,
    stored_to_initial,
)
from casework.closure.models import ClosureState, FormResponse, FurtherAction
from casework.closure.selectors import (
    ClosureView,
    GateRow,
    closure_queue,
    closure_view,
    gate_rows,
    is_manager,
    prefill_description,
    propose_role,
    role_label,
    roles_text,
    with_query,
)
from casework.closure.services import (
    GateBlocked,
    checklist_answer,
    checklist_complete,
    closure_authorise,
    closure_decide,
    closure_finish,
    closure_propose,
    closure_resubmit,
    closure_step_complete,
    closure_withdraw,
    form_save_draft,
    form_submit,
    further_action_complete,
    gate_agree,
    summary_share,
    summary_sign,
)
from casework.core.errors import Conflict, InvalidInput
from casework.frontend.pages import case_page, refused
from casework.frontend.pages import signed_in_user as _user
from casework.frontend.security import file_response
from casework.policy.schema import Step

logger = logging.getLogger(__name__)

CaseView = Callable[[HttpRequest, int], HttpResponse]

# Steps recorded as a fact with a note, rather than through a page of their own.
FACT_STEP_KINDS = {"discuss", "decide", "meeting", "task", "assess", "archive"}


def _refused(request: HttpRequest, message: str) -> HttpResponse:
    return refused(request, message)


# Closure pages are case pages like any other (404 for no need to know, 403 for a role).
closure_page = case_page


def _tasks_url(v: ClosureView) -> str:
    return reverse("closure-tasks", kwargs={"case_id": v.case.pk})


def _case_url(v: ClosureView) -> str:
    return reverse("case-detail", kwargs={"case_id": v.case.pk})


def _nothing(
    request: HttpRequest,
    v: ClosureView,
    title: str,
    message: str,
    *,
    propose_link: bool = True,
) -> HttpResponse:
    """A page that only makes sense in another state says so, and where to go instead."""
    links = [("Back to the case", _case_url(v))]
    if v.closure is not None:
        links.insert(0, ("Go to the closure task list", _tasks_url(v)))
    elif (
        propose_link
        and v.pack is not None
        and v.pack.spec.closure is not None
        and v.case.status == CaseStatus.OPEN
    ):
        links.insert(0, ("Propose closure", reverse("closure-propose", args=[v.case.pk])))
    return render(
        request,
        "closure/nothing_yet.html",
        {"v": v, "case": v.case, "title": title, "message": message, "links": links},
    )


def _no_closure(request: HttpRequest, v: ClosureView) -> HttpResponse:
    if v.pack is None or v.pack.spec.closure is None:
        return _nothing(
            request,
            v,
            "No closure procedure",
            "No closure procedure is set for this service, so this case cannot be closed "
            "yet. Ask an administrator to bind a policy pack (Django admin, Pack bindings).",
        )
    return _nothing(
        request,
        v,
        "Nothing to do here yet",
        "Nobody has proposed closing this case yet. This page is used once a closure is under way.",
    )


def _pick(
    request: HttpRequest, v: ClosureView, title: str, links: list[tuple[str, str]]
) -> HttpResponse:
    return render(
        request, "closure/pick.html", {"v": v, "case": v.case, "title": title, "links": links}
    )


def _success(request: HttpRequest, message: str, to: str) -> HttpResponse:
    messages.success(request, message)
    return redirect(to)


def _closed_note(v: ClosureView) -> str:
    v.case.refresh_from_db(fields=["status"])
    return " The case is now closed." if v.case.status == CaseStatus.CLOSED else ""


def _render(
    request: HttpRequest,
    template: str,
    v: ClosureView,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HttpResponse:
    form = context.get("form")
    has_errors = bool(
        context.get("gate_errors")
        or context.get("errors")
        or context.get("link_errors")
        or (isinstance(form, forms.BaseForm) and form.is_bound and form.errors)
    )
    return render(
        request,
        template,
        {
            "v": v,
            "case": v.case,
            "closure": v.closure,
            "tasks_url": _tasks_url(v) if v.closure else "",
            "case_url": _case_url(v),
            "has_errors": has_errors,
            **context,
        },
        status=status,
    )


# --- Propose --------------------------------------------------------------------------------


@closure_page
def propose(request: HttpRequest, case_id: int) -> HttpResponse:
    """Propose closure with a reason (R000-01, R000-02). Gates that block a proposal are
    listed with what to record and where (R000-03)."""
    user = _user(request)
    v = closure_view(user, case_id)
    if v.active:
        return _nothing(
            request,
            v,
            "Closure already proposed",
            "A closure is already in progress for this case: see its task list.",
        )
    spec = v.pack.spec.closure if v.pack else None
    if spec is None:
        return _no_closure(request, v)
    if v.case.status != CaseStatus.OPEN:
        return _nothing(request, v, "Case closed", f"Case {v.case.reference} is already closed.")
    role = propose_role(v.pack) if v.pack else "social_worker"
    if not v.holds(role):
        return _refused(
            request,
            f"Only the {role_label(role).lower()} can propose closing this case.",
        )
    form = ProposeForm(
        request.POST if request.method == "POST" else None, reasons=list(spec.reasons)
    )
    gate_errors: list[GateRow] = []
    if request.method == "POST" and form.is_valid():
        try:
            closure_propose(
                actor=user,
                case=v.case,
                reason_id=form.cleaned_data["reason_id"],
                note=form.cleaned_data["note"],
            )
        except GateBlocked as blocked:
            gate_errors = gate_rows(v.case, blocked.results)
        except InvalidInput as error:
            show_problems(form, error)
        except IntegrityError:
            form.add_error(None, "A closure has just been proposed for this case by someone else.")
        else:
            return _success(
                request,
                "Closure proposed. The manager has been asked for a decision.",
                _tasks_url(v),
            )
    return _render(
        request,
        "closure/propose.html",
        v,
        {"form": form, "gate_errors": gate_errors, "pack": v.pack},
    )


# --- Task list ------------------------------------------------------------------------------


@closure_page
def tasks(request: HttpRequest, case_id: int) -> HttpResponse:
    """Every step of the procedure in order, with its status, who does it and when it is
    due (X-03), and a link for the person who can do it."""
    user = _user(request)
    v = closure_view(user, case_id)
    if v.closure is None:
        return _no_closure(request, v)
    closure = v.closure
    can_withdraw = v.active and (closure.proposed_by_id == user.pk or v.holds("team_manager"))
    return _render(
        request,
        "closure/tasks.html",
        v,
        {
            "rows": v.step_rows(),
            "actions": v.further_actions(),
            "agreements": v.agreement_rows(),
            "closing_gates": v.gates_for(v.closure_gate_ids()) if v.active else [],
            "can_withdraw": can_withdraw,
            "withdraw_url": reverse("closure-withdraw", args=[v.case.pk]),
            "further_actions_url": reverse("closure-further-actions", args=[v.case.pk]),
            "agreement_url": reverse("closure-agreement", args=[v.case.pk]),
            "documents": [
                (
                    v.document_title(d),
                    d.version,
                    with_query("closure-pdf", v.case, document=d.form_id),
                )
                for d in v.documents()
            ],
            "finish_url": reverse("closure-finish", args=[v.case.pk]),
            "can_finish": v.in_progress and not v.steps_still_to_do(),
        },
    )


# --- Decision and further actions -----------------------------------------------------------


@closure_page
def decide(request: HttpRequest, case_id: int) -> HttpResponse:
    """The manager's decision after the closure discussion: agree, further actions (one per
    line, each tracked to done) or reject (R000-10, R002-04, R003-05)."""
    user = _user(request)
    v = closure_view(user, case_id)
    if v.closure is None:
        return _no_closure(request, v)
    step = v.decision_step
    if step is None:
        return _nothing(request, v, "No decision step", "This procedure has no decision step.")
    closure = v.closure
    form = DecisionForm(request.POST if request.method == "POST" else None)
    gate_errors: list[GateRow] = []
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        outcome = form.cleaned_data["outcome"]
        try:
            closure_decide(
                actor=user,
                closure=closure,
                outcome=outcome,
                note=form.cleaned_data["note"],
                actions=form.action_list(),
            )
        except GateBlocked as blocked:
            gate_errors = gate_rows(v.case, blocked.results, v.agreements)
        except InvalidInput as error:
            show_problems(form, error)
        except Conflict as conflict:
            errors.append(str(conflict))
        else:
            message = {
                "agreed": "Closure agreed. The worker can now complete the closure steps.",
                "further_actions": "Further actions recorded. The worker has been asked to "
                "do them before the closure comes back to you.",
                "rejected": "Closure rejected. The case stays open.",
            }[outcome]
            return _success(request, message, _tasks_url(v))
    return _render(
        request,
        "closure/decide.html",
        v,
        {
            "step": step,
            "form": form,
            "gate_errors": gate_errors,
            "errors": errors,
            "can_decide": closure.state == ClosureState.PROPOSED and v.holds(step.role),
            "gates": v.gates_for(step.gates),
            "record": v.records.get(step.id),
            "actions": v.further_actions(),
            "decider": role_label(step.role).lower(),
        },
    )


def _action_label(action: FurtherAction) -> str:
    return f"What was done: {action.description}"


@closure_page
def further_actions(request: HttpRequest, case_id: int) -> HttpResponse:
    """The worker records each further action the manager asked for, then resubmits."""
    user = _user(request)
    v = closure_view(user, case_id)
    if v.closure is None:
        return _no_closure(request, v)
    closure = v.closure
    actions = v.further_actions()
    if not actions:
        return _nothing(
            request,
            v,
            "No further actions",
            "The manager has not asked for any further actions on this closure.",
        )
    waiting = closure.state == ClosureState.FURTHER_ACTIONS
    can_act = waiting and v.holds("social_worker")
    errors: list[str] = []
    bound: dict[int, FurtherActionForm] = {}
    if request.method == "POST":
        if "resubmit" in request.POST:
            try:
                closure_resubmit(actor=user, closure=closure)
            except InvalidInput as error:
                errors = [p.message for p in error.problems]
            except Conflict as conflict:
                errors = [str(conflict)]
            else:
                return _success(
                    request,
                    "Closure resubmitted. The manager has been asked for a decision again.",
                    _tasks_url(v),
                )
        else:
            try:
                action_id = int(request.POST.get("action_id", ""))
            except ValueError as bad:
                raise Http404("There is no such action on this closure.") from bad
            action = v.further_action(action_id)
            if action is None:
                raise Http404("There is no such action on this closure.")
            form = FurtherActionForm(
                request.POST, auto_id=f"action-{action.pk}-%s", label=_action_label(action)
            )
            if form.is_valid():
                try:
                    further_action_complete(
                        actor=user, action=action, note=form.cleaned_data["note"]
                    )
                except (InvalidInput, Conflict) as error:
                    form.add_error("note", str(error))
                else:
                    return _success(
                        request,
                        f"Recorded as done: {action.description}",
                        reverse("closure-further-actions", args=[v.case.pk]),
                    )
            bound[action.pk] = form
    rows = [
        (
            action,
            bound.get(action.pk)
            or FurtherActionForm(
                initial={"action_id": action.pk},
                auto_id=f"action-{action.pk}-%s",
                label=_action_label(action),
            ),
        )
        for action in actions
    ]
    return _render(
        request,
        "closure/further_actions.html",
        v,
        {
            "rows": rows,
            "errors": errors,
            "can_act": can_act,
            "all_done": all(a.done_at for a in actions),
            "form": next(iter(bound.values()), None),
        },
    )


@closure_page
def withdraw(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    v = closure_view(user, case_id)
    if v.closure is None:
        return _no_closure(request, v)
    if not v.active:
        return _nothing(request, v, "Nothing to withdraw", "This closure is no longer in progress.")
    form = WithdrawForm(request.POST if request.method == "POST" else None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            closure_withdraw(actor=user, closure=v.closure, reason=form.cleaned_data["reason"])
        except InvalidInput as error:
            show_problems(form, error)
        except Conflict as conflict:
            errors.append(str(conflict))
        else:
            return _success(request, "Closure withdrawn. The case stays open.", _case_url(v))
    return _render(request, "closure/withdraw.html", v, {"form": form, "errors": errors})


@closure_page
def finish(request: HttpRequest, case_id: int) -> HttpResponse:
    """Close a closure whose steps are all done but which waited for something on the
    record (a plan still open, an escalation not yet answered)."""
    user = _user(request)
    v = closure_view(user, case_id)
    if v.closure is None:
        return _no_closure(request, v)
    missing = v.steps_still_to_do()
    gate_errors: list[GateRow] = []
    errors: list[str] = []
    if request.method == "POST":
        try:
            closure_finish(actor=user, closure=v.closure)
        except GateBlocked as blocked:
            gate_errors = gate_rows(v.case, blocked.results, v.agreements)
        except InvalidInput as error:
            errors = [p.message for p in error.problems]
        except Conflict as conflict:
            errors = [str(conflict)]
        else:
            return _success(request, "The case is now closed.", _case_url(v))
    return _render(
        request,
        "closure/finish.html",
        v,
        {
            "missing": missing,
            "gates": v.gates_for([*v.closure_gate_ids(), *v.escalation_gate_ids()]),
            "gate_errors": gate_errors,
            "errors": errors,
            "can_finish": v.in_progress and not missing and v.holds("social_worker"),
        },
    )


# --- Steps that are facts -------------------------------------------------------------------


def _param(request: HttpRequest, name: str) -> str | None:
    value = request.GET.get(name, "").strip()
    return value or None


@closure_page
def step(request: HttpRequest, case_id: int) -> HttpResponse:
    """Record a step that is a fact (a meeting held, a discussion, a task done) with a note."""
    user = _user(request)
    v = closure_view(user, case_id)
    if v.closure is None:
        return _no_closure(request, v)
    step_id = _param(request, "step")
    if step_id is None:
        return _pick(
            request,
            v,
            "Closure steps",
            [(s.label, v.step_url(s)) for s in v.steps if s.kind in FACT_STEP_KINDS],
        )
    found = v.step(step_id)
    if found is None:
        raise Http404("This procedure has no such step.")
    the_step: Step = found
    if the_step.kind not in FACT_STEP_KINDS or (
        v.decision_step is not None and the_step.id == v.decision_step.id
    ):
        return redirect(v.step_url(the_step))
    applies = the_step in v.steps
    record = v.records.get(the_step.id)
    form = NoteForm(request.POST if request.method == "POST" else None)
    gate_errors: list[GateRow] = []
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            closure_step_complete(
                actor=user, closure=v.closure, step_id=the_step.id, note=form.cleaned_data["note"]
            )
        except GateBlocked as blocked:
            gate_errors = gate_rows(v.case, blocked.results, v.agreements)
        except InvalidInput as error:
            show_problems(form, error)
        except Conflict as conflict:
            errors.append(str(conflict))
        else:
            return _success(request, f"Done: {the_step.label}.{_closed_note(v)}", _tasks_url(v))
    return _render(
        request,
        "closure/step.html",
        v,
        {
            "step": the_step,
            "applies": applies,
            "record": record,
            "form": form,
            "gate_errors": gate_errors,
            "errors": errors,
            "gates": v.gates_for(the_step.gates),
            "meetings": v.meetings(the_step.meeting_kind),
            "can_do": applies and record is None and v.in_progress and v.holds(the_step.role),
            "role": role_label(the_step.role).lower(),
        },
    )


# --- Forms ----------------------------------------------------------------------------------


def _form_step_or_pick(request: HttpRequest, v: ClosureView) -> tuple[str, Step] | HttpResponse:
    form_id = _param(request, "form")
    if form_id is None:
        return _pick(
            request,
            v,
            "Closure forms",
            [
                (s.label, with_query("closure-form", v.case, form=s.form or ""))
                for s in v.steps
                if s.kind == "form"
            ],
        )
    form_step = v.form_step(form_id)
    if form_step is None:
        raise Http404("That form is not part of this closure.")
    return form_id, form_step


def _fields_now_shown(
    v: ClosureView, form_id: str, before: set[str], answers: dict[str, Any]
) -> list[str]:
    """Headings that apply because of the answers just saved and were not on the page."""
    return [
        s.field.id for s in v.form_states(form_id, answers) if s.shown and s.field.id not in before
    ]


@closure_page
def form_page(request: HttpRequest, case_id: int) -> HttpResponse:
    """A pack's form: the headings that apply, pre-filled from the record where the pack says
    (R000-06, R003-04), saved as a draft (with or without JavaScript) and then checked and
    submitted."""
    user = _user(request)
    v = closure_view(user, case_id)
    if v.closure is None:
        return _no_closure(request, v)
    picked = _form_step_or_pick(request, v)
    if isinstance(picked, HttpResponse):
        return picked
    form_id, form_step = picked
    spec = v.form(form_id)
    assert spec is not None  # noqa: S101 - the step names a form of the pack
    check_url = with_query("closure-form-check", v.case, form=form_id)
    response = v.responses.get(form_id)
    if response is not None and response.submitted_at is not None:
        return redirect(check_url)
    if not v.in_progress:
        return _nothing(
            request,
            v,
            spec.title,
            "This form can be filled in once the manager has agreed the closure.",
        )
    if not v.holds(form_step.role):
        return _refused(
            request,
            f"Only the {role_label(form_step.role).lower()} can write the {spec.title.lower()}.",
        )
    answers, sources = v.form_answers(form_id)
    states = v.form_states(form_id, answers)
    initial: dict[str, Any] = {
        s.field.id: stored_to_initial(s.field, answers.get(s.field.id)) for s in states
    }
    initial["expected_version"] = response.version if response else None
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        form = PackForm(request.POST, states=states)
        if form.is_valid():
            new_answers = form.answers()
            try:
                form_save_draft(
                    actor=user,
                    closure=v.closure,
                    form_id=form_id,
                    answers=new_answers,
                    expected_version=form.cleaned_data["expected_version"],
                )
            except Conflict as conflict:
                # Keep what was typed on the page. Saving it again is then a choice made
                # knowingly, so the page now carries the version that was saved elsewhere.
                errors.append(
                    f"{conflict} If you save this page again, your text replaces what was "
                    "saved elsewhere."
                )
                status = 409
                data = request.POST.copy()
                data["expected_version"] = str(response.version) if response else ""
                form.data = data
            except InvalidInput as error:
                show_problems(form, error)
            else:
                form_url = with_query("closure-form", v.case, form=form_id)
                shown_before = set(form.specs)
                new = _fields_now_shown(v, form_id, shown_before, {**answers, **new_answers})
                if new:
                    messages.success(
                        request,
                        "Draft saved. Because of your answers, more headings now apply: "
                        "answer them below.",
                    )
                    return redirect(f"{form_url}#id_{new[0]}")
                if "continue" in request.POST:
                    return redirect(check_url)
                return _success(request, "Draft saved.", form_url)
    else:
        form = PackForm(initial=initial, states=states)
    prefilled = {
        field_id: prefill_description(source)
        for field_id, source in sources.items()
        if answers.get(field_id) not in (None, "")
    }
    return _render(
        request,
        "closure/form.html",
        v,
        {
            "spec": spec,
            "form_id": form_id,
            "step": form_step,
            "form": form,
            "fields": [(form[name], prefilled.get(name, "")) for name in form.specs],
            "errors": errors,
            "response": response,
            "autosave_url": with_query("closure-form-autosave", v.case, form=form_id),
        },
        status=status,
    )


def _answer_rows(v: ClosureView, form_id: str, response: FormResponse) -> list[dict[str, str]]:
    form_url = with_query("closure-form", v.case, form=form_id)
    return [
        {
            "id": s.field.id,
            "label": s.field.label,
            "answer": answer_text(s.field, response.answers.get(s.field.id)),
            "change_url": f"{form_url}#id_{s.field.id}",
        }
        for s in v.form_states(form_id, response.answers)
        if s.shown
    ]


@closure_page
def form_check(request: HttpRequest, case_id: int) -> HttpResponse:
    """Check your answers, then submit. Submitting twice does nothing the second time."""
    user = _user(request)
    v = closure_view(user, case_id)
    if v.closure is None:
        return _no_closure(request, v)
    picked = _form_step_or_pick(request, v)
    if isinstance(picked, HttpResponse):
        return picked
    form_id, form_step = picked
    spec = v.form(form_id)
    assert spec is not None  # noqa: S101 - the step names a form of the pack
    response = v.responses.get(form_id)
    form_url = with_query("closure-form", v.case, form=form_id)
    if response is None:
        return _nothing(
            request,
            v,
            spec.title,
            "Nothing has been saved on this form yet: fill it in first.",
        )
    gate_errors: list[GateRow] = []
    link_errors: list[tuple[str, str]] = []
    if request.method == "POST":
        if response.submitted_at is not None:
            messages.success(request, f"The {spec.title.lower()} was already submitted.")
            return redirect(_tasks_url(v))
        try:
            form_submit(actor=user, closure=v.closure, form_id=form_id)
        except GateBlocked as blocked:
            gate_errors = gate_rows(v.case, blocked.results, v.agreements)
        except InvalidInput as error:
            link_errors = [
                (p.message, f"{form_url}#id_{p.field}" if p.field else form_url)
                for p in error.problems
            ]
        except Conflict as conflict:
            link_errors = [(str(conflict), form_url)]
        else:
            return _success(request, f"{spec.title} submitted.{_closed_note(v)}", _tasks_url(v))
    return _render(
        request,
        "closure/form_check.html",
        v,
        {
            "spec": spec,
            "step": form_step,
            "response": response,
            "rows": _answer_rows(v, form_id, response),
            "gate_errors": gate_errors,
            "link_errors": link_errors,
            "form_url": form_url,
            "can_submit": response.submitted_at is None
            and v.in_progress
            and v.holds(form_step.role),
        },
    )


@closure_page
def form_autosave(request: HttpRequest, case_id: int) -> HttpResponse:
    """JSON for autosave.js: POST the form to save the draft if nobody else has saved it
    since (`expected_version`); GET says which version is saved."""
    user = _user(request)
    v = closure_view(user, case_id)
    form_id = request.GET.get("form", "")
    form_step = v.form_step(form_id) if v.closure else None
    if v.closure is None or form_step is None:
        if request.method == "GET":
            return JsonResponse({"ok": False, "version": None, "message": "No such form."})
        raise Http404("That form is not part of this closure.")
    response = v.responses.get(form_id)
    if request.method == "GET":
        return JsonResponse(
            {
                "ok": True,
                "version": response.version if response else None,
                "submitted": bool(response and response.submitted_at),
            }
        )
    if not v.holds(form_step.role):
        return JsonResponse(
            {"ok": False, "message": "Only the allocated worker's team can edit this form."},
            status=403,
        )
    answers, _sources = v.form_answers(form_id)
    form = PackForm(request.POST, states=v.form_states(form_id, answers))
    if not form.is_valid():
        return JsonResponse(
            {
                "ok": False,
                "message": "Not saved: "
                + " ".join(str(e) for es in form.errors.values() for e in es),
            },
            status=400,
        )
    try:
        saved = form_save_draft(
            actor=user,
            closure=v.closure,
            form_id=form_id,
            answers=form.answers(),
            expected_version=form.cleaned_data["expected_version"],
        )
    except Conflict as conflict:
        return JsonResponse({"ok": False, "conflict": True, "message": str(conflict)}, status=409)
    except InvalidInput as error:
        return JsonResponse({"ok": False, "message": str(error)}, status=400)
    saved_at = timezone.localtime(saved.updated_at)
    return JsonResponse(
        {
            "ok": True,
            "version": saved.version,
            "saved_at": f"{saved_at:%H:%M}",
            "prefilled": sorted(saved.prefilled),
        }
    )


# --- Checklists -----------------------------------------------------------------------------


@closure_page
def checklist(request: HttpRequest, case_id: int) -> HttpResponse:
    """A pack's checklist: each item's automatic check with the facts and evidence it read,
    confirmed or overridden with a note by the person the pack names (R002-05, R002-06,
    R002-16, R003-05)."""
    user = _user(request)
    v = closure_view(user, case_id)
    if v.closure is None:
        return _no_closure(request, v)
    checklist_id = _param(request, "checklist")
    if checklist_id is None:
        return _pick(
            request,
            v,
            "Closure checklists",
            [
                (s.label, with_query("closure-checklist", v.case, checklist=s.checklist or ""))
                for s in v.steps
                if s.checklist
            ],
        )
    spec = v.checklist(checklist_id)
    the_step = v.checklist_step(checklist_id)
    if spec is None or the_step is None:
        raise Http404("That checklist is not part of this closure.")
    results = v.checklist_results(checklist_id)
    saved = v.checklist_answers(checklist_id)
    record = v.records.get(the_step.id)
    can_answer = v.in_progress and record is None and v.holds(the_step.role)
    page_url = with_query("closure-checklist", v.case, checklist=checklist_id)
    gate_errors: list[GateRow] = []
    errors: list[str] = []
    form = ChecklistForm(
        request.POST if request.method == "POST" and "complete" not in request.POST else None,
        initial=checklist_initial(saved),
        checklist=spec,
        results=results,
    )
    if request.method == "POST" and "complete" in request.POST:
        try:
            checklist_complete(actor=user, closure=v.closure, checklist_id=checklist_id)
        except GateBlocked as blocked:
            gate_errors = gate_rows(v.case, blocked.results, v.agreements)
        except InvalidInput as error:
            errors = [p.message for p in error.problems]
        except Conflict as conflict:
            errors = [str(conflict)]
        else:
            return _success(request, f"{spec.title}: done.{_closed_note(v)}", _tasks_url(v))
    elif request.method == "POST" and form.is_valid():
        only = request.POST.get("save_item", "")
        items = [r.item.id for r in results if not only or r.item.id == only]
        saved_count = 0
        for item_id in items:
            answer, note, evidence_date = form.item_values(item_id)
            if not answer:
                if only:
                    form.add_error(
                        item_field(item_id, "answer"), f"Choose an answer for item {item_id}."
                    )
                continue
            before = saved.get(item_id)
            if before is not None and (before.answer, before.note, before.evidence_date) == (
                answer,
                note,
                evidence_date,
            ):
                continue
            try:
                checklist_answer(
                    actor=user,
                    closure=v.closure,
                    checklist_id=checklist_id,
                    item_id=item_id,
                    answer=answer,
                    note=note,
                    evidence_date=evidence_date,
                )
            except InvalidInput as error:
                show_problems(
                    form,
                    error,
                    {
                        name: item_field(item_id, name)
                        for name in ("answer", "note", "evidence_date")
                    },
                )
            else:
                saved_count += 1
        if not form.errors:
            message = (
                f"Saved {saved_count} answer{'s' if saved_count != 1 else ''}."
                if saved_count
                else "No changes to save."
            )
            anchor = f"#item-{only}" if only else ""
            return _success(request, message, page_url + anchor)
        if saved_count:
            messages.success(
                request, f"Saved {saved_count} answers; the others need correcting below."
            )
        saved = v.checklist_answers(checklist_id, reread=True)
    sections: list[dict[str, Any]] = []
    for result in results:
        item = result.item
        if not sections or sections[-1]["section"] is not result.section:
            sections.append({"section": result.section, "items": []})
        sections[-1]["items"].append(
            {
                "result": result,
                "saved": saved.get(item.id),
                "answer": form[item_field(item.id, "answer")],
                "note": form[item_field(item.id, "note")],
                "evidence_date": form[item_field(item.id, "evidence_date")]
                if spec.evidence_date_required
                else None,
            }
        )
    return _render(
        request,
        "closure/checklist.html",
        v,
        {
            "spec": spec,
            "step": the_step,
            "form": form,
            "sections": sections,
            "record": record,
            "can_answer": can_answer,
            "gate_errors": gate_errors,
            "errors": errors,
            "gates": v.gates_for(the_step.gates),
            "answered": len(saved),
            "total": len(results),
            "role": role_label(the_step.role).lower(),
        },
    )


# --- Agreements to go on without a record ---------------------------------------------------


@closure_page
def agreement(request: HttpRequest, case_id: int) -> HttpResponse:
    """A role the pack names agrees to go on although a gate is not met: a Service Manager or
    Head of Service for a client never seen (R002-13), the Head of Service for a high-risk
    client not seen recently (R002-14)."""
    user = _user(request)
    v = closure_view(user, case_id)
    if v.closure is None:
        return _no_closure(request, v)
    gate_id = _param(request, "gate")
    if gate_id is None:
        rows = v.agreement_rows()
        if not rows:
            return _nothing(
                request,
                v,
                "No agreements needed",
                "Nothing on this closure needs a senior manager's agreement.",
            )
        return _pick(
            request,
            v,
            "Agreements for this closure",
            [(f"{r.label} ({r.status.lower()})", r.agree_url) for r in rows],
        )
    row = v.gate_row(gate_id)
    if row is None or not row.agreeable:
        raise Http404("There is no such agreement for this closure.")
    gate = row.result.gate
    can_agree = (
        v.active
        and row.agreement is None
        and row.result.outstanding
        and any(v.holds(r) for r in gate.roles)
    )
    form = AgreementForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if row.agreement is not None:
            messages.success(request, f"{gate.label}: already agreed.")
            return redirect(_tasks_url(v))
        if form.is_valid():
            try:
                gate_agree(
                    actor=user, closure=v.closure, gate_id=gate_id, note=form.cleaned_data["note"]
                )
            except InvalidInput as error:
                show_problems(form, error)
            except IntegrityError:
                messages.success(request, f"{gate.label}: already agreed.")
                return redirect(_tasks_url(v))
            else:
                return _success(request, f"You agreed: {gate.label}.", _tasks_url(v))
    return _render(
        request,
        "closure/agreement.html",
        v,
        {
            "row": row,
            "gate_rows": [row],
            "form": form,
            "can_agree": can_agree,
            "roles": roles_text(gate.roles),
        },
    )


# --- Authorise, sign, share -----------------------------------------------------------------


@closure_page
def authorise(request: HttpRequest, case_id: int) -> HttpResponse:
    """Authorise the closure once every earlier step is done, with the compliance review
    where the pack asks for one (R000-10, R001, R002-16)."""
    user = _user(request)
    v = closure_view(user, case_id)
    if v.closure is None:
        return _no_closure(request, v)
    the_step = v.step_of_kind("authorise")
    if the_step is None:
        return _nothing(
            request,
            v,
            "No authorisation step",
            "This procedure does not ask for the closure to be authorised.",
        )
    form = AuthoriseForm(request.POST if request.method == "POST" else None)
    gate_errors: list[GateRow] = []
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            closure_authorise(
                actor=user,
                closure=v.closure,
                compliance_review=form.cleaned_data["compliance_review"],
            )
        except GateBlocked as blocked:
            gate_errors = gate_rows(v.case, blocked.results, v.agreements)
        except InvalidInput as error:
            show_problems(form, error)
        except Conflict as conflict:
            errors.append(str(conflict))
        else:
            return _success(request, f"Closure authorised.{_closed_note(v)}", _tasks_url(v))
    checklists = []
    for s in v.steps:
        if s.checklist:
            answers = v.checklist_answers(s.checklist)
            checklists.append(
                {
                    "title": v.pack.spec.checklists[s.checklist].title if v.pack else "",
                    "answered": len(answers),
                    "yes": sum(a.answer == "yes" for a in answers.values()),
                    "no": sum(a.answer == "no" for a in answers.values()),
                    "na": sum(a.answer == "na" for a in answers.values()),
                    "overridden": sum(a.overridden for a in answers.values()),
                }
            )
    record = v.records.get(the_step.id)
    return _render(
        request,
        "closure/authorise.html",
        v,
        {
            "step": the_step,
            "form": form,
            "gate_errors": gate_errors,
            "errors": errors,
            "rows": [r for r in v.step_rows() if r.step.id != the_step.id],
            "checklists": checklists,
            "gates": v.gates_for([*the_step.gates, *v.closure_gate_ids()]),
            "record": record,
            "agreements": list(v.agreements.values()),
            "can_authorise": record is None
            and v.closure.state == ClosureState.AGREED
            and v.holds(the_step.role),
            "role": role_label(the_step.role).lower(),
            "checklist_url": with_query("closure-checklist", v.case, checklist=the_step.checklist)
            if the_step.checklist
            else "",
            "checklist_title": v.pack.spec.checklists[the_step.checklist].title
            if v.pack and the_step.checklist
            else "",
        },
    )


def signed_answer(value: Any) -> str:
    """An answer exactly as the signed PDF prints it."""
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    if value is None or value == "":
        return "Not answered"
    return str(value)


@closure_page
def sign(request: HttpRequest, case_id: int) -> HttpResponse:
    """Check exactly what is signed, then sign it. The first signature freezes the content
    and its SHA-256; every signer signs that hash (R000-09, X-05)."""
    user = _user(request)
    v = closure_view(user, case_id)
    if v.closure is None:
        return _no_closure(request, v)
    the_step = v.step_of_kind("sign")
    form_id = v.sign_form_id
    if the_step is None or form_id is None:
        return _nothing(
            request, v, "No signatures", "This procedure does not ask for the summary to be signed."
        )
    to_sign = v.content_to_sign()
    if to_sign is None:
        return _nothing(
            request,
            v,
            "Nothing to sign yet",
            "The summary can be signed once it has been written and submitted.",
        )
    content, digest = to_sign
    document = v.document(form_id)
    role = v.sign_role(document) if v.in_progress else None
    errors: list[str] = []
    if request.method == "POST":
        try:
            signature = summary_sign(actor=user, closure=v.closure, form_id=form_id)
        except InvalidInput as error:
            errors = [p.message for p in error.problems]
        except Conflict as conflict:
            errors = [str(conflict)]
        else:
            return _success(
                request,
                f"Signed as {role_label(signature.role).lower()}.{_closed_note(v)}",
                reverse("closure-sign", args=[v.case.pk]),
            )
    return _render(
        request,
        "closure/sign.html",
        v,
        {
            "step": the_step,
            "content": content,
            "headings": [
                {"label": h["label"], "answer": signed_answer(h["answer"])}
                for h in content["headings"]
            ],
            "digest": digest,
            "document": document,
            "signatures": [(s, role_label(s.role)) for s in v.signatures(document)],
            "role": role_label(role).lower() if role else "",
            "errors": errors,
            "pdf_url": with_query("closure-pdf", v.case, document=form_id),
            "signers": roles_text(the_step.signatures).replace(" or ", " and "),
        },
    )


@closure_page
def signed_pdf(request: HttpRequest, case_id: int) -> HttpResponse:
    """The signed summary as a PDF, exactly as signed, for anyone who may see the case."""
    v = closure_view(_user(request), case_id)
    if v.closure is None:
        return _no_closure(request, v)
    wanted = _param(request, "document")
    document = v.document(wanted)
    if document is None and wanted is not None:
        raise Http404("There is no such document on this closure.")
    if document is None:
        return _nothing(
            request,
            v,
            "No signed summary yet",
            "There is no signed summary to download yet: it appears here once someone signs.",
        )
    try:
        pdf = signed_document_pdf(document)
    except TamperedDocument:
        logger.error("Signed document %s does not match its hash", document.pk)
        return render(
            request,
            "closure/not_permitted.html",
            {
                "title": "This document cannot be printed",
                "message": "The stored summary no longer matches what was signed, so it is "
                "not printed. Tell your system administrator straight away.",
            },
            status=500,
        )
    filename = f"{v.case.reference}-{document.form_id}-v{document.version}.pdf"
    return file_response(pdf, filename=filename, content_type="application/pdf")


@closure_page
def share(request: HttpRequest, case_id: int) -> HttpResponse:
    """Record who the signed summary went to, how, and when (R003-06)."""
    user = _user(request)
    v = closure_view(user, case_id)
    if v.closure is None:
        return _no_closure(request, v)
    the_step = v.step_of_kind("share")
    if the_step is None:
        return _nothing(
            request,
            v,
            "No sharing step",
            "This procedure does not ask for the summary to be shared.",
        )
    document = v.document()
    if document is None:
        return _nothing(
            request,
            v,
            "Nothing to share yet",
            "The summary can be shared once it has been signed.",
        )
    try:
        rows = min(max(int(request.POST.get("rows", SHARE_ROWS)), SHARE_ROWS), 20)
    except ValueError:
        rows = SHARE_ROWS
    can_share = v.in_progress and v.holds(the_step.role)
    errors: list[str] = []
    if request.method == "POST" and "add_row" in request.POST:
        form = ShareForm(initial=request.POST.dict(), rows=rows + 1)
    elif request.method == "POST":
        form = ShareForm(request.POST, rows=rows)
        if form.is_valid():
            try:
                summary_share(
                    actor=user,
                    closure=v.closure,
                    recipients=form.recipients(),
                    shared_on=form.cleaned_data["shared_on"],
                )
            except InvalidInput as error:
                show_problems(form, error, {"recipients": "recipient-1"})
            except Conflict as conflict:
                errors.append(str(conflict))
            else:
                closed = _closed_note(v)
                return _success(
                    request,
                    f"Recorded who the summary was shared with.{closed}",
                    _case_url(v) if closed else _tasks_url(v),
                )
    else:
        form = ShareForm(initial={"shared_on": timezone.localdate()}, rows=rows)
    return _render(
        request,
        "closure/share.html",
        v,
        {
            "step": the_step,
            "document": document,
            "sharings": list(document.sharings.select_related("recorded_by")),
            "form": form,
            "errors": errors,
            "can_share": can_share,
            "pdf_url": with_query("closure-pdf", v.case, document=document.form_id),
        },
    )


# --- The managers' queue --------------------------------------------------------------------


@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """Closures waiting on managers, oldest first, for the cases they may see."""
    user = _user(request)
    if not is_manager(user):
        return _refused(request, "The closures queue is for team managers and senior managers.")
    found = closure_queue(user)
    return render(
        request,
        "closure/queue.html",
        {
            "queue": found,
            "today": timezone.localdate(),
            "sections": [
                ("Awaiting your decision", found.awaiting_decision, "awaiting-decision"),
                ("With further actions", found.further_actions, "further-actions"),
                (
                    "Agreed: awaiting authorisation",
                    found.awaiting_authorisation,
                    "awaiting-authorisation",
                ),
                (
                    "Agreed: summary, checks and signatures in progress",
                    found.agreed_in_progress,
                    "agreed",
                ),
            ],
        },
    )
