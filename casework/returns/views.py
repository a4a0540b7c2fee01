"""The Exports page (issue 8 item 6): start an export, watch its progress (htmx polls while
one runs; a plain reload does the same without JavaScript), see the problems it found, and
download the file. For business support officers and senior managers (a role spanning a
service area) and administrators; everyone else gets the plain 403 page."""

from __future__ import annotations

import os
from dataclasses import dataclass

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from casework.accounts.models import User
from casework.closure.forms import show_problems
from casework.core.errors import InvalidInput, NotFound, NotPermitted
from casework.frontend import once
from casework.frontend.pages import refused, signed_in_user
from casework.frontend.security import file_response
from casework.returns.forms import ExportForm
from casework.returns.jobs import ExportKind, export_file_open, export_kinds, export_request
from casework.returns.models import ExportJob
from casework.returns.selectors import export_job_for, export_jobs_for

# The newest jobs listed; older ones stay on record (and in the audit log).
LISTED = 20
# Problems shown on a job's page; a council-sized first run can find thousands.
PROBLEMS_SHOWN = 500

NOT_FOR_YOU = (
    "Exports and statutory returns are for business support officers and senior managers, "
    "whose work covers a whole service area."
)


@dataclass(frozen=True)
class JobRow:
    job: ExportJob
    label: str
    description: str
    unit: str


def _runnable(user: User) -> list[ExportKind]:
    return [kind for kind in export_kinds().values() if kind.may_run(user)]


def _row(job: ExportJob, kinds: dict[str, ExportKind]) -> JobRow:
    kind = kinds.get(job.kind)
    if kind is None:
        return JobRow(job, job.kind, "", "records")
    try:
        description = kind.describe(job.parameters)
    except InvalidInput:
        description = ""
    return JobRow(job, kind.label, description, kind.unit)


def _jobs(user: User) -> tuple[list[JobRow], bool]:
    kinds = export_kinds()
    rows = [_row(job, kinds) for job in export_jobs_for(user).defer("problems")[:LISTED]]
    return rows, any(not row.job.is_finished for row in rows)


@require_http_methods(["GET", "POST"])
def exports(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    kinds = _runnable(user)
    if not kinds:
        return refused(request, NOT_FOR_YOU, title="You cannot run exports")
    today = timezone.localdate()
    forms: dict[str, ExportForm] = {k.slug: k.form(prefix=k.slug, today=today) for k in kinds}
    tokens = {k.slug: once.issue() for k in kinds}
    posted = ""
    if request.method == "POST":
        posted = request.POST.get("kind", "")
        kind = next((k for k in kinds if k.slug == posted), None)
        if kind is None:
            return refused(request, NOT_FOR_YOU, title="You cannot run that export")
        form = kind.form(request.POST, prefix=kind.slug, today=today)
        forms[kind.slug] = form
        tokens[kind.slug] = once.token_for(request)
        if form.is_valid():
            try:
                with transaction.atomic():
                    once.spend(request)
                    job = export_request(actor=user, kind=kind.slug, parameters=form.parameters())
            except once.AlreadySubmitted:
                messages.success(
                    request, "That export was already started, so it has not been started again."
                )
                return redirect(f"{reverse('exports')}#jobs")
            except InvalidInput as refusal:
                show_problems(form, refusal)
            except NotPermitted as not_allowed:
                return refused(request, str(not_allowed), title="You cannot run that export")
            else:
                messages.success(
                    request,
                    f"Export started: {kind.label}, {kind.describe(job.parameters)}. "
                    "Its progress shows below.",
                )
                return redirect(f"{reverse('exports')}#jobs")
    rows, polling = _jobs(user)
    context = {
        "kinds": [(k, forms[k.slug], tokens[k.slug]) for k in kinds],
        "jobs": rows,
        "polling": polling,
        "show_requester": user.is_superuser,
        "has_errors": any(f.errors for f in forms.values()),
    }
    if getattr(request, "htmx", False):  # set by django_htmx's middleware: the poll
        return render(request, "returns/includes/jobs.html", context)
    return render(request, "returns/exports.html", context)


def _job_page_user(request: HttpRequest) -> User | HttpResponse:
    user = signed_in_user(request)
    if not _runnable(user):
        return refused(request, NOT_FOR_YOU, title="You cannot see exports")
    return user


@require_GET
def export_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    user = _job_page_user(request)
    if isinstance(user, HttpResponse):
        return user
    try:
        job = export_job_for(user, job_id)
    except NotFound as missing:
        raise Http404(str(missing)) from missing
    row = _row(job, export_kinds())
    problems = job.problem_list()
    return render(
        request,
        "returns/export.html",
        {
            "row": row,
            "job": job,
            "problems": problems[:PROBLEMS_SHOWN],
            "problem_count": len(problems),
            "polling": not job.is_finished,
            "show_requester": user.is_superuser,
        },
    )


@require_GET
def export_file(request: HttpRequest, job_id: int) -> HttpResponseBase:
    """The file, streamed, for its requester or an administrator (404 for anyone else)."""
    user = _job_page_user(request)
    if isinstance(user, HttpResponse):
        return user
    try:
        job, opened = export_file_open(actor=user, job_id=job_id)
    except NotFound as missing:
        raise Http404(str(missing)) from missing
    kind = export_kinds().get(job.kind)
    content_type = kind.content_type if kind else "application/octet-stream"
    return file_response(
        opened, filename=os.path.basename(job.file.name), content_type=content_type
    )
