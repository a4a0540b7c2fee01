"""The main paths of procedure 004 and the re-referral of procedure 003 in a real browser:
an internal transfer, the looked-after transfer protocol, a step-down to Early Help that
closes the case, an escalation from Early Help, and a re-referral read against the last
closure summary.

Whoever does the next step signs out and the next person signs in through the sign-in
screen, then clicks through the real screens; every page is scanned with axe. The record the
transfer screens do not own (plans, visits, documents, decisions) is set up through the
services first, as another screen would record it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from casework.accounts.models import User
from casework.cases.models import Allocation, Case, CaseStatus
from casework.cases.services import case_open, decision_record
from casework.closure.models import Closure, ClosureState
from casework.organisation.models import Authority, Role, Team, TeamFunction
from casework.people.services import person_create
from casework.policy.services import pack_bind
from casework.tasks.models import Notification, Task
from casework.transfers.models import PathwayRequest, ReReferralReview, Transfer, TransferState
from casework.transfers.tests import test_re_referral
from casework.transfers.tests.test_pathways import _assessed_case
from casework.transfers.tests.test_re_referral import _closed_by_sgcp
from casework.transfers.tests.test_transfers import Staff, _looked_after_child
from tests.browser.test_closure_main_paths import (
    follow,
    heading,
    land,
    open_case,
    open_site,
    press,
    sign_in,
    success,
    switch_user,
)

TODAY = timezone.localdate()
sgcp_staff = test_re_referral.sgcp_staff


@pytest.fixture
def staff(
    bind_004: Callable[..., None],
    make_team: Callable[..., Team],
    make_staff: Callable[..., User],
) -> Staff:
    bind_004()
    return Staff(make_team, make_staff)


def open_transfers(page: Page, case: Case) -> None:
    """From My cases, the case page's link to its transfers (named for what is under way)."""
    open_case(page, case)
    land(page, page.locator("#transfers + p").get_by_role("link"))
    heading(page, "Transfers and moves")


def status_of(page: Page, step: str) -> str:
    row = page.locator(".govuk-task-list__item").filter(has_text=step)
    return row.locator(".govuk-task-list__status").inner_text().strip()


def write_summary(page: Page) -> None:
    follow(page, "Write the transfer summary")
    heading(page, "Transfer summary")
    # The household, plans and agencies are filled from the record.
    expect(page.get_by_label("The household")).not_to_have_value("")
    page.get_by_label("Why the case is transferring").fill("Principles followed: see rationale.")
    page.get_by_label("Outstanding areas for intervention and support").fill("Life story work")
    page.get_by_label("The agreed point of transfer").fill("The agreed date")
    press(page, "Complete summary")
    heading(page, "Check your answers")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Life story work")
    press(page, "Confirm and complete the summary")
    success(page, "Transfer summary completed")


def audit_and_authorise(page: Page) -> None:
    """The sending manager audits (the record's checks are pre-selected) and authorises."""
    follow(page, "Audit the record")
    heading(page, "Audit the record for transfer")
    expect(page.locator(".govuk-summary-card")).to_have_count(4)
    press(page, "Complete audit")
    success(page, "Transfer audit completed")
    follow(page, "Authorise the transfer")
    heading(page, "Authorise the transfer")
    press(page, "Authorise transfer")
    success(page, "Transfer authorised")


def accept_from_queue(page: Page, case: Case, worker: str) -> None:
    follow(page, "Transfers and requests for your teams")
    heading(page, "Transfers and requests for your teams")
    land(page, page.locator("#to-decide ~ table").first.get_by_role("link", name=case.reference))
    heading(page, "Accept or decline the transfer")
    page.get_by_label("Accept the case").check()
    page.get_by_label("Allocated worker in your team (optional)").select_option(label=worker)
    press(page, "Save decision")


def test_r004_02_r004_12_internal_transfer_in_the_browser(
    page: Page, live_server: object, staff: Staff
) -> None:
    """R004-02, R004-12: the SGCP worker asks to move the case to A&I with a rationale and
    writes the summary; the SGCP manager audits and authorises; the A&I manager accepts and
    names a worker; the case moves then, and the allocation history keeps both workers."""
    case = _looked_after_child(staff)
    ai_worker = staff.ai_manager  # A&I's manager takes the case himself in this small team
    open_site(page, live_server)
    sign_in(page, "sgcpworker")
    open_transfers(page, case)
    land(page, page.get_by_role("link", name="Ask to transfer the case"))
    heading(page, "Ask to transfer the case")
    press(page, "Ask to transfer")
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Choose the team that should take the case."
    )
    page.get_by_label("Team AI").check()
    page.get_by_label("Why should the case move?").fill("Needs a fresh assessment of the family")
    press(page, "Ask to transfer")
    success(page, "Transfer requested")
    assert status_of(page, "Authorise the transfer") == "Cannot start yet"
    write_summary(page)

    switch_user(page, "sgcpmanager")
    open_transfers(page, case)
    audit_and_authorise(page)
    assert status_of(page, "Team AI accepts or declines") == "Waiting"

    switch_user(page, "aimanager")
    accept_from_queue(page, case, ai_worker.display_name)
    success(page, "The case has moved to your team")
    heading(page, "Transfers and moves")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Completed")

    case.refresh_from_db()
    assert (case.responsible_team, case.allocated_worker) == (staff.ai, ai_worker)
    history = list(Allocation.objects.filter(case=case).order_by("started_on", "id"))
    assert [(a.team, a.worker) for a in history] == [
        (staff.sgcp, staff.sgcp_worker),
        (staff.ai, ai_worker),
    ]
    follow(page, "Back to the case")
    expect(page.locator("#workers + ol")).to_contain_text(staff.sgcp_worker.display_name)
    expect(page.locator("#workers + ol")).to_contain_text(ai_worker.display_name)


def test_r004_05_r004_03_looked_after_transfer_in_the_browser(
    page: Page, live_server: object, staff: Staff
) -> None:
    """R004-05, R004-03: after a care order the procedure recommends the LAC team and shows
    its rule; the manager's discussion starts the 10 working day clock; authorising tells the
    IRO; LAC accepts; the case moves on the agreed date and the later life letters fall due
    six weeks later."""
    case = _looked_after_child(staff)
    calendar = case.responsible_team.authority.calendar()
    open_site(page, live_server)
    sign_in(page, "sgcpworker")
    open_transfers(page, case)
    land(page, page.get_by_role("link", name="Ask to transfer the case"))
    page.get_by_text("What has changed? Get the procedure's recommendation").click()
    land(page, page.get_by_role("link", name="A care order was made at the end of proceedings."))
    expect(page.locator("#recommendation")).to_contain_text("Team LAC")
    expect(page.locator("#recommendation")).to_contain_text("Rule care-order")
    expect(page.get_by_label("Team LAC")).to_be_checked()
    page.get_by_label("Why should the case move?").fill("Care order made")
    press(page, "Ask to transfer")
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Give the next care team meeting for this transfer."
    )
    page.get_by_label("Date of the next care team meeting").fill(
        (TODAY + dt.timedelta(days=7)).isoformat()
    )
    press(page, "Ask to transfer")
    success(page, "Transfer requested")
    expect(page.locator(".govuk-summary-list").first).to_contain_text(
        "Transfer to the Looked After Children team"
    )
    write_summary(page)

    switch_user(page, "sgcpmanager")
    open_transfers(page, case)
    follow(page, "Discuss the transfer with the team manager")
    heading(page, "Record the transfer discussion")
    page.get_by_label("Date of the discussion").fill(TODAY.isoformat())
    page.get_by_label("Agreed transfer date").fill(TODAY.isoformat())
    press(page, "Save discussion")
    success(page, "Transfer discussion recorded")
    deadline = calendar.add_working_days(TODAY, 10)
    expect(page.locator("table")).to_contain_text("Transfer to Team LAC completes")
    expect(page.locator("table")).to_contain_text(f"{deadline.day} {deadline:%b %Y}")
    audit_and_authorise(page)
    assert Notification.objects.filter(
        recipient=staff.iro, case=case, event="transfer.authorised"
    ).exists()

    switch_user(page, "lacmanager")
    accept_from_queue(page, case, staff.lac_worker.display_name)
    success(page, "Transfer accepted")
    follow(page, "The case moves")
    heading(page, "Move the case")
    press(page, "Complete transfer")
    success(page, "Transfer completed: the case moved to Team LAC")
    letters = Task.objects.get(key__endswith=":later-life-letters")
    assert letters.due_on == TODAY + dt.timedelta(weeks=6)
    expect(page.locator("table")).to_contain_text("Complete later life letters")
    transfer = Transfer.objects.get(case=case)
    assert transfer.state == TransferState.COMPLETED
    case.refresh_from_db()
    assert case.responsible_team == staff.lac


@pytest.fixture
def early_help(
    bind_004: Callable[..., None],
    make_team: Callable[..., Team],
    make_staff: Callable[..., User],
) -> dict[str, Team]:
    bind_004()
    ai = make_team("ai", TeamFunction.ASSESSMENT_INTERVENTION)
    eh = make_team("eh", TeamFunction.EARLY_HELP)
    irt = make_team("irt", TeamFunction.FRONT_DOOR)
    make_staff("aiworker", ai)
    make_staff("ehduty", eh, Role.EARLY_HELP_DUTY_MANAGER)
    make_staff("ehworker", eh)
    make_staff("ehmanager", eh, Role.TEAM_MANAGER)
    make_staff("irtworker", irt)
    make_staff("irtmanager", irt, Role.TEAM_MANAGER)
    return {"ai": ai, "eh": eh, "irt": irt}


def test_r004_08_r003_08_step_down_in_the_browser(
    page: Page, live_server: object, early_help: dict[str, Team]
) -> None:
    """R004-08, R003-08: after a full assessment the A&I worker sends a request for early
    help with a plan and a meeting at least 5 working days ahead; the Early Help duty manager
    accepts with a rationale; the worker then starts closing the case, which proposes closure
    with RC9 through the closure procedure."""
    worker = User.objects.get(username="aiworker")
    case = _assessed_case(worker, early_help["ai"])
    calendar = case.responsible_team.authority.calendar()
    open_site(page, live_server)
    sign_in(page, "aiworker")
    open_transfers(page, case)
    follow(page, "Step-down from A&I after a full assessment (45 days)")
    heading(page, "Step-down from A&I after a full assessment (45 days)")
    too_soon = calendar.add_working_days(TODAY, 2)
    page.get_by_label("Date of the meeting").fill(too_soon.isoformat())
    press(page, "Send request")
    earliest = calendar.add_working_days(TODAY, 5)
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        f"book it on or after {earliest.day} {earliest:%B %Y}"
    )
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Answer 'The plan of action for Early Help to adopt or develop'."
    )
    page.get_by_label("Date of the meeting").fill(earliest.isoformat())
    page.get_by_label("Meeting date, time and venue").fill(earliest.isoformat())
    page.get_by_label("The plan of action for Early Help to adopt or develop").fill(
        "Parenting group; school attendance support"
    )
    page.get_by_role("group", name="Has the family consented to early help?").get_by_label(
        "Yes", exact=True
    ).check()
    press(page, "Send request")
    heading(page, "Check your answers")
    press(page, "Confirm and send the request")
    success(page, "requested")

    switch_user(page, "ehduty")
    follow(page, "Transfers and requests for your teams")
    land(page, page.locator("#requests ~ table").first.get_by_role("link", name=case.reference))
    heading(page, "Decide: Step-down from A&I after a full assessment (45 days)")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Parenting group")
    page.get_by_label("Accepted", exact=True).check()
    page.get_by_label("Rationale for the decision").fill("Meets early help criteria")
    press(page, "Save decision")
    success(page, "accepted")

    switch_user(page, "aiworker")
    open_transfers(page, case)
    press(page, "Start closing the case")
    success(page, "Closure proposed")
    heading(page, "Closing the case")
    closure = Closure.objects.get(case=case)
    assert (closure.state, closure.national_code) == (ClosureState.PROPOSED, "RC9")
    assert "Meets early help criteria" in closure.proposal_note


def test_r004_07_escalation_in_the_browser(
    page: Page, live_server: object, early_help: dict[str, Team]
) -> None:
    """R004-07: with Early Help's closure summary authorised (a Manager's Decision), the
    worker escalates; the case goes to the front door, whose manager can read it and accepts
    with a rationale."""
    eh_worker = User.objects.get(username="ehworker")
    child = person_create(
        actor=eh_worker, given_name="Kit", family_name="Example", date_of_birth=dt.date(2014, 3, 3)
    )
    case = case_open(
        actor=eh_worker,
        subject=child,
        team=early_help["eh"],
        received_on=TODAY - dt.timedelta(days=60),
        source="5D",
        reason="Team around the family",
        allocated_worker=eh_worker,
    )
    decision_record(
        actor=User.objects.get(username="ehmanager"),
        case=case,
        kind="transfer",
        decided_on=TODAY,
        decision="Early Help closure summary authorised: escalate to statutory services",
    )
    open_site(page, live_server)
    sign_in(page, "ehworker")
    open_transfers(page, case)
    follow(page, "Escalation from Early Help")
    heading(page, "Escalation from Early Help")
    press(page, "Send request")
    heading(page, "Check your answers")
    press(page, "Confirm and send the request")
    success(page, "Escalation from Early Help: requested")
    request = PathwayRequest.objects.get(case=case)
    assert request.to_team == early_help["irt"]

    switch_user(page, "irtmanager")
    follow(page, "Transfers and requests for your teams")
    land(page, page.locator("#requests ~ table").first.get_by_role("link", name=case.reference))
    heading(page, "Decide: Escalation from Early Help")
    page.get_by_label("Accepted", exact=True).check()
    page.get_by_label("Rationale for the decision").fill("Risks have increased: assess")
    press(page, "Save decision")
    success(page, "Escalation from Early Help: accepted")
    request.refresh_from_db()
    assert request.outcome == "accepted"
    assert request.decided_by == User.objects.get(username="irtmanager")


def test_r003_07_re_referral_in_the_browser(
    page: Page,
    live_server: object,
    sgcp_staff: tuple[Team, User, User],
    authority: Authority,
) -> None:
    """R003-07: a new referral for a child whose case closed shows the last signed closure
    summary beside the new information, flags the re-referral, and records the worker's
    three judgements; the closed episode is not touched."""
    team, worker, manager = sgcp_staff
    earlier = _closed_by_sgcp(team, worker, manager, opened=TODAY - dt.timedelta(days=100))
    pack_bind(
        actor=None,
        authority=authority,
        service_area="children",
        purpose="closure",
        pack_id="003-ending-interventions",
    )
    later = case_open(
        actor=worker,
        subject=earlier.subject,
        team=team,
        received_on=TODAY,
        source="2A",
        reason="Attendance has dropped again",
        allocated_worker=worker,
    )
    open_site(page, live_server)
    sign_in(page, "sgcpworker")
    open_case(page, later)
    follow(page, "Read the last closure summary and record your review")
    heading(page, "Re-referral review")
    expect(page.get_by_text("This is a re-referral")).to_be_visible()
    expect(page.locator("#last-summary ~ dl")).to_contain_text("School nurse weekly")
    expect(page.locator("#new-referral ~ dl")).to_contain_text("Attendance has dropped again")
    press(page, "Save review")
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Answer 'Is further statutory intervention needed?'."
    )
    for legend, answer in (
        ("Is further statutory intervention needed?", "Yes"),
        ("Is the parent following the agreed arrangements to keep the child safe?", "No"),
        ("Have partner agencies completed the agreed support?", "No"),
    ):
        page.get_by_role("group", name=legend).get_by_label(answer, exact=True).check()
    page.get_by_label("Your analysis").fill("The safety plan has broken down.")
    press(page, "Save review")
    success(page, "Re-referral review recorded")
    review = ReReferralReview.objects.get(case=later)
    assert review.previous_case == earlier
    assert review.answers["further_statutory_intervention_needed"] is True
    earlier.refresh_from_db()
    assert earlier.status == CaseStatus.CLOSED
