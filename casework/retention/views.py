"""The reviewer's pages (X-04): the queue of records due for review, one review with its
decision, and legal holds. For service managers and heads of service (see selectors): anyone
else gets the plain 403 page on the lists, and a 404 for any review or hold by number."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from casework.access.log import record_access
from casework.accounts.models import User
from casework.audit.models import AccessAction
from casework.closure.forms import show_problems
from casework.core.dates import long_date
from casework.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from casework.frontend import once
from casework.frontend.pages import refused, signed_in_user
from casework.organisation.models import ServiceArea
from casework.retention.forms import Decision, DecisionForm, HoldForm, LiftForm
from casework.retention.models import RetentionReview, ReviewState
from casework.retention.schedule import RecordDate, Schedule, ScheduleProblem, describe_period
from casework.retention.selectors import (
    due_queue,
    hold_for,
    holds_visible_to,
    recent_decisions,
    review_for,
    review_holds,
    reviewer_areas,
)
from casework.retention.services import (
    hold_description,
    known_classes,
    legal_hold_lift,
    legal_hold_place,
    retention_archive,
    retention_destroy,
    retention_retain,
)

NOT_FOR_YOU = (
    "Reviewing records at the end of their retention period is for service managers and "
    "heads of service, whose work covers a whole service area."
)


def _reviewer(request: HttpRequest) -> User | HttpResponse:
    user = signed_in_user(request)
    if not reviewer_areas(user):
        return refused(request, NOT_FOR_YOU, title="You cannot review records for destruction")
    return user


@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    user = _reviewer(request)
    if isinstance(user, HttpResponse):
        return user
    page = due_queue(user, request.GET.get("after", ""))
    rows = [
        (review, describe_period(review.trigger, review.years), review.pk in page.on_hold)
        for review in page.reviews
    ]
    return render(
        request,
        "retention/queue.html",
        {
            "rows": rows,
            "next_after": page.next_after,
            "first_page": not request.GET.get("after"),
            "decisions": recent_decisions(user),
        },
    )


def _record_date(review: RetentionReview) -> tuple[RecordDate | None, str]:
    if review.person is None or review.state != ReviewState.DUE:
        return None, ""
    try:
        return Schedule(timezone.localdate()).record_date(review.person), ""
    except ScheduleProblem as problem:
        return None, str(problem)


def _decide(user: User, review: RetentionReview, form: DecisionForm) -> str:
    """Call the service for the chosen decision; the message to show once done."""
    data = form.cleaned_data
    decision = data["decision"]
    if decision == Decision.DESTROY:
        report = retention_destroy(actor=user, review_id=review.pk, confirmed=data["confirmed"])
        return (
            f"The records have been destroyed: {report.people} "
            f"{'person' if report.people == 1 else 'people'} and {report.cases} "
            f"{'case' if report.cases == 1 else 'cases'}. The audit log keeps a record of the "
            "disposal, without personal data."
        )
    if decision == Decision.RETAIN:
        kept = retention_retain(
            actor=user,
            review_id=review.pk,
            reason=data["reason"],
            next_review_on=data["next_review_on"],
        )
        assert kept.next_review_on is not None  # noqa: S101 - required to keep
        again = long_date(kept.next_review_on)
        return f"The records are kept. They will be listed again on {again}."
    retention_archive(
        actor=user,
        review_id=review.pk,
        reason=data["reason"],
        next_review_on=data["next_review_on"],
    )
    return "The records are archived."


@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, review_id: int) -> HttpResponse:
    user = signed_in_user(request)
    try:
        found = review_for(user, review_id)
    except NotFound as missing:
        raise Http404(str(missing)) from missing
    form = DecisionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and found.state == ReviewState.DUE and form.is_valid():
        try:
            with transaction.atomic():
                done = _decide(user, found, form)
        except InvalidInput as refusal:
            show_problems(form, refusal)
        except NotPermitted as not_allowed:
            form.add_error(None, str(not_allowed))
        except Conflict as conflict:
            messages.error(request, str(conflict))
            return redirect("retention-review", review_id=found.pk)
        except NotFound as missing:
            raise Http404(str(missing)) from missing
        else:
            messages.success(request, done)
            return redirect("retention-queue")
    if request.method == "GET" and found.person is not None:
        # The page shows a person's record: it goes on the access log.
        record_access(
            actor=user,
            action=AccessAction.VIEWED,
            summary="Retention review",
            person=found.person,
            url_name="retention-review",
            path=request.path,
        )
    record, problem = _record_date(found)
    return render(
        request,
        "retention/review.html",
        {
            "review": found,
            "period": describe_period(found.trigger, found.years),
            "record": record,
            "problem": problem,
            "holds": review_holds(found),
            "form": form,
            "has_errors": bool(form.errors),
        },
    )


@require_GET
def holds(request: HttpRequest) -> HttpResponse:
    user = _reviewer(request)
    if isinstance(user, HttpResponse):
        return user
    visible = holds_visible_to(user).select_related("person", "placed_by", "lifted_by")
    in_force = list(visible.filter(lifted_at__isnull=True).order_by("-placed_at", "-id")[:200])
    lifted = list(visible.filter(lifted_at__isnull=False).order_by("-lifted_at", "-id")[:20])
    # The class labels once per service area, not once per hold.
    areas = {h.service_area for h in [*in_force, *lifted] if h.record_class}
    labels = {area: dict(known_classes(area)) for area in areas}
    return render(
        request,
        "retention/holds.html",
        {
            "in_force": [(h, hold_description(h, labels)) for h in in_force],
            "lifted": [(h, hold_description(h, labels)) for h in lifted],
        },
    )


def _class_choices(areas: list[str]) -> list[tuple[str, str]]:
    choices = []
    for area in areas:
        for class_id, label in known_classes(area):
            prefix = f"{ServiceArea(area).label}: " if len(areas) > 1 else ""
            choices.append((class_id, prefix + label))
    return choices


@require_http_methods(["GET", "POST"])
def hold_new(request: HttpRequest) -> HttpResponse:
    user = _reviewer(request)
    if isinstance(user, HttpResponse):
        return user
    areas = sorted(reviewer_areas(user))
    form = HoldForm(
        request.POST if request.method == "POST" else None,
        areas=areas,
        classes=_class_choices(areas),
    )
    token = once.token_for(request)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                once.spend(request)
                hold = legal_hold_place(actor=user, **form.service_arguments())
        except once.AlreadySubmitted:
            messages.success(request, "That hold was already placed, so it was not placed again.")
            return redirect("retention-holds")
        except InvalidInput as refusal:
            show_problems(form, refusal)
        except NotPermitted as not_allowed:
            form.add_error(None, str(not_allowed))
        else:
            messages.success(request, f"Legal hold placed on {hold_description(hold)}.")
            return redirect("retention-holds")
    return render(
        request,
        "retention/hold_form.html",
        {"form": form, "token": token, "has_errors": bool(form.errors)},
    )


@require_http_methods(["GET", "POST"])
def hold_lift(request: HttpRequest, hold_id: int) -> HttpResponse:
    user = signed_in_user(request)
    try:
        hold = hold_for(user, hold_id)
    except NotFound as missing:
        raise Http404(str(missing)) from missing
    form = LiftForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and hold.in_force and form.is_valid():
        try:
            legal_hold_lift(actor=user, hold_id=hold.pk, reason=form.cleaned_data["reason"])
        except InvalidInput as refusal:
            show_problems(form, refusal)
        except Conflict as conflict:
            messages.error(request, str(conflict))
            return redirect("retention-hold-lift", hold_id=hold.pk)
        except NotFound as missing:
            raise Http404(str(missing)) from missing
        else:
            messages.success(request, f"Legal hold lifted from {hold_description(hold)}.")
            return redirect(reverse("retention-holds"))
    return render(
        request,
        "retention/hold_lift.html",
        {
            "hold": hold,
            "description": hold_description(hold),
            "form": form,
            "has_errors": bool(form.errors),
        },
    )
