"""Procedure 000, "Closing Cases" (children): R000-01 to R000-10, driven only through the
closure workflow services under the bound pack 000-closing-cases.

Each test states what a worker or manager depends on: what they are refused and told, what
changes, which tasks fall due when (in working days), and who is told."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
import time_machine

from casework.accounts.models import User
from casework.cases.models import Case, CaseStatus
from casework.cases.services import (
    assessment_complete,
    assessment_start,
    case_complexity_decide,
    plan_end,
    plan_start,
    visit_record,
)
from casework.closure.models import (
    ChecklistAnswer,
    Closure,
    ClosureState,
    FormResponse,
    SignedDocument,
    StepRecord,
)
from casework.closure.services import (
    GateBlocked,
    checklist_answer,
    checklist_complete,
    closure_authorise,
    closure_decide,
    closure_finish,
    closure_propose,
    closure_step_complete,
    content_hash,
    form_save_draft,
    form_submit,
    summary_correct,
    summary_sign,
)
from casework.closure.tests.journeys import (
    CLOSING_SUMMARY_000,
    answer_checklist,
    calendar_for,
    case_status,
    closing_000_to_authorise,
    days_ago,
    propose_and_agree,
    refusal,
    reload,
    today,
    working_days_after,
)
from casework.core.errors import InvalidInput, NotPermitted
from casework.organisation.models import Role, Team, TeamFunction
from casework.people.services import person_create, person_move_in, relationship_add
from casework.tasks.models import Notification, Task, TaskStatus
from casework.tasks.services import task_complete

PACK = "000-closing-cases"


@pytest.fixture
def pack_000(bind: Callable[[str], None]) -> None:
    bind(PACK)


@pytest.fixture
def support(make_staff: Callable[..., User], make_team: Callable[..., Team]) -> User:
    team = make_team("cbs", TeamFunction.BUSINESS_SUPPORT, holds_cases=False)
    return make_staff("support", team, Role.BUSINESS_SUPPORT)


@pytest.fixture
def reviewing_officer(make_staff: Callable[..., User], make_team: Callable[..., Team]) -> User:
    team = make_team("su", TeamFunction.SAFEGUARDING_UNIT, holds_cases=False)
    return make_staff("iro", team, Role.REVIEWING_OFFICER)


# --- R000-01 --------------------------------------------------------------------------------


@pytest.mark.usefixtures("pack_000")
def test_r000_01_the_case_stays_open_until_every_planned_step_is_done(
    child_case: Case, worker: User, manager: User
) -> None:
    """R000-01: proposal, decision, summary, audit and authorisation are each required. The
    case stays open after every step but the last, each shortcut is refused with what is
    still missing, and it closes only when the final signature is given."""
    closure = closure_propose(actor=worker, case=child_case, reason_id="no-longer-in-need")
    assert (closure.state, case_status(child_case)) == (ClosureState.PROPOSED, CaseStatus.OPEN)

    # Before the manager's decision nothing further can be done.
    with pytest.raises(InvalidInput, match="cannot be authorised now"):
        closure_authorise(actor=manager, closure=closure)
    with pytest.raises(InvalidInput, match="once the manager has agreed"):
        form_save_draft(actor=worker, closure=closure, form_id="closing-summary", answers={})
    with pytest.raises(InvalidInput, match="once the manager has agreed"):
        closure_finish(actor=worker, closure=closure)

    closure = closure_decide(actor=manager, closure=closure, outcome="agreed", note="Agreed")
    assert case_status(child_case) == CaseStatus.OPEN

    # Finishing or authorising now is refused, naming every step still to do.
    with pytest.raises(InvalidInput) as finishing:
        closure_finish(actor=worker, closure=closure)
    for missing in (
        "Decide whether the case is complex",
        "Write the closing summary",
        "Supervisor audits the case record",
        "Authorise and date the closing summary",
    ):
        assert missing in refusal(finishing.value)
    with pytest.raises(InvalidInput, match="Not done yet: Write the closing summary"):
        closure_authorise(actor=manager, closure=closure)
    with pytest.raises(InvalidInput, match="Complete and submit the summary before it is signed"):
        summary_sign(actor=worker, closure=closure, form_id="closing-summary")

    case_complexity_decide(actor=manager, case=child_case, is_complex=False, reason="One issue")
    closure_step_complete(actor=manager, closure=closure, step_id="decide-complexity")
    form_save_draft(
        actor=worker, closure=closure, form_id="closing-summary", answers=CLOSING_SUMMARY_000
    )
    form_submit(actor=worker, closure=closure, form_id="closing-summary")
    closure_step_complete(actor=worker, closure=closure, step_id="present-for-closure")
    assert case_status(child_case) == CaseStatus.OPEN
    answer_checklist(closure, "supervisor-audit", manager)
    checklist_complete(actor=manager, closure=closure, checklist_id="supervisor-audit")
    closure = closure_authorise(actor=manager, closure=closure)
    assert (closure.state, case_status(child_case)) == (ClosureState.AUTHORISED, CaseStatus.OPEN)
    summary_sign(actor=worker, closure=closure, form_id="closing-summary")
    assert case_status(child_case) == CaseStatus.OPEN

    summary_sign(actor=manager, closure=closure, form_id="closing-summary")
    closure = reload(closure)
    child_case.refresh_from_db()
    assert closure.state == ClosureState.CLOSED
    assert (child_case.status, child_case.closed_on, child_case.closure_reason) == (
        CaseStatus.CLOSED,
        today(),
        "RC7",
    )
    done = set(StepRecord.objects.filter(closure=closure).values_list("step_id", flat=True))
    assert done == {
        "propose",
        "discuss-and-agree",
        "decide-complexity",
        "closing-summary",
        "present-for-closure",
        "audit",
        "authorise",
        "sign",
    }


def test_r000_01_no_page_offers_a_direct_close(child_case: Case, worker: User) -> None:
    """R000-01: without a bound procedure closure cannot even start, and the only service
    that sets a case's status to closed outside the workflow (the legacy import) is not
    reachable from any page: no "close" button skips the planned closure."""
    with pytest.raises(InvalidInput, match="No closure procedure is set"):
        closure_propose(actor=worker, case=child_case, reason_id="no-longer-in-need")
    assert not Closure.objects.filter(case=child_case).exists()
    assert case_status(child_case) == CaseStatus.OPEN

    casework = Path(__file__).resolve().parents[2]
    web_modules = [*casework.glob("*/views.py"), *casework.glob("*/urls.py")]
    assert web_modules
    for module in web_modules:
        assert "case_close_imported" not in module.read_text(encoding="utf-8"), module


# --- R000-02 --------------------------------------------------------------------------------


@pytest.mark.usefixtures("pack_000")
def test_r000_02_a_closure_records_one_of_the_packs_circumstances(
    child_case: Case, worker: User
) -> None:
    """R000-02: a reason outside the pack's list is refused against the reason field and
    nothing is written; national rules on the circumstances are enforced ("died" needs a
    date of death, "closed after assessment" needs an assessment); an accepted proposal
    records the circumstance and its national code."""
    for reason_id in ("", "family-moved-on"):
        with pytest.raises(InvalidInput) as refused:
            closure_propose(actor=worker, case=child_case, reason_id=reason_id)
        assert refused.value.by_field() == {
            "reason_id": ["Choose one of the closure reasons listed."]
        }
    with pytest.raises(InvalidInput, match="'Died' needs the date of death"):
        closure_propose(actor=worker, case=child_case, reason_id="died")
    with pytest.raises(InvalidInput, match="needs an assessment on the case"):
        closure_propose(actor=worker, case=child_case, reason_id="nfa-after-assessment")
    assert not Closure.objects.filter(case=child_case).exists()

    closure = closure_propose(actor=worker, case=child_case, reason_id="transferred-to-adults")
    assert (closure.reason_id, closure.reason_label, closure.national_code) == (
        "transferred-to-adults",
        "Transferred to adult social care",
        "RC6",
    )


# --- R000-03 --------------------------------------------------------------------------------


@pytest.mark.usefixtures("pack_000")
def test_r000_03_child_protection_needs_a_later_visit_seen_alone_with_home_visited(
    child_case: Case, worker: User
) -> None:
    """R000-03: after a child protection plan, proposal is refused until a visit after the
    plan ended saw the child alone AND visited the home. A visit before the plan ended, or
    one that did only one of the two, does not count."""
    plan = plan_start(
        actor=worker, case=child_case, kind="cp", category="NEG", started_on=days_ago(50)
    )
    visit_record(
        actor=worker,
        case=child_case,
        visited_on=days_ago(20),
        subject_seen=True,
        seen_alone=True,
        home_visited=True,
    )
    plan_end(actor=worker, plan=plan, ended_on=days_ago(10))
    visit_record(
        actor=worker, case=child_case, visited_on=days_ago(5), subject_seen=True, seen_alone=True
    )
    visit_record(
        actor=worker, case=child_case, visited_on=days_ago(4), subject_seen=True, home_visited=True
    )
    with pytest.raises(GateBlocked) as blocked:
        closure_propose(actor=worker, case=child_case, reason_id="no-longer-in-need")
    assert "seen alone and their home (accommodation) was visited" in refusal(blocked.value)
    assert "Record it in: Visits." in refusal(blocked.value)
    assert not Closure.objects.filter(case=child_case).exists()

    visit_record(
        actor=worker,
        case=child_case,
        visited_on=days_ago(2),
        subject_seen=True,
        seen_alone=True,
        home_visited=True,
    )
    closure = closure_propose(actor=worker, case=child_case, reason_id="no-longer-in-need")
    assert closure.state == ClosureState.PROPOSED


# --- R000-04 --------------------------------------------------------------------------------


@pytest.mark.usefixtures("pack_000")
def test_r000_04_looked_after_child_cannot_close_until_no_longer_looked_after(
    child_case: Case, worker: User
) -> None:
    """R000-04: while the child is looked after the proposal is refused ("still looked
    after", record it in Plans). Once the care episode ends a normal closure circumstance
    is still required: an invented one is refused, a listed one is accepted."""
    care = plan_start(
        actor=worker, case=child_case, kind="lac", legal_status="V2", started_on=days_ago(40)
    )
    with pytest.raises(GateBlocked) as blocked:
        closure_propose(actor=worker, case=child_case, reason_id="no-longer-in-need")
    assert "This child is still looked after." in refusal(blocked.value)
    assert "Record it in: Plans." in refusal(blocked.value)
    assert not Closure.objects.filter(case=child_case).exists()

    plan_end(actor=worker, plan=care, ended_on=days_ago(5), outcome="Returned home")
    with pytest.raises(InvalidInput, match="Choose one of the closure reasons listed"):
        closure_propose(actor=worker, case=child_case, reason_id="no-longer-looked-after")
    closure = closure_propose(actor=worker, case=child_case, reason_id="no-longer-in-need")
    assert (closure.state, closure.national_code) == (ClosureState.PROPOSED, "RC7")


# --- R000-05 --------------------------------------------------------------------------------


@pytest.mark.usefixtures("pack_000")
def test_r000_05_previously_looked_after_needs_prevention_assessment_and_tells_the_iro(
    child_case: Case, worker: User, manager: User, reviewing_officer: User
) -> None:
    """R000-05: for a child who was looked after, authorisation is refused until an
    assessment of the services needed to prevent them becoming looked after again is
    completed; when the case closes the Reviewing Officer is notified (and only them)."""
    care = plan_start(
        actor=worker, case=child_case, kind="lac", legal_status="V2", started_on=days_ago(40)
    )
    plan_end(actor=worker, plan=care, ended_on=days_ago(20), outcome="Returned home")
    closure = closing_000_to_authorise(child_case, worker, manager)

    with pytest.raises(GateBlocked) as blocked:
        closure_authorise(actor=manager, closure=closure)
    assert "services that may be needed to prevent them becoming looked after again" in refusal(
        blocked.value
    )
    assert "Record it in: Assessments." in refusal(blocked.value)
    assert reload(closure).state == ClosureState.AGREED

    assessment = assessment_start(
        actor=worker, case=child_case, kind="prevent_looked_after", started_on=days_ago(10)
    )
    with pytest.raises(GateBlocked, match="still in progress"):
        closure_authorise(actor=manager, closure=closure)
    assessment_complete(
        actor=worker, assessment=assessment, completed_on=today(), outcome="Family support"
    )
    closure = closure_authorise(actor=manager, closure=closure)
    assert not Notification.objects.filter(recipient=reviewing_officer).exists()
    summary_sign(actor=worker, closure=closure, form_id="closing-summary")
    summary_sign(actor=manager, closure=closure, form_id="closing-summary")

    assert case_status(child_case) == CaseStatus.CLOSED
    note = Notification.objects.get(recipient=reviewing_officer)
    assert (note.event, note.requirement, note.case) == ("closure.closed", "R000-05", child_case)
    assert "previously looked after has closed" in note.message
    assert not Notification.objects.filter(event="closure.closed").exclude(
        recipient=reviewing_officer
    )


@pytest.mark.usefixtures("pack_000")
def test_r000_05_a_child_never_looked_after_closes_without_telling_the_iro(
    child_case: Case, worker: User, manager: User, reviewing_officer: User
) -> None:
    """R000-05 (the other side): no prevention assessment is asked for, and the Reviewing
    Officer is not notified, when the child was never looked after."""
    closure = closure_authorise(
        actor=manager, closure=closing_000_to_authorise(child_case, worker, manager)
    )
    summary_sign(actor=worker, closure=closure, form_id="closing-summary")
    summary_sign(actor=manager, closure=closure, form_id="closing-summary")
    assert case_status(child_case) == CaseStatus.CLOSED
    assert not Notification.objects.filter(recipient=reviewing_officer).exists()


# --- R000-06 --------------------------------------------------------------------------------


@pytest.mark.usefixtures("pack_000")
def test_r000_06_closing_summary_headings_with_the_household_prefilled(
    child_case: Case, worker: User, manager: User
) -> None:
    """R000-06: the household heading is pre-filled with everyone living at the child's
    address and their relationship; submitting refuses each missing heading by name and
    writes nothing; "why not achieved" is asked only when the outcome was not achieved."""
    child = child_case.subject
    home = child.residences.get(ended_on__isnull=True).address
    mother = person_create(
        actor=worker, given_name="Jo", family_name="Example", date_of_birth=dt.date(1990, 4, 2)
    )
    person_move_in(
        actor=worker,
        person=mother,
        line_1="",
        town="",
        postcode="",
        started_on=days_ago(300),
        address=home,
    )
    relationship_add(actor=worker, person=mother, relative=child, kind="parent")
    closure = propose_and_agree(child_case, worker, manager)
    case_complexity_decide(actor=manager, case=child_case, is_complex=False, reason="One issue")

    draft = form_save_draft(actor=worker, closure=closure, form_id="closing-summary", answers={})
    assert draft.prefilled["household"] == "household_members"
    assert "Jo Example (born 2 April 1990), parent" in draft.answers["household"]
    assert child.full_name in draft.answers["household"]

    with pytest.raises(InvalidInput) as missing:
        form_submit(actor=worker, closure=closure, form_id="closing-summary")
    assert set(missing.value.by_field()) == {
        "agreed_outcome",
        "outcome_evidence",
        "outcome_achieved",
        "reasons_for_closure",
    }
    assert "Answer 'Description of agreed outcome'." in refusal(missing.value)
    assert FormResponse.objects.get(closure=closure).submitted_at is None

    form_save_draft(
        actor=worker,
        closure=closure,
        form_id="closing-summary",
        answers=CLOSING_SUMMARY_000 | {"outcome_achieved": False},
    )
    with pytest.raises(InvalidInput) as why_not:
        form_submit(actor=worker, closure=closure, form_id="closing-summary")
    assert why_not.value.by_field() == {"why_not_achieved": ["Answer 'If not achieved, why not'."]}

    form_save_draft(
        actor=worker,
        closure=closure,
        form_id="closing-summary",
        answers={"why_not_achieved": "Attendance dipped in the last month of term"},
    )
    submitted = form_submit(actor=worker, closure=closure, form_id="closing-summary")
    assert submitted.submitted_at is not None
    assert StepRecord.objects.filter(closure=closure, step_id="closing-summary").exists()


# --- R000-07 --------------------------------------------------------------------------------


@pytest.mark.usefixtures("pack_000")
def test_r000_07_complexity_must_be_decided_by_the_manager_before_the_summary(
    child_case: Case, worker: User, manager: User
) -> None:
    """R000-07: the summary cannot be submitted until someone has recorded whether the case
    is complex (the refusal says where to record it); the worker cannot record that step;
    the team manager can."""
    closure = propose_and_agree(child_case, worker, manager)
    form_save_draft(
        actor=worker, closure=closure, form_id="closing-summary", answers=CLOSING_SUMMARY_000
    )
    with pytest.raises(GateBlocked) as blocked:
        form_submit(actor=worker, closure=closure, form_id="closing-summary")
    assert "Nobody has recorded whether this case is complex" in refusal(blocked.value)
    assert "Record it in: Case details." in refusal(blocked.value)
    with pytest.raises(NotPermitted, match="Only the team manager"):
        closure_step_complete(actor=worker, closure=closure, step_id="decide-complexity")

    case_complexity_decide(actor=manager, case=child_case, is_complex=False, reason="One issue")
    closure_step_complete(actor=manager, closure=closure, step_id="decide-complexity")
    form_submit(actor=worker, closure=closure, form_id="closing-summary")
    assert {"decide-complexity", "closing-summary"} <= set(
        StepRecord.objects.filter(closure=closure).values_list("step_id", flat=True)
    )


@pytest.mark.usefixtures("pack_000")
def test_r000_07_complex_headings_are_required_only_when_the_case_is_decided_complex(
    child_case: Case, worker: User, manager: User
) -> None:
    """R000-07, R000-06: a case decided complex needs the seven extra headings (those the
    record can fill are pre-filled; the rest are asked for by name); a case decided not
    complex is submitted, signed and frozen with the standard headings only."""
    complex_closure = propose_and_agree(child_case, worker, manager)
    case_complexity_decide(actor=manager, case=child_case, is_complex=True, reason="Many needs")
    draft = form_save_draft(
        actor=worker,
        closure=complex_closure,
        form_id="closing-summary",
        answers=CLOSING_SUMMARY_000,
    )
    for prefilled in (
        "family_composition",
        "period_covered",
        "contact_frequency",
        "reasons_for_involvement",
        "agencies_remaining",
    ):
        assert draft.answers[prefilled], prefilled
    assert "Testford Primary" in draft.answers["agencies_remaining"]
    with pytest.raises(InvalidInput) as missing:
        form_submit(actor=worker, closure=complex_closure, form_id="closing-summary")
    assert missing.value.by_field() == {
        "family_response": ["Answer 'How the family responded'."],
        "work_plan_if_re_referred": ["Answer 'Suggested work plan if case re-referred'."],
    }


@pytest.mark.usefixtures("pack_000")
def test_r000_07_a_case_decided_not_complex_signs_only_the_standard_headings(
    child_case: Case, worker: User, manager: User
) -> None:
    """R000-07, R000-06: a case decided not complex is summarised, authorised and signed
    with the standard headings only: no complex heading is asked for or frozen."""
    closure = closure_authorise(
        actor=manager, closure=closing_000_to_authorise(child_case, worker, manager)
    )
    summary_sign(actor=worker, closure=closure, form_id="closing-summary")
    document = SignedDocument.objects.get(closure=closure, form_id="closing-summary")
    assert [h["id"] for h in document.content["headings"]] == [
        "household",
        "agreed_outcome",
        "outcome_evidence",
        "outcome_achieved",
        "reasons_for_closure",
    ]


@pytest.mark.usefixtures("pack_000")
def test_r000_07_a_complex_case_closes_with_the_complex_headings_signed(
    child_case: Case, worker: User, manager: User
) -> None:
    """R000-07: once the complex headings are answered the case runs to closure, and the
    signed summary carries them."""
    closure = closure_authorise(
        actor=manager,
        closure=closing_000_to_authorise(child_case, worker, manager, is_complex=True),
    )
    summary_sign(actor=worker, closure=closure, form_id="closing-summary")
    summary_sign(actor=manager, closure=closure, form_id="closing-summary")
    assert case_status(child_case) == CaseStatus.CLOSED
    document = SignedDocument.objects.get(closure=closure)
    headings = {h["id"]: h["answer"] for h in document.content["headings"]}
    assert headings["family_response"] == "Engaged well after the first month"
    assert {"family_composition", "period_covered", "agencies_remaining"} <= set(headings)


# --- R000-08 --------------------------------------------------------------------------------


@pytest.mark.usefixtures("pack_000")
def test_r000_08_the_supervisor_audits_the_record_before_authorisation(
    child_case: Case, worker: User, manager: User
) -> None:
    """R000-08: the worker cannot answer the audit; an unanswered item stops it being
    completed (by name); each answer stores the automatic result, and disagreeing with an
    automatic check needs a note; authorisation is refused until the audit is done."""
    closure = propose_and_agree(child_case, worker, manager)
    case_complexity_decide(actor=manager, case=child_case, is_complex=False, reason="One issue")
    closure_step_complete(actor=manager, closure=closure, step_id="decide-complexity")
    form_save_draft(
        actor=worker, closure=closure, form_id="closing-summary", answers=CLOSING_SUMMARY_000
    )
    form_submit(actor=worker, closure=closure, form_id="closing-summary")
    closure_step_complete(actor=worker, closure=closure, step_id="present-for-closure")

    with pytest.raises(NotPermitted, match="Only the team manager"):
        checklist_answer(
            actor=worker,
            closure=closure,
            checklist_id="supervisor-audit",
            item_id="decision-on-file",
            answer="yes",
            note="Mine",
        )
    with pytest.raises(InvalidInput, match="why you differ from the automatic check"):
        checklist_answer(
            actor=manager,
            closure=closure,
            checklist_id="supervisor-audit",
            item_id="plans-ended",
            answer="no",
        )
    assert not ChecklistAnswer.objects.filter(closure=closure).exists()
    answer_checklist(closure, "supervisor-audit", manager, skip={"decision-on-file"})
    with pytest.raises(InvalidInput, match="Answer item decision-on-file"):
        checklist_complete(actor=manager, closure=closure, checklist_id="supervisor-audit")
    with pytest.raises(InvalidInput, match="Not done yet: Supervisor audits the case record"):
        closure_authorise(actor=manager, closure=closure)

    plans_ended = ChecklistAnswer.objects.get(closure=closure, item_id="plans-ended")
    assert (plans_ended.automatic_result, plans_ended.overridden) == (True, False)
    checklist_answer(
        actor=manager,
        closure=closure,
        checklist_id="supervisor-audit",
        item_id="decision-on-file",
        answer="yes",
        note="Decision recorded in supervision notes",
    )
    checklist_complete(actor=manager, closure=closure, checklist_id="supervisor-audit")
    assert closure_authorise(actor=manager, closure=closure).state == ClosureState.AUTHORISED


# --- R000-09 --------------------------------------------------------------------------------


@pytest.mark.usefixtures("pack_000")
def test_r000_09_both_sign_the_same_frozen_content_and_it_cannot_be_edited(
    child_case: Case, worker: User, manager: User
) -> None:
    """R000-09: the first signature freezes the summary's content and hash; the supervisor
    signs that same hash; nobody signs twice; the draft cannot be edited afterwards; a
    correction is a new version linked to the signed one, which stays unchanged."""
    closure = closure_authorise(
        actor=manager, closure=closing_000_to_authorise(child_case, worker, manager)
    )
    first = summary_sign(actor=worker, closure=closure, form_id="closing-summary")
    document = SignedDocument.objects.get(closure=closure, form_id="closing-summary")
    assert (first.role, first.signer, first.content_hash) == (
        Role.SOCIAL_WORKER,
        worker,
        document.content_hash,
    )
    assert document.content_hash == content_hash(document.content)
    with pytest.raises(InvalidInput, match="can no longer be changed"):
        form_save_draft(
            actor=worker,
            closure=closure,
            form_id="closing-summary",
            answers={"agreed_outcome": "Rewritten after signing"},
        )
    with pytest.raises(NotPermitted) as twice:
        summary_sign(actor=worker, closure=closure, form_id="closing-summary")
    assert "team manager" in refusal(twice.value)

    second = summary_sign(actor=manager, closure=closure, form_id="closing-summary")
    assert (second.role, second.signer) == (Role.TEAM_MANAGER, manager)
    assert second.content_hash == first.content_hash == document.content_hash
    assert second.signed_at.date() == today()
    assert case_status(child_case) == CaseStatus.CLOSED
    frozen = dict(document.content)

    corrected = summary_correct(
        actor=manager,
        document=document,
        answers={"outcome_evidence": "School attendance data, 4 November"},
        reason="Wrong date in the evidence",
    )
    document.refresh_from_db()
    assert document.content == frozen
    assert (corrected.version, corrected.supersedes) == (2, document)
    assert corrected.content_hash != document.content_hash
    assert not corrected.signatures.exists()


@pytest.mark.usefixtures("pack_000")
def test_r000_09_one_person_cannot_give_both_signatures(
    child_case: Case, worker: User, manager: User
) -> None:
    """R000-09: the summary is signed by the caseworker AND the supervisor: two people. A
    supervisor who signs first signs as the supervisor (although, being in the team, they
    may act as a worker elsewhere); signing again in the caseworker's place is refused, so
    the case stays open until the caseworker signs."""
    closure = closure_authorise(
        actor=manager, closure=closing_000_to_authorise(child_case, worker, manager)
    )
    first = summary_sign(actor=manager, closure=closure, form_id="closing-summary")
    with pytest.raises(NotPermitted):
        summary_sign(actor=manager, closure=closure, form_id="closing-summary")
    assert first.role == Role.TEAM_MANAGER
    assert case_status(child_case) == CaseStatus.OPEN
    summary_sign(actor=worker, closure=closure, form_id="closing-summary")
    assert case_status(child_case) == CaseStatus.CLOSED
    document = SignedDocument.objects.get(closure=closure, form_id="closing-summary")
    assert dict(document.signatures.values_list("role", "signer")) == {
        Role.TEAM_MANAGER: manager.pk,
        Role.SOCIAL_WORKER: worker.pk,
    }


# --- R000-10 --------------------------------------------------------------------------------


def _friday_before_christmas(on_or_after: dt.date) -> dt.date:
    """The last Friday before Christmas Day, this year or next, never in the past: the 15
    and 20 working days from it cross Christmas, Boxing Day and New Year's Day."""
    year = on_or_after.year
    while True:
        day = dt.date(year, 12, 24)
        while day.weekday() != 4:
            day -= dt.timedelta(days=1)
        if day >= on_or_after:
            return day
        year += 1


@pytest.mark.usefixtures("pack_000")
def test_r000_10_tasks_have_a_role_and_a_due_date_in_working_days(
    child_case: Case, worker: User, manager: User, support: User
) -> None:
    """R000-10: proposing sets "discuss and agree" (team manager, 15 WD) and "present for
    closure" (the allocated worker, 20 WD), skipping weekends and bank holidays; each task
    is done when its step is; closing sets Business Support's archive task (20 WD), which
    they can complete."""
    proposed_on = _friday_before_christmas(today())
    with time_machine.travel(
        dt.datetime(proposed_on.year, proposed_on.month, proposed_on.day, 10, tzinfo=dt.UTC),
        tick=False,
    ):
        closure = closure_propose(actor=worker, case=child_case, reason_id="no-longer-in-need")
        discuss = Task.objects.get(key=f"closure:{closure.pk}:step:discuss-and-agree")
        present = Task.objects.get(key=f"closure:{closure.pk}:step:present-for-closure")
        assert (discuss.role, discuss.requirement, discuss.status) == (
            Role.TEAM_MANAGER,
            "R000-10",
            TaskStatus.OPEN,
        )
        assert discuss.due_on == working_days_after(child_case, proposed_on, 15)
        assert "15 working days from closure.proposed" in discuss.due_rule
        assert (present.role, present.assignee) == (Role.SOCIAL_WORKER, worker)
        assert present.due_on == working_days_after(child_case, proposed_on, 20)
        # Christmas, Boxing Day and New Year's Day are not counted: later than 3 weeks on.
        assert discuss.due_on is not None
        assert discuss.due_on > proposed_on + dt.timedelta(weeks=3)
        assert calendar_for(child_case).is_working_day(discuss.due_on)

        closure_decide(actor=manager, closure=closure, outcome="agreed", note="Agreed")
        discuss.refresh_from_db()
        assert (discuss.status, discuss.completed_by) == (TaskStatus.DONE, manager)

        closure = closing_remaining_000(child_case, worker, manager, reload(closure))
        present.refresh_from_db()
        assert present.status == TaskStatus.DONE
        archive = Task.objects.get(key=f"closure:{closure.pk}:task:archive")
        assert (archive.role, archive.requirement, archive.case) == (
            Role.BUSINESS_SUPPORT,
            "R000-10",
            child_case,
        )
        assert archive.due_on == working_days_after(child_case, proposed_on, 20)
        with pytest.raises(NotPermitted, match="business support officer"):
            task_complete(actor=worker, task=archive)
        assert task_complete(actor=support, task=archive).status == TaskStatus.DONE


def closing_remaining_000(case: Case, worker: User, manager: User, closure: Closure) -> Closure:
    """From an agreed procedure-000 closure to the closed case."""
    case_complexity_decide(actor=manager, case=case, is_complex=False, reason="One issue")
    closure_step_complete(actor=manager, closure=closure, step_id="decide-complexity")
    form_save_draft(
        actor=worker, closure=closure, form_id="closing-summary", answers=CLOSING_SUMMARY_000
    )
    form_submit(actor=worker, closure=closure, form_id="closing-summary")
    closure_step_complete(actor=worker, closure=closure, step_id="present-for-closure")
    answer_checklist(closure, "supervisor-audit", manager)
    checklist_complete(actor=manager, closure=closure, checklist_id="supervisor-audit")
    closure_authorise(actor=manager, closure=closure)
    summary_sign(actor=worker, closure=closure, form_id="closing-summary")
    summary_sign(actor=manager, closure=closure, form_id="closing-summary")
    closure = reload(closure)
    assert closure.state == ClosureState.CLOSED
    return closure
