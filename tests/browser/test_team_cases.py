"""The team case list in a real browser (issue 10): from the service navigation, page by page
with the keyset links, filtered to unallocated cases, and reached from the managers' team
page. Every page is scanned with axe (and holds the strict CSP, through the autouse fixture)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from casework.accounts.models import User
from casework.cases.services import case_open
from casework.organisation.models import Team
from casework.people.services import person_create
from tests.browser.test_closure_main_paths import follow, heading, land, open_site, sign_in


@pytest.mark.django_db(transaction=True)
def test_a_manager_pages_through_the_team_cases_and_finds_the_unallocated(
    page: Page, live_server: object, worker: User, manager: User, team_ai: Team
) -> None:
    today = timezone.localdate()
    for n in range(30):
        child = person_create(actor=worker, given_name=f"Child{n:02d}", family_name="Listed")
        case_open(
            actor=worker,
            subject=child,
            team=team_ai,
            received_on=today - dt.timedelta(days=n),
            source="1A",
            reason="Concern",
            allocated_worker=None if n % 10 == 0 else worker,
        )
    open_site(page, live_server)
    sign_in(page, manager.username)

    land(page, page.get_by_role("link", name="Team cases"))
    heading(page, "Your teams' open cases")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(25)
    expect(rows.first).to_contain_text("Child00 Listed")  # newest first
    follow(page, "Older cases")
    expect(rows).to_have_count(5)
    expect(rows.last).to_contain_text("Child29 Listed")
    follow(page, "Newest cases")
    expect(rows.first).to_contain_text("Child00 Listed")

    follow(page, "Show only cases with no allocated worker")
    heading(page, "Unallocated cases in your teams")
    expect(rows).to_have_count(3)
    expect(page.locator("tbody")).not_to_contain_text("Worker Tester")

    # The managers' team page counts them and links to the same list.
    land(page, page.get_by_role("navigation", name="Menu").get_by_role("link", name="My cases"))
    follow(page, "Your teams' work")
    land(page, page.get_by_role("link", name="3 unallocated open cases"))
    heading(page, "Unallocated cases in your teams")
