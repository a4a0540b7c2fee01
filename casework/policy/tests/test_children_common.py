"""children-common: the national closure gates (CIN census rules 8565 and 8867) that every
children's closure pack inherits, and the retention schedule (X-04), evaluated against real
cases recorded through the services."""

from __future__ import annotations

import pytest

from casework.accounts.models import User
from casework.cases.models import AssessmentKind
from casework.policy.evaluate import (
    RetentionDecision,
    closure_gate_ids,
    closure_gates,
    evaluate_gate,
    retention_class,
)
from casework.policy.loader import PolicyPack, load_pack
from casework.policy.tests.builders import CaseStory, D

CLOSURE_PACKS = ["000-closing-cases", "001-closure-record", "003-ending-interventions"]
NATIONAL_GATES = ["no-open-plans", "no-assessment-in-progress"]


@pytest.fixture
def story(worker: User, manager: User) -> CaseStory:
    return CaseStory.open(worker, manager)


def retention(pack_id: str, story: CaseStory) -> RetentionDecision:
    decision = retention_class(load_pack(pack_id), story.context())
    assert decision is not None
    return decision


# National closure gates ----------------------------------------------------------------------


@pytest.mark.parametrize("pack_id", CLOSURE_PACKS)
def test_national_gates_hold_every_childrens_closure(pack_id: str) -> None:
    """CIN census rules 8565 and 8867 apply to every closure in every children's pack, on
    every step and whatever the closure reason."""
    pack = load_pack(pack_id)
    assert pack.spec.closure is not None
    for gate_id in NATIONAL_GATES:
        assert gate_id in pack.spec.closure.gates
        for reason in pack.spec.closure.reasons:
            assert gate_id in closure_gate_ids(pack, reason_id=reason.id)
    assert "national-closure-rules" in {c.id for c in pack.spec.choices}


@pytest.mark.parametrize("pack_id", CLOSURE_PACKS)
def test_cin_rule_8565_an_open_plan_blocks_closure(pack_id: str, story: CaseStory) -> None:
    """Rule 8565: a child in need plan still open blocks the closure; the open plan is cited
    and the worker is told to end it on or before the closure date."""
    story.cin_plan(D(2025, 2, 3))
    pack = load_pack(pack_id)
    result = evaluate_gate(pack, "no-open-plans", story.context())
    assert result.blocks
    assert "8565" in result.explanation
    assert len(result.evidence) == 1
    assert "kind: cin" in result.evidence[0]
    assert "started_on: 2025-02-03" in result.evidence[0]


@pytest.mark.parametrize("pack_id", CLOSURE_PACKS)
def test_cin_rule_8565_ended_plans_let_closure_proceed(pack_id: str, story: CaseStory) -> None:
    """Rule 8565: once every plan has ended (here a CP plan followed by a CiN plan), the gate
    is met and nothing is cited."""
    story.cp_plan(D(2025, 1, 20), D(2025, 3, 3)).cin_plan(D(2025, 3, 3), D(2025, 5, 1))
    result = evaluate_gate(load_pack(pack_id), "no-open-plans", story.context())
    assert result.passed
    assert result.evidence == []


@pytest.mark.parametrize("pack_id", CLOSURE_PACKS)
def test_cin_rule_8867_an_assessment_in_progress_blocks_closure(
    pack_id: str, story: CaseStory
) -> None:
    """Rule 8867: an assessment still in progress blocks the closure and is cited, while a
    completed one beside it is not."""
    story.assessment(AssessmentKind.SINGLE, D(2025, 1, 7), completed_on=D(2025, 2, 14))
    story.assessment(AssessmentKind.CIN, D(2025, 4, 1))
    result = evaluate_gate(load_pack(pack_id), "no-assessment-in-progress", story.context())
    assert result.blocks
    assert "8867" in result.explanation
    assert len(result.evidence) == 1
    assert "kind: cin" in result.evidence[0]


def test_cin_rule_8867_completed_assessments_let_closure_proceed(story: CaseStory) -> None:
    """Rule 8867: with every assessment completed, no national gate blocks a plain case."""
    story.assessment(AssessmentKind.SINGLE, D(2025, 1, 7), completed_on=D(2025, 2, 14))
    pack = load_pack("000-closing-cases")
    results = {g.gate_id: g for g in closure_gates(pack, story.context(), step_id="propose")}
    assert results["no-assessment-in-progress"].passed
    assert results["no-open-plans"].passed


# X-04 retention ------------------------------------------------------------------------------


@pytest.mark.parametrize("pack_id", ["children-common", *CLOSURE_PACKS])
def test_x04_child_in_need_record_kept_until_25th_birthday(pack_id: str, story: CaseStory) -> None:
    """X-04: a child in need record with no CP plan, care episode or adoption is kept 25
    years from the date of birth (the pack's documented local choice), in every pack."""
    story.cin_plan(D(2025, 2, 3), D(2025, 5, 1)).close_imported(D(2025, 5, 2), "RC7")
    decision = retention(pack_id, story)
    assert (decision.record_class.id, decision.trigger, decision.years) == (
        "child-in-need",
        "date_of_birth",
        25,
    )
    assert decision.record_class.requirement == "X-04"
    assert "child-in-need-retention" in decision.record_class.basis


def test_x04_child_protection_record_kept_35_years_from_closure(story: CaseStory) -> None:
    """X-04: a child who was ever on a CP plan has a child protection record, kept 35 years
    from the case's closure."""
    story.cp_plan(D(2025, 1, 20), D(2025, 4, 14)).close_imported(D(2025, 5, 2), "RC7")
    decision = retention("000-closing-cases", story)
    assert (decision.record_class.id, decision.trigger, decision.years) == (
        "child-protection",
        "case_closed",
        35,
    )


def test_x04_looked_after_record_kept_until_75th_birthday(story: CaseStory) -> None:
    """X-04: a child who was looked after (and also on a CP plan) has a looked-after record,
    the longer-lived class: kept until their 75th birthday under regulation 50."""
    story.cp_plan(D(2025, 1, 20), D(2025, 2, 17)).looked_after(D(2025, 2, 17), D(2025, 4, 28))
    story.close_imported(D(2025, 5, 2), "RC7")
    decision = retention("001-closure-record", story)
    assert (decision.record_class.id, decision.trigger, decision.years) == (
        "looked-after",
        "date_of_birth",
        75,
    )
    assert "regulation 50" in decision.record_class.basis


def test_x04_looked_after_child_who_died_young_kept_15_years_from_death(story: CaseStory) -> None:
    """X-04: a looked-after child who died aged 9 has their record kept 15 years from the
    date of death instead of to the 75th birthday."""
    story.looked_after(D(2025, 2, 3), D(2025, 4, 28)).died(D(2025, 5, 1))
    story.close_imported(D(2025, 5, 1), "RC2")
    decision = retention("003-ending-interventions", story)
    assert (decision.record_class.id, decision.trigger, decision.years) == (
        "looked-after",
        "date_of_death",
        15,
    )


def test_x04_looked_after_child_who_died_at_17_kept_15_years_from_death(
    worker: User, manager: User
) -> None:
    """X-04: a looked-after child who died aged 17 died a child: their record is kept 15 years
    from death even when the retention is worked out after their 18th birthday would have
    been (the age at death counts, not the age they would be now)."""
    story = CaseStory.open(worker, manager, born=D(2007, 6, 10))
    story.looked_after(D(2025, 2, 3), D(2025, 4, 28)).died(D(2025, 5, 1))
    story.close_imported(D(2025, 5, 1), "RC2")
    decision = retention_class(load_pack("000-closing-cases"), story.context(D(2025, 6, 20)))
    assert decision is not None
    assert (decision.trigger, decision.years) == ("date_of_death", 15)


def test_x04_adoption_record_kept_100_years_from_the_order(story: CaseStory) -> None:
    """X-04: a case closed because the child was adopted (RC1) is an adoption record, kept
    100 years from the adoption order, ahead of every other class."""
    story.looked_after(D(2025, 1, 20), D(2025, 5, 1)).close_imported(D(2025, 5, 1), "RC1")
    decision = retention("000-closing-cases", story)
    assert (decision.record_class.id, decision.trigger, decision.years) == (
        "adoption",
        "adoption_order",
        100,
    )


def test_x04_every_childrens_record_falls_in_a_retention_class(story: CaseStory) -> None:
    """X-04: the schedule is complete: even an open case with nothing recorded has a class,
    and every class names its legal or local basis."""
    pack: PolicyPack = load_pack("children-common")
    assert retention_class(pack, story.context()) is not None
    assert [r.id for r in pack.spec.retention] == [
        "adoption",
        "looked-after",
        "child-protection",
        "child-in-need",
    ]
    assert all(r.basis and r.requirement == "X-04" for r in pack.spec.retention)


def test_x04_looked_after_young_person_who_died_as_an_adult_keeps_the_75_year_period(
    worker: User, manager: User
) -> None:
    """X-04: the 15-years-from-death rule is for children; a care leaver who died aged 19 keeps
    the looked-after record until their 75th birthday."""
    story = CaseStory.open(worker, manager, born=D(2006, 1, 10))
    story.looked_after(D(2025, 1, 6), D(2025, 1, 9)).died(D(2025, 5, 1))
    story.close_imported(D(2025, 5, 1), "RC2")
    decision = retention("000-closing-cases", story)
    assert (decision.record_class.id, decision.trigger, decision.years) == (
        "looked-after",
        "date_of_birth",
        75,
    )
