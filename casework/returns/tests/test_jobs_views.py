"""The Exports page (issue 8 item 6): who may use it, starting an export once however often
the form is sent, plain-English errors, progress that htmx refreshes while a job runs, and
a job's problems linking to the cases to fix."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework.returns.cld import quarter_of
from casework.returns.jobs import export_job_run, export_request
from casework.returns.models import ExportJob, ExportState
from casework.returns.tests import test_cld
from casework.returns.tests.test_cld import Q1, Adults

adults = test_cld.adults
D = dt.date
EXPORTS = reverse("exports")


def _form(client: Client) -> tuple[str, str]:
    """The CLD form's one-time token and its default (previous) quarter."""
    page = client.get(EXPORTS)
    assert page.status_code == 200
    [(kind, form, token)] = page.context["kinds"]
    assert kind.slug == "cld"
    return token, form["quarter"].initial


def test_staff_without_an_area_wide_role_get_the_403_page(adults: Adults, client: Client) -> None:
    """Issue 8 item 6, X-02: a social worker or team manager sees the plain 403 page."""
    for user in (adults.worker, adults.manager):
        client.force_login(user)
        page = client.get(EXPORTS)
        assert page.status_code == 403
        assert "business support officers and senior managers" in page.content.decode()


def test_starting_an_export_twice_from_one_form_makes_one_job(
    adults: Adults, client: Client
) -> None:
    """Issue 8 item 6: the form carries a one-time token, so a second post of the same form (a
    double click, Back and submit) starts nothing more and says so."""
    client.force_login(adults.officer)
    token, quarter = _form(client)
    data = {"kind": "cld", "once": token, "cld-quarter": quarter}
    first = client.post(EXPORTS, data, follow=True)
    job = ExportJob.objects.get()
    period = quarter_of(dt.date.fromisoformat(quarter))
    assert job.parameters == period.as_parameters()
    assert "Export started: Adults&#x27; Client Level Data" in first.content.decode()
    second = client.post(EXPORTS, data, follow=True)
    assert "already started, so it has not been started again" in second.content.decode()
    assert ExportJob.objects.count() == 1


def test_a_missing_choice_is_shown_in_an_error_summary(adults: Adults, client: Client) -> None:
    """Issue 8 item 6: the GOV.UK error summary links to the field, in plain English."""
    client.force_login(adults.officer)
    token, _ = _form(client)
    page = client.post(EXPORTS, {"kind": "cld", "once": token, "cld-quarter": ""})
    html = page.content.decode()
    assert page.status_code == 200
    assert "<title>Error: Exports" in html
    assert 'href="#id_cld-quarter">Choose the quarter to report.</a>' in html
    assert not ExportJob.objects.exists()


def test_htmx_polls_the_list_while_a_job_runs_and_stops_when_it_is_done(
    adults: Adults, client: Client
) -> None:
    """Issue 8 item 6: while a job is waiting or running the list asks to be refreshed every
    two seconds (htmx gets just the list); once all are finished it no longer asks. Without
    JavaScript the page offers a reload. A job waiting for over five minutes says the worker
    may not be running."""
    job = export_request(actor=adults.officer, kind="cld", parameters=Q1.as_parameters())
    client.force_login(adults.officer)
    page = client.get(EXPORTS).content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert "reload the page" in page
    assert "Waiting to start" in page

    assert "the background worker may not be running" not in page
    ExportJob.objects.filter(pk=job.pk).update(
        requested_at=timezone.now() - dt.timedelta(minutes=6)
    )
    assert "the background worker may not be running" in client.get(EXPORTS).content.decode()

    ExportJob.objects.filter(pk=job.pk).update(
        state=ExportState.RUNNING, progress_done=40, progress_total=160
    )
    poll = client.get(EXPORTS, headers={"HX-Request": "true"})
    fragment = poll.content.decode()
    assert fragment.lstrip().startswith('<div id="jobs"')
    assert "25% done: 40 of 160 cases" in fragment
    assert 'hx-trigger="every 2s"' in fragment

    ExportJob.objects.filter(pk=job.pk).update(state=ExportState.QUEUED)
    export_job_run(job.pk)
    fragment = client.get(EXPORTS, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in fragment
    assert "Ready" in fragment
    assert reverse("export-file", kwargs={"job_id": job.pk}) in fragment


def test_a_jobs_page_lists_its_problems_with_links_to_the_cases(
    adults: Adults, client: Client
) -> None:
    """Issue 8 item 5: a data officer sees each problem (person, case, field, what to do) and
    can go straight to the case."""
    person = adults.person("Kim", nhs_number="")
    case = adults.case(person, D(2026, 4, 2))
    adults.service(case, D(2026, 4, 3))
    job = export_request(actor=adults.officer, kind="cld", parameters=Q1.as_parameters())
    export_job_run(job.pk)
    client.force_login(adults.officer)
    page = client.get(reverse("export-detail", kwargs={"job_id": job.pk})).content.decode()
    assert "Problems to fix before submitting (1)" in page
    assert f"Kim Tester ({person.local_id})" in page
    assert f'href="{reverse("case-detail", kwargs={"case_id": case.pk})}"' in page
    assert "Add Kim Tester&#x27;s NHS number" in page
    listing = client.get(EXPORTS).content.decode()
    assert "1 problem to fix" in listing


def test_the_quarter_in_progress_is_offered_as_a_preview(adults: Adults, client: Client) -> None:
    """The form offers the quarter in progress (marked) and the eight before it."""
    client.force_login(adults.officer)
    page = client.get(EXPORTS)
    [(_kind, form, _token)] = page.context["kinds"]
    choices = form.fields["quarter"].choices
    assert len(choices) == 9
    assert choices[0][1].endswith("(in progress)")
    assert not choices[1][1].endswith("(in progress)")
    assert form["quarter"].initial == choices[1][0]  # the last finished quarter
