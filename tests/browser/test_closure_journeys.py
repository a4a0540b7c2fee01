"""Journeys 2 and 3 (JOURNEYS.md) in a real browser: closing a child's case under procedure
003 and an adult's case under procedure 002. Each person has their own browser session;
every page visited is scanned with axe for WCAG 2.2 AA violations. The record-keeping the
closure screens do not own (the final meeting, the manager's decision on file, the minutes,
supervision) is set up through the services first, as another screen would record it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from casework.accounts.models import User
from casework.cases.models import Case
from casework.cases.services import decision_record, document_upload, meeting_record
from casework.closure.models import Closure, ClosureState, SignedDocument
from casework.closure.tests import conftest as closure_fixtures
from casework.closure.tests.test_views import adult_case_never_seen, adult_staff
from casework.organisation.models import Team

# The closure tests' fixtures (a bound pack; a child's case with address, phone and school).
bind = closure_fixtures.bind
child_case = closure_fixtures.child_case

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]
PASSWORD = "a-test-password-123"  # noqa: S105 - the fixtures' test password
TODAY = timezone.localdate()
WORKER_ACTION_TARGET = 25


def assert_accessible(page: Page) -> None:
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    assert results.violations_count == 0, results.generate_report()


class Person:
    """One member of staff in their own browser session. Every page they land on is scanned
    with axe; `actions` counts what they do (clicks, fills, choices, reloads)."""

    def __init__(self, page: Page, base: str, username: str) -> None:
        self.page = page
        self.base = base
        self.actions = 0
        page.goto(f"{base}/sign-in/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("My cases")
        assert_accessible(page)

    def visit(self, path: str) -> None:
        self.page.goto(f"{self.base}{path}")
        assert_accessible(self.page)

    def reload(self) -> None:
        self.actions += 1
        self.page.reload()
        assert_accessible(self.page)

    def click(self, target: Locator, *, lands: bool = True) -> None:
        """Click; when the click loads a page, wait for it and scan it."""
        self.actions += 1
        if lands:
            with self.page.expect_navigation():
                target.click()
            assert_accessible(self.page)
        else:
            target.click()

    def link(self, name: str) -> None:
        self.click(self.page.get_by_role("link", name=name, exact=True).first)

    def button(self, name: str) -> None:
        self.click(self.page.get_by_role("button", name=name, exact=True))

    def fill(self, target: Locator, text: str) -> None:
        self.actions += 1
        target.fill(text)

    def choose(self, target: Locator) -> None:
        self.actions += 1
        target.check()

    def select(self, target: Locator, value: str) -> None:
        self.actions += 1
        target.select_option(value)

    def heading(self) -> Any:
        return expect(self.page.get_by_role("heading", level=1))

    def success(self, text: str) -> None:
        expect(self.page.locator(".govuk-notification-banner--success")).to_contain_text(text)


def tasks_path(case: Case) -> str:
    return f"/cases/{case.pk}/closure/"


@pytest.mark.django_db(transaction=True)
def test_journey_2_closing_a_childs_case_under_procedure_003(
    live_server: object,
    page: Page,
    new_context: Callable[..., Any],
    bind: Callable[[str], None],
    child_case: Case,
    worker: User,
    manager: User,
) -> None:
    """Journey 2 (R000-01, R003-01, R003-03, R003-04, R003-05, R003-06, R000-09, X-03, X-05):
    the worker proposes from the readiness panel; the manager agrees from the queue; the
    worker marks the final meeting held, evidences the seven points, writes the case closure
    summary with the household-independent headings already filled from the record (saved by
    autosave and by "Save draft"), checks and submits it and signs; the manager checks the
    file and signs; the worker records who it was shared with and the case shows Closed.
    The worker needs at most 25 page actions from proposal to signature."""
    bind("003-ending-interventions")
    meeting_record(
        actor=worker,
        case=child_case,
        kind="final",
        held_on=TODAY,
        attendees=[{"name": "Parent", "role": "mother"}, {"name": "School", "role": "head"}],
        minutes="Reasons for closure explained; family feedback heard.",
    )
    decision_record(
        actor=manager, case=child_case, kind="advise_closure", decided_on=TODAY, decision="Close"
    )
    document_upload(
        actor=worker,
        case=child_case,
        kind="minutes",
        title="Final meeting minutes",
        upload=SimpleUploadedFile("m.pdf", b"%PDF-1.4 minutes", content_type="application/pdf"),
    )
    base = str(live_server)
    w = Person(page, base, "worker")
    m = Person(new_context().new_page(), base, "manager")

    # The worker opens the case: the readiness panel shows the procedure and its gates.
    w.link(child_case.reference)
    expect(w.page.locator("section[aria-labelledby=closure]")).to_contain_text(
        "Ending Interventions with Families"
    )
    expect(w.page.get_by_text("No plan is still open")).to_be_visible()
    w.actions = 0  # counting starts at the proposal

    w.click(w.page.get_by_role("button", name="Propose closure"))
    w.heading().to_have_text("Propose closing the case")
    w.choose(w.page.get_by_label("Services ceased (including no longer in need) (RC7)"))
    w.button("Propose closure")
    w.success("Closure proposed")
    w.heading().to_have_text("Closing the case")
    expect(w.page.get_by_text("Once the closure is agreed").first).to_be_visible()

    # The manager finds it in the queue and agrees after the closure discussion.
    m.link("Closures waiting for managers")
    expect(m.page.locator("#awaiting-decision")).to_contain_text(child_case.reference)
    m.link(child_case.reference)
    m.link("Team manager records the decision")
    m.choose(m.page.get_by_label("Agree the closure"))
    m.fill(
        m.page.get_by_label("Closure discussion and the reasons for your decision"),
        "Discussed in supervision: the plan's outcomes are met and the school will monitor.",
    )
    m.button("Save decision")
    m.success("Closure agreed")

    # The worker: the final meeting (recorded on the case) is marked held.
    w.reload()
    w.link("Hold the final meeting with the family and agencies")
    expect(w.page.get_by_text("2 attended, minutes recorded")).to_be_visible()
    w.button("Mark as done")
    w.success("Done: Hold the final meeting")

    # The seven points: the agencies heading arrives filled from the record.
    w.link("Evidence the seven points")
    expect(
        w.page.get_by_text("Filled from the record: The professionals and agencies")
    ).to_be_visible()
    expect(w.page.get_by_label("Support handed over", exact=False)).to_have_value(
        "School: Testford Primary (Head teacher)"
    )
    w.fill(w.page.get_by_label("How the family is now able to meet"), "Routines are stable.")
    w.fill(w.page.get_by_label("Why statutory intervention is no longer"), "Goals were met.")
    w.fill(w.page.get_by_label("The family's strategies"), "Grandmother will help.")
    w.fill(w.page.get_by_label("How confident the family"), "Everyone is confident.")
    w.choose(
        w.page.get_by_role("group", name="Everyone understands the decision").get_by_label(
            "Yes", exact=True
        )
    )
    w.fill(w.page.get_by_label("Scaling score"), "8")
    w.button("Continue")
    w.heading().to_contain_text("Check your answers")
    w.button("Submit")
    w.success("Evidence for ending the intervention submitted")

    # The case closure summary: the reason for the work and the final meeting's date are
    # filled from the record; the worker writes the analysis and the safety plan.
    w.link("Write the case closure summary")
    expect(
        w.page.get_by_text("Filled from the record: The reasons given on the contacts")
    ).to_be_visible()
    expect(
        w.page.get_by_text("Filled from the record: The date of the final meeting")
    ).to_be_visible()
    expect(w.page.get_by_label("What was the reason for the social work")).to_contain_text(
        "School raised concerns about attendance"
    )
    expect(w.page.get_by_label("Date of final meeting")).to_have_value(TODAY.isoformat())
    w.fill(
        w.page.get_by_label("What intervention has been provided"),
        "Parenting programme: routines now stable; school attendance above 95%.",
    )
    w.fill(
        w.page.get_by_label("What is the safety plan"),
        "Grandmother collects from school; call the front door if worried.",
    )
    # Autosave: saved within a few seconds of typing, announced in the live region.
    expect(w.page.locator("[data-autosave-status]")).to_contain_text("Saved at", timeout=12_000)
    w.choose(
        w.page.get_by_role("group", name="Minutes of the final meeting").get_by_label(
            "Yes", exact=True
        )
    )
    w.button("Save draft")
    w.success("Draft saved")
    expect(w.page.get_by_label("What is the safety plan")).to_have_value(
        "Grandmother collects from school; call the front door if worried."
    )
    w.button("Continue")
    expect(w.page.get_by_text("Parenting programme: routines now stable")).to_be_visible()
    w.button("Submit")
    w.success("Case closure summary submitted")

    # The worker signs exactly what was submitted.
    w.link("Worker and team manager sign the summary")
    expect(w.page.get_by_text("Grandmother collects from school")).to_be_visible()
    w.button("Sign as social worker")
    w.success("Signed as social worker")
    worker_actions = w.actions
    assert worker_actions <= WORKER_ACTION_TARGET, worker_actions
    document = SignedDocument.objects.get(closure__case=child_case)
    expect(w.page.get_by_text(document.content_hash)).to_be_visible()
    pdf_link = w.page.get_by_role("link", name="Download PDF")
    pdf = w.page.request.get(f"{base}{pdf_link.get_attribute('href')}")
    assert pdf.headers["content-type"] == "application/pdf"
    assert "attachment" in pdf.headers["content-disposition"]

    # The manager checks the file (each item's automatic check shown) and signs.
    m.reload()
    m.link("Check the file before closing")
    expect(m.page.locator("#item-decision")).to_contain_text("The record shows: yes")
    for item in ("decision", "key-documents", "contact-details"):
        card = m.page.locator(f"#item-{item}")
        m.choose(card.get_by_label("Yes", exact=True))
        m.fill(card.get_by_label("Note for item"), "Checked on the record.")
    m.button("Save all answers")
    m.success("Saved 3 answers")
    m.button("Complete checklist")
    m.success("Before the case is closed: done")
    m.link("Worker and team manager sign the summary")
    m.button("Sign as team manager")
    m.success("Signed as team manager")

    # The worker records who the signed summary went to; the case closes.
    w.visit(tasks_path(child_case))
    w.link("Share the summary with the family and professionals (who, when, how)")
    first = w.page.get_by_role("group", name="Recipient 1")
    w.fill(first.get_by_label("Name of recipient 1"), "Sam Example (parent)")
    w.choose(first.get_by_label("Family", exact=True))
    w.select(first.get_by_label("How recipient 1 received it"), "in_person")
    second = w.page.get_by_role("group", name="Recipient 2 (optional)")
    w.fill(second.get_by_label("Name of recipient 2"), "Testford Primary")
    w.choose(second.get_by_label("Professional", exact=True))
    w.select(second.get_by_label("How recipient 2 received it"), "secure_email")
    w.button("Record sharing")
    w.success("The case is now closed")
    w.heading().to_have_text("Alex Example")
    expect(w.page.locator(".govuk-tag").first).to_have_text("Closed")
    assert Closure.objects.get(case=child_case).state == ClosureState.CLOSED
    print(f"Journey 2: the worker used {worker_actions} page actions from proposal to signature")


@pytest.mark.django_db(transaction=True)
def test_journey_3_closing_an_adults_case_under_procedure_002(
    live_server: object,
    page: Page,
    new_context: Callable[..., Any],
    bind: Callable[..., None],
    make_team: Callable[..., Team],
    make_staff: Callable[..., User],
) -> None:
    """Journey 3 (R002-01, R002-04, R002-05, R002-06, R002-13, R002-16): the 18-item Case
    Audit Tool opens with the items the system can check already evaluated and their
    evidence shown; the manager confirms or overrides each with a note; "not applicable" is
    offered only where the tool allows it; a client never seen cannot pass the audit until a
    Service Manager agrees; the manager then authorises and the case closes."""
    bind("002-adults-closure", "adults")
    worker, manager, _senior = adult_staff(make_team, make_staff)
    case = adult_case_never_seen(worker, manager)
    base = str(live_server)
    w = Person(page, base, "aworker")

    w.link(case.reference)
    w.click(w.page.get_by_role("button", name="Propose closure"))
    w.choose(w.page.get_by_label("Outcomes achieved and no further input required", exact=False))
    w.fill(w.page.get_by_label("Note for the manager (optional)"), "Edna is managing well.")
    w.button("Propose closure")
    w.success("Closure proposed")

    m = Person(new_context().new_page(), base, "amanager")
    m.visit(f"/cases/{case.pk}/closure/decision/")
    expect(m.page.get_by_text("Closure discussion recorded in the case notes")).to_be_visible()
    m.choose(m.page.get_by_label("Agree the closure"))
    m.fill(
        m.page.get_by_label("Closure discussion and the reasons for your decision"),
        "Closure discussion held; outcomes achieved.",
    )
    m.button("Save decision")
    m.success("Closure agreed")

    # The task list already says a Service Manager's agreement is needed.
    expect(m.page.get_by_text("The client has been seen in person at some point")).to_be_visible()
    m.link("Complete the Case Audit Tool")
    m.heading().to_have_text("Case Audit Tool – case closure checklist")
    cards = m.page.locator(".govuk-summary-card")
    expect(cards).to_have_count(18)
    expect(m.page.locator("#item-1")).to_contain_text("The record shows: yes")
    expect(m.page.locator("#item-16")).to_contain_text("The record shows: no")
    expect(m.page.locator("#item-6")).to_contain_text("Evidence on the record")
    expect(m.page.locator("#item-6")).to_contain_text("care_act")
    expect(m.page.locator("#item-18")).to_contain_text("supervisions")
    expect(m.page.locator("#item-12")).to_contain_text("No automatic check")
    expect(m.page.locator("#item-1").get_by_label("Not applicable")).to_have_count(0)
    expect(m.page.locator("#item-12").get_by_label("Not applicable")).to_have_count(1)

    for number in range(1, 19):
        card = m.page.locator(f"#item-{number}")
        text = card.inner_text()
        if number in (12, 13, 14, 15):
            answer = "Not applicable"
        elif number == 2:
            answer = "Yes"  # overrides the automatic check: the GP is known, by phone
        else:
            answer = "Yes" if "The record shows: yes" in text else "No"
        m.choose(card.get_by_label(answer, exact=True))
        m.fill(card.get_by_label(f"Note for item {number}"), "Checked on the record.")
        if answer == "Yes":
            m.fill(card.get_by_label(f"Date of the record that shows item {number}"), str(TODAY))
    m.button("Save all answers")
    m.success("Saved 18 answers")
    expect(m.page.locator("#item-2")).to_contain_text("differing from the automatic check")

    # Completing is blocked: the client has never been seen.
    m.button("Complete checklist")
    summary = m.page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("This client has never been seen in person")
    expect(
        summary.get_by_role("link", name="ask a service manager or head of service to agree")
    ).to_be_visible()
    assert_accessible(m.page)

    # The Service Manager agrees, with a note.
    s = Person(new_context().new_page(), base, "asenior")
    s.visit(tasks_path(case))
    s.click(s.page.get_by_role("link", name="ask a service manager or head of service to agree"))
    s.heading().to_have_text("Agree to continue the closure")
    s.fill(
        s.page.get_by_label("Why you agree the closure can go on"),
        "Telephone reviews only; the GP confirms Edna is well. Safe to close.",
    )
    s.button("Agree")
    s.success("You agreed: The client has been seen in person at some point")

    # The manager completes the audit and authorises: the case closes.
    m.visit(f"/cases/{case.pk}/closure/checklist/?checklist=case-audit-tool")
    m.button("Complete checklist")
    m.success("Case Audit Tool – case closure checklist: done")
    m.link("Authorise the closure")
    expect(m.page.get_by_text("18 answered")).to_be_visible()
    m.button("Authorise closure")
    m.success("Closure authorised. The case is now closed.")
    closure = Closure.objects.get(case=case)
    assert closure.state == ClosureState.CLOSED
    case.refresh_from_db()
    assert case.closure_reason == "NFA - Support ended - other reason"
    m.visit(f"/cases/{case.pk}/")
    expect(m.page.get_by_text("See how the case was closed")).to_be_visible()
