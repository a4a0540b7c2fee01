"""The README's "Try a closure", step by step, against the demo authority exactly as
`make run` loads it: a newcomer proposes a closure as the demo worker and the demo manager
decides, audits and authorises it, using only what the README and the screens say."""

from __future__ import annotations

import re
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from casework.cases.models import Case, CaseStatus
from tests.browser.test_closure_main_paths import follow, heading, land, press, success

PASSWORD = "a-demo-password-123"  # noqa: S105 - the test's own demo password
README = Path(__file__).resolve().parents[2] / "README.md"


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    press(page, "Sign in")
    heading(page, "My cases")


@pytest.mark.django_db(transaction=True)
def test_a_newcomer_closes_a_case_by_following_the_readme(
    page: Page, live_server: object, new_context: Callable[..., Any]
) -> None:
    readme = README.read_text(encoding="utf-8")
    assert "## Try a closure" in readme
    out = StringIO()
    call_command("load_demo", password=PASSWORD, stdout=out)
    found = re.search(
        r"sign in as (\S+), open case (C\d+).*then sign in as (\S+) to", out.getvalue()
    )
    assert found, out.getvalue()[-600:]
    worker, reference, manager = found.groups()
    for name in (worker, manager):
        assert f"`{name}`" in readme
    base = str(live_server)

    # 1. The worker proposes closure.
    sign_in(page, base, worker)
    follow(page, reference)
    land(page, page.get_by_role("button", name="Propose closure"))
    heading(page, "Propose closing the case")
    page.get_by_label("Outcomes achieved and no further input required", exact=False).check()
    press(page, "Propose closure")
    success(page, "Closure proposed")

    # 2. The manager decides, audits and authorises.
    m = new_context().new_page()
    sign_in(m, base, manager)
    follow(m, "Closures waiting for managers")
    land(m, m.locator("#awaiting-decision").get_by_role("link", name=reference))
    heading(m, "Closing the case")
    follow(m, "Hold and record the closure discussion; decide agreed or further actions")
    # The procedure wants the discussion in the case notes first; the page links there.
    land(m, m.get_by_role("link", name="Case notes").first)
    heading(m, "Add a case note")
    m.get_by_label("Kind of note").select_option(label="Closure discussion")
    m.get_by_label("Title").fill("Closure discussion")
    m.get_by_label("Note", exact=True).fill("Outcomes achieved; agreed to close.")
    press(m, "Save")
    success(m, "Case note added")
    follow(m, "Go to the closure task list")
    follow(m, "Hold and record the closure discussion; decide agreed or further actions")
    m.get_by_label("Agree the closure").check()
    m.get_by_label("Closure discussion and the reasons for your decision").fill(
        "Discussed in supervision: outcomes achieved."
    )
    press(m, "Save decision")
    success(m, "Closure agreed")
    follow(m, "Complete the Case Audit Tool")
    cards = m.locator(".govuk-summary-card")
    for index in range(cards.count()):
        card = cards.nth(index)
        number = index + 1
        shows_no = "The record shows: no" in card.inner_text()
        not_applicable = card.get_by_label("Not applicable", exact=True)
        if shows_no and not_applicable.count():
            not_applicable.check()
        elif shows_no:
            card.get_by_label("No", exact=True).check()
        else:
            card.get_by_label("Yes", exact=True).check()
            card.get_by_label(f"Date of the record that shows item {number}").fill(
                str(Case.objects.get(reference=reference).opened_on)
            )
        card.get_by_label(f"Note for item {number}").fill("Checked on the record.")
    press(m, "Save all answers")
    press(m, "Complete checklist")
    success(m, "done")
    follow(m, "Authorise the closure")
    press(m, "Authorise closure")
    success(m, "The case is now closed.")
    expect(m.get_by_role("heading", level=1)).to_have_text("Closing the case")
    assert Case.objects.get(reference=reference).status == CaseStatus.CLOSED
