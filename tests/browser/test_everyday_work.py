"""Everyday work in a real browser: my work (tasks waiting on me), finding a person and
recording a referral at the front door, never losing work to a session time-out, and the
keyboard-only transfer and closure journeys. Every page is scanned with axe."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.utils import timezone
from playwright.sync_api import FilePayload, Locator, Page, expect

from casework.accounts.models import User
from casework.cases.models import Case, CaseStatus
from casework.cases.tests.test_intake import returning_child
from casework.closure.models import Closure
from casework.organisation.models import Role, Team
from casework.tasks.models import Task, TaskStatus
from casework.tasks.services import task_schedule
from casework.transfers.models import Transfer
from casework.transfers.tests.test_transfers import Staff, _looked_after_child
from tests.browser.test_closure_journeys import assert_accessible
from tests.browser.test_closure_main_paths import (
    follow,
    heading,
    land,
    open_site,
    press,
    sign_in,
    success,
)

TODAY = timezone.localdate()


def test_j1_my_work_shows_what_is_waiting_and_one_click_does_it(
    page: Page, live_server: object, open_case: Case, worker: User
) -> None:
    """J1: the worker sees an overdue task on their case at the top of My cases and marks it
    done in one click."""
    task_schedule(
        key="visit-due",
        case=open_case,
        title="Statutory visit due",
        role=Role.SOCIAL_WORKER,
        due_on=TODAY - dt.timedelta(days=2),
    )
    open_site(page, live_server)
    sign_in(page, worker.username)
    waiting = page.locator("#waiting-on-you + table")
    expect(waiting).to_contain_text("Statutory visit due")
    expect(waiting).to_contain_text("Overdue")
    land(page, waiting.get_by_role("button", name="Mark as done"))
    success(page, "Done: Statutory visit due")
    expect(page.get_by_text("Nothing is waiting on you.")).to_be_visible()
    assert Task.objects.get(key="visit-due").status == TaskStatus.DONE


def test_j5_the_front_door_finds_a_returning_child_and_records_the_referral(
    page: Page,
    live_server: object,
    make_team: Callable[..., Team],
    make_staff: Callable[..., User],
) -> None:
    """J5: a misspelt name and the date of birth find a child another team closed (identity
    only); recording the referral opens a case and goes to the last closure summary."""
    _irt, _duty, child, _earlier = returning_child(make_team, make_staff)
    open_site(page, live_server)
    sign_in(page, "duty")
    follow(page, "Find a person")
    heading(page, "Find a person")
    page.get_by_label("Name, date of birth, NHS number, UPN or local ID").fill(
        "Catherine Smyth 04/04/2014"
    )
    press(page, "Search")
    results = page.locator("#results + table")
    expect(results).to_contain_text("Katherine Smith")
    expect(results).to_contain_text("Known to the council")
    land(page, results.get_by_role("link", name="Record a referral for Katherine Smith"))
    heading(page, "Record a referral")
    page.get_by_label("Who made it").select_option(label="Schools")
    page.get_by_label("What is reported").fill("Attendance has dropped; worried about home")
    page.get_by_label("Allocate the case to me").check()
    press(page, "Open the case")
    heading(page, "Re-referral review")
    success(page, "Katherine was known before")
    assert Case.objects.filter(subject=child, status=CaseStatus.OPEN).count() == 1


def test_search_as_you_type_with_htmx_and_the_address_keeps_the_query(
    page: Page, live_server: object, open_case: Case, worker: User
) -> None:
    """Progressive enhancement: with JavaScript the results appear as the name is typed,
    and the address bar keeps the search so Back and sharing the link work."""
    open_site(page, live_server)
    sign_in(page, worker.username)
    follow(page, "Find a person")
    name = open_case.subject.full_name
    page.get_by_label("Name, date of birth, NHS number, UPN or local ID").press_sequentially(
        name, delay=20
    )
    expect(page.locator("#search-results")).to_contain_text("1 person found")
    expect(page.locator("#search-results")).to_contain_text(open_case.reference)
    heading(page, "Find a person")  # the page itself did not reload
    assert "q=" in page.url
    assert_accessible(page)


def test_never_lose_work_a_time_out_puts_the_text_back(
    page: Page, live_server: object, open_case: Case, worker: User
) -> None:
    """Issue 6: the worker types, the session times out, they press the button, sign in
    again, and are back on the same form with what they typed in it."""
    open_site(page, live_server)
    sign_in(page, worker.username)
    page.goto(f"{live_server}/cases/{open_case.pk}/documents/")
    heading(page, "Documents")
    page.get_by_label("Title").fill("Minutes of the core group, typed at length")
    page.context.clear_cookies(name="sessionid")
    press(page, "Upload")
    heading(page, "Sign in")
    page.get_by_label("Username").fill(worker.username)
    page.get_by_label("Password", exact=True).fill("a-test-password-123")
    press(page, "Sign in")
    heading(page, "Documents")
    expect(page.locator("#cw-restored")).to_contain_text("What you typed has been put back")
    expect(page.get_by_label("Title")).to_have_value("Minutes of the core group, typed at length")
    assert not open_case.documents.exists()


# --- Keyboard only ----------------------------------------------------------------------------


def tab_to(page: Page, target: Locator, *, limit: int = 250) -> None:
    """Press Tab until `target` has the focus, as a keyboard user would; fail if it is never
    reached (it is not focusable, or hidden from the tab order)."""
    handle = target.element_handle()
    assert handle is not None
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(el) => document.activeElement === el", handle):
            return
    raise AssertionError(f"Tab never reached {target}")


def key_land(page: Page, target: Locator, key: str = "Enter") -> None:
    tab_to(page, target)
    with page.expect_navigation():
        page.keyboard.press(key)
    assert_accessible(page)


def test_keyboard_only_transfer_request(
    page: Page,
    live_server: object,
    bind_004: Callable[..., None],
    make_team: Callable[..., Team],
    make_staff: Callable[..., User],
) -> None:
    """WCAG 2.1.1: the worker asks to transfer a case using only the keyboard: Tab to each
    control, arrow keys for radios, typing, Enter to submit."""
    bind_004()
    staff = Staff(make_team, make_staff)
    case = _looked_after_child(staff)
    page.goto(f"{live_server}/sign-in/")
    page.keyboard.press("Tab")
    tab_to(page, page.get_by_label("Username"))
    page.keyboard.type("sgcpworker")
    page.keyboard.press("Tab")
    page.keyboard.type("a-test-password-123")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    heading(page, "My cases")
    key_land(page, page.get_by_role("link", name=case.reference).first)
    key_land(page, page.locator("#transfers + p").get_by_role("link"))
    key_land(page, page.get_by_role("link", name="Ask to transfer the case"))
    heading(page, "Ask to transfer the case")
    tab_to(page, page.get_by_label("Team AI"))
    page.keyboard.press("Space")
    expect(page.get_by_label("Team AI")).to_be_checked()
    tab_to(page, page.get_by_label("Why should the case move?"))
    page.keyboard.type("Needs a fresh assessment")
    key_land(page, page.get_by_role("button", name="Ask to transfer"))
    success(page, "Transfer requested")
    assert Transfer.objects.get(case=case).to_team == staff.ai

    # The summary, and its check page, by keyboard too.
    key_land(page, page.get_by_role("link", name="Write the transfer summary"))
    for label, text in (
        ("Why the case is transferring", "Principles followed"),
        ("Outstanding areas for intervention and support", "Life story work"),
        ("The agreed point of transfer", "On acceptance"),
    ):
        tab_to(page, page.get_by_label(label))
        page.keyboard.type(text)
    key_land(page, page.get_by_role("button", name="Complete summary"))
    heading(page, "Check your answers")
    key_land(page, page.get_by_role("button", name="Confirm and complete the summary"))
    success(page, "Transfer summary completed")
    assert Transfer.objects.get(case=case).summary["outstanding"] == "Life story work"


def test_keyboard_only_closure_proposal_and_decision(
    page: Page,
    live_server: object,
    bind_004: Callable[..., None],
    open_case: Case,
    worker: User,
    manager: User,
) -> None:
    """WCAG 2.1.1: the worker proposes closing a case and the manager agrees it, each with
    the keyboard alone."""
    bind_004("closure")
    open_site(page, live_server)
    sign_in(page, worker.username)
    open_case_by_keyboard = page.get_by_role("link", name=open_case.reference).first
    key_land(page, open_case_by_keyboard)
    key_land(page, page.get_by_role("button", name="Propose closure"))
    heading(page, "Propose closing the case")
    option = page.get_by_label("Services ceased (including no longer in need) (RC7)")
    tab_to(page, page.locator("input[name=reason_id]").first)
    for _ in range(10):
        if option.is_checked():
            break
        page.keyboard.press("ArrowDown")
    expect(option).to_be_checked()
    tab_to(page, page.get_by_label("Note for the manager (optional)"))
    page.keyboard.type("Plan outcomes met")
    key_land(page, page.get_by_role("button", name="Propose closure"))
    success(page, "Closure proposed")
    assert Closure.objects.get(case=open_case).national_code == "RC7"

    # The manager agrees it, by keyboard, from the closures queue.
    page.context.clear_cookies()
    page.goto(f"{live_server}/sign-in/")
    tab_to(page, page.get_by_label("Username"))
    page.keyboard.type(manager.username)
    page.keyboard.press("Tab")
    page.keyboard.type("a-test-password-123")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    key_land(page, page.get_by_role("link", name="Closures waiting for managers"))
    key_land(page, page.locator("#awaiting-decision").get_by_role("link", name=open_case.reference))
    key_land(page, page.get_by_role("link", name="Team manager decides"))
    heading(page, "Decide on the closure")
    tab_to(page, page.get_by_label("Agree the closure"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_label("Closure discussion and the reasons for your decision"))
    page.keyboard.type("Discussed in supervision; outcomes met.")
    key_land(page, page.get_by_role("button", name="Save decision"))
    success(page, "Closure agreed")


def test_j2_recording_a_visit_and_a_document_from_the_case_page(
    page: Page, live_server: object, open_case: Case, worker: User
) -> None:
    """J2: from the case page the worker records a visit and uploads a letter; both show on
    the case page, and the chronology can be filtered to visits."""
    open_site(page, live_server)
    sign_in(page, worker.username)
    follow(page, open_case.reference)
    land(page, page.get_by_role("link", name="Record a visit"))
    heading(page, "Record a visit")
    # Inline validation (htmx): a date in the future is flagged as soon as it is entered.
    page.get_by_label("Date of the visit").fill((TODAY + dt.timedelta(days=3)).isoformat())
    page.get_by_label("Date of the visit").blur()
    expect(page.locator("#id_visited_on-group .govuk-error-message")).to_contain_text("future")
    assert_accessible(page)
    page.get_by_label("Date of the visit").fill(TODAY.isoformat())
    page.get_by_label("Date of the visit").blur()
    expect(page.locator("#id_visited_on-group .govuk-error-message")).to_have_count(0)
    page.get_by_label("The person was seen").check()
    page.get_by_label("Seen alone").check()
    page.get_by_label("What happened").fill("Saw Alex at home; settled.")
    press(page, "Save")
    success(page, "Visit recorded")
    expect(page.locator("#visits + table")).to_contain_text(worker.display_name)
    follow(page, "Upload a document")
    heading(page, "Documents")
    page.get_by_label("Type of document").select_option(label="Letter")
    page.get_by_label("Title").fill("Letter to the family")
    letter: FilePayload = {"name": "letter.txt", "mimeType": "text/plain", "buffer": b"Dear"}
    page.get_by_label("File").set_input_files(files=[letter])
    press(page, "Upload")
    success(page, "Uploaded: Letter to the family")
    expect(page.locator("#documents + table")).to_contain_text("Letter to the family")
    page.get_by_label("Show").select_option(label="Visit")
    press(page, "Filter")
    chronology = page.locator("#chronology ~ ol.cw-chronology")
    expect(chronology).to_contain_text("Visit")
    expect(chronology).not_to_contain_text("Letter to the family")


def test_j3_a_manager_sees_the_teams_work(
    page: Page, live_server: object, open_case: Case, manager: User, worker: User
) -> None:
    """J3: the team manager opens Your teams' work and sees overdue work by worker."""
    task_schedule(
        key="late-visit",
        case=open_case,
        title="Visit overdue",
        role=Role.SOCIAL_WORKER,
        due_on=TODAY - dt.timedelta(days=7),
    )
    open_site(page, live_server)
    sign_in(page, manager.username)
    follow(page, "Your teams' work")
    heading(page, "Your teams' work")
    expect(page.locator("#overdue + table")).to_contain_text(worker.display_name)


def test_r004_11_business_support_does_the_three_monthly_audit(
    page: Page,
    live_server: object,
    bind_004: Callable[..., None],
    open_case: Case,
    make_staff: Callable[..., User],
    team_ai: Team,
) -> None:
    """R004-11: Business Support sees the three-monthly audit of an open case waiting on
    them and marks it done."""
    from casework.tasks.sweeps import three_monthly_audits

    bind_004()
    support = make_staff("support-ai", team_ai, Role.BUSINESS_SUPPORT)
    # The case opened 60 days ago: the sweep a month from now finds it open three months.
    assert three_monthly_audits(TODAY + dt.timedelta(days=40)).tasks_created == 1
    open_site(page, live_server)
    sign_in(page, support.username)
    waiting = page.locator("#waiting-on-you + table")
    expect(waiting).to_contain_text("Business Support three-monthly audit")
    land(page, waiting.get_by_role("button", name="Mark as done"))
    success(page, "Done: Business Support three-monthly audit")
    assert Task.objects.get(case=open_case).status == TaskStatus.DONE


def test_a_worker_makes_an_api_token_from_my_cases(
    page: Page, live_server: object, worker: User
) -> None:
    """Issue 7: the API token page is reached from My cases, shows the new token once, and
    passes axe like every other page."""
    open_site(page, live_server)
    sign_in(page, worker.username)
    follow(page, "Your API tokens")
    heading(page, "Your API tokens")
    page.get_by_label("What is the token for?").fill("Trying the API")
    press(page, "Make a token")
    expect(page.locator("#new-token code")).to_have_count(1)
    expect(page.locator("table")).to_contain_text("Trying the API")
