"""Pack 000, "Closing Cases" (children): each requirement R000-01..R000-10 evaluated against
real cases recorded through the services, one that meets it and one that does not."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine

from casework.accounts.models import User
from casework.cases.models import AssessmentKind, DecisionKind
from casework.cases.services import case_complexity_decide
from casework.core.codes import CinClosureReason
from casework.core.errors import NotPermitted
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
    notifications_for,
)
from casework.policy.loader import BUILT_IN_PACKS, PackError, PackRegistry, PolicyPack, load_pack
from casework.policy.prefill import prefill
from casework.policy.schema import Step
from casework.policy.tests.builders import AS_OF, CaseStory, D, make_person, move_away

PACK_ID = "000-closing-cases"


@pytest.fixture
def pack() -> PolicyPack:
    return load_pack(PACK_ID)


@pytest.fixture
def story(worker: User, manager: User) -> CaseStory:
    """A plain case opened on 6 January 2025, allocated to the worker."""
    return CaseStory.open(worker, manager)


def step(pack: PolicyPack, step_id: str) -> Step:
    assert pack.spec.closure is not None
    return next(s for s in pack.spec.closure.steps if s.id == step_id)


def gate(pack: PolicyPack, gate_id: str, story: CaseStory, on: dt.date = AS_OF) -> GateResult:
    return evaluate_gate(pack, gate_id, story.context(on))


def shown(
    pack: PolicyPack, story: CaseStory, answers: dict[str, object] | None = None
) -> list[str]:
    fields = form_fields(pack, "closing-summary", story.context(), answers)
    return [state.field.id for state in fields if state.shown]


STANDARD_HEADINGS = [
    "household",
    "agreed_outcome",
    "outcome_evidence",
    "outcome_achieved",
    "reasons_for_closure",
]
COMPLEX_HEADINGS = [
    "family_composition",
    "period_covered",
    "contact_frequency",
    "reasons_for_involvement",
    "family_response",
    "agencies_remaining",
    "work_plan_if_re_referred",
]


# R000-01 -------------------------------------------------------------------------------------


def test_r000_01_a_plain_case_closes_only_through_proposal_decision_summary_audit_authorisation(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R000-01: a plain, undecided case still has to go through every stage of a planned
    closure, in order: proposal first, then the decision, summary, audit, authorisation and
    signatures. There is no step list that goes straight to "closed"."""
    steps = applicable_steps(pack, story.context())
    kinds = [s.kind for s in steps]
    assert kinds[0] == "propose"
    for needed in ("decide", "form", "checklist", "authorise", "sign"):
        assert needed in kinds
    assert kinds.index("decide") < kinds.index("form") < kinds.index("checklist")
    assert kinds.index("checklist") < kinds.index("authorise")
    assert [s.form for s in steps if s.kind == "form"] == ["closing-summary"]
    assert [s.checklist for s in steps if s.kind == "checklist"] == ["supervisor-audit"]


def test_r000_01_no_case_state_removes_a_closure_step(
    pack: PolicyPack, worker: User, manager: User
) -> None:
    """R000-01: no step is optional or conditional, so a complex case of a child who was on a
    CP plan and looked after gets exactly the same steps as a plain one."""
    plain = CaseStory.open(worker, manager)
    busy = (
        CaseStory.open(worker, manager, given_name="Kai", born=D(2012, 5, 1))
        .cp_plan(D(2025, 1, 20), D(2025, 3, 3))
        .looked_after(D(2025, 3, 10), D(2025, 4, 28))
        .complexity(True)
    )
    assert pack.spec.closure is not None
    assert all(s.when is None and not s.optional for s in pack.spec.closure.steps)
    plain_ids = [s.id for s in applicable_steps(pack, plain.context())]
    assert plain_ids == [s.id for s in applicable_steps(pack, busy.context())]
    assert plain_ids == [s.id for s in pack.spec.closure.steps]


def test_r000_01_closure_cannot_be_proposed_while_the_record_is_not_ready(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R000-01: the proposal itself is checked: with a child in need plan still open, the
    propose step is blocked, and it is free once the plan has ended."""
    story.cin_plan(D(2025, 2, 3))
    blocking = [
        g.gate_id for g in closure_gates(pack, story.context(), step_id="propose") if g.blocks
    ]
    assert blocking == ["no-open-plans"]

    ended = CaseStory.open(story.worker, story.manager, given_name="Ana").cin_plan(
        D(2025, 2, 3), D(2025, 5, 1)
    )
    assert not any(g.blocks for g in closure_gates(pack, ended.context(), step_id="propose"))


# R000-02 -------------------------------------------------------------------------------------


def test_r000_02_the_pack_lists_the_national_closure_circumstances(pack: PolicyPack) -> None:
    """R000-02: the document's missing list is supplied as the national CIN closure reasons
    RC1-RC9, each traceable to R000-02, and the pack says so in its choices."""
    assert pack.spec.closure is not None
    reasons = pack.spec.closure.reasons
    assert sorted(r.national_code for r in reasons) == sorted(CinClosureReason.values)
    assert all(r.requirement == "R000-02" for r in reasons)
    assert {r.id for r in reasons} >= {"no-longer-in-need", "nfa-after-assessment", "adopted"}
    assert "closure-circumstances" in {c.id for c in pack.spec.choices}
    assert "R000-02" in step(pack, "propose").requirement


def test_r000_02_a_closure_circumstance_outside_the_national_list_is_refused(
    tmp_path: Path,
) -> None:
    """R000-02: a closure must record one of the listed circumstances: an authority pack that
    adds a reason with a made-up code is refused when it loads, naming the reason."""
    (tmp_path / "local.yaml").write_text(
        """
pack: local-closing
title: Local closing
implements: A test
service_area: children
governs: [closure]
extends: ["000-closing-cases"]
closure:
  reasons:
    - {id: moved-on, label: Family moved on, national_code: RC10}
  steps:
    - {id: propose, label: Propose, kind: propose, role: social_worker, produces: Proposal}
""",
        encoding="utf-8",
    )
    registry = PackRegistry.from_directories([BUILT_IN_PACKS, tmp_path])
    with pytest.raises(PackError, match="'RC10' is not a known national closure code") as error:
        registry.load("local-closing")
    assert error.value.problems[0].path == "closure.reasons[0](moved-on).national_code"


# R000-03 -------------------------------------------------------------------------------------


def test_r000_03_cp_child_seen_alone_with_home_visited_after_plan_can_be_proposed(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R000-03: a visit after the CP plan ended, child seen alone and home visited, lets
    closure be proposed; the visit is cited as evidence."""
    story.cp_plan(D(2025, 1, 20), D(2025, 4, 14)).visit(D(2025, 4, 22), alone=True, home=True)
    result = gate(pack, "cp-seen-alone-home-visited", story)
    assert result.applies
    assert result.passed
    assert not result.blocks
    assert result.explanation.endswith(": met.")
    assert len(result.evidence) == 1
    assert "date: 2025-04-22" in result.evidence[0]
    assert ("plans.cp.last_ended_on", "2025-04-14") in result.facts
    gates = closure_gate_ids(pack, step_id="propose")
    assert "cp-seen-alone-home-visited" in gates


def test_r000_03_cp_child_needs_seen_alone_home_visit_after_plan(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R000-03: a visit before the plan ended does not count, however complete it was:
    proposing closure is blocked with the reason the worker needs."""
    story.cp_plan(D(2025, 1, 20), D(2025, 4, 14)).visit(D(2025, 4, 10), alone=True, home=True)
    result = gate(pack, "cp-seen-alone-home-visited", story)
    assert result.blocks
    assert "seen alone" in result.explanation
    assert "after the plan ended" in result.explanation
    propose = closure_gates(pack, story.context(), step_id="propose")
    assert [g.gate_id for g in propose if g.blocks] == ["cp-seen-alone-home-visited"]


@pytest.mark.parametrize(
    ("alone", "home"),
    [(True, False), (False, True)],
    ids=["seen-alone-but-home-not-visited", "home-visited-but-not-seen-alone"],
)
def test_r000_03_seen_alone_and_home_visited_must_happen_at_the_same_visit(
    pack: PolicyPack, story: CaseStory, alone: bool, home: bool
) -> None:
    """R000-03: both conditions at one visit. A visit meeting only one, even followed by
    another visit meeting the other, keeps closure blocked."""
    story.cp_plan(D(2025, 1, 20), D(2025, 4, 14)).visit(D(2025, 4, 22), alone=alone, home=home)
    story.visit(D(2025, 5, 6), alone=not alone, home=not home)
    assert gate(pack, "cp-seen-alone-home-visited", story).blocks


def test_r000_03_visit_on_the_day_the_plan_ended_does_not_count(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R000-03: "after the plan ended" is read strictly: a visit on the end date (often the
    review conference day) is not after it."""
    story.cp_plan(D(2025, 1, 20), D(2025, 4, 14)).visit(D(2025, 4, 14), alone=True, home=True)
    assert gate(pack, "cp-seen-alone-home-visited", story).blocks


def test_r000_03_cp_plan_still_open_blocks_the_proposal(pack: PolicyPack, story: CaseStory) -> None:
    """R000-03: while the CP plan is open no visit can be "after the plan ended"."""
    story.cp_plan(D(2025, 1, 20)).visit(D(2025, 4, 22), alone=True, home=True)
    assert gate(pack, "cp-seen-alone-home-visited", story).blocks


def test_r000_03_a_later_cp_plan_needs_its_own_visit_after_it_ended(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R000-03: with two CP plans, the visit must follow the latest plan's end: a visit
    between the plans no longer counts once the second plan has ended."""
    story.cp_plan(D(2025, 1, 20), D(2025, 2, 17)).visit(D(2025, 2, 24), alone=True, home=True)
    assert gate(pack, "cp-seen-alone-home-visited", story).passed
    story.cp_plan(D(2025, 3, 10), D(2025, 5, 12))
    assert gate(pack, "cp-seen-alone-home-visited", story).blocks
    story.visit(D(2025, 5, 19), alone=True, home=True)
    assert gate(pack, "cp-seen-alone-home-visited", story).passed


def test_r000_03_does_not_apply_to_a_child_never_on_a_cp_plan(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R000-03: a child never on a CP plan needs no such visit."""
    story.cin_plan(D(2025, 2, 3), D(2025, 5, 1))
    result = gate(pack, "cp-seen-alone-home-visited", story)
    assert not result.applies
    assert not result.blocks
    assert result.explanation.endswith("does not apply to this case.")


# R000-04 -------------------------------------------------------------------------------------


def test_r000_04_closure_blocked_while_the_child_is_still_looked_after(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R000-04: a child who is still looked after cannot have closure proposed."""
    story.looked_after(D(2025, 2, 3))
    result = gate(pack, "not-looked-after", story)
    assert result.blocks
    assert "still looked after" in result.explanation
    assert ("plans.lac.open", "yes") in result.facts
    blocking = {
        g.gate_id for g in closure_gates(pack, story.context(), step_id="propose") if g.blocks
    }
    assert blocking == {"not-looked-after", "no-open-plans"}


def test_r000_04_once_no_longer_looked_after_a_normal_closure_reason_still_applies(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R000-04: when the care episode has ended the gate is met, and the closure still runs
    through a normal circumstance: the same reasons as any case, none of them skipping the
    looked-after gate."""
    story.looked_after(D(2025, 2, 3), D(2025, 4, 28))
    result = gate(pack, "not-looked-after", story)
    assert result.applies
    assert result.passed
    assert pack.spec.closure is not None
    for reason in pack.spec.closure.reasons:
        assert "not-looked-after" in closure_gate_ids(pack, step_id="propose", reason_id=reason.id)


def test_r000_04_does_not_apply_to_a_child_never_looked_after(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R000-04: a child who was never looked after is not held by this gate."""
    assert not gate(pack, "not-looked-after", story).applies


# R000-05 -------------------------------------------------------------------------------------


def test_r000_05_reviewing_officer_notified_when_a_previously_looked_after_child_closes(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R000-05: at closure of a previously looked-after child's case the Reviewing Officer is
    told; nothing is sent to them before the case closes."""
    story.looked_after(D(2025, 2, 3), D(2025, 4, 28))
    context = story.context()
    sent = notifications_for(pack, "closure.closed", context)
    assert [(n.role, n.requirement) for n in sent] == [("reviewing_officer", "R000-05")]
    assert "previously looked after" in sent[0].message
    assert notifications_for(pack, "closure.proposed", context) == []


def test_r000_05_no_reviewing_officer_notice_for_a_child_never_looked_after(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R000-05: a child in need who was never looked after closes without telling the
    Reviewing Officer."""
    story.cin_plan(D(2025, 2, 3), D(2025, 5, 1))
    assert notifications_for(pack, "closure.closed", story.context()) == []


def test_r000_05_prevention_assessment_must_be_complete_before_authorisation(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R000-05: for a previously looked-after child, authorisation is blocked until the
    assessment of services to prevent them becoming looked after again is completed: not
    while it is only started, and it is met once completed."""
    story.looked_after(D(2025, 2, 3), D(2025, 4, 28))
    assert "prevention-assessment-done" in closure_gate_ids(pack, step_id="authorise")
    assert "prevention-assessment-done" not in closure_gate_ids(pack, step_id="propose")

    missing = gate(pack, "prevention-assessment-done", story)
    assert missing.blocks
    assert "prevent them becoming looked after again" in missing.explanation

    story.assessment(AssessmentKind.PREVENT_LOOKED_AFTER, D(2025, 5, 1))
    assert gate(pack, "prevention-assessment-done", story).blocks

    done = CaseStory.open(story.worker, story.manager, given_name="Bo")
    done.looked_after(D(2025, 2, 3), D(2025, 4, 28)).assessment(
        AssessmentKind.PREVENT_LOOKED_AFTER, D(2025, 5, 1), completed_on=D(2025, 5, 20)
    )
    assert gate(pack, "prevention-assessment-done", done).passed


def test_r000_05_other_assessments_do_not_count_as_the_prevention_assessment(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R000-05: a completed single assessment is not the prevention assessment; a child who
    was never looked after needs none."""
    story.looked_after(D(2025, 2, 3), D(2025, 4, 28)).assessment(
        AssessmentKind.SINGLE, D(2025, 1, 7), completed_on=D(2025, 2, 3)
    )
    assert gate(pack, "prevention-assessment-done", story).blocks
    never = CaseStory.open(story.worker, story.manager, given_name="Cy")
    assert not gate(pack, "prevention-assessment-done", never).applies


# R000-06 -------------------------------------------------------------------------------------


def test_r000_06_closing_summary_has_the_standard_headings(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R000-06: household, agreed outcome, evidence with dates, reasons for closure; "why not
    achieved" only once the worker says the outcome was not achieved."""
    story.complexity(False)
    assert shown(pack, story) == STANDARD_HEADINGS
    assert shown(pack, story, {"outcome_achieved": True}) == STANDARD_HEADINGS
    not_achieved = shown(pack, story, {"outcome_achieved": False})
    assert not_achieved == [*STANDARD_HEADINGS[:4], "why_not_achieved", "reasons_for_closure"]
    labels = {f.id: f.label for f in pack.spec.forms["closing-summary"].fields}
    assert "including dates" in labels["outcome_evidence"]
    assert "all children and adults" in labels["household"]


def test_r000_06_household_heading_lists_every_child_and_adult_in_the_home(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R000-06: the household heading is pre-filled with everyone living at the child's
    address and their relationship; a person who has moved out is not listed."""
    worker = story.worker
    mother = make_person(worker, "Jo", "Taylor", D(1990, 7, 2))
    sister = make_person(worker, "Mia", "Taylor", D(2019, 9, 30))
    uncle = make_person(worker, "Lee", "Taylor", D(1985, 1, 12))
    story.lives_at(D(2025, 1, 6))
    story.lives_with(mother, "parent", D(2025, 1, 6)).lives_with(sister, "sibling", D(2025, 1, 6))
    story.lives_with(uncle, "aunt_uncle", D(2025, 1, 6))
    move_away(worker, uncle, D(2025, 3, 1))

    field = next(f for f in pack.spec.forms["closing-summary"].fields if f.id == "household")
    assert field.prefill == "household_members"
    filled = prefill("household_members", story.case)
    lines = filled.text.splitlines()
    assert lines[0] == "Sam Taylor (born 14 March 2016), the subject"
    assert "Jo Taylor (born 2 July 1990), parent" in lines
    assert "Mia Taylor (born 30 September 2019), sibling" in lines
    assert not any("Lee" in line for line in lines)
    view = story.view()
    assert (view["household"]["adults"], view["household"]["children"]) == (1, 1)


def test_r000_06_household_heading_says_when_no_address_is_recorded(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R000-06: with no address on record the heading cannot be pre-filled, and says why
    rather than claiming the child lives alone."""
    assert prefill("household_members", story.case).text == (
        "No current address is recorded, so no household is known."
    )


# R000-07 -------------------------------------------------------------------------------------


def test_r000_07_summary_cannot_be_written_until_someone_decides_complexity(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R000-07: until a manager records whether the case is complex, the closing summary step
    is blocked, with who records it and where."""
    result = gate(pack, "complexity-decided", story)
    assert result.blocks
    assert "team manager records the decision" in result.explanation
    assert result.gate.record_at == "Case details"
    assert "complexity-decided" in closure_gate_ids(pack, step_id="closing-summary")
    decide = step(pack, "decide-complexity")
    assert (decide.kind, decide.role) == ("decide", "team_manager")


def test_r000_07_only_a_manager_can_record_that_the_case_is_complex(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R000-07: the worker cannot decide complexity for themselves; the manager can, and the
    gate is then met."""
    with pytest.raises(NotPermitted, match="Only a manager"):
        case_complexity_decide(
            actor=story.worker, case=story.case, is_complex=True, reason="Many agencies."
        )
    story.complexity(True)
    assert gate(pack, "complexity-decided", story).passed


def test_r000_07_complex_case_summary_has_the_seven_extra_headings(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R000-07: a case decided complex shows the seven extra headings after the standard
    ones; a case decided not complex does not."""
    story.complexity(True)
    assert shown(pack, story) == STANDARD_HEADINGS + COMPLEX_HEADINGS

    simple = CaseStory.open(story.worker, story.manager, given_name="Di").complexity(False)
    assert shown(pack, simple) == STANDARD_HEADINGS
    assert gate(pack, "complexity-decided", simple).passed


def test_r000_07_complex_headings_are_prefilled_from_the_record(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R000-07: period covered, frequency of contact, reasons for involvement and other
    agencies come pre-filled from what is recorded, so the worker only edits."""
    story.complexity(True)
    story.referral(D(2025, 3, 3), source="3A", reason="GP worried about weight loss.")
    for day in (D(2025, 1, 13), D(2025, 2, 10), D(2025, 3, 10), D(2025, 4, 7)):
        story.visit(day)
    story.visit(D(2025, 5, 5), seen=False)
    story.professional("school", "Testbury Primary", D(2024, 9, 1), name="Priya Shah")
    story.professional(
        "health_visitor", "Testshire NHS Trust", D(2025, 1, 6), name="Ann Lee", lead=True
    )
    fields = {f.id: f.prefill for f in pack.spec.forms["closing-summary"].fields}

    with time_machine.travel(dt.datetime(2025, 6, 2, 12, tzinfo=dt.UTC), tick=False):
        period = prefill(str(fields["period_covered"]), story.case).text
        frequency = prefill(str(fields["contact_frequency"]), story.case).text
    assert period == "6 January 2025 to 2 June 2025"
    assert frequency == (
        "Seen 4 times between 13 January 2025 and 7 April 2025: about every 5 weeks."
    )
    reasons = prefill(str(fields["reasons_for_involvement"]), story.case).text.splitlines()
    assert reasons == [
        "6 January 2025 (Schools): School raised concerns about neglect and attendance.",
        "3 March 2025 (Health: GP): GP worried about weight loss.",
    ]
    agencies = prefill(str(fields["agencies_remaining"]), story.case).text
    assert "School: Testbury Primary (Priya Shah)" in agencies
    assert "Health visitor: Testshire NHS Trust (Ann Lee) – lead professional" in agencies


# R000-08 -------------------------------------------------------------------------------------


def well_kept(story: CaseStory) -> CaseStory:
    mother = make_person(story.worker, "Jo", "Taylor", D(1990, 7, 2))
    story.lives_at(D(2025, 1, 6)).lives_with(mother, "parent", D(2025, 1, 6))
    story.cin_plan(D(2025, 2, 3), D(2025, 5, 1), outcome="Attendance back to 96%.")
    story.visit(D(2025, 5, 19), alone=True, home=True)
    story.decision(DecisionKind.ADVISE_CLOSURE, D(2025, 5, 20))
    return story


def test_r000_08_supervisor_audit_passes_a_well_kept_record(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R000-08: the supervisor's audit (a team manager step) pre-checks the record: recent
    recording, everyone in the home with a relationship, every plan ended. The decision on
    file is left for the supervisor to confirm."""
    audit = step(pack, "audit")
    assert (audit.kind, audit.role, audit.checklist) == (
        "checklist",
        "team_manager",
        "supervisor-audit",
    )
    results = {
        r.item.id: r
        for r in checklist_results(pack, "supervisor-audit", well_kept(story).context())
    }
    assert results["recording-up-to-date"].passed is True
    assert any("date: 2025-05-19" in row for row in results["recording-up-to-date"].evidence)
    assert results["household-recorded"].passed is True
    assert results["plans-ended"].passed is True
    assert results["decision-on-file"].automatic is False
    assert results["decision-on-file"].passed is None
    assert "audit-recording-current" in {c.id for c in pack.spec.choices}


def test_r000_08_supervisor_audit_finds_the_gaps_in_a_neglected_record(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R000-08: a record last visited months ago, with an adult in the home whose relationship
    is not recorded and a plan still open, fails those three checks, citing the open plan."""
    lodger = make_person(story.worker, "Rob", "Green", D(1980, 2, 2))
    story.lives_at(D(2025, 1, 6)).lives_with(
        lodger, "other", D(2025, 1, 6), record_relationship=False
    )
    story.visit(D(2025, 2, 3)).cin_plan(D(2025, 2, 3))
    results = {r.item.id: r for r in checklist_results(pack, "supervisor-audit", story.context())}
    assert results["recording-up-to-date"].passed is False
    assert results["household-recorded"].passed is False
    assert results["plans-ended"].passed is False
    assert len(results["plans-ended"].evidence) == 1
    assert "kind: cin" in results["plans-ended"].evidence[0]
    assert ("notes.days_since_last", "-1") in results["recording-up-to-date"].facts


def test_r000_08_a_case_note_counts_as_recording_for_28_days(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R000-08: without a recent visit, a case note keeps the record up to date for 28 days,
    as the item tells the supervisor; a note 29 days old does not, even over Christmas when
    those 29 days are only 18 working days."""
    story.note(D(2025, 12, 16))
    item = next(
        r
        for r in checklist_results(pack, "supervisor-audit", story.context(D(2026, 1, 13)))
        if r.item.id == "recording-up-to-date"
    )
    assert item.passed is True
    assert "case note in the last 28 days" in item.item.text
    late = next(
        r
        for r in checklist_results(pack, "supervisor-audit", story.context(D(2026, 1, 14)))
        if r.item.id == "recording-up-to-date"
    )
    assert late.passed is False
    assert ("notes.days_since_last", "29") in late.facts


# R000-09 -------------------------------------------------------------------------------------


def test_r000_09_summary_is_signed_by_caseworker_and_supervisor_then_locked(
    pack: PolicyPack, story: CaseStory
) -> None:
    """R000-09: the closing summary is a signed form; its sign step needs both the caseworker
    and the supervisor, applies to every case, comes after authorisation, and produces a
    summary locked against edits."""
    form = pack.spec.forms["closing-summary"]
    assert form.signed is True
    assert "R000-09" in form.requirement
    sign = step(pack, "sign")
    assert sign.kind == "sign"
    assert sign.signatures == ["social_worker", "team_manager"]
    assert sign.form is None or sign.form == "closing-summary"
    assert "locked" in sign.produces
    ids = [s.id for s in applicable_steps(pack, story.complexity(True).context())]
    assert ids.index("authorise") < ids.index("sign")


def test_r000_09_a_summary_without_both_signatures_is_refused_by_the_format(tmp_path: Path) -> None:
    """R000-09: a sign step that names no signer cannot be loaded, so a pack cannot declare
    a summary signed without saying who signs."""
    (tmp_path / "unsigned.yaml").write_text(
        """
pack: unsigned
title: Unsigned
implements: A test
service_area: children
governs: [closure]
extends: ["000-closing-cases"]
closure:
  reasons:
    - {id: no-longer-in-need, label: No longer in need, national_code: RC7}
  steps:
    - {id: sign, label: Sign, kind: sign, role: social_worker, produces: Signed}
""",
        encoding="utf-8",
    )
    registry = PackRegistry.from_directories([BUILT_IN_PACKS, tmp_path])
    assert any("must list the roles that sign" in p.message for p in registry.problems)


# R000-10 -------------------------------------------------------------------------------------


def test_r000_10_each_task_has_a_responsible_role_and_timescale(pack: PolicyPack) -> None:
    """R000-10: the task table as steps and tasks: discuss and agree (15 WD), present for
    closure (20 WD), authorise and audit before closure, archive by Business Support."""
    discuss = step(pack, "discuss-and-agree")
    present = step(pack, "present-for-closure")
    authorise = step(pack, "authorise")
    assert discuss.due is not None
    assert present.due is not None
    assert (discuss.role, discuss.due.working_days, discuss.due.from_) == (
        "team_manager",
        15,
        "closure.proposed",
    )
    assert (present.role, present.due.working_days, present.due.from_) == (
        "social_worker",
        20,
        "closure.proposed",
    )
    assert authorise.role == "team_manager"
    assert "before closure" in authorise.produces
    assert pack.spec.closure is not None
    archive = pack.spec.closure.tasks[0]
    assert (archive.role, archive.due.from_, archive.requirement) == (
        "business_support",
        "closure.closed",
        "R000-10",
    )
    assert {"timescales-run-from-proposal", "archive-timescale"} <= {
        c.id for c in pack.spec.choices
    }


def test_r000_10_due_dates_skip_easter_and_the_may_bank_holiday(
    pack: PolicyPack, authority: Authority
) -> None:
    """R000-10: a proposal on Thursday 17 April 2025 puts the agreement on file by 13 May
    (15 working days, skipping Good Friday, Easter Monday and the early May bank holiday),
    not 2 May as 15 calendar days would; the presentation is due by 20 May."""
    calendar = authority.calendar()
    proposed = D(2025, 4, 17)
    discuss = step(pack, "discuss-and-agree").due
    present = step(pack, "present-for-closure").due
    assert discuss is not None
    assert present is not None
    assert due_date(discuss, proposed, calendar) == D(2025, 5, 13)
    assert due_date(discuss, proposed, calendar) != proposed + dt.timedelta(days=15)
    assert due_date(present, proposed, calendar) == D(2025, 5, 20)


def test_r000_10_archive_task_counts_the_authoritys_own_closure_days(
    pack: PolicyPack, authority: Authority
) -> None:
    """R000-10: a case closed on Friday 19 December 2025 is archived by 21 January 2026
    (20 working days over Christmas, Boxing Day and New Year); a council closure day on
    Christmas Eve moves it to 22 January."""
    assert pack.spec.closure is not None
    archive = pack.spec.closure.tasks[0].due
    assert due_date(archive, D(2025, 12, 19), authority.calendar()) == D(2026, 1, 21)
    ClosureDay.objects.create(authority=authority, day=D(2025, 12, 24), reason="Christmas Eve")
    assert due_date(archive, D(2025, 12, 19), authority.calendar()) == D(2026, 1, 22)
