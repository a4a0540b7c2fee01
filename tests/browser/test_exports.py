"""Exports in a real browser (issue 8 items 5 and 6): a business support officer starts the
adults' Client Level Data export, the production worker runs it, the page's list updates
itself (htmx polling) to Ready, the officer opens the problems and downloads the CSV. Every
page is scanned with axe."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings

from casework.returns.cld import recent_quarters
from casework.returns.models import ExportJob, ExportState
from casework.returns.tests import test_cld
from casework.returns.tests.test_cld import Adults
from tests.browser.test_closure_journeys import assert_accessible
from tests.browser.test_closure_main_paths import heading, land, open_site, press, sign_in, success

adults = test_cld.adults


@pytest.fixture
def private_media(settings: Settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_a_data_officer_starts_the_cld_export_and_downloads_it(
    page: Page, live_server: object, adults: Adults, private_media: Path
) -> None:
    """Issue 8 items 5 and 6: start the export for the last quarter (the form's default), see
    it waiting, let the worker run it, watch the list turn to Ready without reloading, read
    the one problem (a missing NHS number, linked to the case) and download the file."""
    quarter = recent_quarters(timezone.localdate())[1]
    kim = adults.person("Kim", nhs_number="")
    case = adults.case(kim, quarter.start)
    adults.service(case, quarter.start + dt.timedelta(days=1))

    open_site(page, live_server)
    sign_in(page, adults.officer.username)
    page.goto(f"{live_server}/exports/")
    heading(page, "Exports")
    assert_accessible(page)
    press(page, "Start the Adults' Client Level Data export")
    success(page, "Export started: Adults' Client Level Data")
    jobs = page.locator("#jobs")
    expect(jobs).to_contain_text("Waiting to start")

    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    assert ExportJob.objects.get().state == ExportState.DONE
    # No reload: htmx asks for the list every two seconds while a job is unfinished.
    expect(jobs).to_contain_text("Ready", timeout=10_000)
    expect(jobs).to_contain_text("1 problem to fix")
    assert_accessible(page)

    with page.expect_download() as download_info:
        jobs.get_by_role("link", name="Download").click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"cld-{quarter.start.isoformat()}-to-")
    content = Path(download.path()).read_text(encoding="utf-8")
    assert content.startswith("LA_Code,Reporting_Period_Start_Date,")
    assert kim.local_id in content

    land(page, jobs.get_by_role("link", name="1 problem to fix"))
    heading(page, "Adults' Client Level Data")
    expect(page.locator("#problems")).to_have_text("Problems to fix before submitting (1)")
    expect(page.locator("main table")).to_contain_text("Add Kim Tester's NHS number")
    land(page, page.get_by_role("link", name=case.reference))
    heading(page, kim.full_name)
