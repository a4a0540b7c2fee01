"""Pack 003, "Ending Interventions with Families" (children): each requirement R003-01..R003-08
evaluated against real cases recorded through the services, one that meets it and one that
does not."""

from __future__ import annotations

import datetime as dt

import pytest

from casework.accounts.models import User
from casework.cases.models import DecisionKind, DocumentKind, MeetingKind
from casework.policy.evaluate import (
    GateResult,
    applicable_steps,
    checklist_results,
    closure_gate_ids,
    closure_gates,
    evaluate_gate,
    form_fields,
)
from casework.policy.loader import PolicyPack, load_pack
from casework.policy.prefill import prefill
from casework.policy.schema import Step
from casework.policy.tests.builders import AS_OF, CaseStory, D

PACK_ID = "003-ending-interventions"
FINAL_MEETING = D(2025, 5, 22)
MINUTES = "Reasons for closure explained; family said the group work helped most."


@pytest.fixture
def pack() -> PolicyPack:
    return load_pack(PACK_ID)


@pytest.fixture
def story(worker: User, manager: User) -> CaseStory:
    """A 9-year-old's case opened on 6 January 2025."""
    return CaseStory.open(worker, manager)


def step(pack: PolicyPack, step_id: str) -> Step:
    assert pack.spec.closure is not None
    return next(s for s in pack.spec.closure.steps if s.id == step_id)


def gate(pack: PolicyPack, gate_id: str, story: CaseStory, on: dt.date = AS_OF) -> GateResult:
    return evaluate_gate(pack, gate_id, story.context(on))


def step_ids(pack: PolicyPack, story: CaseStory) -> list[str]:
    return [s.id for s in applicable_steps(pack, story.context())]


def field_ids(pack: PolicyPack, form_id: str) -> list[str]:
    return [f.id for f in pack.spec.forms[form_id].fields]


# R003-01 -------------------------------------------------------------------------------------


def test_r003_01_final_meeting_with_attendees_and_minutes_is_recorded(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R003-01: a final meeting with the family and agencies, its attendees and minutes,
    lets the closure summary be written; the meeting is cited with its date and attendance."""
    story.meeting(MeetingKind.FINAL, FINAL_MEETING, minutes=MINUTES)
    result = gate(pack, "final-meeting-recorded", story)
    assert result.passed
    assert len(result.evidence) == 1
    assert "date: 2025-05-22" in result.evidence[0]
    assert "attendees: 2" in result.evidence[0]
    assert "final-meeting-recorded" in closure_gate_ids(pack, step_id="case-closure-summary")
    final = step(pack, "final-meeting")
    assert (final.kind, final.meeting_kind) == ("meeting", "final")


def test_r003_01_summary_blocked_until_the_final_meeting_is_recorded(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R003-01: with no final meeting (a core group does not count), the closure summary
    step is blocked and the worker is told what to record."""
    story.meeting(MeetingKind.CORE_GROUP, FINAL_MEETING, minutes=MINUTES)
    result = gate(pack, "final-meeting-recorded", story)
    assert result.blocks
    assert "who attended, and the minutes" in result.explanation
    blocked = closure_gates(pack, story.context(), step_id="case-closure-summary")
    assert [g.gate_id for g in blocked if g.blocks] == ["final-meeting-recorded"]


@pytest.mark.parametrize(
    ("attendees", "minutes"),
    [([{"name": "Jo Taylor", "role": "Mother"}], ""), ([], MINUTES)],
    ids=["no-minutes", "nobody-recorded-as-attending"],
)
def test_r003_01_final_meeting_needs_both_attendees_and_minutes(
    pack: PolicyPack, story: CaseStory, attendees: list[dict[str, str]], minutes: str
) -> None:
    """R003-01: a final meeting recorded without minutes, or without who attended, does not
    meet the requirement."""
    story.meeting(MeetingKind.FINAL, FINAL_MEETING, attendees=attendees, minutes=minutes)
    assert gate(pack, "final-meeting-recorded", story).blocks


# R003-02 -------------------------------------------------------------------------------------


def test_r003_02_family_and_young_person_feedback_forms_for_a_nine_year_old(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R003-02: two feedback forms, both optional steps of the ending: the family's and, for
    a child of 8 or over, the young person's own."""
    steps = {s.id: s for s in applicable_steps(pack, story.context())}
    assert steps["feedback"].form == "family-feedback"
    assert steps["young-person-feedback"].form == "young-person-feedback"
    assert steps["feedback"].optional
    assert steps["young-person-feedback"].optional
    for form_id in ("family-feedback", "young-person-feedback"):
        assert "R003-02" in pack.spec.forms[form_id].requirement
        assert field_ids(pack, form_id) == ["what_helped", "what_could_be_better"]
    assert "young-person-feedback" in {c.id for c in pack.spec.choices}


def test_r003_02_no_young_person_form_for_a_five_year_old(
    pack: PolicyPack, worker: User, manager: User
) -> None:
    """R003-02: a 5-year-old is not offered the young person's form; the family's still is."""
    young = CaseStory.open(worker, manager, born=D(2020, 1, 15))
    ids = step_ids(pack, young)
    assert "feedback" in ids
    assert "young-person-feedback" not in ids


# R003-03 -------------------------------------------------------------------------------------


def test_r003_03_worker_evidences_the_seven_points(pack: PolicyPack, story: CaseStory) -> None:
    """R003-03: the evidence form asks for the seven points in the document's order, all
    required and all shown, ending with the final meeting's 0-10 scaling score."""
    states = form_fields(pack, "ending-evidence", story.context())
    assert [s.field.id for s in states if s.shown] == [
        "family_can_meet_needs",
        "why_no_longer_required",
        "handed_over",
        "family_strategies",
        "sustainability_confidence",
        "decision_understood",
        "safety_plan_score",
    ]
    assert all(s.field.required for s in states)
    types = {s.field.id: s.field.type for s in states}
    assert (types["decision_understood"], types["safety_plan_score"]) == ("yes_no", "score")
    labels = {s.field.id: s.field.label for s in states}
    assert "contingency plan" in labels["family_strategies"]
    assert "what could have been better" in labels["why_no_longer_required"]
    assert step(pack, "ending-evidence").form == "ending-evidence"


def test_r003_03_handover_heading_prefilled_with_the_agencies_taking_over(
    pack: PolicyPack, story: CaseStory, worker: User, manager: User
) -> None:
    """R003-03: "support handed over to which agency" starts from the agencies on record;
    with none recorded it says so instead of leaving a blank the worker might miss."""
    story.professional("early_help", "Testbury Family Hub", D(2025, 5, 1), name="Kim Ray")
    story.professional("school", "Testbury Primary", D(2024, 9, 1), lead=True)
    handed = next(f for f in pack.spec.forms["ending-evidence"].fields if f.id == "handed_over")
    assert handed.prefill == "agencies_involved"
    text = prefill("agencies_involved", story.case).text
    assert text.splitlines() == [
        "Early help: Testbury Family Hub (Kim Ray)",
        "School: Testbury Primary – lead professional",
    ]
    alone = CaseStory.open(worker, manager, given_name="Noor")
    assert prefill("agencies_involved", alone.case).text == (
        "No professionals or agencies are recorded as involved."
    )


# R003-04 -------------------------------------------------------------------------------------


def test_r003_04_closure_summary_headings_with_final_meeting_date_prefilled(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R003-04: the summary asks the four questions of the document and confirms the
    minutes; the final meeting's date and the history of referrals come pre-filled."""
    story.referral(D(2025, 3, 3), source="6", reason="Police attended a domestic incident.")
    story.meeting(MeetingKind.FINAL, FINAL_MEETING, minutes=MINUTES)
    assert field_ids(pack, "case-closure-summary") == [
        "reason_for_intervention",
        "intervention_and_impact",
        "safety_plan",
        "final_meeting_date",
        "minutes_uploaded",
    ]
    fields = {f.id: f for f in pack.spec.forms["case-closure-summary"].fields}
    assert "protective factors" in fields["intervention_and_impact"].label
    assert "parent's actions if things change" in fields["safety_plan"].label
    assert prefill("final_meeting_date", story.case).text == "2025-05-22"
    assert prefill("reasons_for_involvement", story.case).text.splitlines() == [
        "6 January 2025 (Schools): School raised concerns about neglect and attendance.",
        "3 March 2025 (Police): Police attended a domestic incident.",
    ]


def test_r003_04_final_meeting_date_left_empty_when_no_final_meeting(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R003-04: with no final meeting on record the date is not guessed from another
    meeting: it is left empty for the worker."""
    story.meeting(MeetingKind.CIN_REVIEW, D(2025, 5, 1), minutes="Review.")
    assert prefill("final_meeting_date", story.case).text == ""


# R003-05 -------------------------------------------------------------------------------------


def file_in_order(story: CaseStory) -> CaseStory:
    story.decision(DecisionKind.ADVISE_CLOSURE, D(2025, 5, 20))
    story.document(DocumentKind.MINUTES, "Final meeting minutes").note(D(2025, 5, 22))
    story.lives_at(D(2025, 1, 6)).phone()
    return story


def test_r003_05_ending_checks_pass_when_the_file_is_in_order(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R003-05: the team manager's decision, key documents and recordings, and current phone
    number and address on the system: every check passes and the checks step is not held."""
    context = file_in_order(story).context()
    results = {r.item.id: r.passed for r in checklist_results(pack, "ending-checks", context)}
    assert results == {"decision": True, "key-documents": True, "contact-details": True}
    checks = closure_gates(pack, context, step_id="checks")
    assert [g.gate_id for g in checks if g.blocks] == []


def test_r003_05_ending_checks_fail_on_an_incomplete_file(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R003-05: with no manager's decision, no documents and no phone number, each check
    fails and the checks step is blocked, telling the worker what to confirm."""
    story.lives_at(D(2025, 1, 6)).note(D(2025, 5, 22))
    context = story.context()
    results = {r.item.id: r.passed for r in checklist_results(pack, "ending-checks", context)}
    assert results == {"decision": False, "key-documents": False, "contact-details": False}
    blocked = {g.gate_id: g for g in closure_gates(pack, context, step_id="checks") if g.blocks}
    assert set(blocked) == {"manager-decision-recorded", "contact-details-current"}
    assert "phone number and address" in blocked["contact-details-current"].explanation
    assert ("subject.has_phone", "no") in blocked["contact-details-current"].facts


def test_r003_05_a_decision_that_is_not_about_ending_does_not_count(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R003-05: "the decision is clearly recorded": a decision to allocate the case is not a
    decision to end involvement."""
    story.decision(DecisionKind.ALLOCATE, D(2025, 1, 7))
    assert gate(pack, "manager-decision-recorded", story).blocks


# R003-06 -------------------------------------------------------------------------------------


def test_r003_06_summary_is_shared_and_the_sharing_recorded(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R003-06: every ending shares the signed summary with the family and professionals,
    in a step after the signatures that records who, when and how."""
    form = pack.spec.forms["case-closure-summary"]
    assert form.shared_with_family is True
    assert form.signed is True
    share = step(pack, "share")
    assert share.kind == "share"
    assert share.produces == "Record of sharing"
    assert "(who, when, how)" in share.label
    assert "R003-06" in share.requirement
    ids = step_ids(pack, story)
    assert ids.index("sign") < ids.index("share")
    assert share.when is None
    assert not share.optional


def test_r003_06_feedback_forms_are_not_shared_with_the_family(pack: PolicyPack) -> None:
    """R003-06: only the summary is marked for sharing; the worker's evidence and the
    feedback forms are not."""
    shared = [form_id for form_id, form in pack.spec.forms.items() if form.shared_with_family]
    assert shared == ["case-closure-summary"]


# R003-07 -------------------------------------------------------------------------------------


def test_r003_07_new_referral_after_closure_shows_the_earlier_closure(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R003-07: when a child whose case closed is referred again, the new case's view carries
    the earlier closure (when, why, which team) for the front-door worker, who answers the
    three questions of the re-referral review."""
    story.close_imported(D(2025, 3, 31), "RC7")
    again = CaseStory.open(
        story.worker,
        story.manager,
        child=story.child,
        opened_on=D(2025, 5, 12),
        reason="School worried again about attendance.",
    )
    previous = again.view()["previous_case"]
    assert previous["exists"] is True
    assert previous["closure_reason"] == "RC7"
    assert previous["team"] == "ai"
    assert previous["days_since_closed"] == 63
    form = pack.spec.forms["re-referral-review"]
    assert [(f.id, f.type) for f in form.fields] == [
        ("further_statutory_intervention_needed", "yes_no"),
        ("parent_following_arrangements", "yes_no"),
        ("agencies_completed_support", "yes_no"),
        ("analysis", "text"),
    ]
    assert all(f.required for f in form.fields)


def test_r003_07_a_first_referral_has_no_earlier_closure_to_review(story: CaseStory) -> None:
    """R003-07: a child never known before has no earlier closure summary to show."""
    previous = story.view()["previous_case"]
    assert previous["exists"] is False
    assert previous["days_since_closed"] == -1


# R003-08 -------------------------------------------------------------------------------------


def test_r003_08_step_down_follows_the_same_ending_as_closure(pack: PolicyPack) -> None:
    """R003-08: a step-down to Early Help (after a plan, RC7; after an assessment, RC9) has
    exactly the gates of an ordinary closure, so it cannot skip any part of the ending."""
    assert pack.spec.closure is not None
    reasons = {r.id: r for r in pack.spec.closure.reasons}
    assert (
        reasons["stepped-down-after-plan"].national_code,
        reasons["stepped-down-after-plan"].requirement,
    ) == ("RC7", "R003-08")
    assert reasons["early-help-after-assessment"].national_code == "RC9"
    for each_step in pack.spec.closure.steps:
        closure = closure_gate_ids(pack, step_id=each_step.id, reason_id="no-longer-in-need")
        for step_down in ("stepped-down-after-plan", "early-help-after-assessment"):
            assert closure_gate_ids(pack, step_id=each_step.id, reason_id=step_down) == closure
    assert "closure or step-down" in step(pack, "propose").label


def test_r003_08_a_step_down_decision_ends_the_intervention(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R003-08: the manager's decision to step down to Early Help is the recorded decision
    for this ending, just as a closure decision is."""
    story.decision(DecisionKind.STEP_DOWN, D(2025, 5, 20), decision="Step down to Early Help.")
    assert gate(pack, "manager-decision-recorded", story).passed


def test_r003_08_a_transfer_decision_is_not_an_ending(pack: PolicyPack, story: CaseStory) -> None:
    """R003-08: a decision to transfer to another team neither closes nor steps down, so it
    does not satisfy the ending's decision."""
    story.decision(DecisionKind.TRANSFER, D(2025, 5, 20), decision="Transfer to SGCP.")
    assert gate(pack, "manager-decision-recorded", story).blocks
