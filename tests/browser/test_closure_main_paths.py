"""The main path of a closure under procedures 000, 001 and 004 in a real browser.

One browser page is used throughout: whoever does the next step signs out and the next
person signs in through the sign-in screen, then clicks through the real closure screens.
Every page visited is scanned with axe for WCAG 2.2 AA violations. The record-keeping the
closure screens do not own (visits, notes, plans, meetings, the Manager's Decision on file,
the complexity decision) is set up through the services first, as another screen would
record it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from casework.accounts.models import User
from casework.cases.models import Case
from casework.cases.services import (
    case_complexity_decide,
    decision_record,
    meeting_record,
    note_add,
    plan_end,
    plan_start,
    visit_record,
)
from casework.closure.models import Closure, ClosureState, SignedDocument
from casework.closure.tests import conftest as closure_fixtures
from tests.browser.test_closure_journeys import PASSWORD, assert_accessible

# The closure tests' fixtures: a bound pack, a child's case with an address, a phone number
# and a school, and a Senior Fieldwork Manager ("sfm").
bind = closure_fixtures.bind
child_case = closure_fixtures.child_case
senior = closure_fixtures.senior

TODAY = timezone.localdate()
RC7 = "Services ceased (including no longer in need) (RC7)"


# --- Moving around --------------------------------------------------------------------------


def land(page: Page, target: Locator) -> None:
    """Click something that loads a page; wait for the page, then scan it with axe."""
    with page.expect_navigation():
        target.click()
    assert_accessible(page)


def follow(page: Page, link: str) -> None:
    land(page, page.get_by_role("link", name=link, exact=True).first)


def press(page: Page, button: str) -> None:
    land(page, page.get_by_role("button", name=button, exact=True))


def heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def success(page: Page, text: str) -> None:
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(text)


def open_site(page: Page, live_server: object) -> None:
    page.goto(f"{live_server}/")
    heading(page, "Sign in")
    assert_accessible(page)


def sign_in(page: Page, username: str) -> None:
    """On the sign-in page: sign in and land on My cases."""
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    press(page, "Sign in")
    heading(page, "My cases")


def sign_out(page: Page) -> None:
    press(page, "Sign out")
    heading(page, "Sign in")


def switch_user(page: Page, username: str) -> None:
    sign_out(page)
    sign_in(page, username)


def open_case(page: Page, case: Case) -> None:
    """From My cases, open the case page."""
    follow(page, case.reference)
    heading(page, case.subject.full_name)


def open_tasks_from_my_cases(page: Page, case: Case) -> None:
    open_case(page, case)
    follow(page, "Go to the closure task list")
    heading(page, "Closing the case")


def open_tasks_from_queue(page: Page, case: Case, section: str) -> None:
    """A manager finds the closure in the managers' queue, in the section named by its id."""
    follow(page, "Closures waiting for managers")
    expect(page.locator(f"#{section}")).to_contain_text(case.reference)
    land(page, page.locator(f"#{section}").get_by_role("link", name=case.reference))
    heading(page, "Closing the case")


# --- The closure's steps --------------------------------------------------------------------


def propose(page: Page, reason: str, note: str) -> None:
    """From the case page's readiness panel, propose closure with a reason."""
    land(page, page.get_by_role("button", name="Propose closure"))
    heading(page, "Propose closing the case")
    page.get_by_label(reason, exact=True).check()
    page.get_by_label("Note for the manager (optional)").fill(note)
    press(page, "Propose closure")
    success(page, "Closure proposed")
    heading(page, "Closing the case")


def agree(page: Page, step: str, discussion: str) -> None:
    """The manager records the closure discussion and agrees the closure."""
    follow(page, step)
    heading(page, "Decide on the closure")
    page.get_by_label("Agree the closure").check()
    page.get_by_label("Closure discussion and the reasons for your decision").fill(discussion)
    press(page, "Save decision")
    success(page, "Closure agreed")


def mark_done(page: Page, step: str, note: str) -> None:
    """A step that is a fact (a discussion, a decision on the case, a task) with a note."""
    follow(page, step)
    heading(page, step)
    page.get_by_label("Note (optional)").fill(note)
    press(page, "Mark as done")
    success(page, f"Done: {step}.")


def fill_text(page: Page, answers: dict[str, str]) -> None:
    for label, text in answers.items():
        page.get_by_label(label).fill(text)


def choose(page: Page, answers: dict[str, str]) -> None:
    """Radio headings: `answers` maps each heading's legend to the option chosen."""
    for legend, option in answers.items():
        page.get_by_role("group", name=legend).get_by_label(option, exact=True).check()


def save_draft(page: Page) -> None:
    press(page, "Save draft")
    success(page, "Draft saved")


def check_and_submit(page: Page, title: str, expected: list[str]) -> None:
    """Continue to "Check your answers", see the answers, and submit."""
    press(page, "Continue")
    heading(page, f"Check your answers: {title.lower()}")
    for answer in expected:
        expect(page.locator(".govuk-summary-list").get_by_text(answer).first).to_be_visible()
    press(page, "Submit")
    success(page, f"{title} submitted")


def answer_checklist(page: Page) -> int:
    """Answer every item of the checklist on the page "Yes" with a note, save the answers,
    and return how many items there are."""
    cards = page.locator(".govuk-summary-card")
    count = cards.count()
    assert count > 0
    for index in range(count):
        card = cards.nth(index)
        card.get_by_label("Yes", exact=True).check()
        card.get_by_label("Note for item").fill("Checked on the record.")
    press(page, "Save all answers")
    success(page, f"Saved {count} answers")
    expect(page.get_by_text(f"{count} of {count} items answered.")).to_be_visible()
    return count


def complete_checklist(page: Page, title: str) -> None:
    press(page, "Complete checklist")
    success(page, f"{title}: done")


def sign(page: Page, step: str, role: str) -> None:
    follow(page, step)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sign the")
    press(page, f"Sign as {role}")
    success(page, f"Signed as {role}")


def assert_pdf(page: Page, link: Locator) -> None:
    """X-05: the document downloads as a PDF (fetched with the signed-in session)."""
    url = link.evaluate("a => a.href")  # the absolute address the browser would fetch
    response = page.request.get(url)
    assert response.ok, response.status
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")


def assert_case_closed(page: Page, case: Case, code: str) -> None:
    """The case page shows the case as Closed, with the national closure code."""
    heading(page, case.subject.full_name)
    expect(page.locator("h1 + p > .govuk-tag").first).to_have_text("Closed")
    expect(page.locator(".govuk-summary-list__row", has_text="Closed")).to_contain_text(
        f"{TODAY.day} {TODAY:%B %Y} ({code})"
    )
    panel = page.locator("section[aria-labelledby=closure]")
    expect(panel).to_contain_text(f"Closed on {TODAY.day} {TODAY:%B %Y}")
    expect(panel).to_contain_text(f"({code})")
    case.refresh_from_db()
    assert (case.status, case.closure_reason) == ("closed", code)
    assert Closure.objects.get(case=case).state == ClosureState.CLOSED


# --- Procedure 000 --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_main_path_of_a_closure_under_procedure_000(
    live_server: object,
    page: Page,
    bind: Callable[[str], None],
    child_case: Case,
    worker: User,
    manager: User,
) -> None:
    """Procedure 000, Closing Cases (R000-01, R000-06, R000-08, R000-09, R000-10, X-05): the
    worker proposes with a reason (R000-01); the team manager discusses and agrees
    (R000-10) and marks the complexity decision done; the worker writes the closing summary
    under its standard headings, the household filled from the record (R000-06), and
    presents the case for closure (R000-10); the manager audits the record item by item
    (R000-08) and authorises (R000-10); the worker and the manager sign the same content
    (R000-09); the case shows Closed with RC7 and the signed summary downloads as a PDF
    (X-05)."""
    bind("000-closing-cases")
    visit_record(
        actor=worker, case=child_case, visited_on=TODAY, subject_seen=True, home_visited=True
    )
    case_complexity_decide(
        actor=manager, case=child_case, is_complex=False, reason="A single issue: attendance."
    )

    open_site(page, live_server)
    sign_in(page, "worker")
    open_case(page, child_case)
    expect(page.locator("section[aria-labelledby=closure]")).to_contain_text(
        "Closing Cases (children)"
    )
    propose(page, RC7, "Attendance is above 95% and the family no longer need us.")

    switch_user(page, "manager")
    open_tasks_from_queue(page, child_case, "awaiting-decision")
    agree(
        page,
        "Discuss the case and agree whether closure can take place",
        "Discussed in supervision: the outcome is achieved and the school will monitor.",
    )
    mark_done(page, "Decide whether the case is complex", "Not complex: a single issue.")

    switch_user(page, "worker")
    open_tasks_from_my_cases(page, child_case)
    follow(page, "Write the closing summary")
    heading(page, "Closing summary")
    expect(
        page.get_by_text("Filled from the record: Everyone living with the subject")
    ).to_be_visible()
    expect(page.get_by_label("Brief household details")).to_contain_text("Alex Example")
    expect(page.get_by_label("Family composition")).to_have_count(0)  # not a complex case
    fill_text(
        page,
        {
            "Description of agreed outcome": "School attendance above 95% for a term.",
            "Evidence of outcome being achieved": "School attendance data, 1 May to today.",
        },
    )
    choose(page, {"Was the agreed outcome achieved?": "Yes"})
    save_draft(page)
    expect(page.get_by_label("Description of agreed outcome")).to_have_value(
        "School attendance above 95% for a term."
    )
    fill_text(page, {"Reasons for case closure": "The agreed outcome has been achieved."})
    check_and_submit(
        page,
        "Closing summary",
        ["School attendance above 95% for a term.", "The agreed outcome has been achieved."],
    )
    mark_done(
        page,
        "Present the case for closure to the team manager or supervisor",
        "Presented in supervision.",
    )

    switch_user(page, "manager")
    open_tasks_from_queue(page, child_case, "awaiting-authorisation")
    follow(page, "Supervisor audits the case record")
    heading(page, "Supervisor's audit of the case record before closure")
    for item in ("recording-up-to-date", "household-recorded", "plans-ended"):
        expect(page.locator(f"#item-{item}")).to_contain_text("The record shows: yes")
    expect(page.locator("#item-decision-on-file")).to_contain_text("No automatic check")
    assert answer_checklist(page) == 4
    complete_checklist(page, "Supervisor's audit of the case record before closure")
    follow(page, "Authorise and date the closing summary")
    heading(page, "Authorise and date the closing summary")
    expect(page.get_by_text("4 answered: 4 yes")).to_be_visible()
    press(page, "Authorise closure")
    success(page, "Closure authorised.")

    sign_step = "Caseworker and supervisor sign and date the closing summary"
    switch_user(page, "worker")
    open_tasks_from_my_cases(page, child_case)
    sign(page, sign_step, "social worker")
    document = SignedDocument.objects.get(closure__case=child_case)
    expect(page.get_by_text(document.content_hash)).to_be_visible()

    # An authorised closure is not in the managers' queue: the manager opens the case from
    # the team's cases on My cases.
    switch_user(page, "manager")
    open_tasks_from_my_cases(page, child_case)
    sign(page, sign_step, "team manager")
    success(page, "The case is now closed.")
    expect(page.get_by_role("cell", name="Worker Tester")).to_be_visible()
    expect(page.get_by_role("cell", name="Manager Tester")).to_be_visible()
    expect(page.get_by_text(document.content_hash)).to_be_visible()
    assert_pdf(page, page.get_by_role("link", name="Download PDF"))

    follow(page, "Back to the closure task list")
    follow(page, "Back to the case")
    assert_case_closed(page, child_case, "RC7")


# --- Procedure 001 --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_main_path_of_a_closure_under_procedure_001(
    live_server: object,
    page: Page,
    bind: Callable[[str], None],
    child_case: Case,
    worker: User,
    manager: User,
    senior: User,
) -> None:
    """Procedure 001, Completing a Closure Record (R001-01, R001-03, R001-04, R001-06, X-05):
    the case has been open beyond the 10-day assessment period, so it closes with a closure
    record and the assessment write-up does not apply (R001-01); the closure record runs
    from the Manager's Decision advising closure and is due 15 working days after it
    (R001-04); the worker completes its headings, some filled from the record (R001-03), and
    the remedial work; the Senior Fieldwork Manager answers the Compliance Review and
    authorises (R001-06); the case shows Closed with RC7 and the authorised closure record
    and Compliance Review download as PDFs (X-05)."""
    bind("001-closure-record")
    plan = plan_start(
        actor=worker, case=child_case, kind="cin", started_on=TODAY - dt.timedelta(days=40)
    )
    meeting_record(
        actor=worker,
        case=child_case,
        kind="cin_meeting",
        held_on=TODAY - dt.timedelta(days=40),
        attendees=[{"name": "Parent", "role": "mother"}],
        minutes="Child's Plan agreed.",
    )
    plan_end(actor=worker, plan=plan, ended_on=TODAY - dt.timedelta(days=1), outcome="Met")
    visit_record(
        actor=worker, case=child_case, visited_on=TODAY, subject_seen=True, home_visited=True
    )
    note_add(
        actor=worker,
        case=child_case,
        title="Ending",
        body="Ending discussed with mother.",
        occurred_on=TODAY,
    )
    decision_record(
        actor=manager,
        case=child_case,
        kind="advise_closure",
        decided_on=TODAY,
        decision="Advise closure: the Child's Plan is achieved.",
    )
    due = child_case.responsible_team.authority.calendar().add_working_days(TODAY, 15)

    open_site(page, live_server)
    sign_in(page, "worker")
    open_case(page, child_case)
    expect(page.locator("section[aria-labelledby=closure]")).to_contain_text(
        "Completing a Closure Record (children)"
    )
    propose(page, RC7, "The Child's Plan is achieved.")

    switch_user(page, "manager")
    open_tasks_from_queue(page, child_case, "awaiting-decision")
    agree(
        page,
        "Manager's Decision or supervision advising closure",
        "Closure advised: the Child's Plan is achieved and has ended.",
    )

    switch_user(page, "worker")
    open_tasks_from_my_cases(page, child_case)
    write_up = page.locator(".govuk-task-list__item", has_text="Write up the assessment")
    expect(write_up).to_contain_text("Not applicable")
    record_row = page.locator(".govuk-task-list__item", has_text="Complete the closure record")
    expect(record_row).to_contain_text(f"Due {due.day} {due:%B %Y}")
    follow(page, "Complete the closure record")
    heading(page, "Closure record")
    expect(page.get_by_label("current address, if different")).to_contain_text("3 Example Row")
    expect(page.get_by_label("Reasons for social care involvement")).to_contain_text(
        "School raised concerns about attendance"
    )
    expect(page.get_by_label("Which professionals will continue")).to_contain_text(
        "Testford Primary"
    )
    fill_text(
        page,
        {"Summary of progress achieved": "Attendance restored; routines are stable at home."},
    )
    choose(
        page,
        {
            "Has the ending of social work involvement been discussed": "Yes",
            "Has the ending been discussed with the child": "Not applicable",
        },
    )
    save_draft(page)
    choose(page, {"Has the parent or carer been given a copy": "Yes"})
    check_and_submit(
        page,
        "Closure record",
        ["Attendance restored; routines are stable at home.", "Not applicable"],
    )
    mark_done(
        page,
        "Complete outstanding remedial work",
        "Case notes and the address are up to date.",
    )

    switch_user(page, "sfm")
    open_tasks_from_queue(page, child_case, "awaiting-authorisation")
    authorise_step = "Authorise the closure and complete the Compliance Review"
    follow(page, authorise_step)
    heading(page, authorise_step)
    follow(page, "Answer the compliance review by the senior fieldwork manager")
    heading(page, "Compliance Review by the Senior Fieldwork Manager")
    for item in ("assessments-complete", "plan-recorded", "visits-recorded"):
        expect(page.locator(f"#item-{item}")).to_contain_text("The record shows: yes")
    expect(page.locator("#item-gaps")).to_contain_text("No automatic check")
    assert answer_checklist(page) == 4
    follow(page, "go on to authorise the closure and complete the compliance review")
    heading(page, authorise_step)
    expect(page.get_by_text("4 answered: 4 yes")).to_be_visible()
    page.get_by_label("Compliance review").fill("Recording is in place; no gaps remain.")
    press(page, "Authorise closure")
    success(page, "Closure authorised. The case is now closed.")
    documents = page.get_by_role("link", name="(version 1, PDF)")
    expect(documents).to_have_count(2)
    assert_pdf(page, page.get_by_role("link", name="Closure record (version 1, PDF)"))
    assert_pdf(
        page,
        page.get_by_role(
            "link", name="Compliance Review by the Senior Fieldwork Manager (version 1, PDF)"
        ),
    )

    follow(page, "Back to the case")
    assert_case_closed(page, child_case, "RC7")


# --- Procedure 004 --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_main_path_of_a_closure_under_procedure_004(
    live_server: object,
    page: Page,
    bind: Callable[[str], None],
    child_case: Case,
    worker: User,
    manager: User,
) -> None:
    """Procedure 004, Transfer and Closure (R004-10, X-05): a family moving permanently to
    another authority closes with RC5 and a closing summary naming the authority referred
    to (R004-10), signed by the worker and the team manager. The child's plan is still open
    when the last signature is given, so the case waits; once the plan has ended the worker
    finishes the closure, the case shows Closed with RC5 and the signed summary downloads
    as a PDF (X-05)."""
    bind("004-transfer-and-closure")
    plan = plan_start(
        actor=worker, case=child_case, kind="cin", started_on=TODAY - dt.timedelta(days=30)
    )

    open_site(page, live_server)
    sign_in(page, "worker")
    open_case(page, child_case)
    expect(page.locator("section[aria-labelledby=closure]")).to_contain_text(
        "Transfer and Closure of Cases (children)"
    )
    propose(
        page,
        "Family moved permanently to another authority (referred to its front door) (RC5)",
        "The family moved to Another Borough on 1 June; referred to its front door.",
    )

    switch_user(page, "manager")
    open_tasks_from_queue(page, child_case, "awaiting-decision")
    agree(page, "Team manager decides", "The family have moved; the referral has been made.")

    switch_user(page, "worker")
    open_tasks_from_my_cases(page, child_case)
    follow(page, "Write the closing summary")
    heading(page, "Closing summary")
    expect(
        page.get_by_text("Filled from the record: The professionals and agencies")
    ).to_be_visible()
    expect(page.get_by_label("Who continues to support the child")).to_contain_text(
        "Testford Primary"
    )
    fill_text(
        page,
        {
            "Why the case is closing": "The family moved permanently to Another Borough.",
            "What was achieved": "Needs assessed; the assessment was shared with the new area.",
        },
    )
    save_draft(page)
    fill_text(page, {"The authority the family was referred to": "Another Borough Council"})
    check_and_submit(page, "Closing summary", ["Another Borough Council"])
    sign_step = "Worker and team manager sign the closing summary"
    sign(page, sign_step, "social worker")

    switch_user(page, "manager")
    open_tasks_from_queue(page, child_case, "agreed")
    sign(page, sign_step, "team manager")
    assert_pdf(page, page.get_by_role("link", name="Download PDF"))
    follow(page, "Back to the closure task list")
    expect(page.get_by_text("Every step is done, but the case has not closed yet")).to_be_visible()
    expect(page.get_by_text("No plan is still open")).to_be_visible()

    # The child's plan ends (recorded through the service: no screen records plans yet);
    # the worker then finishes the closure.
    plan_end(actor=worker, plan=plan, ended_on=TODAY, outcome="The family moved away.")
    switch_user(page, "worker")
    open_tasks_from_my_cases(page, child_case)
    follow(page, "See what is needed and finish the closure")
    heading(page, "Finish the closure")
    expect(page.get_by_text("Every step is done.")).to_be_visible()
    press(page, "Close the case")
    success(page, "The case is now closed.")
    assert_case_closed(page, child_case, "RC5")
