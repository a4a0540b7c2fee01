from __future__ import annotations

import datetime as dt
from typing import IO

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from casework.access.middleware import note_case_seen
from casework.access.policy import case_for, cases_visible_to, need_to_know
from casework.access.selectors import case_access
from casework.cases.models import CaseStatus, DocumentKind
from casework.cases.selectors import case_page, my_open_cases, team_open_cases
from casework.cases.services import document_upload
from casework.closure.forms import show_problems
from casework.closure.selectors import closure_queue, closure_readiness, is_manager
from casework.core.errors import InvalidInput, NotFound, NotPermitted
from casework.frontend import once
from casework.frontend.pages import id_from, refused
from casework.frontend.pages import signed_in_user as _user
from casework.frontend.security import file_response
from casework.organisation.models import Membership
from casework.tasks.selectors import overdue_by_worker, tasks_for, unread_notifications
from casework.transfers.models import ACTIVE_TRANSFER_STATES, Transfer
from casework.transfers.rereferral import coming_back
from casework.transfers.selectors import transfer_queue

TASKS_SHOWN = 50
NOTIFICATIONS_SHOWN = 20
TEAM_CASES_ON_HOME = 10  # the newest; the team's cases page lists them all


def _parse_after(raw: str | None) -> tuple[dt.date, int] | None:
    """The keyset cursor `YYYY-MM-DD.id`; a malformed one starts from the beginning."""
    if not raw:
        return None
    try:
        day, _, pk = raw.partition(".")
        return dt.date.fromisoformat(day), int(pk)
    except ValueError:
        return None


def _cursor(key: tuple[dt.date, int] | None) -> str:
    return f"{key[0].isoformat()}.{key[1]}" if key else ""


def my_cases(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.GET.get("after"):
        # Older links paged the team's cases here; they have a page of their own now.
        return redirect(reverse("team-cases") + "?" + urlencode({"after": request.GET["after"]}))
    team_cases, more = team_open_cases(user, limit=TEAM_CASES_ON_HOME)
    return render(
        request,
        "cases/my_cases.html",
        {
            "my_cases": list(my_open_cases(user)[:100]),
            "team_cases": team_cases,
            "more_team_cases": more is not None,
            "memberships": Membership.objects.current().filter(user=user).select_related("team"),
            "tasks": list(tasks_for(user)[:TASKS_SHOWN]),
            "notifications": list(unread_notifications(user)[:NOTIFICATIONS_SHOWN]),
            "overdue_by_worker": overdue_by_worker(user),
            "today": timezone.localdate(),
        },
    )


def team_cases(request: HttpRequest) -> HttpResponse:
    """Every open case in the user's teams, newest first, 25 a page by keyset (as fast on
    page 200 as on page 1); `?unallocated=1` keeps those waiting for a worker."""
    user = _user(request)
    unallocated = request.GET.get("unallocated") == "1"
    rows, next_key = team_open_cases(
        user, after=_parse_after(request.GET.get("after")), unallocated=unallocated
    )
    return render(
        request,
        "cases/team_cases.html",
        {
            "team_cases": rows,
            "next_cursor": _cursor(next_key),
            "unallocated": unallocated,
            "paged": bool(request.GET.get("after")),
            "has_teams": bool(need_to_know(user).seats),
        },
    )


def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    try:
        page = case_page(
            _user(request),
            case_id,
            category=request.GET.get("category", ""),
            whole_chronology=request.GET.get("chronology") == "all",
        )
    except NotFound as missing:
        raise Http404(str(missing)) from missing
    readiness = closure_readiness(_user(request), page.case, already_read=page.already_read)
    access = case_access(_user(request), page.case)
    note_case_seen(request, page.case, access.emergency)
    return render(
        request,
        "cases/case_detail.html",
        {
            "page": page,
            "case": page.case,
            "readiness": readiness,
            "active_transfer": Transfer.objects.filter(
                case=page.case, state__in=ACTIVE_TRANSFER_STATES
            )
            .select_related("to_team")
            .first(),
            "returning": coming_back(_user(request), page.case, already_read=page.already_read),
            "access": access,
        },
    )


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(
        label="Type of document",
        choices=[("", "Choose the type"), *DocumentKind.choices],
        error_messages={"required": "Select the type of document."},
    )
    title = forms.CharField(
        label="Title",
        max_length=200,
        error_messages={"required": "Enter a title for the document."},
    )
    upload = forms.FileField(
        label="File",
        help_text="A PDF, PNG, JPEG or plain text file.",
        error_messages={
            "required": "Choose the file to upload.",
            "empty": "The selected file is empty.",
        },
    )


@require_http_methods(["GET", "POST"])
def documents(request: HttpRequest, case_id: int) -> HttpResponse | FileResponse:
    """The case's documents: download one (`?document=<id>`), or upload another."""
    user = _user(request)
    try:
        case = case_for(user, case_id)
    except NotFound as missing:
        raise Http404(str(missing)) from missing
    wanted = request.GET.get("document", "")
    if wanted:
        document = case.documents.filter(pk=id_from(wanted) or 0).first()
        if document is None:
            raise Http404("There is no such document on this case.")
        opened: IO[bytes] = document.file.open("rb")
        return file_response(
            opened,
            filename=document.original_name,
            content_type=document.content_type,
        )
    form = DocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                once.spend(request)
                document_upload(actor=user, case=case, **form.cleaned_data)
        except once.AlreadySubmitted:
            messages.success(request, once.ALREADY_SAVED)
            return redirect(f"{reverse('case-detail', kwargs={'case_id': case.pk})}#documents")
        except (InvalidInput, NotPermitted) as error:
            if isinstance(error, InvalidInput):
                show_problems(form, error)
            else:
                form.add_error(None, str(error))
        else:
            messages.success(request, f"Uploaded: {form.cleaned_data['title']}")
            return redirect(f"{reverse('case-detail', kwargs={'case_id': case.pk})}#documents")
    return render(
        request,
        "cases/documents.html",
        {
            "case": case,
            "documents": list(case.documents.select_related("uploaded_by")),
            "form": form,
            "has_errors": bool(form.errors),
            "once": once.token_for(request),
        },
        status=400 if form.errors else 200,
    )


def team_work(request: HttpRequest) -> HttpResponse:
    """The managers' view of their teams (J3): what waits on them in closures, transfers and
    requests, unallocated cases, and overdue work by worker, each linking to its queue."""
    user = _user(request)
    if not is_manager(user):
        return refused(request, "This page is for team managers and senior managers.")
    closures = closure_queue(user)
    transfers = transfer_queue(user)
    teams = sorted(need_to_know(user).team_ids)
    return render(
        request,
        "cases/team_work.html",
        {
            "closures": closures,
            "transfers": transfers,
            "unallocated": cases_visible_to(user)
            .filter(
                status=CaseStatus.OPEN, responsible_team_id__in=teams, allocated_worker__isnull=True
            )
            .count(),
            "overdue_by_worker": overdue_by_worker(user),
        },
    )
