"""Export jobs (issue 8 item 6): a job is requested (audited, X-01), run by the real task path
(the django-tasks database worker, as in production; and the immediate backend), records its
progress, and its file is downloadable by its requester only (X-02), not even an administrator. A
failed export says so in plain English and leaves no file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from pytest_django.fixtures import Settings as SettingsWrapper

from casework.accounts.models import User
from casework.audit.models import AuditEvent
from casework.audit.services import audit_record
from casework.cases.models import Case
from casework.core.errors import InvalidInput, NotPermitted
from casework.organisation.models import Role, Team
from casework.returns import jobs
from casework.returns.cld import cld_csv
from casework.returns.forms import census_years
from casework.returns.jobs import export_job_run, export_kinds, export_request
from casework.returns.models import ExportJob, ExportState
from casework.returns.tests import test_cld
from casework.returns.tests.test_cld import Q1, Adults

D = dt.date
adults = test_cld.adults


def run_worker() -> None:
    """The production worker (`manage.py db_worker`), running what is queued, then exiting."""
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)


@pytest.fixture
def private_media(settings: SettingsWrapper, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def some_cases(adults: Adults, count: int = 3) -> list[Case]:
    made = []
    for n in range(count):
        person = adults.person(f"Person{n}", **({"nhs_number": ""} if n == 0 else {}))
        case = adults.case(person, D(2026, 4, 1))
        adults.service(case, D(2026, 4, 2))
        made.append(case)
    return made


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def verbs(job: ExportJob) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="returns.exportjob", object_id=str(job.pk))
        .order_by("id")
        .values_list("verb", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_a_requested_export_runs_on_the_worker_and_only_its_requester_downloads_it(
    adults: Adults,
    private_media: Path,
    make_staff: Callable[..., User],
    client: Client,
) -> None:
    """Issue 8 item 6, X-01, X-02: the request is audited and queued for the worker; the
    worker runs it, recording progress (3 of 3 cases) and the problems found; the file is
    streamed to its requester only, is a 404 to another data officer (as
    if it did not exist) and the 403 page to a social worker; each download is audited."""
    some_cases(adults)
    job = export_request(actor=adults.officer, kind="cld", parameters=Q1.as_parameters())
    assert job.state == ExportState.QUEUED
    job.refresh_from_db()
    task = DBTaskResult.objects.get(pk=job.task_id)
    assert task.status == TaskResultStatus.READY

    run_worker()

    job.refresh_from_db()
    task.refresh_from_db()
    assert task.status == TaskResultStatus.SUCCESSFUL
    assert job.state == ExportState.DONE
    assert (job.progress_done, job.progress_total, job.percent) == (3, 3, 100)
    assert job.started_at is not None
    assert job.finished_at is not None
    assert [p.field for p in job.problem_list()] == ["NHS number"]
    assert job.file.name.endswith(f"cld-2026-04-01-to-2026-06-30-export-{job.pk}.csv")
    assert str(private_media / "private") in job.file.path
    assert verbs(job) == ["export.requested", "export.completed"]

    url = reverse("export-file", kwargs={"job_id": job.pk})
    client.force_login(adults.officer)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert body.startswith(b"LA_Code,Reporting_Period_Start_Date,")
    assert body.count(b"\r\n") == 1 + 3 * 2  # a request and a service for each case

    colleague = make_staff("abs-colleague", Team.objects.get(code="abs"), Role.BUSINESS_SUPPORT)
    client.force_login(colleague)
    assert client.get(url).status_code == 404
    assert client.get(reverse("export-detail", kwargs={"job_id": job.pk})).status_code == 404

    client.force_login(adults.worker)
    refused = client.get(url)
    assert refused.status_code == 403
    assert b"You cannot see exports" in refused.content

    # Need to know applies to administrators too: an export is personal data.
    admin = User.objects.create_superuser(username="admin", password="an-admin-password-1")
    client.force_login(admin)
    assert client.get(url).status_code == 403
    assert verbs(job) == ["export.requested", "export.completed", "export.downloaded"]


@pytest.mark.django_db(transaction=True)
def test_progress_is_recorded_while_the_export_runs(
    adults: Adults, private_media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 8 item 6: while the file is written the job shows how far it has got (read here
    between the pieces the export yields, a case at a time)."""
    some_cases(adults)
    seen: list[tuple[str, int, int | None]] = []

    def watched(*args: Any, **kwargs: Any) -> Iterator[bytes]:
        for piece in cld_csv(*args, chunk_size=1, **kwargs):
            job = ExportJob.objects.get()
            seen.append((job.state, job.progress_done, job.progress_total))
            yield piece

    monkeypatch.setattr(jobs, "cld_csv", watched)
    export_request(actor=adults.officer, kind="cld", parameters=Q1.as_parameters())
    run_worker()
    assert seen == [
        ("running", 0, None),  # the header, before the cases are counted
        ("running", 1, 3),
        ("running", 2, 3),
        ("running", 3, 3),
    ]
    assert ExportJob.objects.get().state == ExportState.DONE


@pytest.mark.django_db(transaction=True)
def test_with_the_immediate_backend_the_job_runs_when_the_request_commits(
    adults: Adults, private_media: Path, settings: SettingsWrapper
) -> None:
    """Issue 8 item 6: the task is queued only when the request's transaction commits, so the
    worker never sees a job that is not saved; the immediate backend runs it right then."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    some_cases(adults, 1)
    job = export_request(actor=adults.officer, kind="cld", parameters=Q1.as_parameters())
    job.refresh_from_db()
    assert job.state == ExportState.DONE
    assert job.file


@pytest.mark.django_db(transaction=True)
def test_a_failed_export_says_so_plainly_and_leaves_no_file(
    adults: Adults, private_media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 8 item 6: an export that breaks half-way is `failed` with a message saying what to
    do next, no file is kept (not even the half written), and the worker's own record of the
    task shows the failure too."""
    some_cases(adults)

    def broken(*args: Any, **kwargs: Any) -> Iterator[bytes]:
        yield b"LA_Code,Reporting_Period_Start_Date\r\n"
        raise OSError("No space left on device")

    monkeypatch.setattr(jobs, "cld_csv", broken)
    job = export_request(actor=adults.officer, kind="cld", parameters=Q1.as_parameters())
    run_worker()

    job.refresh_from_db()
    assert job.state == ExportState.FAILED
    assert job.failure == (
        "The export stopped before it finished, so no file was made. Start it again; if it "
        f"stops again, tell your system administrator (export {job.pk})."
    )
    assert not job.file
    assert files_under(private_media) == []
    assert DBTaskResult.objects.get(pk=job.task_id).status == TaskResultStatus.FAILED
    assert verbs(job) == ["export.requested", "export.failed"]


@pytest.mark.django_db(transaction=True)
def test_a_failure_after_the_file_is_stored_removes_it(
    adults: Adults, private_media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 8 item 6: if recording the finished job fails, the stored file is deleted, so a
    file never exists for a job that does not say Ready."""
    some_cases(adults, 1)

    def refuse_completion(**kwargs: Any) -> object:
        if kwargs["verb"] == "export.completed":
            raise RuntimeError("database went away")
        return audit_record(**kwargs)

    monkeypatch.setattr(jobs, "audit_record", refuse_completion)
    job = export_request(actor=adults.officer, kind="cld", parameters=Q1.as_parameters())
    run_worker()
    job.refresh_from_db()
    assert job.state == ExportState.FAILED
    assert not job.file
    assert files_under(private_media) == []


def test_a_job_runs_once_however_often_it_is_delivered(adults: Adults, private_media: Path) -> None:
    """Issue 8 item 6: the worker claims a job with a conditional update, so a second delivery
    of the same task does nothing."""
    some_cases(adults, 1)
    job = export_request(actor=adults.officer, kind="cld", parameters=Q1.as_parameters())
    first = export_job_run(job.pk)
    assert first is not None
    assert first.state == ExportState.DONE
    assert export_job_run(job.pk) is None
    assert len(files_under(private_media)) == 1


def test_only_business_support_and_senior_managers_of_the_area_may_ask(
    adults: Adults, make_staff: Callable[..., User], make_team: Callable[..., Team]
) -> None:
    """Issue 8 item 6, X-02: the adults' CLD covers the whole adults' service area, so only a
    role spanning it may ask: a social worker, a team manager and children's business support
    are refused, with whom to ask."""
    children_support = make_staff(
        "cbs-support", make_team("cbs", holds_cases=False), Role.BUSINESS_SUPPORT
    )
    for user in (adults.worker, adults.manager, children_support):
        with pytest.raises(NotPermitted) as refusal:
            export_request(actor=user, kind="cld", parameters=Q1.as_parameters())
        assert "business support officers and senior managers in adults' services" in str(
            refusal.value
        )
    head = make_staff(
        "head", make_team("asm", "other", "adults", holds_cases=False), Role.HEAD_OF_SERVICE
    )
    assert export_request(actor=head, kind="cld", parameters=Q1.as_parameters()).pk
    assert ExportJob.objects.count() == 1


def test_a_bad_request_is_refused_in_plain_english_and_records_nothing(adults: Adults) -> None:
    """Issue 8 item 6: an unknown export or a period that makes no sense is refused with what
    to do, and no job or audit event is written."""
    with pytest.raises(InvalidInput) as wrong:
        export_request(actor=adults.officer, kind="nonsense", parameters={})
    assert str(wrong.value) == "Choose one of the exports on the page."
    with pytest.raises(InvalidInput) as wrong:
        export_request(
            actor=adults.officer,
            kind="cld",
            parameters={"period_start": "2026-06-30", "period_end": "2026-04-01"},
        )
    assert str(wrong.value) == "The end of the reporting period must be after its start."
    assert not ExportJob.objects.exists()
    assert not AuditEvent.objects.filter(verb="export.requested").exists()


def test_the_cin_census_is_a_kind_of_export_once_cin_py_defines_it(
    adults: Adults,
    open_case: Case,
    make_staff: Callable[..., User],
    make_team: Callable[..., Team],
    private_media: Path,
) -> None:
    """Issue 8 item 6: the CIN census (casework/returns/cin.py) runs through the same jobs:
    children's business support may ask for it (adults' may not), its problems are recorded
    in the same shape (person, field, rule, what to do, case) and its file is the XML."""
    assert "cin-census" in export_kinds()
    support = make_staff("cbs-support", make_team("cbs", holds_cases=False), Role.BUSINESS_SUPPORT)
    year_end = census_years(timezone.localdate())[0]
    parameters = {"census_year_end": year_end.isoformat()}
    with pytest.raises(NotPermitted):
        export_request(actor=adults.officer, kind="cin-census", parameters=parameters)
    with pytest.raises(InvalidInput, match="31 March"):
        export_request(actor=support, kind="cin-census", parameters={"census_year_end": "x"})
    job = export_request(actor=support, kind="cin-census", parameters=parameters)
    finished = export_job_run(job.pk)
    assert finished is not None
    assert finished.state == ExportState.DONE, finished.failure
    assert finished.file.name.endswith(f"cin-census-{year_end.isoformat()}-export-{job.pk}.xml")
    with finished.file.open("rb") as xml:
        assert xml.read(5) == b"<?xml"
    for problem in finished.problem_list():
        assert problem.person
        assert problem.field
        assert problem.message
    child = open_case.subject
    problems = finished.problem_list()
    assert problems, "the fixture child's record is incomplete, so the census lists problems"
    assert {p.person for p in problems} == {f"{child.full_name} ({child.local_id})"}
    assert all(p.rule for p in problems)
