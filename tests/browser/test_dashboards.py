"""Journey 7 (a manager's week) in a real browser: the dashboards. A service manager narrows
the figures to one team and a period, reads each chart and its table, and downloads a
chart's CSV; a social worker is refused. Every page is scanned with axe, and the keyboard
reaches the filter and every download."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from playwright.sync_api import Page, expect

from casework.oversight.selectors import CHARTS
from casework.oversight.tests import conftest as oversight_fixtures
from casework.oversight.tests.conftest import TODAY, Build, People
from casework.oversight.tests.test_views import populate
from tests.browser.test_closure_journeys import assert_accessible
from tests.browser.test_closure_main_paths import heading, open_site, press, sign_in
from tests.browser.test_everyday_work import tab_to

# The dashboards' fixtures: staff in A&I, SGCP, senior management and an adults' team, and a
# builder for cases, tasks, closures, transfers and returning children.
people = oversight_fixtures.people
build = oversight_fixtures.build


def open_dashboard(page: Page, live_server: object, username: str) -> None:
    open_site(page, live_server)
    sign_in(page, username)
    page.goto(f"{live_server}/oversight/")
    assert_accessible(page)


def test_j7_a_service_manager_filters_reads_and_downloads_the_dashboards(
    page: Page, live_server: object, people: People, build: Build, tmp_path: Path
) -> None:
    """J7, R004-12, R004-05, X-03: every chart has an image with a name and the same figures
    in a table; choosing a team and a period changes the figures; a chart's CSV is the
    table."""
    populate(build, people, 2)
    open_dashboard(page, live_server, people.senior.username)
    heading(page, "Dashboards")
    expect(page.locator("#figures-for")).to_contain_text("Figures for all your teams")
    for chart_id in CHARTS:
        section = page.locator(f"section#{chart_id}")
        expect(section.get_by_role("img")).to_have_count(1)
        expect(section.get_by_role("table")).to_have_count(1)
    workers = page.locator("section#workers-per-child")
    expect(workers.get_by_role("img")).to_have_accessible_name(
        "Social workers per child: bar chart. The table after it has the same figures."
    )
    expect(workers.get_by_role("row", name="1 worker 12 100%")).to_be_visible()

    page.get_by_label("Team", exact=True).select_option(label="Team SGCP")
    page.get_by_label("From", exact=True).fill((TODAY - dt.timedelta(days=10)).isoformat())
    press(page, "Show figures")
    expect(page.locator("#figures-for")).to_contain_text("Figures for Team SGCP from")
    caseload = page.locator("section#caseload")
    expect(caseload.get_by_role("row", name="Sgcpworker Tester")).to_be_visible()
    expect(caseload).not_to_contain_text("Aiworker")
    transfers = page.locator("section#transfers")
    expect(transfers).to_contain_text("0 of 2 transfers completed within 10 working days (0%).")
    expect(transfers.get_by_role("row", name="Team AI to Team SGCP 0 2 0%")).to_be_visible()

    link = page.locator("section#overdue").get_by_role("link", name="Download CSV of overdue work")
    tab_to(page, link)
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    saved = tmp_path / "overdue.csv"
    download.value.save_as(saved)
    assert download.value.suggested_filename.startswith("overdue-")
    rows = list(csv.reader(io.StringIO(saved.read_text())))
    assert rows[0] == ["Who it waits on", "Tasks due", "Still open", "Done late", "Done on time"]
    table = page.locator("section#overdue table tbody tr")
    expect(table).to_have_count(len(rows) - 1)
    assert rows[1][0] == table.first.locator("th").inner_text()


def test_j7_a_team_manager_sees_their_team_and_a_mistake_in_the_period_is_explained(
    page: Page, live_server: object, people: People, build: Build
) -> None:
    populate(build, people, 1)
    open_dashboard(page, live_server, people.ai_manager.username)
    expect(page.get_by_label("Team", exact=True).locator("option")).to_have_text(
        ["All your teams", "Team AI"]
    )
    page.get_by_label("From", exact=True).fill((TODAY + dt.timedelta(days=5)).isoformat())
    press(page, "Show figures")
    expect(page).to_have_title("Error: Dashboards – Casework")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("The first day must be on or before the last day.")
    summary.get_by_role("link").first.click()
    expect(page.get_by_label("From", exact=True)).to_be_focused()


def test_x02_a_social_worker_is_refused_the_dashboards(
    page: Page, live_server: object, people: People
) -> None:
    open_dashboard(page, live_server, people.ai_worker.username)
    expect(
        page.get_by_text("The dashboards are for team managers and senior managers")
    ).to_be_visible()
