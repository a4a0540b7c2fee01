"""Pack 001, "Completing a Closure Record" (children): each requirement R001-01..R001-08
evaluated against real cases recorded through the services, one that meets it and one that
does not."""

from __future__ import annotations

import datetime as dt

import pytest

from casework.accounts.models import User
from casework.cases.models import AssessmentKind, DecisionKind, MeetingKind
from casework.organisation.models import Authority, ClosureDay
from casework.policy.evaluate import (
    GateResult,
    applicable_steps,
    checklist_results,
    closure_gate_ids,
    closure_gates,
    due_date,
    evaluate_gate,
    form_fields,
)
from casework.policy.loader import PolicyPack, load_pack
from casework.policy.prefill import prefill
from casework.policy.schema import Step
from casework.policy.tests.builders import AS_OF, CaseStory, D

PACK_ID = "001-closure-record"

# 17 April 2025 to 6 May 2025 is 19 calendar days but only 10 working days: Good Friday,
# Easter Monday and the early May bank holiday fall between them.
EVALUATED = D(2025, 5, 6)
TEN_WORKING_DAYS_BEFORE = D(2025, 4, 17)
ELEVEN_WORKING_DAYS_BEFORE = D(2025, 4, 16)


@pytest.fixture
def pack() -> PolicyPack:
    return load_pack(PACK_ID)


@pytest.fixture
def story(worker: User, manager: User) -> CaseStory:
    """A case opened on 6 January 2025: long past the 10-day assessment period."""
    return CaseStory.open(worker, manager)


def step(pack: PolicyPack, step_id: str) -> Step:
    assert pack.spec.closure is not None
    return next(s for s in pack.spec.closure.steps if s.id == step_id)


def gate(pack: PolicyPack, gate_id: str, story: CaseStory, on: dt.date = AS_OF) -> GateResult:
    return evaluate_gate(pack, gate_id, story.context(on))


def step_ids(pack: PolicyPack, story: CaseStory, on: dt.date = AS_OF) -> list[str]:
    return [s.id for s in applicable_steps(pack, story.context(on))]


def ready_to_close(story: CaseStory) -> CaseStory:
    """A case with everything 001 asks for: an authorised assessment, a CiN meeting and an
    ended Child's Plan, a recent visit, notes, an address and a decision advising closure."""
    story.assessment(
        AssessmentKind.SINGLE, D(2025, 1, 7), completed_on=D(2025, 2, 14), authorised=True
    )
    story.meeting(MeetingKind.CIN_MEETING, D(2025, 2, 24), minutes="Plan agreed.")
    story.cin_plan(D(2025, 2, 24), D(2025, 5, 19), outcome="Attendance back to 96%.")
    story.visit(D(2025, 5, 19), alone=True, home=True).note(D(2025, 5, 19))
    story.lives_at(D(2025, 1, 6))
    story.decision(DecisionKind.ADVISE_CLOSURE, D(2025, 5, 20))
    return story


# R001-01 -------------------------------------------------------------------------------------


def test_r001_01_case_closed_inside_the_assessment_period_closes_with_the_write_up(
    pack: PolicyPack, worker: User, manager: User
) -> None:
    """R001-01: a case opened 10 working days ago (19 calendar days, over Easter and the May
    bank holiday) is still inside the assessment period: it closes with the assessment
    write-up and needs no closure record or Child in Need meeting."""
    story = CaseStory.open(worker, manager, opened_on=TEN_WORKING_DAYS_BEFORE)
    ids = step_ids(pack, story, EVALUATED)
    assert "assessment-write-up" in ids
    assert "closure-record" not in ids
    assert story.view(EVALUATED)["case"]["working_days_open"] == 10
    meeting_gate = gate(pack, "cin-meeting-and-plan", story, EVALUATED)
    assert not meeting_gate.applies
    assert pack.spec.forms["assessment-write-up"].fields[0].id == "conclusion"


def test_r001_01_case_open_more_than_ten_working_days_needs_a_closure_record(
    pack: PolicyPack, worker: User, manager: User
) -> None:
    """R001-01: one working day more (11) and the case needs a closure record instead of the
    write-up."""
    story = CaseStory.open(worker, manager, opened_on=ELEVEN_WORKING_DAYS_BEFORE)
    ids = step_ids(pack, story, EVALUATED)
    assert "closure-record" in ids
    assert "assessment-write-up" not in ids
    assert step(pack, "closure-record").form == "closure-record"


# R001-02 -------------------------------------------------------------------------------------


def test_r001_02_case_open_more_than_ten_days_needs_a_cin_meeting_and_childs_plan(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R001-02: with neither a Child in Need meeting nor a Child's Plan, every closure step is
    blocked, telling the worker to record both."""
    result = gate(pack, "cin-meeting-and-plan", story)
    assert result.blocks
    assert "Child in Need meeting" in result.explanation
    assert "Child's Plan" in result.explanation
    propose = closure_gates(pack, story.context(), step_id="closure-record")
    assert "cin-meeting-and-plan" in [g.gate_id for g in propose if g.blocks]


def test_r001_02_a_cin_meeting_without_a_childs_plan_is_not_enough(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R001-02: the meeting must result in a Child's Plan: a meeting alone still blocks,
    and the meeting is cited as evidence."""
    story.meeting(MeetingKind.CIN_MEETING, D(2025, 2, 24), minutes="Discussed.")
    result = gate(pack, "cin-meeting-and-plan", story)
    assert result.blocks
    assert len(result.evidence) == 1
    assert "kind: cin_meeting" in result.evidence[0]


def test_r001_02_a_different_meeting_is_not_a_cin_meeting(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R001-02: a strategy discussion and a Child's Plan do not satisfy the requirement."""
    story.meeting(MeetingKind.STRATEGY, D(2025, 2, 24)).cin_plan(D(2025, 2, 24), D(2025, 5, 1))
    assert gate(pack, "cin-meeting-and-plan", story).blocks


def test_r001_02_cin_meeting_and_childs_plan_meet_the_requirement(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R001-02: a CiN meeting that produced a Child's Plan lets closure go ahead, and the
    Senior Fieldwork Manager still endorses it (the authorisation step is theirs)."""
    story.meeting(MeetingKind.CIN_MEETING, D(2025, 2, 24)).cin_plan(D(2025, 2, 24), D(2025, 5, 1))
    assert gate(pack, "cin-meeting-and-plan", story).passed
    authorise = step(pack, "authorise")
    assert authorise.role == "senior_fieldwork_manager"
    assert "R001-02" in authorise.requirement
    assert "authorise" in step_ids(pack, story)


def test_r001_02_closing_straight_after_the_meeting_is_endorsed_by_the_senior_manager(
    pack: PolicyPack, worker: User, manager: User
) -> None:
    """R001-02: even a case closed with the write-up straight after the meeting is
    authorised by the Senior Fieldwork Manager."""
    story = CaseStory.open(worker, manager, opened_on=TEN_WORKING_DAYS_BEFORE)
    story.meeting(MeetingKind.CIN_MEETING, D(2025, 5, 2))
    steps = applicable_steps(pack, story.context(EVALUATED))
    assert [s.role for s in steps if s.kind == "authorise"] == ["senior_fieldwork_manager"]


# R001-03 -------------------------------------------------------------------------------------


def test_r001_03_closure_record_has_the_eight_headings_prefilled(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R001-03: with a lead professional recorded, all eight headings are shown, and the
    address, reasons, continuing professionals and lead professional come pre-filled."""
    story.lives_at(D(2025, 1, 6), line_1="12 Mill Lane", postcode="TS1 4AB")
    story.professional(
        "health_visitor",
        "Testshire NHS Trust",
        D(2025, 1, 6),
        name="Ann Lee",
        designation="Health visitor",
        lead=True,
    )
    story.professional("school", "Testbury Primary", D(2024, 9, 1))
    states = form_fields(pack, "closure-record", story.context())
    assert [s.field.id for s in states if s.shown] == [
        "current_address",
        "reasons_for_involvement",
        "progress",
        "ending_discussed_with_parent",
        "ending_discussed_with_child",
        "continuing_professionals",
        "lead_professional",
        "parent_given_plan",
    ]
    types = {s.field.id: s.field.type for s in states}
    assert types["ending_discussed_with_parent"] == "yes_no"
    assert types["ending_discussed_with_child"] == "yes_no_na"
    assert types["parent_given_plan"] == "yes_no"
    assert prefill("current_address", story.case).text == "12 Mill Lane, Testbury, TS1 4AB"
    assert prefill("lead_professional", story.case).text == (
        "Ann Lee, Health visitor, Testshire NHS Trust"
    )
    continuing = prefill("agencies_involved", story.case).text
    assert "School: Testbury Primary" in continuing
    assert prefill("reasons_for_involvement", story.case).text == (
        "6 January 2025 (Schools): School raised concerns about neglect and attendance."
    )


def test_r001_03_lead_professional_heading_hidden_when_there_is_none(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R001-03: the lead professional is asked for only "if there is one": with none
    recorded the heading is not shown, and the other seven are."""
    story.professional("school", "Testbury Primary", D(2024, 9, 1))
    shown = [s.field.id for s in form_fields(pack, "closure-record", story.context()) if s.shown]
    assert "lead_professional" not in shown
    assert len(shown) == 7
    assert prefill("lead_professional", story.case).text == "No lead professional is recorded."


# R001-04 -------------------------------------------------------------------------------------


def test_r001_04_closure_record_due_15_working_days_after_the_decision(
    pack: PolicyPack, authority: Authority
) -> None:
    """R001-04: a Manager's Decision advising closure on Friday 2 May 2025 makes the closure
    record due on 27 May 2025: 15 working days skipping both May bank holidays (15 calendar
    days would be 17 May, a Saturday)."""
    due = step(pack, "closure-record").due
    assert due is not None
    assert due.from_ == "manager_decision.advise_closure"
    assert due_date(due, D(2025, 5, 2), authority.calendar()) == D(2025, 5, 27)


def test_r001_04_a_decision_advising_closure_opens_the_closure_record(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R001-04: the closure record step is open once the decision advising closure is on
    file, and the decision is cited."""
    story.decision(DecisionKind.ADVISE_CLOSURE, D(2025, 5, 2))
    result = gate(pack, "manager-decision-advising-closure", story)
    assert result.passed
    assert len(result.evidence) == 1
    assert "date: 2025-05-02" in result.evidence[0]
    assert "manager-decision-advising-closure" in closure_gate_ids(pack, step_id="closure-record")


def test_r001_04_a_routine_supervision_does_not_advise_closure(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R001-04: the closure record runs from a decision that advised closure. A supervision
    about something else, or another kind of decision, does not start it."""
    story.supervision(D(2025, 3, 3), discussion="Progress with school attendance.")
    story.decision(DecisionKind.ALLOCATE, D(2025, 1, 7))
    result = gate(pack, "manager-decision-advising-closure", story)
    assert result.blocks
    assert "Ask the team manager to record that decision" in result.explanation
    assert "supervision-advising-closure" in {c.id for c in pack.spec.choices}


# R001-05 -------------------------------------------------------------------------------------


def test_r001_05_outstanding_remedial_work_is_listed_and_blocks_authorisation(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R001-05: an assessment still in progress, no case notes and no address: the remedial
    work gate blocks both the remedial step and authorisation, listing the open assessment
    and citing the missing notes and address."""
    story.assessment(AssessmentKind.SINGLE, D(2025, 4, 1))
    result = gate(pack, "remedial-work-done", story)
    assert result.blocks
    assert len(result.evidence) == 1
    assert "kind: single" in result.evidence[0]
    assert ("notes.days_since_last", "-1") in result.facts
    assert ("subject.has_current_address", "no") in result.facts
    assert "remedial-work-done" in closure_gate_ids(pack, step_id="authorise")
    assert "remedial-work-done" in closure_gate_ids(pack, step_id="remedial-work")


@pytest.mark.parametrize(
    "missing",
    ["assessment", "notes", "address"],
)
def test_r001_05_each_piece_of_remedial_work_must_be_done(
    pack: PolicyPack, story: CaseStory, missing: str
) -> None:
    """R001-05: the gate is met only when all the remedial work is done; leaving any one
    piece undone keeps authorisation blocked."""
    story.assessment(
        AssessmentKind.SINGLE,
        D(2025, 1, 7),
        completed_on=None if missing == "assessment" else D(2025, 2, 14),
    )
    if missing != "notes":
        story.note(D(2025, 5, 19))
    if missing != "address":
        story.lives_at(D(2025, 1, 6))
    assert gate(pack, "remedial-work-done", story).blocks


def test_r001_05_remedial_work_complete_lets_authorisation_proceed(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R001-05: with the assessment complete, notes recorded and the address confirmed,
    nothing is listed and authorisation is not held back by remedial work."""
    ready_to_close(story)
    result = gate(pack, "remedial-work-done", story)
    assert result.passed
    gates = closure_gates(pack, story.context(), step_id="authorise", reason_id="no-longer-in-need")
    assert [g.gate_id for g in gates if g.blocks] == []


# R001-06 -------------------------------------------------------------------------------------


def test_r001_06_senior_fieldwork_manager_authorises_with_a_compliance_review(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R001-06: authorisation is the Senior Fieldwork Manager's, and completing it includes
    the Compliance Review, which passes a complete record and leaves the gaps item for them
    to record."""
    authorise = step(pack, "authorise")
    assert authorise.role == "senior_fieldwork_manager"
    assert authorise.compliance_review is True
    assert authorise.checklist == "compliance-review"
    results = {
        r.item.id: r
        for r in checklist_results(pack, "compliance-review", ready_to_close(story).context())
    }
    assert results["assessments-complete"].passed is True
    assert results["assessments-complete"].evidence == []
    assert results["plan-recorded"].passed is True
    assert results["visits-recorded"].passed is True
    assert results["gaps"].automatic is False
    assert results["gaps"].passed is None
    assert "remedial-work-and-compliance" in {c.id for c in pack.spec.choices}


def test_r001_06_compliance_review_shows_gaps_in_recording(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R001-06: an assessment completed but never authorised, a Child's Plan still open and
    no visit for months: each check fails, and the unauthorised assessment is listed."""
    story.assessment(AssessmentKind.SINGLE, D(2025, 1, 7), completed_on=D(2025, 2, 14))
    story.cin_plan(D(2025, 2, 24)).visit(D(2025, 3, 3))
    results = {r.item.id: r for r in checklist_results(pack, "compliance-review", story.context())}
    assert results["assessments-complete"].passed is False
    assert len(results["assessments-complete"].evidence) == 1
    assert "authorised: no" in results["assessments-complete"].evidence[0]
    assert results["plan-recorded"].passed is False
    assert results["visits-recorded"].passed is False


# R001-07 -------------------------------------------------------------------------------------


def test_r001_07_business_support_tasks_follow_authorisation(
    pack: PolicyPack, authority: Authority
) -> None:
    """R001-07: once the closure record is authorised, Business Support gets two tasks, each
    due 5 working days later: authorised Monday 22 December 2025, due 31 December (Christmas
    and Boxing Day skipped), or 2 January 2026 if the council also closes on Christmas Eve."""
    assert pack.spec.closure is not None
    tasks = pack.spec.closure.tasks
    assert [t.id for t in tasks] == ["update-closure-details", "archive"]
    assert all(t.role == "business_support" for t in tasks)
    assert all(t.due.from_ == "closure.authorised" for t in tasks)
    assert all(t.requirement == "R001-07" for t in tasks)
    authorised = D(2025, 12, 22)
    assert due_date(tasks[0].due, authorised, authority.calendar()) == D(2025, 12, 31)
    ClosureDay.objects.create(authority=authority, day=D(2025, 12, 24), reason="Christmas Eve")
    assert due_date(tasks[1].due, authorised, authority.calendar()) == D(2026, 1, 2)


# R001-08 -------------------------------------------------------------------------------------


def test_r001_08_a_move_to_another_authority_follows_the_transfer_process(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R001-08: closing as "moved to another local authority" is blocked until the manager's
    transfer decision is recorded; the reason's gate says to follow the transfer process."""
    gates = closure_gates(pack, story.context(), reason_id="transferred-to-another-la")
    transfer = next(g for g in gates if g.gate_id == "transfer-not-closure")
    assert transfer.blocks
    assert "follows the transfer process, not closure" in transfer.explanation

    story.decision(DecisionKind.TRANSFER, D(2025, 5, 2), decision="Refer to Othershire.")
    assert gate(pack, "transfer-not-closure", story).passed


def test_r001_08_other_closure_reasons_need_no_transfer(pack: PolicyPack) -> None:
    """R001-08: only the move reason is held by the transfer gate; a child no longer in need
    closes without one."""
    assert "transfer-not-closure" not in closure_gate_ids(pack, reason_id="no-longer-in-need")
    assert "transfer-not-closure" in closure_gate_ids(pack, reason_id="transferred-to-another-la")
