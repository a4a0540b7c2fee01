"""Finding a person and recording a referral (journeys J1 and J5): search first, so nobody is
added twice; add the person only if they are not found; record the referral, which opens a
case; and if the person was known before, go straight to the last closure summary.

The front door (and adults' locality teams, who take referrals directly) search everyone to
avoid duplicates, but see only identity for people they have no need to know about."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from casework.access.policy import cases_visible_to, may_check_for_duplicates
from casework.accounts.models import User
from casework.cases.models import Case, CaseStatus, ReferralKind
from casework.cases.services import case_open
from casework.closure.forms import MultilineField, show_problems
from casework.core.codes import PrimaryNeed, ReferralSource, Sex
from casework.core.errors import InvalidInput, NotFound, NotPermitted
from casework.frontend import once
from casework.frontend.pages import id_from
from casework.frontend.pages import signed_in_user as _user
from casework.frontend.widgets import DateInput
from casework.organisation.models import Membership, Team
from casework.people.models import Person
from casework.people.selectors import people_search, person_for_intake
from casework.people.services import person_create
from casework.transfers.rereferral import coming_back


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Name, date of birth, NHS number, UPN or local ID",
        required=False,
        max_length=200,
        help_text="For example, Sam Smith 05/03/2015. Spellings that sound alike are found.",
    )


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = SearchForm(request.GET or None)
    everyone = may_check_for_duplicates(user)
    matches = []
    text = ""
    if form.is_valid():
        text = form.cleaned_data["q"].strip()
        matches = people_search(user, text, everyone=everyone) if text else []
    open_cases: dict[int, Case] = {}
    if matches:
        visible = cases_visible_to(user).filter(
            subject_id__in=[m.person.pk for m in matches if m.known_to_me]
        )
        for case in visible.order_by("status", "-opened_on"):
            open_cases.setdefault(case.subject_id, case)
    # Typing in the search box (htmx) asks only for the results.
    htmx = bool(getattr(request, "htmx", False))  # set by django_htmx.middleware
    template = "cases/includes/search_results.html" if htmx else "cases/search.html"
    return render(
        request,
        template,
        {
            "form": form,
            "text": text,
            "matches": [(m, open_cases.get(m.person.pk)) for m in matches],
            "everyone": everyone,
            "can_record": _intake_teams(user) != [],
        },
    )


def _intake_teams(user: User) -> list[Team]:
    """The teams the user may open a case in: their own teams that hold cases."""
    teams = {
        m.team.pk: m.team
        for m in Membership.objects.current()
        .filter(user=user, team__holds_cases=True, team__active=True)
        .select_related("team")
    }
    return sorted(teams.values(), key=lambda t: t.name)


class NewPersonForm(forms.Form):
    given_name = forms.CharField(
        label="First name", max_length=100, error_messages={"required": "Enter the first name."}
    )
    family_name = forms.CharField(
        label="Last name", max_length=100, error_messages={"required": "Enter the last name."}
    )
    date_of_birth = forms.DateField(
        label="Date of birth",
        required=False,
        widget=DateInput(),
        help_text="Leave blank for an unborn child and give the expected date below.",
        error_messages={"invalid": "Enter a real date of birth."},
    )
    expected_date_of_birth = forms.DateField(
        label="Expected date of birth (unborn child)",
        required=False,
        widget=DateInput(),
        error_messages={"invalid": "Enter a real expected date of birth."},
    )
    sex = forms.ChoiceField(
        label="Sex", choices=Sex.choices, initial=Sex.UNKNOWN, widget=forms.RadioSelect
    )


@require_http_methods(["GET", "POST"])
def new_person(request: HttpRequest) -> HttpResponse:
    """Add someone not found by the search, then record their referral."""
    user = _user(request)
    if not _intake_teams(user):
        raise Http404("You are not in a team that records referrals.")
    form = NewPersonForm(request.POST or None, initial={"given_name": request.GET.get("given")})
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                once.spend(request)
                person = person_create(actor=user, **form.cleaned_data)
        except once.AlreadySubmitted:
            messages.success(request, once.ALREADY_SAVED + " Search for the person.")
            return redirect("person-search")
        except (InvalidInput, NotPermitted) as error:
            _show(form, error)
        else:
            messages.success(request, f"{person.full_name} added")
            return redirect(f"{reverse('referral-new')}?person={person.pk}")
    return render(
        request,
        "cases/new_person.html",
        {"form": form, "has_errors": form.errors, "once": once.token_for(request)},
    )


def _show(form: forms.BaseForm, error: InvalidInput | NotPermitted) -> None:
    if isinstance(error, InvalidInput):
        show_problems(form, error)
    else:
        form.add_error(None, str(error))


class ReferralForm(forms.Form):
    team = forms.ChoiceField(
        label="Team that takes it", error_messages={"required": "Choose the team."}
    )
    kind = forms.ChoiceField(
        label="Contact or referral",
        choices=ReferralKind.choices,
        initial=ReferralKind.REFERRAL,
        widget=forms.RadioSelect,
    )
    received_on = forms.DateField(
        label="Date received",
        widget=DateInput(),
        error_messages={
            "required": "Enter the date it was received.",
            "invalid": "Enter a real date, for example 27 March 2026.",
        },
    )
    source = forms.ChoiceField(
        label="Who made it",
        choices=[("", "Choose the source"), *ReferralSource.choices],
        error_messages={
            "required": "Choose who made the referral.",
            "invalid_choice": "Choose who made the referral from the list.",
        },
    )
    primary_need = forms.ChoiceField(
        label="Primary need (optional)",
        choices=[("", "Not yet known"), *PrimaryNeed.choices],
        required=False,
    )
    reason = MultilineField(
        label="What is reported",
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Enter what is reported."},
    )
    allocate_to_me = forms.BooleanField(label="Allocate the case to me", required=False)

    def __init__(self, *args: Any, teams: list[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["team"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        field.choices = [(str(t.pk), t.name) for t in teams]
        if len(teams) == 1:
            field.initial = str(teams[0].pk)


def _person_for_intake(user: User, raw: str | None) -> Person:
    try:
        return person_for_intake(user, id_from(raw) or 0)
    except NotFound as missing:
        raise Http404(str(missing)) from missing


@require_http_methods(["GET", "POST"])
def new_referral(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    teams = _intake_teams(user)
    if not teams:
        raise Http404("You are not in a team that records referrals.")
    person = _person_for_intake(user, request.GET.get("person"))
    open_case = (
        cases_visible_to(user).filter(subject=person, status=CaseStatus.OPEN).first()
        if person
        else None
    )
    form = ReferralForm(
        request.POST or None,
        teams=teams,
        initial={"received_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        team = next(t for t in teams if str(t.pk) == data["team"])
        try:
            with transaction.atomic():
                once.spend(request)
                case = case_open(
                    actor=user,
                    subject=person,
                    team=team,
                    received_on=data["received_on"],
                    source=data["source"],
                    reason=data["reason"],
                    kind=data["kind"],
                    primary_need=data["primary_need"],
                    allocated_worker=user if data["allocate_to_me"] else None,
                )
        except once.AlreadySubmitted:
            messages.success(request, once.ALREADY_SAVED)
            return redirect(f"{reverse('person-search')}")
        except (InvalidInput, NotPermitted) as error:
            _show(form, error)
        else:
            return _opened(request, user, case)
    return render(
        request,
        "cases/new_referral.html",
        {
            "form": form,
            "person": person,
            "open_case": open_case,
            "has_errors": form.errors,
            "age": person.age_on(timezone.localdate()),
            "once": once.token_for(request),
        },
    )


def _opened(request: HttpRequest, user: User, case: Case) -> HttpResponse:
    """After opening: a returning family goes straight to the last closure summary (R003-07)."""
    if coming_back(user, case) is not None:
        messages.success(
            request,
            f"Case {case.reference} opened. {case.subject.given_name} was known before: read "
            "the last closure summary beside this referral.",
        )
        return redirect(reverse("re-referral", kwargs={"case_id": case.pk}))
    messages.success(request, f"Case {case.reference} opened")
    return redirect(reverse("case-detail", kwargs={"case_id": case.pk}))
