"""Access screens (X-02): emergency access and its review, who has seen a record, and
restricting a person's records to named people."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from casework.access import services
from casework.access.forms import (
    EmergencyAccessForm,
    EmergencyReviewForm,
    LiftForm,
    NameForm,
    RestrictForm,
)
from casework.access.selectors import (
    access_log_page,
    case_access,
    emergency_reviews_for,
    managed_case,
    may_review_emergency_access,
)
from casework.accounts.models import User
from casework.closure.forms import show_problems
from casework.core.errors import Conflict, InvalidInput, NotFound
from casework.frontend.pages import case_page, id_from, refused
from casework.frontend.pages import signed_in_user as _user


@require_http_methods(["GET", "POST"])
def emergency_access(request: HttpRequest) -> HttpResponse:
    """Break-glass: open a case you have no need to know about, with a reason."""
    form = EmergencyAccessForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            access = services.emergency_access_open(
                actor=_user(request),
                case_reference=form.cleaned_data["case_reference"],
                reason=form.cleaned_data["reason"],
            )
        except InvalidInput as error:
            show_problems(form, error)
        else:
            messages.warning(
                request,
                "You have emergency access to this case until midnight. Your managers have "
                "been told, and every page you open is logged.",
            )
            return redirect("case-detail", case_id=access.case_id)
    return render(request, "access/emergency.html", {"form": form})


@require_http_methods(["GET", "POST"])
def emergency_review(request: HttpRequest) -> HttpResponse:
    """Managers: emergency accesses by their people or to their cases, until each has an
    outcome (X-02: "reported to managers")."""
    user = _user(request)
    if not may_review_emergency_access(user):
        return refused(request, "Only managers review emergency access. Ask your manager.")
    forms_by_id: dict[int, forms.Form] = {}
    if request.method == "POST":
        access_id = id_from(request.POST.get("access"))
        form = EmergencyReviewForm(request.POST, prefix=f"access-{access_id}")
        if access_id is None:
            raise Http404("There is no emergency access with that number for you to review.")
        forms_by_id[access_id] = form
        if form.is_valid():
            try:
                services.emergency_access_review(
                    actor=user,
                    access_id=access_id,
                    outcome=form.cleaned_data["outcome"],
                    note=form.cleaned_data["note"],
                )
            except NotFound as missing:
                raise Http404(str(missing)) from missing
            except Conflict as conflict:
                messages.error(request, str(conflict))
                return redirect("emergency-review")
            except InvalidInput as error:
                show_problems(form, error)
            else:
                messages.success(request, "Outcome recorded")
                return redirect("emergency-review")
    accesses = list(emergency_reviews_for(user)[:200])
    waiting = [a for a in accesses if not a.outcome]
    done = [a for a in accesses if a.outcome][:50]
    rows = [
        (a, forms_by_id.get(a.pk) or EmergencyReviewForm(prefix=f"access-{a.pk}")) for a in waiting
    ]
    return render(
        request,
        "access/emergency_review.html",
        {
            "rows": rows,
            "done": done,
            "form": next(iter(forms_by_id.values()), None),
            "now": timezone.now(),
        },
    )


@case_page
@require_GET
def case_access_log(request: HttpRequest, case_id: int) -> HttpResponse:
    """Who has seen this record: for the case's managers."""
    case, events, next_before = access_log_page(
        _user(request), case_id, before=id_from(request.GET.get("before"))
    )
    return render(
        request,
        "access/access_log.html",
        {"case": case, "events": events, "next_before": next_before},
    )


def _named_user(form: NameForm) -> User | None:
    username = form.cleaned_data["username"].strip()
    return User.objects.filter(username__iexact=username).first()


@case_page
def case_restriction(request: HttpRequest, case_id: int) -> HttpResponse:
    """Restrict the subject's records to named people, name and unname people, lift it."""
    user = _user(request)
    case = managed_case(user, case_id, "restrict who may see it")
    restrict_form = RestrictForm(request.POST if request.POST.get("action") == "restrict" else None)
    lift_form = LiftForm(request.POST if request.POST.get("action") == "lift" else None)
    name_form = NameForm(request.POST if request.POST.get("action") == "name" else None)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "restrict" and restrict_form.is_valid():
                services.restriction_place(
                    actor=user, case=case, reason=restrict_form.cleaned_data["reason"]
                )
                messages.success(request, "Records restricted to the people named below")
                return redirect("case-restriction", case_id=case.pk)
            if action == "lift" and lift_form.is_valid():
                services.restriction_lift(
                    actor=user, case=case, reason=lift_form.cleaned_data["lift_reason"]
                )
                messages.success(request, "Restriction lifted")
                return redirect("case-detail", case_id=case.pk)
            if action == "name" and name_form.is_valid():
                named = _named_user(name_form)
                if named is None:
                    name_form.add_error("username", "There is nobody with that username.")
                else:
                    services.restriction_name(actor=user, case=case, user=named)
                    messages.success(request, f"{named.display_name} named")
                    return redirect("case-restriction", case_id=case.pk)
            if action == "unname":
                named_id = id_from(request.POST.get("user"))
                named = User.objects.filter(pk=named_id).first() if named_id else None
                if named is None:
                    raise Http404("There is nobody with that ID named on this restriction.")
                services.restriction_unname(actor=user, case=case, user=named)
                messages.success(request, f"{named.display_name} removed")
                return redirect("case-restriction", case_id=case.pk)
        except InvalidInput as error:
            target = {"restrict": restrict_form, "lift": lift_form}.get(action, name_form)
            show_problems(target, error)
            if action == "unname":
                messages.error(request, str(error))
        except Conflict as conflict:
            messages.error(request, str(conflict))
            return redirect("case-restriction", case_id=case.pk)
    return render(
        request,
        "access/restriction.html",
        {
            "case": case,
            "access": case_access(user, case),
            "restrict_form": restrict_form,
            "lift_form": lift_form,
            "name_form": name_form,
            "here": reverse("case-restriction", kwargs={"case_id": case.pk}),
        },
    )
