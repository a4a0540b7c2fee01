"""Recording on a case (journey J2): visits, case notes, plans, meetings, managers' decisions,
supervision and assessments, each a short GOV.UK form over the one service that records it.

One page serves them all: `cases/<id>/record/?what=visit`. Each kind names its form, how to
call its service, and the section of the case page it returns to, so adding a kind is a
few lines here and never a second write path."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from casework.access.policy import case_for, holds_role_for_case
from casework.accounts.models import User
from casework.cases.models import (
    AssessmentKind,
    Case,
    DecisionKind,
    MeetingKind,
    NoteKind,
    PlanKind,
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
from casework.closure.forms import MultilineField, show_problems
from casework.core.codes import CategoryOfAbuse, LegalStatus
from casework.core.errors import InvalidInput, NotFound, NotPermitted
from casework.core.trial import refusal_of
from casework.frontend import inline, once
from casework.frontend.pages import refused
from casework.frontend.pages import signed_in_user as _user
from casework.frontend.widgets import DateInput
from casework.organisation.models import Role


def _date(label: str) -> forms.DateField:
    return forms.DateField(
        label=label,
        widget=DateInput(),
        initial=timezone.localdate,
        error_messages={
            "required": f"Enter the {label.lower()}.",
            "invalid": f"Enter a real {label.lower()}, for example 27 March 2026.",
        },
    )


def _text(label: str, *, required: bool = True, rows: int = 5, hint: str = "") -> MultilineField:
    return MultilineField(
        label=label,
        required=required,
        help_text=hint,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={"required": f"Enter the {label[0].lower()}{label[1:]}."},
    )


def _choice(label: str, choices: Any, *, required: bool = True) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=[("", "Choose one"), *choices],
        required=required,
        error_messages={"required": f"Choose the {label[0].lower()}{label[1:]}."},
    )


class VisitForm(forms.Form):
    visited_on = _date("Date of the visit")
    subject_seen = forms.BooleanField(label="The person was seen", required=False)
    seen_alone = forms.BooleanField(label="Seen alone", required=False)
    home_visited = forms.BooleanField(label="Visit at home", required=False)
    face_to_face = forms.BooleanField(label="Face to face", required=False, initial=True)
    notes = _text("What happened", required=False, rows=6)


class NoteForm(forms.Form):
    occurred_on = _date("Date")
    kind = _choice("Kind of note", NoteKind.choices)
    title = forms.CharField(
        label="Title", max_length=200, error_messages={"required": "Enter a title."}
    )
    body = _text("Note", rows=8)


class PlanStartForm(forms.Form):
    kind = _choice("Kind of plan", PlanKind.choices)
    started_on = _date("Start date")
    category = _choice(
        "Category of abuse (child protection plans)", CategoryOfAbuse.choices, required=False
    )
    legal_status = _choice(
        "Legal status (looked-after children)", LegalStatus.choices, required=False
    )
    summary = _text("Summary", required=False, rows=4)


class PlanEndForm(forms.Form):
    plan = forms.ChoiceField(
        label="Which plan ends", error_messages={"required": "Choose the plan that ends."}
    )
    ended_on = _date("End date")
    outcome = _text("Outcome", required=False, rows=4)

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["plan"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        field.choices = [
            (str(p.pk), f"{p.get_kind_display()}, started {p.started_on:%d %b %Y}")
            for p in case.plans.filter(ended_on__isnull=True)
        ]


class MeetingForm(forms.Form):
    kind = _choice("Kind of meeting", MeetingKind.choices)
    held_on = _date("Date of the meeting")
    attendees = _text(
        "Who attended",
        rows=5,
        hint="One person on each line: their name, a comma, then their role.",
    )
    minutes = _text("Minutes or summary", required=False, rows=8)

    def attendee_list(self) -> list[dict[str, str]]:
        rows = []
        for line in self.cleaned_data["attendees"].split("\n"):
            if line.strip():
                name, _, role = line.partition(",")
                rows.append({"name": name.strip(), "role": role.strip()})
        return rows


class DecisionForm(forms.Form):
    kind = _choice("Kind of decision", DecisionKind.choices)
    decided_on = _date("Date of the decision")
    decision = _text("Decision", rows=4)
    rationale = _text("Rationale", required=False, rows=5)


class SupervisionForm(forms.Form):
    held_on = _date("Date of supervision")
    discussion = _text("Discussion", rows=8)
    actions = _text("Actions agreed", required=False, rows=4)


class AssessmentStartForm(forms.Form):
    kind = _choice("Kind of assessment", AssessmentKind.choices)
    started_on = _date("Start date")


class AssessmentCompleteForm(forms.Form):
    assessment = forms.ChoiceField(
        label="Which assessment", error_messages={"required": "Choose the assessment."}
    )
    completed_on = _date("Completion date")
    outcome = _text("Outcome", rows=5)

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assessment"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        field.choices = [
            (str(a.pk), f"{a.get_kind_display()}, started {a.started_on:%d %b %Y}")
            for a in case.assessments.filter(completed_on__isnull=True)
        ]


Save = Callable[[User, Case, forms.Form], str]


@dataclass(frozen=True)
class Kind:
    title: str
    form: type[forms.Form]
    save: Save
    section: str  # the case page's anchor to return to
    needs_case: bool = False  # the form's choices depend on the case
    managers_only: bool = False  # offered only to managers (the service decides anyway)


def _visit(actor: User, case: Case, form: forms.Form) -> str:
    visit_record(actor=actor, case=case, **form.cleaned_data)
    return "Visit recorded"


def _note(actor: User, case: Case, form: forms.Form) -> str:
    note_add(actor=actor, case=case, **form.cleaned_data)
    return "Case note added"


def _plan_start(actor: User, case: Case, form: forms.Form) -> str:
    plan = plan_start(actor=actor, case=case, **form.cleaned_data)
    return f"{plan.get_kind_display()} started"


def _plan_end(actor: User, case: Case, form: forms.Form) -> str:
    data = form.cleaned_data
    plan = case.plans.get(pk=int(data["plan"]))
    plan_end(actor=actor, plan=plan, ended_on=data["ended_on"], outcome=data["outcome"])
    return f"{plan.get_kind_display()} ended"


def _meeting(actor: User, case: Case, form: forms.Form) -> str:
    assert isinstance(form, MeetingForm)  # noqa: S101 - the kind's own form
    data = form.cleaned_data
    meeting_record(
        actor=actor,
        case=case,
        kind=data["kind"],
        held_on=data["held_on"],
        attendees=form.attendee_list(),
        minutes=data["minutes"],
    )
    return "Meeting recorded"


def _decision(actor: User, case: Case, form: forms.Form) -> str:
    decision_record(actor=actor, case=case, **form.cleaned_data)
    return "Manager's decision recorded"


def _supervision(actor: User, case: Case, form: forms.Form) -> str:
    supervision_record(actor=actor, case=case, **form.cleaned_data)
    return "Supervision recorded"


def _assessment_start(actor: User, case: Case, form: forms.Form) -> str:
    assessment_start(actor=actor, case=case, **form.cleaned_data)
    return "Assessment started"


def _assessment_complete(actor: User, case: Case, form: forms.Form) -> str:
    data = form.cleaned_data
    assessment = case.assessments.get(pk=int(data["assessment"]))
    assessment_complete(
        actor=actor,
        assessment=assessment,
        completed_on=data["completed_on"],
        outcome=data["outcome"],
    )
    return "Assessment completed"


KINDS: dict[str, Kind] = {
    "visit": Kind("Record a visit", VisitForm, _visit, "visits"),
    "note": Kind("Add a case note", NoteForm, _note, "chronology"),
    "plan": Kind("Start a plan", PlanStartForm, _plan_start, "plans"),
    "plan-end": Kind("End a plan", PlanEndForm, _plan_end, "plans", needs_case=True),
    "meeting": Kind("Record a meeting", MeetingForm, _meeting, "chronology"),
    "decision": Kind(
        "Record a manager's decision", DecisionForm, _decision, "chronology", managers_only=True
    ),
    "supervision": Kind(
        "Record supervision", SupervisionForm, _supervision, "chronology", managers_only=True
    ),
    "assessment": Kind("Start an assessment", AssessmentStartForm, _assessment_start, "plans"),
    "assessment-complete": Kind(
        "Complete an assessment",
        AssessmentCompleteForm,
        _assessment_complete,
        "plans",
        needs_case=True,
    ),
}


@require_http_methods(["GET", "POST"])
def record(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    try:
        case = case_for(user, case_id)
    except NotFound as missing:
        raise Http404(str(missing)) from missing
    what = request.GET.get("what", "")
    kind = KINDS.get(what)
    if kind is None:
        return render(
            request,
            "cases/record_pick.html",
            {
                "case": case,
                "kinds": [
                    (slug, k.title)
                    for slug, k in KINDS.items()
                    if not k.managers_only or holds_role_for_case(user, case, Role.TEAM_MANAGER)
                ],
            },
        )
    extra: dict[str, Any] = {"case": case} if kind.needs_case else {}
    # Links may pre-fill the form from the query string (`?what=note&kind=closure_discussion`).
    initial = {k: v for k, v in request.GET.items() if k in kind.form.base_fields}
    form = kind.form(request.POST or None, initial=initial, **extra)
    inline.enable(form, request.get_full_path())
    if inline.requested(request):
        # Checked as if sent, by the service itself in a rolled-back transaction; htmx shows
        # only the field it asked about. Nothing is saved.
        if form.is_valid():
            try:
                trial = refusal_of(lambda: kind.save(user, case, form))
            except NotPermitted as not_allowed:
                form.add_error(None, str(not_allowed))
            else:
                if trial is not None:
                    show_problems(form, trial)
    elif request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                once.spend(request)
                message = kind.save(user, case, form)
        except once.AlreadySubmitted:
            messages.success(request, once.ALREADY_SAVED)
            return redirect(f"{reverse('case-detail', kwargs={'case_id': case.pk})}#{kind.section}")
        except NotPermitted as not_allowed:
            return refused(request, str(not_allowed), case=case)
        except InvalidInput as error:
            show_problems(form, error)
        else:
            messages.success(request, message)
            return redirect(f"{reverse('case-detail', kwargs={'case_id': case.pk})}#{kind.section}")
    return render(
        request,
        "cases/record.html",
        {
            "case": case,
            "form": form,
            "title": kind.title,
            "has_errors": bool(form.errors),
            "once": once.token_for(request),
        },
        status=400 if form.errors and not inline.requested(request) else 200,
    )
