"""Export jobs (issue 8 item 6): long exports run in the background, record their progress and
keep their file for the person who asked.

A small registry names each kind of export: its label, who may run it (a role spanning the
kind's service area), the form for its parameters, a `problems()` check that runs first, and a
streaming `write(progress)` generator. Registered: the adults' Client Level Data (`cld`),
once `casework.returns.cin` defines `cin_census_problems` and `cin_census_xml`, the Children in
Need census (`cin-census`), and the subject access request (`subject-access`: everything held
about one person, built in `casework.privacy.subject_access`), which uses the optional hooks
for an export about one person rather than a whole service area.

The services are the one write path: `export_request` (checks, records the job, audits, and
queues the task when the transaction commits), `export_job_run` (what the django-tasks task
does: claims the job once, writes the file to a temporary file, stores it only when complete,
and records `failed` with a plain-English message otherwise, leaving no file) and
`export_file_open` (access-checked and audited download).
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django_tasks import task

import casework.privacy.subject_access as subject_access
from casework.accounts.models import User
from casework.audit.models import AuditCategory
from casework.audit.services import audit_record
from casework.core.dates import long_date
from casework.core.errors import InvalidInput, NotFound, NotPermitted
from casework.organisation.models import Authority, ServiceArea
from casework.returns.cld import cld_csv, cld_problems, period_from
from casework.returns.forms import CensusYearForm, CldPeriodForm, ExportForm, SubjectAccessForm
from casework.returns.models import ExportJob, ExportProblem, ExportState, private_storage
from casework.returns.selectors import export_authority, export_job_for, may_export

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
Parameters = Mapping[str, Any]


@dataclass(frozen=True)
class ExportKind:
    slug: str
    label: str
    summary: str
    service_area: str
    unit: str  # what the progress counts, e.g. "cases"
    extension: str
    content_type: str
    form: type[ExportForm]
    validate: Callable[[Parameters, dt.date], None]  # raises InvalidInput
    describe: Callable[[Parameters], str]
    stem: Callable[[Parameters], str]  # the file's name without the job number
    problems: Callable[[Authority, Parameters, User | None], list[ExportProblem]]
    write: Callable[[Authority, Parameters, User | None, Progress], Iterator[bytes]]
    # Hooks for an export about one person rather than a whole service area (a subject access
    # request); the whole-area returns leave them unset. `runs` replaces the area-wide check
    # and `authority_for` the area's authority; `refusal` is what anyone else is told;
    # `authorise` checks the parameters against the asker (raising InvalidInput) and returns
    # the parameters to keep and what the request's audit event links (person=, case=);
    # `written` runs in the transaction that marks the file ready.
    runs: Callable[[User], bool] | None = None
    authority_for: Callable[[User], Authority | None] | None = None
    refusal: str = ""
    authorise: Callable[[User, Parameters], tuple[dict[str, str], dict[str, Any]]] | None = None
    written: Callable[[ExportJob], None] | None = None

    def may_run(self, user: User) -> bool:
        if self.runs is not None:
            return self.runs(user)
        return may_export(user, self.service_area)

    def authority_of(self, user: User) -> Authority | None:
        if self.authority_for is not None:
            return self.authority_for(user)
        return export_authority(user, self.service_area)


# --- Adults' Client Level Data ------------------------------------------------------------------


def _cld_validate(parameters: Parameters, today: dt.date) -> None:
    period_from(parameters, today=today)


def _cld_stem(parameters: Parameters) -> str:
    period = period_from(parameters)
    return f"cld-{period.start.isoformat()}-to-{period.end.isoformat()}"


CLD = ExportKind(
    slug="cld",
    label="Adults' Client Level Data",
    summary="The quarterly event-level return to NHS England (CSV): one row per request, "
    "assessment, service and review, with closures as 'NFA' outcomes.",
    service_area=ServiceArea.ADULTS,
    unit="cases",
    extension="csv",
    content_type="text/csv; charset=utf-8",
    form=CldPeriodForm,
    validate=_cld_validate,
    describe=lambda p: str(period_from(p)),
    stem=_cld_stem,
    problems=lambda authority, p, user: cld_problems(authority, period_from(p), visible_to=user),
    write=lambda authority, p, user, progress: cld_csv(
        authority, period_from(p), visible_to=user, progress=progress
    ),
)


# --- Children in Need census (casework/returns/cin.py, written separately) ----------------------

CinProblems = Callable[[Authority, dt.date], list[Any]]
CinXml = Callable[..., Iterator[bytes]]


def _cin_functions() -> tuple[CinProblems, CinXml] | None:
    """The census's two functions, once cin.py defines them; None until then. Only a missing
    cin.py counts as "not ready": an error inside it is raised, never hidden."""
    try:
        module = importlib.import_module("casework.returns.cin")
    except ModuleNotFoundError as missing:
        if missing.name == "casework.returns.cin":
            return None
        raise
    problems = getattr(module, "cin_census_problems", None)
    xml = getattr(module, "cin_census_xml", None)
    if not callable(problems) or not callable(xml):
        return None
    return cast(CinProblems, problems), cast(CinXml, xml)


def _census_year_end(parameters: Parameters) -> dt.date:
    try:
        end = dt.date.fromisoformat(str(parameters.get("census_year_end", "")))
    except ValueError:
        end = None
    if end is None or (end.month, end.day) != (3, 31):
        raise InvalidInput(
            "Give the census year as the 31 March it ends on.", field="census_year_end"
        )
    return end


def _cin_validate(parameters: Parameters, today: dt.date) -> None:
    end = _census_year_end(parameters)
    if dt.date(end.year - 1, 4, 1) > today:
        raise InvalidInput("That census year has not started yet.", field="census_year_end")


def _cin_problem(problem: Any) -> ExportProblem:
    """cin.py's CensusProblem (child, field, rule, message, case id) as an ExportProblem."""
    child = getattr(problem, "child", "")
    local_id = getattr(child, "local_id", "")
    person = f"{child} ({local_id})" if local_id else str(child)
    case_id = getattr(problem, "case_id", None)
    return ExportProblem(
        person=person,
        field=str(getattr(problem, "field", "")),
        message=str(getattr(problem, "message", "")),
        case_reference=str(getattr(problem, "case_reference", "")),
        case_id=int(case_id) if case_id is not None else None,
        rule=str(getattr(problem, "rule", "")),
    )


def _cin_census_kind() -> ExportKind | None:
    functions = _cin_functions()
    if functions is None:
        return None
    census_problems, census_xml = functions
    return ExportKind(
        slug="cin-census",
        label="Children in Need census",
        summary="The DfE's annual census (XML), for the year 1 April to 31 March.",
        service_area=ServiceArea.CHILDREN,
        unit="children",
        extension="xml",
        content_type="application/xml",
        form=CensusYearForm,
        validate=_cin_validate,
        describe=lambda p: f"year ending {long_date(_census_year_end(p))}",
        stem=lambda p: f"cin-census-{_census_year_end(p).isoformat()}",
        problems=lambda authority, p, _user: [
            _cin_problem(found) for found in census_problems(authority, _census_year_end(p))
        ],
        write=lambda authority, p, _user, progress: census_xml(
            authority, _census_year_end(p), progress=progress
        ),
    )


# --- Subject access request (casework/privacy/subject_access.py) -------------------------------

SUBJECT_ACCESS = ExportKind(
    slug=subject_access.SLUG,
    label="Subject access request",
    summary="Everything Casework holds about one person, for a subject access request under "
    "UK GDPR (a ZIP file): their record and their cases as JSON, the case documents, the "
    "signed closure summaries, who has looked at their record, and a summary to read first. "
    "Someone must review it and redact other people's information before it is released.",
    service_area="",  # any: the person decides, through `authorise`
    unit="parts",
    extension="zip",
    content_type="application/zip",
    form=SubjectAccessForm,
    validate=subject_access.validate,
    describe=subject_access.describe,
    stem=subject_access.stem,
    problems=subject_access.problems,
    write=subject_access.subject_access_zip,
    runs=subject_access.may_prepare,
    authority_for=subject_access.preparer_authority,
    refusal=subject_access.REFUSAL,
    authorise=subject_access.authorise,
    written=subject_access.record_export,
)


def export_kinds() -> dict[str, ExportKind]:
    """Every export kind available, by slug."""
    kinds = {CLD.slug: CLD}
    cin = _cin_census_kind()
    if cin is not None:
        kinds[cin.slug] = cin
    kinds[SUBJECT_ACCESS.slug] = SUBJECT_ACCESS
    return kinds


def export_kind(slug: str) -> ExportKind:
    kind = export_kinds().get(slug)
    if kind is None:
        raise InvalidInput("Choose one of the exports on the page.", field="kind")
    return kind


# --- Services -------------------------------------------------------------------------------


def _refusal(kind: ExportKind) -> NotPermitted:
    if kind.refusal:
        return NotPermitted(kind.refusal)
    area = ServiceArea(kind.service_area).label
    return NotPermitted(
        f"Only business support officers and senior managers in {area.lower()} can run the "
        f"{kind.label} export. Ask one of them, or ask your manager to check your role."
    )


@transaction.atomic
def export_request(
    *, actor: User, kind: str, parameters: Mapping[str, Any], today: dt.date | None = None
) -> ExportJob:
    """Record a request for an export and queue it to run when this transaction commits."""
    export = export_kind(kind)
    if not export.may_run(actor):
        raise _refusal(export)
    authority = export.authority_of(actor)
    if authority is None:
        raise _refusal(export)
    values = {str(k): str(v) for k, v in parameters.items()}
    export.validate(values, today or timezone.localdate())
    links: dict[str, Any] = {}
    if export.authorise is not None:
        values, links = export.authorise(actor, values)
    job = ExportJob.objects.create(
        requested_by=actor, authority=authority, kind=export.slug, parameters=values
    )
    audit_record(
        actor=actor,
        verb="export.requested",
        category=AuditCategory.EXPORT,
        obj=job,
        summary=f"{export.label} export requested: {export.describe(values)}",
        changes={"parameters": [None, values]},
        **links,
    )
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    try:
        result = export_run.enqueue(job_id)
    except Exception:
        logger.exception("Export %s could not be queued", job_id)
        _fail(
            job_id,
            "The export could not be queued to run, so nothing was made. Start it again; if "
            f"that fails too, tell your system administrator (export {job_id}).",
        )
        return
    ExportJob.objects.filter(pk=job_id).update(task_id=str(result.id)[:64])


def _fail(job_id: int, message: str) -> None:
    with transaction.atomic():
        ExportJob.objects.filter(pk=job_id).update(
            state=ExportState.FAILED, failure=message, file="", finished_at=timezone.now()
        )
        job = ExportJob.objects.get(pk=job_id)
        audit_record(
            actor=None,
            verb="export.failed",
            category=AuditCategory.EXPORT,
            obj=job,
            summary=f"Export {job_id} failed",
            reason=message,
        )


def _progress_writer(job_id: int) -> Progress:
    """Records progress on the job, at most about a hundred times however long the export."""
    last = -1

    def record(done: int, total: int) -> None:
        nonlocal last
        step = max(1, total // 100)
        if last < 0 or done == total or done - last >= step:
            ExportJob.objects.filter(pk=job_id, state=ExportState.RUNNING).update(
                progress_done=done, progress_total=total
            )
            last = done

    return record


def export_job_run(job_id: int) -> ExportJob | None:
    """Run a queued job: claim it (a job runs once, however often it is delivered), check for
    problems, write the file to a temporary file and store it only when it is complete. On any
    error the job is `failed` with a message saying what to do, and no file is kept.

    Returns the job as it ended, or None if it was not waiting to run."""
    claimed = ExportJob.objects.filter(pk=job_id, state=ExportState.QUEUED).update(
        state=ExportState.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    job = ExportJob.objects.select_related("authority", "requested_by").get(pk=job_id)
    stored = ""
    try:
        kind = export_kind(job.kind)
        problems = kind.problems(job.authority, job.parameters, job.requested_by)
        ExportJob.objects.filter(pk=job_id).update(
            problems=[p.as_json() for p in problems], problem_count=len(problems)
        )
        with tempfile.TemporaryFile() as partial:
            for chunk in kind.write(
                job.authority, job.parameters, job.requested_by, _progress_writer(job_id)
            ):
                partial.write(chunk)
            partial.seek(0)
            filename = f"{kind.stem(job.parameters)}-export-{job.pk}.{kind.extension}"
            name = ExportJob._meta.get_field("file").generate_filename(job, filename)
            stored = private_storage.save(name, File(partial))
        with transaction.atomic():
            finished = ExportJob.objects.filter(pk=job_id, state=ExportState.RUNNING).update(
                state=ExportState.DONE, file=stored, finished_at=timezone.now()
            )
            if not finished:
                raise RuntimeError(f"Export {job_id} changed while it ran")
            job.refresh_from_db()
            audit_record(
                actor=None,
                verb="export.completed",
                category=AuditCategory.EXPORT,
                obj=job,
                summary=f"{kind.label} export {job_id} ready, with {len(problems)} problems",
            )
            if kind.written is not None:
                kind.written(job)
    except Exception:
        logger.exception("Export %s failed", job_id)
        if stored:
            private_storage.delete(stored)
        _fail(
            job_id,
            "The export stopped before it finished, so no file was made. Start it again; if it "
            f"stops again, tell your system administrator (export {job_id}).",
        )
    job.refresh_from_db()
    return job


class ExportFailed(Exception):
    """Raised by the task so the worker's own record shows the failure too."""


@task()
def export_run(job_id: int) -> str:
    """The background task: run the export job `job_id`."""
    job = export_job_run(job_id)
    if job is not None and job.state == ExportState.FAILED:
        raise ExportFailed(job.failure)
    return job.state if job is not None else "not queued"


@transaction.atomic
def export_file_open(*, actor: User, job_id: int) -> tuple[ExportJob, File[bytes]]:
    """The job's file, opened for `actor` (its requester, while they may still run that
    export: someone who has moved to another service loses their old files), with the
    download recorded in the audit log. NotFound for anyone else, and while there is no file."""
    job = export_job_for(actor, job_id)
    kind = export_kinds().get(job.kind)
    if kind is None or not kind.may_run(actor):
        raise NotFound("There is no export with that number that you can see.")
    if job.state != ExportState.DONE or not job.file:
        raise NotFound("This export has no file yet: wait until it says Ready.")
    try:
        opened = job.file.open("rb")
    except FileNotFoundError as gone:
        raise NotFound("The file is no longer there: start the export again.") from gone
    audit_record(
        actor=actor,
        verb="export.downloaded",
        category=AuditCategory.EXPORT,
        obj=job,
        summary=f"Export {job.pk} downloaded",
    )
    return job, opened


@transaction.atomic
def export_command_record(
    *, kind: ExportKind, authority: Authority, parameters: Parameters, output: str, rows: int
) -> None:
    """Audit an export written from the command line (no user: the server's operator)."""
    audit_record(
        actor=None,
        verb="export.written",
        category=AuditCategory.EXPORT,
        obj=authority,
        summary=f"{kind.label} written from the command line: {kind.describe(parameters)}",
        reason=f"Written to {output} ({rows} {kind.unit})",
    )
