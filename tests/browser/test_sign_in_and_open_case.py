"""A worker signs in, sees their caseload and opens a case (the first journey's spine).
Every page visited is scanned with axe for WCAG 2.2 AA violations."""

from __future__ import annotations

import datetime as dt

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import Page, expect

from casework.accounts.models import User
from casework.cases.models import Case
from casework.cases.services import visit_record
from casework.people.services import person_move_in

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]


def assert_accessible(page: Page) -> None:
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.django_db(transaction=True)
def test_worker_signs_in_and_opens_a_case(
    live_server: object, page: Page, worker: User, open_case: Case
) -> None:
    today = timezone.localdate()
    person_move_in(
        actor=worker,
        person=open_case.subject,
        line_1="12 Example Road",
        town="Testford",
        postcode="TE1 2AB",
        started_on=today - dt.timedelta(days=300),
    )
    visit_record(
        actor=worker,
        case=open_case,
        visited_on=today,
        subject_seen=True,
        seen_alone=True,
        home_visited=True,
    )
    base = str(live_server)

    page.goto(f"{base}/")
    expect(page).to_have_url(f"{base}/sign-in/?next=/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert_accessible(page)

    page.get_by_label("Username").fill("worker")
    page.get_by_label("Password", exact=True).fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter a correct username and password"
    )
    assert_accessible(page)

    page.get_by_label("Password", exact=True).fill("a-test-password-123")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My cases")
    assert_accessible(page)

    page.get_by_role("link", name=open_case.reference).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alex Example")
    expect(page.get_by_text("12 Example Road")).to_be_visible()
    expect(page.get_by_text("Visit: seen, seen alone, home visited")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
