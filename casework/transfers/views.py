"""The transfer, pathway and re-referral screens (procedure 004, R003-07). Pages read through
`selectors` (a case the user may not see is a 404), change things only through the
services, and redirect with a success banner after a change. Every case-scoped URL takes
only `case_id`; which pathway is meant goes in the query string."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from casework.access.policy import cases_visible_to
from casework.closure.forms import PackForm, show_problems
from casework.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from casework.core.trial import refusal_of
from casework.frontend.pages import case_page
from casework.frontend.pages import signed_in_user as _user
from casework.frontend.security import file_response
from casework.organisation.models import Membership, Role, Team
from casework.policy.evaluate import checklist_results, form_fields
from casework.policy.schema import FormField, Pathway
from casework.transfers.documents import placement_letter_pdf
from casework.transfers.forms import (
    AuditForm,
    DiscussForm,
    MeetingForm,
    PathwayDecisionForm,
    ReasonForm,
    TransferDecisionForm,
    TransferRequestForm,
    outcome_label,
)
from casework.transfers.models import (
    OutOfAreaPlacement,
    PathwayRequest,
    PathwayState,
    ReReferralReview,
    TransferState,
)
from casework.transfers.pathways import pathway_close_case, pathway_decide, pathway_request
from casework.transfers.rereferral import (
    REVIEW_FORM,
    coming_back,
    re_referral_review_record,
    review_pack,
)
from casework.transfers.selectors import (
    TransferPage,
    out_of_area_register,
    transfer_page,
    transfer_queue,
)
from casework.transfers.services import (
    TransferBlocked,
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


def _show(
    request: HttpRequest,
    template: str,
    page: TransferPage,
    context: dict[str, Any],
) -> HttpResponse:
    form = context.get("form")
    has_errors = bool(
        context.get("errors")
        or (isinstance(form, forms.BaseForm) and form.is_bound and form.errors)
    )
    return render(
        request,
        template,
        {
            "p": page,
            "case": page.case,
            "transfer": page.transfer,
            "tasks_url": page.url("transfer-tasks"),
            "has_errors": has_errors,
            **context,
        },
        status=400 if has_errors and request.method == "POST" else 200,
    )


def _done(request: HttpRequest, page: TransferPage, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect(page.url("transfer-tasks"))


def _nothing(request: HttpRequest, page: TransferPage, title: str, message: str) -> HttpResponse:
    return _show(request, "transfers/nothing.html", page, {"title": title, "message": message})


def _active_or_explain(
    request: HttpRequest, page: TransferPage, states: tuple[str, ...], title: str
) -> HttpResponse | None:
    if page.transfer is None or page.transfer.state not in states:
        return _nothing(
            request,
            page,
            title,
            "There is no transfer of this case at this stage. The transfer page shows where it is.",
        )
    return None


# --- The transfer's task list ---------------------------------------------------------------


@case_page
def tasks(request: HttpRequest, case_id: int) -> HttpResponse:
    page = transfer_page(_user(request), case_id)
    return _show(
        request,
        "transfers/tasks.html",
        page,
        {
            "steps": page.steps(),
            "gates": page.outstanding_gates() if page.active else [],
            "transfer_tasks": page.transfer_tasks(),
        },
    )


def _request_fields(page: TransferPage) -> list[tuple[str, FormField | None, str]]:
    """Every detail a protocol from this team may ask for, with the protocols that need it."""
    pack, spec = page.procedure()
    summary = {f.id: f for f in pack.spec.forms[spec.summary_form].fields}
    needed: dict[str, list[str]] = {}
    for protocol in spec.protocols:
        if page.case.responsible_team.code in protocol.from_teams:
            for name in protocol.request_fields:
                needed.setdefault(name, []).append(protocol.label)
    return [(name, summary.get(name), "; ".join(labels)) for name, labels in needed.items()]


@case_page
def request_transfer(request: HttpRequest, case_id: int) -> HttpResponse:
    page = transfer_page(_user(request), case_id)
    if page.spec is None:
        return _nothing(
            request,
            page,
            "No transfer procedure",
            "No transfer procedure is set for this service. Ask an administrator to bind a "
            "policy pack for transfers (Django admin, Pack bindings).",
        )
    if page.active:
        return _nothing(
            request, page, "A transfer is in progress", "This case is already being transferred."
        )
    if not page.can_ask:
        raise NotPermitted("Only someone in the team that holds the case can ask to transfer it.")
    teams = list(
        Team.objects.filter(
            authority=page.case.responsible_team.authority,
            service_area=page.case.service_area,
            active=True,
        )
        .exclude(pk=page.case.responsible_team_id)
        .order_by("name")
    )
    trigger = request.POST.get("trigger") or request.GET.get("trigger", "")
    recommendation = (
        transfer_recommendation(_user(request), page.case, trigger) if trigger else None
    )
    recommended = next((t for t in teams if recommendation and t.code == recommendation.team), None)
    form = TransferRequestForm(
        request.POST or None,
        teams=teams,
        request_fields=_request_fields(page),
        initial={"trigger": trigger, "to_team": str(recommended.pk) if recommended else ""},
    )
    if request.method == "POST" and form.is_valid():
        try:
            transfer_request(
                actor=_user(request),
                case=page.case,
                to_team=next(t for t in teams if str(t.pk) == form.cleaned_data["to_team"]),
                rationale=form.cleaned_data["rationale"],
                request_details=form.request_details(),
                trigger=form.cleaned_data["trigger"],
                override_reason=form.cleaned_data["override_reason"],
            )
        except (InvalidInput, Conflict) as error:
            _problems(form, error)
        else:
            return _done(request, page, "Transfer requested")
    return _show(
        request,
        "transfers/request.html",
        page,
        {
            "form": form,
            "title": "Ask to transfer the case",
            "recommendation": recommendation,
            "recommended": recommended,
            "triggers": _triggers(page),
        },
    )


def _triggers(page: TransferPage) -> list[tuple[str, str]]:
    from casework.policy.vocabulary import ROUTING_TRIGGERS

    used = dict.fromkeys(r.trigger for r in (page.spec.routing if page.spec else []))
    return [(t, ROUTING_TRIGGERS[t]) for t in used if t in ROUTING_TRIGGERS]


def _problems(form: forms.BaseForm, error: InvalidInput | Conflict) -> None:
    if isinstance(error, InvalidInput):
        show_problems(form, error)
    else:
        form.add_error(None, str(error))


@case_page
def discuss(request: HttpRequest, case_id: int) -> HttpResponse:
    page = transfer_page(_user(request), case_id)
    title = "Record the transfer discussion"
    if (
        refusal := _active_or_explain(request, page, ("requested", "authorised", "accepted"), title)
    ) is not None:
        return refusal
    assert page.transfer is not None  # noqa: S101 - checked just above
    form = DiscussForm(
        request.POST or None,
        initial={
            "discussed_on": page.transfer.discussed_on,
            "agreed_transfer_date": page.transfer.agreed_transfer_date,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            transfer_discuss(
                actor=_user(request),
                transfer=page.transfer,
                discussed_on=form.cleaned_data["discussed_on"],
                agreed_transfer_date=form.cleaned_data["agreed_transfer_date"],
            )
        except InvalidInput as error:
            show_problems(form, error)
        else:
            return _done(request, page, "Transfer discussion recorded")
    return _show(request, "transfers/discuss.html", page, {"form": form, "title": title})


@case_page
def summary(request: HttpRequest, case_id: int) -> HttpResponse:
    page = transfer_page(_user(request), case_id)
    title = "Transfer summary"
    if (refusal := _active_or_explain(request, page, ("requested",), title)) is not None:
        return refusal
    transfer, (pack, transfer_spec) = page.current(), page.procedure()
    ctx = TransferContext(transfer, page.case, pack, page.evaluation)
    saved = transfer.summary or {**transfer_summary_initial(ctx), **transfer.request_details}
    states = form_fields(pack, transfer_spec.summary_form, page.evaluation, saved)
    form = PackForm(
        request.POST or None, states=states, initial=_initial(form_specs(states), saved)
    )
    spec = pack.spec.forms[transfer_spec.summary_form]
    if request.method == "POST" and form.is_valid() and "change" not in request.POST:

        def submit() -> object:
            return transfer_summary_submit(
                actor=_user(request), transfer=transfer, answers=form.answers()
            )

        if "confirm" in request.POST:
            try:
                submit()
            except InvalidInput as error:
                show_problems(form, error)
            else:
                return _done(request, page, "Transfer summary completed")
        elif (refused := refusal_of(submit)) is not None:
            show_problems(form, refused)
        else:
            return _check(request, page, form, spec.title, "Confirm and complete the summary")
    return _show(
        request, "transfers/summary.html", page, {"form": form, "title": spec.title, "spec": spec}
    )


def _check(
    request: HttpRequest, page: TransferPage, form: forms.Form, title: str, confirm: str
) -> HttpResponse:
    """GOV.UK "Check your answers": every answer under its heading, the posted values carried
    in hidden fields, and buttons to confirm or to change them."""
    specs: dict[str, FormField] = getattr(form, "specs", {})
    answers = form.answers() if isinstance(form, PackForm) else {}
    rows = [
        (
            field.label,
            _answer(
                specs.get(name), answers[name] if name in answers else form.cleaned_data.get(name)
            ),
        )
        for name, field in form.fields.items()
        if not isinstance(field.widget, forms.HiddenInput)
    ]
    carried = [
        (name, value)
        for name in request.POST
        if name not in ("csrfmiddlewaretoken", "confirm", "change")
        for value in request.POST.getlist(name)
    ]
    return _show(
        request,
        "transfers/check.html",
        page,
        {
            "title": "Check your answers",
            "what": title,
            "rows": rows,
            "carried": carried,
            "confirm": confirm,
        },
    )


def _answer(spec: FormField | None, value: Any) -> str:
    from casework.closure.forms import answer_text

    if isinstance(value, dt.date):
        return f"{value.day} {value:%B %Y}"
    return answer_text(spec, value)


def form_specs(states: list[Any]) -> dict[str, FormField]:
    return {s.field.id: s.field for s in states if s.shown}


def _initial(specs: dict[str, FormField], saved: dict[str, Any]) -> dict[str, Any]:
    from casework.closure.forms import stored_to_initial

    return {name: stored_to_initial(spec, saved.get(name)) for name, spec in specs.items()}


@case_page
def audit(request: HttpRequest, case_id: int) -> HttpResponse:
    page = transfer_page(_user(request), case_id)
    title = "Audit the record for transfer"
    if (refusal := _active_or_explain(request, page, ("requested",), title)) is not None:
        return refusal
    transfer, (pack, spec) = page.current(), page.procedure()
    results = checklist_results(pack, spec.audit_checklist, page.evaluation)
    initial: dict[str, Any] = {}
    for result in results:
        saved = transfer.audit.get(result.item.id)
        if saved:
            initial[f"{result.item.id}-answer"] = saved["answer"]
            initial[f"{result.item.id}-note"] = saved["note"]
        elif result.passed is not None:
            initial[f"{result.item.id}-answer"] = "yes" if result.passed else "no"
    form = AuditForm(request.POST or None, results=results, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            transfer_audit_record(actor=_user(request), transfer=transfer, answers=form.answers())
        except InvalidInput as error:
            show_problems(form, _audit_fields(error, results))
        else:
            return _done(request, page, "Transfer audit completed")
    return _show(request, "transfers/audit.html", page, {"form": form, "title": title})


def _audit_fields(error: InvalidInput, results: list[Any]) -> InvalidInput:
    """The audit service names items; the form's fields are `<item>-answer`."""
    from casework.core.errors import Problem

    names = {r.item.id for r in results}
    return InvalidInput(
        [
            Problem(f"{p.field}-answer" if p.field in names else p.field, p.message)
            for p in error.problems
        ]
    )


@case_page
def authorise(request: HttpRequest, case_id: int) -> HttpResponse:
    page = transfer_page(_user(request), case_id)
    title = "Authorise the transfer"
    if (refusal := _active_or_explain(request, page, ("requested",), title)) is not None:
        return refusal
    assert page.transfer is not None  # noqa: S101 - checked just above
    errors: list[str] = []
    if request.method == "POST":
        try:
            transfer_authorise(actor=_user(request), transfer=page.transfer)
        except TransferBlocked as blocked:
            errors = [p.message for p in blocked.problems]
        except (InvalidInput, Conflict) as error:
            errors = (
                [p.message for p in error.problems]
                if isinstance(error, InvalidInput)
                else [str(error)]
            )
        else:
            return _done(
                request,
                page,
                f"Transfer authorised: {page.transfer.to_team.name} has been asked to accept it",
            )
    return _show(
        request,
        "transfers/authorise.html",
        page,
        {"title": title, "errors": errors, "gates": page.outstanding_gates()},
    )


@case_page
def decide(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    page = transfer_page(user, case_id)
    title = "Accept or decline the transfer"
    if (refusal := _active_or_explain(request, page, ("authorised",), title)) is not None:
        return refusal
    assert page.transfer is not None  # noqa: S101 - checked just above
    workers = [
        m.user
        for m in Membership.objects.current()
        .filter(team=page.transfer.to_team)
        .select_related("user")
        .order_by("user__first_name", "user__last_name")
    ]
    workers = list({w.pk: w for w in workers}.values())
    form = TransferDecisionForm(request.POST or None, workers=workers)
    if request.method == "POST" and form.is_valid():
        accept = form.cleaned_data["decision"] == "accept"
        chosen = form.cleaned_data["receiving_worker"]
        try:
            decided = transfer_decide(
                actor=user,
                transfer=page.transfer,
                accept=accept,
                reason=form.cleaned_data["reason"],
                receiving_worker=next((w for w in workers if str(w.pk) == chosen), None),
            )
        except (InvalidInput, Conflict) as error:
            _problems(form, error)
        else:
            if decided.state == TransferState.DECLINED:
                messages.success(request, f"Transfer of case {page.case.reference} declined")
                return redirect("transfer-queue")
            moved = (
                " The case has moved to your team."
                if decided.state == TransferState.COMPLETED
                else ""
            )
            return _done(request, page, f"Transfer accepted.{moved}")
    return _show(request, "transfers/decide.html", page, {"form": form, "title": title})


@case_page
def complete(request: HttpRequest, case_id: int) -> HttpResponse:
    page = transfer_page(_user(request), case_id)
    title = "Move the case"
    if (refusal := _active_or_explain(request, page, ("accepted",), title)) is not None:
        return refusal
    assert page.transfer is not None  # noqa: S101 - checked just above
    errors: list[str] = []
    if request.method == "POST":
        try:
            done = transfer_complete(actor=_user(request), transfer=page.transfer)
        except InvalidInput as error:
            errors = [p.message for p in error.problems]
        else:
            what = "moved to" if done.moves_responsibility else "is now supported by"
            return _done(request, page, f"Transfer completed: the case {what} {done.to_team.name}")
    return _show(request, "transfers/complete.html", page, {"title": title, "errors": errors})


@case_page
def withdraw(request: HttpRequest, case_id: int) -> HttpResponse:
    page = transfer_page(_user(request), case_id)
    title = "Withdraw the transfer"
    if (
        refusal := _active_or_explain(request, page, ("requested", "authorised", "accepted"), title)
    ) is not None:
        return refusal
    assert page.transfer is not None  # noqa: S101 - checked just above
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            transfer_withdraw(
                actor=_user(request), transfer=page.transfer, reason=form.cleaned_data["reason"]
            )
        except (InvalidInput, Conflict) as error:
            _problems(form, error)
        else:
            return _done(request, page, "Transfer withdrawn")
    return _show(request, "transfers/withdraw.html", page, {"form": form, "title": title})


# --- Pathways: step-down, escalation, in and out of the authority ---------------------------


def _chosen_pathway(request: HttpRequest, page: TransferPage) -> Pathway | None:
    return page.pathway(request.POST.get("pathway") or request.GET.get("pathway", ""))


@case_page
def pathway_start(request: HttpRequest, case_id: int) -> HttpResponse:
    page = transfer_page(_user(request), case_id)
    pathway = _chosen_pathway(request, page)
    if pathway is None or page.pack is None:
        return _nothing(
            request,
            page,
            "Choose a route",
            "Choose a step-down, escalation or move from the transfer page.",
        )
    if not page.can_ask:
        raise NotPermitted("Only someone in the team that holds the case can ask for this.")
    states = form_fields(page.pack, pathway.form, page.evaluation) if pathway.form else []
    form = PackForm(request.POST or None, states=states)
    if pathway.meeting_notice:
        form.fields["meeting_on"] = copy.deepcopy(MeetingForm.base_fields["meeting_on"])
    if request.method == "POST" and form.is_valid() and "change" not in request.POST:

        def send() -> object:
            return pathway_request(
                actor=_user(request),
                case=page.case,
                pathway_id=pathway.id,
                answers={k: v for k, v in form.answers().items() if v not in (None, "")},
                meeting_on=form.cleaned_data.get("meeting_on"),
            )

        try:
            if "confirm" in request.POST:
                send()
                return _done(request, page, f"{pathway.label}: requested")
            refused = refusal_of(send)
            if refused is None:
                return _check(request, page, form, pathway.label, "Confirm and send the request")
            raise refused
        except TransferBlocked as blocked:
            for problem in blocked.problems:
                form.add_error(None, problem.message)
        except (InvalidInput, Conflict) as error:
            _problems(form, error)
    return _show(
        request,
        "transfers/pathway.html",
        page,
        {
            "form": form,
            "pathway": pathway,
            "title": pathway.label,
            "decider": Role(pathway.decided_by).label,
            "spec": page.pack.spec.forms[pathway.form] if pathway.form else None,
        },
    )


def _open_request(page: TransferPage, pathway: Pathway) -> PathwayRequest | None:
    return next(
        (
            r
            for r in page.requests
            if r.pathway_id == pathway.id and r.state == PathwayState.REQUESTED
        ),
        None,
    )


@case_page
def pathway_decision(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    page = transfer_page(user, case_id)
    pathway = _chosen_pathway(request, page)
    asked = _open_request(page, pathway) if pathway else None
    if pathway is None or asked is None:
        return _nothing(
            request,
            page,
            "Nothing to decide",
            "There is no open request of that kind on this case.",
        )
    form = PathwayDecisionForm(request.POST or None, outcomes=pathway.outcomes)
    if request.method == "POST" and form.is_valid():
        try:
            decided = pathway_decide(
                actor=user,
                request=asked,
                outcome=form.cleaned_data["outcome"],
                rationale=form.cleaned_data["rationale"],
            )
        except (InvalidInput, Conflict) as error:
            _problems(form, error)
        else:
            messages.success(request, f"{pathway.label}: {outcome_label(decided.outcome).lower()}")
            if cases_visible_to(user).filter(pk=page.case.pk).exists():
                return redirect(page.url("transfer-tasks"))
            return redirect("transfer-queue")
    return _show(
        request,
        "transfers/pathway_decide.html",
        page,
        {
            "form": form,
            "pathway": pathway,
            "asked": asked,
            "title": f"Decide: {pathway.label}",
            "answers": _answer_rows(page, pathway, asked),
        },
    )


def _answer_rows(
    page: TransferPage, pathway: Pathway, asked: PathwayRequest
) -> list[tuple[str, str]]:
    from casework.closure.forms import answer_text

    if not pathway.form or page.pack is None:
        return []
    return [
        (f.label, answer_text(f, asked.answers.get(f.id)))
        for f in page.pack.spec.forms[pathway.form].fields
        if f.id in asked.answers
    ]


@case_page
def pathway_close(request: HttpRequest, case_id: int) -> HttpResponse:
    """Start closing the case after a decision that ends it: the page lists those decisions,
    and posting one proposes closure with its national code."""
    page = transfer_page(_user(request), case_id)
    asked = next((r for r in page.requests if str(r.pk) == request.POST.get("request", "")), None)
    if request.method != "POST" or asked is None:
        closable = [
            (r, pathway)
            for r, pathway, _ in page.request_rows()
            if pathway and r.state == PathwayState.DECIDED and r.outcome in pathway.closes_on
        ]
        return _show(
            request,
            "transfers/close.html",
            page,
            {"title": "Close the case after a decision", "closable": closable},
        )
    try:
        pathway_close_case(actor=_user(request), request=asked)
    except (InvalidInput, Conflict) as error:
        for message in (
            (p.message for p in error.problems) if isinstance(error, InvalidInput) else [str(error)]
        ):
            messages.error(request, message)
        return redirect(page.url("transfer-tasks"))
    messages.success(request, "Closure proposed with the reason the decision gives")
    return redirect(reverse("closure-tasks", kwargs={"case_id": page.case.pk}))


@require_GET
def placement_letter(request: HttpRequest, case_id: int) -> HttpResponse:
    """The notification letter for a placement in another area: the one asked for, else the
    latest on the case."""
    try:
        page = transfer_page(_user(request), case_id)
    except NotFound as missing:
        raise Http404(str(missing)) from missing
    entries = {e.request_id: e for e in OutOfAreaPlacement.objects.filter(case=page.case)}
    wanted = request.GET.get("request")
    placed = [r for r in page.requests if r.pk in entries]
    asked = next((r for r in placed if str(r.pk) == wanted), None) if wanted else None
    if wanted and asked is None:
        raise Http404("There is no placement notification for that request.")
    asked = asked or (placed[0] if placed else None)
    if asked is None:
        return _nothing(
            request,
            page,
            "No placement notification",
            "No placement of this child in another authority's area is recorded, so there is "
            "no notification letter.",
        )
    return file_response(
        placement_letter_pdf(asked),
        filename=f"placement-notification-{page.case.reference}.pdf",
        content_type="application/pdf",
        inline=True,
    )


@require_GET
def register(request: HttpRequest) -> HttpResponse:
    return render(
        request, "transfers/register.html", {"entries": list(out_of_area_register(_user(request)))}
    )


@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    return render(request, "transfers/queue.html", {"q": transfer_queue(_user(request))})


# --- Re-referral ----------------------------------------------------------------------------


@case_page
def re_referral(request: HttpRequest, case_id: int) -> HttpResponse:
    user = _user(request)
    page = transfer_page(user, case_id)
    back = coming_back(user, page.case)
    if back is None:
        return _nothing(
            request,
            page,
            "Not a returning family",
            "This child has no earlier closed case, so there is no closure summary to compare "
            "with.",
        )
    pack = review_pack(page.case)
    states = form_fields(pack, REVIEW_FORM, page.evaluation) if pack else []
    form = PackForm(request.POST or None, states=states)
    if request.method == "POST" and form.is_valid():
        try:
            re_referral_review_record(actor=user, case=page.case, answers=form.answers())
        except InvalidInput as error:
            show_problems(form, error)
        else:
            messages.success(request, "Re-referral review recorded")
            return redirect(reverse("case-detail", kwargs={"case_id": page.case.pk}))
    referral = page.case.referrals.order_by("-received_on", "-id").first()
    # A return within three months of SGCP closing goes back to SGCP (R004-03): say so here,
    # where the front door reads the last summary.
    recommendation = (
        transfer_recommendation(user, page.case, "re_referral") if page.spec is not None else None
    )
    return _show(
        request,
        "transfers/re_referral.html",
        page,
        {
            "form": form,
            "back": back,
            "referral": referral,
            "recommendation": recommendation,
            "recommended_elsewhere": recommendation is not None
            and recommendation.team != page.case.responsible_team.code,
            "recommended_name": page.pack.spec.teams.get(recommendation.team, recommendation.team)
            if recommendation and page.pack
            else "",
            "reviews": list(
                ReReferralReview.objects.filter(case=page.case)
                .select_related("recorded_by")
                .order_by("-recorded_at")
            ),
            "previous_days": (page.case.opened_on - back.previous_case.closed_on).days
            if back.previous_case.closed_on
            else None,
        },
    )
