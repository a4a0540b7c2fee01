"""X-02 in a real browser: another team's worker opens a case with emergency access, their
manager reviews it, and the case's manager sees who has seen the record and restricts it.
Every page is scanned with axe (and, through the autouse fixture, holds the strict CSP)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from casework.accounts.models import User
from casework.cases.models import Case
from casework.organisation.models import Role, Team
from tests.browser.test_closure_main_paths import heading, land, open_site, press, sign_in


def switch_to(page: Page, live_server: object, username: str) -> None:
    press(page, "Sign out")
    heading(page, "Sign in")
    sign_in(page, username)


@pytest.mark.django_db(transaction=True)
def test_x02_emergency_access_review_and_restriction_in_the_browser(
    page: Page,
    live_server: object,
    open_case: Case,
    outsider: User,
    manager: User,
    make_staff: Callable[..., User],
    team_sgcp: Team,
) -> None:
    make_staff("sgcpmanager", team_sgcp, Role.TEAM_MANAGER)
    open_site(page, live_server)
    sign_in(page, outsider.username)

    # Break-glass from the footer: a reason too short is explained, a real one opens the case.
    land(page, page.get_by_role("link", name="Emergency access to a record"))
    heading(page, "Emergency access to a record")
    page.get_by_label("Case reference").fill(open_case.reference)
    page.get_by_label("Why do you need this record now?").fill("urgent")
    press(page, "Open the record")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Say why you need this record")
    page.get_by_label("Why do you need this record now?").fill(
        "Police called out of hours about the child's safety tonight."
    )
    press(page, "Open the record")
    heading(page, "Alex Example")
    expect(page.get_by_role("region", name="Emergency access")).to_contain_text(
        "You opened this record in an emergency"
    )

    # Their own manager is told, and records the outcome on Access reviews.
    switch_to(page, live_server, "sgcpmanager")
    land(page, page.get_by_role("link", name="Access reviews"))
    heading(page, "Emergency access review")
    expect(page.locator(".govuk-summary-card")).to_contain_text("Outsider Tester opened case")
    page.get_by_role("radio", name="Justified", exact=True).check()
    press(page, f"Record the outcome for Outsider Tester, case {open_case.reference}")
    expect(page.locator("#nothing-waiting")).to_be_visible()

    # The case's manager sees who has seen the record, then restricts it.
    switch_to(page, live_server, manager.username)
    page.goto(f"{live_server}/cases/{open_case.pk}/")
    land(page, page.get_by_role("link", name="Who has seen this record"))
    heading(page, "Who has seen this record")
    row = page.locator("#access-log tr", has_text="Outsider Tester").first
    expect(row).to_contain_text("Emergency access")
    page.go_back()
    land(page, page.get_by_role("link", name="Restrict access"))
    heading(page, "Restricted access")
    page.get_by_label("Why must these records be restricted?").fill(
        "The child's parent works in this team."
    )
    press(page, "Restrict access")
    expect(page.locator("#named-people")).to_contain_text("Manager Tester")
    expect(page.locator("#named-people")).to_contain_text("Worker Tester")
