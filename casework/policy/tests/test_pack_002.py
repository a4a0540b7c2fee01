"""Procedure 002 (adults' Case Closure Policy) and adults-common, evaluated against real
adults' cases built through the services: closure reasons and their Client Level Data codes,
the capacity gate for "declines support", the closure discussion, the 18-item Case Audit Tool
with its automatic checks and evidence, the never-seen and high-risk escalations, and the
adults' retention period."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from casework.accounts.models import User
from casework.cases.models import Case, NoteKind
from casework.cases.services import (
    case_close_imported,
    case_risk_flags_set,
    consent_record,
    note_add,
    plan_end,
    plan_start,
    supervision_record,
    visit_record,
)
from casework.closure.services import closure_propose
from casework.core.codes import CLD_EVENT_OUTCOMES
from casework.organisation.models import Authority, Team
from casework.people.models import ContactRole
from casework.people.services import (
    carer_link_add,
    person_create,
    person_move_in,
    professional_contact_add,
)
from casework.policy.evaluate import (
    GateResult,
    applicable_steps,
    checklist_results,
    closure_gate_ids,
    closure_gates,
    evaluate_gate,
    retention_class,
)
from casework.policy.loader import BUILT_IN_PACKS, PackRegistry, PolicyPack, load_pack
from casework.policy.services import pack_bind
from casework.policy.tests.adult_builders import (
    AdultTeam,
    assess,
    context_for,
    days_ago,
    item,
    make_adult,
    make_adult_team,
    open_adult_case,
    well_recorded_case,
)
from casework.policy.vocabulary import EVENTS
from casework.tasks.models import Notification

AUDIT = "case-audit-tool"
DECLINES = "declines-needs-capacity-and-no-statutory-reason"


@pytest.fixture
def pack() -> PolicyPack:
    return load_pack("002-adults-closure")


@pytest.fixture
def staff(make_team: Callable[..., Team], make_staff: Callable[..., User]) -> AdultTeam:
    return make_adult_team(make_team, make_staff)


@pytest.fixture
def case(staff: AdultTeam) -> Case:
    """A freshly opened adult's case with nothing else recorded."""
    return open_adult_case(staff)


def gate(pack: PolicyPack, gate_id: str, case: Case) -> GateResult:
    return evaluate_gate(pack, gate_id, context_for(case))


def audit_item(pack: PolicyPack, case: Case, item_id: str) -> tuple[bool | None, dict[str, str]]:
    """An item's automatic result and the facts it was decided on."""
    result = item(checklist_results(pack, AUDIT, context_for(case)), item_id)
    assert result.error is None
    return result.passed, dict(result.facts)


def row(evidence: str) -> dict[str, str]:
    """One evidence row ("field: value, field: value") as a mapping: the engine does not
    keep the fields in a fixed order (see test_evidence_rows_list_fields_in_a_stable_order)."""
    return dict(part.split(": ", 1) for part in evidence.split(", "))


def seen(staff: AdultTeam, case: Case, days: int, *, face_to_face: bool = True) -> None:
    visit_record(
        actor=staff.worker,
        case=case,
        visited_on=days_ago(days),
        subject_seen=True,
        face_to_face=face_to_face,
    )


# --- R002-01 closure reasons -------------------------------------------------------------


def test_r002_01_the_four_closure_reasons_carry_client_level_data_nfa_codes(
    pack: PolicyPack,
) -> None:
    """R002-01: the four circumstances of the policy are the pack's closure reasons, each
    recorded with the national Client Level Data outcome it reports as."""
    assert pack.spec.national_codes is not None
    assert pack.spec.national_codes.closure_code_set == "cld_event_outcome"
    assert pack.spec.closure is not None
    codes = {r.id: r.national_code for r in pack.spec.closure.reasons}
    assert codes == {
        "goals-achieved": "NFA - Support ended - other reason",
        "no-role-for-social-care": "NFA - No services offered - other reason",
        "declines-support": "NFA - Support declined",
        "moved-away": "NFA - Moved to another LA",
    }
    assert set(codes.values()) <= set(CLD_EVENT_OUTCOMES)


def test_r002_01_a_well_recorded_case_can_close_for_goals_achieved_but_not_as_declined(
    pack: PolicyPack, staff: AdultTeam
) -> None:
    """R002-01: goals achieved, no role for social care and moved away need only the
    shared closure gates, which a well-recorded case meets; "declines support" adds the
    capacity gate, which this case (no capacity assessment) does not meet."""
    case = well_recorded_case(staff)
    context = context_for(case)
    for reason in ("goals-achieved", "no-role-for-social-care", "moved-away"):
        results = closure_gates(pack, context, reason_id=reason)
        assert DECLINES not in [r.gate_id for r in results]
        assert [r.gate_id for r in results if r.outstanding] == [], reason
    declined = closure_gates(pack, context, reason_id="declines-support")
    assert [r.gate_id for r in declined if r.blocks] == [DECLINES]


# --- R002-02 declines support needs capacity and no statutory reason ----------------------


def test_r002_02_declines_support_passes_with_capacity_and_no_statutory_reason(
    pack: PolicyPack, staff: AdultTeam, case: Case
) -> None:
    """R002-02: a completed capacity assessment finding capacity, no open protection plan
    and a Care Act assessment with no eligible unmet need let "declines support" through."""
    assess(staff.worker, case, "mental_capacity", capacity="has_capacity")
    assess(staff.worker, case, "care_act", started=40, completed=30, eligible_unmet_needs=False)
    result = gate(pack, DECLINES, case)
    assert result.applies
    assert result.passed
    assert result.explanation.endswith("met.")


def test_r002_02_declines_support_is_refused_without_a_capacity_assessment(
    pack: PolicyPack, case: Case
) -> None:
    """R002-02: with no capacity recorded the reason is refused, and the user is told why and
    where to record it."""
    result = gate(pack, DECLINES, case)
    assert result.blocks
    assert "mental capacity assessment" in result.explanation
    assert result.gate.record_at == "Assessments and Plans"


def test_r002_02_declines_support_is_refused_when_the_client_lacks_capacity(
    pack: PolicyPack, staff: AdultTeam, case: Case
) -> None:
    """R002-02: a capacity assessment finding the client lacks capacity does not count."""
    assess(staff.worker, case, "mental_capacity", capacity="lacks_capacity")
    assert gate(pack, DECLINES, case).blocks


def test_r002_02_the_latest_capacity_assessment_decides(
    pack: PolicyPack, staff: AdultTeam, case: Case
) -> None:
    """R002-02: a client found to have capacity a year ago but found to lack it last month
    cannot "decline" support: the latest capacity outcome is the one that counts."""
    assess(
        staff.worker, case, "mental_capacity", started=370, completed=360, capacity="has_capacity"
    )
    assess(
        staff.worker, case, "mental_capacity", started=40, completed=30, capacity="lacks_capacity"
    )
    assert gate(pack, DECLINES, case).blocks


def test_r002_02_declines_support_is_refused_while_safeguarding_is_open(
    pack: PolicyPack, staff: AdultTeam, case: Case
) -> None:
    """R002-02: an open safeguarding concern (an open adult protection plan) is a statutory
    reason to continue."""
    assess(staff.worker, case, "mental_capacity", capacity="has_capacity")
    plan_start(actor=staff.worker, case=case, kind="adult_protection", started_on=days_ago(20))
    result = gate(pack, DECLINES, case)
    assert result.blocks
    assert ("plans.adult_protection.open", "yes") in result.facts


def test_r002_02_declines_support_is_refused_with_an_eligible_unmet_need(
    pack: PolicyPack, staff: AdultTeam, case: Case
) -> None:
    """R002-02: a Care Act assessment finding eligible needs that are not met is a statutory
    reason to continue."""
    assess(staff.worker, case, "mental_capacity", capacity="has_capacity")
    assess(staff.worker, case, "care_act", started=40, completed=30, eligible_unmet_needs=True)
    assert gate(pack, DECLINES, case).blocks


def test_r002_02_an_unmet_need_since_met_does_not_block(
    pack: PolicyPack, staff: AdultTeam, case: Case
) -> None:
    """R002-02: eligible needs found unmet a year ago and met by the latest review are not an
    eligible unmet need now."""
    assess(staff.worker, case, "mental_capacity", capacity="has_capacity")
    assess(staff.worker, case, "care_act", started=370, completed=360, eligible_unmet_needs=True)
    assess(
        staff.worker, case, "care_act_review", started=40, completed=30, eligible_unmet_needs=False
    )
    assert gate(pack, DECLINES, case).passed


# --- R002-03 / R002-04 the worker tells the manager; the closure discussion ---------------


def test_r002_03_the_worker_tells_the_team_manager_the_record_is_ready(
    pack: PolicyPack, authority: Authority, staff: AdultTeam, case: Case
) -> None:
    """R002-03: closure starts with the allocated worker's "ready for closure" step; when the
    worker proposes closure under this pack, the Team Manager (the decision step's role) is
    notified once, and the worker is not."""
    first = applicable_steps(pack, context_for(case))[0]
    assert (first.id, first.kind, first.role) == ("ready-for-closure", "propose", "social_worker")
    pack_bind(
        actor=None,
        authority=authority,
        service_area="adults",
        purpose="closure",
        pack_id="002-adults-closure",
    )
    closure_propose(actor=staff.worker, case=case, reason_id="goals-achieved", note="Ready.")
    told = Notification.objects.filter(case=case, event="closure.proposed")
    assert [n.recipient for n in told] == [staff.manager]


def test_r002_04_the_decision_waits_for_a_recorded_closure_discussion(
    pack: PolicyPack, staff: AdultTeam, case: Case
) -> None:
    """R002-04: the Team Manager's decision step is blocked until the closure discussion is
    in the case notes; an ordinary case note does not count."""
    note_add(
        actor=staff.worker,
        case=case,
        title="Visit",
        body="Routine visit.",
        occurred_on=days_ago(5),
    )
    blocked = closure_gates(pack, context_for(case), step_id="closure-discussion")
    discussion = next(r for r in blocked if r.gate_id == "closure-discussion-recorded")
    assert discussion.blocks
    assert "closure discussion" in discussion.explanation
    note_add(
        actor=staff.manager,
        case=case,
        title="Closure discussion",
        body="Agreed subject to the audit.",
        occurred_on=days_ago(1),
        kind=NoteKind.CLOSURE_DISCUSSION,
    )
    assert gate(pack, "closure-discussion-recorded", case).passed


def test_r002_04_the_manager_decides_agreed_or_further_actions(pack: PolicyPack) -> None:
    """R002-04: the discussion step is the Team Manager's decision, and both outcomes
    (agreed, further actions required) are events the workflow records."""
    assert pack.spec.closure is not None
    step = next(s for s in pack.spec.closure.steps if s.id == "closure-discussion")
    assert (step.kind, step.role) == ("decide", "team_manager")
    assert "closure-discussion-recorded" in step.gates
    assert {"closure.agreed", "closure.further_actions"} <= set(EVENTS)


# --- R002-05 / R002-06 the Case Audit Tool --------------------------------------------------


def test_r002_05_every_closure_includes_the_case_audit_tool_with_its_header(
    pack: PolicyPack, staff: AdultTeam, case: Case
) -> None:
    """R002-05: the audit step applies to every closure (a bare case and a well-recorded
    one alike); the checklist header holds person ID, local number, date, worker and the
    manager's sign-off, and lists the 18 items in the policy's order."""
    for subject_case in (case, well_recorded_case(staff)):
        steps = {s.id: s for s in applicable_steps(pack, context_for(subject_case))}
        assert steps["case-audit"].checklist == AUDIT
        assert steps["case-audit"].role == "team_manager"
    checklist = pack.spec.checklists[AUDIT]
    assert checklist.header == [
        "Person ID",
        "Local system number",
        "Date",
        "Worker",
        "Manager or supervisor sign-off",
    ]
    ids = [i.id for s in checklist.sections for i in s.items]
    assert ids == [str(n) for n in range(1, 19)]


def test_r002_06_items_need_a_note_and_an_evidence_date_and_only_if_appropriate_sections_allow_na(
    pack: PolicyPack,
) -> None:
    """R002-06: every item carries the supervisor's check note and the date of the record
    that evidences it; only the "if appropriate" sections (carer, outcome, finance) can be
    marked not applicable."""
    checklist = pack.spec.checklists[AUDIT]
    assert checklist.item_note_required
    assert checklist.evidence_date_required
    na_items = [i.id for s in checklist.sections if s.not_applicable_allowed for i in s.items]
    assert na_items == ["3", "4", "9", "12", "13", "14", "15"]
    never_na = {s.id for s in checklist.sections if not s.not_applicable_allowed}
    assert never_na == {
        "personal-details",
        "assessment-review",
        "recording",
        "best-practice",
        "risk",
        "supervision",
    }


# --- R002-07 personal details (items 1-2) ------------------------------------------------


def test_r002_07_item_1_ethnicity_recorded_and_asked(pack: PolicyPack, staff: AdultTeam) -> None:
    """R002-07: item 1 passes when an ethnicity is recorded and the worker asked; it fails
    when the worker did not ask, or when the ethnicity is "not yet obtained"."""
    asked = open_adult_case(staff, make_adult(staff.worker, given_name="Asked"))
    assert audit_item(pack, asked, "1")[0] is True
    not_asked = open_adult_case(
        staff, make_adult(staff.worker, given_name="Assumed", ethnicity_asked=False)
    )
    passed, facts = audit_item(pack, not_asked, "1")
    assert passed is False
    assert facts["subject.ethnicity_asked"] == "no"
    unknown = open_adult_case(
        staff, make_adult(staff.worker, given_name="Unknown", ethnicity="NOBT")
    )
    passed, facts = audit_item(pack, unknown, "1")
    assert passed is False
    assert facts["subject.ethnicity_recorded"] == "no"


def test_r002_07_item_2_gp_and_key_safe_recorded_cites_the_contacts(
    pack: PolicyPack, staff: AdultTeam
) -> None:
    """R002-07: item 2 passes for a client with a GP and a key safe whose number is
    recorded, and shows the contacts as evidence."""
    case = well_recorded_case(staff)
    result = item(checklist_results(pack, AUDIT, context_for(case)), "2")
    assert result.passed is True
    assert dict(result.facts)["subject.key_safe_code_recorded"] == "yes"
    assert [row(e) for e in result.evidence] == [
        {"role": "gp", "organisation": "Elm Row Surgery", "lead": "no"}
    ]


def test_r002_07_item_2_fails_without_a_gp(pack: PolicyPack, case: Case) -> None:
    """R002-07: the GP must be among the contacts."""
    passed, facts = audit_item(pack, case, "2")
    assert passed is False
    assert facts["subject.has_gp"] == "no"


def test_r002_07_item_2_needs_the_school_of_a_child_in_the_household(
    pack: PolicyPack, staff: AdultTeam, case: Case
) -> None:
    """R002-07: a grandchild of school age living with the client needs a school recorded;
    once it is, the item passes."""
    worker = staff.worker
    client = case.subject
    residence = person_move_in(
        actor=worker,
        person=client,
        line_1="9 Oak Lane",
        town="Testshire",
        postcode="TS2 9OL",
        started_on=days_ago(2000),
    )
    professional_contact_add(
        actor=worker,
        person=client,
        role=ContactRole.GP,
        organisation="Oak Lane Surgery",
        started_on=days_ago(2000),
    )
    grandchild = person_create(
        actor=worker, given_name="Mia", family_name="Client", date_of_birth=days_ago(10 * 365)
    )
    person_move_in(
        actor=worker,
        person=grandchild,
        line_1="",
        town="",
        postcode="",
        started_on=days_ago(300),
        address=residence.address,
    )
    passed, facts = audit_item(pack, case, "2")
    assert passed is False
    assert facts["household.school_age_children_without_school"] == "1"
    professional_contact_add(
        actor=worker,
        person=grandchild,
        role=ContactRole.SCHOOL,
        organisation="Oak Lane Primary",
        started_on=days_ago(300),
    )
    assert audit_item(pack, case, "2")[0] is True


# --- R002-08 carer (items 3-4) ------------------------------------------------------------


def _linked_carer(staff: AdultTeam, case: Case) -> None:
    carer = person_create(
        actor=staff.worker, given_name="Ray", family_name="Carer", date_of_birth=days_ago(20000)
    )
    carer_link_add(
        actor=staff.worker, carer=carer, cared_for=case.subject, started_on=days_ago(500)
    )


def test_r002_08_carers_conversation_recorded_and_shared_passes_items_3_and_4(
    pack: PolicyPack, staff: AdultTeam, case: Case
) -> None:
    """R002-08: a carer linked to the client, whose carer's conversation was completed and
    shared with them, passes items 3 and 4."""
    _linked_carer(staff, case)
    assess(staff.worker, case, "carer", sent_to="Ray Carer")
    assert audit_item(pack, case, "3")[0] is True
    passed, facts = audit_item(pack, case, "4")
    assert passed is True
    assert facts["subject.carers"] == "1"


def test_r002_08_a_carers_assessment_offered_and_declined_passes_item_3(
    pack: PolicyPack, staff: AdultTeam, case: Case
) -> None:
    """R002-08: in the absence of a carer's assessment, one offered and declined passes."""
    _linked_carer(staff, case)
    assess(staff.worker, case, "carer", offered_and_declined=True)
    assert audit_item(pack, case, "3")[0] is True


def test_r002_08_item_3_fails_when_the_conversation_was_not_shared_with_the_carer(
    pack: PolicyPack, staff: AdultTeam, case: Case
) -> None:
    """R002-08: a carer's conversation recorded but never shared with the carer, or none at
    all, does not pass item 3."""
    _linked_carer(staff, case)
    assert audit_item(pack, case, "3")[0] is False
    assess(staff.worker, case, "carer")
    assert audit_item(pack, case, "3")[0] is False


def test_r002_08_item_4_fails_when_no_carer_is_linked(pack: PolicyPack, case: Case) -> None:
    """R002-08: with no carer linked item 4 is not evidenced (the carer section may then be
    marked not applicable)."""
    passed, facts = audit_item(pack, case, "4")
    assert passed is False
    assert facts["subject.carers"] == "0"
    section = item(checklist_results(pack, AUDIT, context_for(case)), "4").section
    assert section.not_applicable_allowed


# --- R002-09 consent and assessment (items 5-8) ------------------------------------------


def test_r002_09_item_5_needs_a_signed_consent_to_share(
    pack: PolicyPack, staff: AdultTeam, case: Case
) -> None:
    """R002-09: an unsigned consent to share does not pass item 5; a signed one does."""
    consent_record(
        actor=staff.worker,
        case=case,
        kind="share_information",
        given_by="Edna Client",
        given_on=days_ago(100),
    )
    assert audit_item(pack, case, "5")[0] is False
    consent_record(
        actor=staff.worker,
        case=case,
        kind="share_information",
        given_by="Edna Client",
        given_on=days_ago(10),
        signed=True,
    )
    assert audit_item(pack, case, "5")[0] is True


def test_r002_09_items_6_to_8_assessment_carried_out_sent_and_authorised(
    pack: PolicyPack, staff: AdultTeam, case: Case
) -> None:
    """R002-09: a completed assessment passes item 6 (and is cited), but items 7 and 8 wait
    until one is sent to the person and stakeholders and authorised by a manager."""
    assess(staff.worker, case, "care_act", started=80, completed=70)
    results = checklist_results(pack, AUDIT, context_for(case))
    assert item(results, "6").passed is True
    assert [row(e)["kind"] for e in item(results, "6").evidence] == ["care_act"]
    assert item(results, "7").passed is False
    assert item(results, "8").passed is False
    assess(
        staff.manager,
        case,
        "care_act_review",
        started=20,
        completed=10,
        sent_to="Edna Client; GP",
        authorise=True,
    )
    results = checklist_results(pack, AUDIT, context_for(case))
    assert [item(results, i).passed for i in ("6", "7", "8")] == [True, True, True]


def test_r002_09_no_assessment_fails_items_6_to_8(pack: PolicyPack, case: Case) -> None:
    """R002-09: a record with no assessment or review at all fails items 6, 7 and 8."""
    results = checklist_results(pack, AUDIT, context_for(case))
    assert [item(results, i).passed for i in ("6", "7", "8")] == [False, False, False]


# --- R002-10 outcome (item 9) and the safeguarding episode --------------------------------


def test_r002_10_an_open_protection_plan_fails_item_9_and_blocks_closure(
    pack: PolicyPack, staff: AdultTeam
) -> None:
    """R002-10: while a safeguarding protection plan is open, item 9 fails and every closure
    is blocked with the instruction to close the safeguarding episode; ending the plan
    clears both."""
    case = well_recorded_case(staff)
    plan = plan_start(
        actor=staff.worker, case=case, kind="adult_protection", started_on=days_ago(60)
    )
    assert audit_item(pack, case, "9") == (
        False,
        {"plans.adult_protection.open": "yes", "plans.dols.open": "no"},
    )
    goals = "goals-achieved"
    blocking = [r for r in closure_gates(pack, context_for(case), reason_id=goals) if r.blocks]
    assert [r.gate_id for r in blocking] == ["no-open-protection-plan"]
    assert "Close the safeguarding episode" in blocking[0].explanation
    plan_end(actor=staff.worker, plan=plan, ended_on=days_ago(5), outcome="Risk reduced.")
    assert audit_item(pack, case, "9")[0] is True
    assert not any(r.blocks for r in closure_gates(pack, context_for(case), reason_id=goals))


# --- R002-11 recording (items 10-11) -------------------------------------------------------


def test_r002_11_item_10_case_notes_must_be_recent(
    pack: PolicyPack, staff: AdultTeam, case: Case
) -> None:
    """R002-11: no case notes, or only notes two months old, fail item 10; a note in the
    last four weeks passes."""
    assert audit_item(pack, case, "10") == (False, {"notes.days_since_last": "-1"})
    note_add(actor=staff.worker, case=case, title="Call", body="Phoned.", occurred_on=days_ago(60))
    assert audit_item(pack, case, "10") == (False, {"notes.days_since_last": "60"})
    note_add(actor=staff.worker, case=case, title="Visit", body="Seen.", occurred_on=days_ago(10))
    assert audit_item(pack, case, "10") == (True, {"notes.days_since_last": "10"})


def test_r002_11_item_11_assessment_on_file_and_copies_sent(
    pack: PolicyPack, staff: AdultTeam, case: Case
) -> None:
    """R002-11: an assessment on file that nobody was sent fails item 11; once copies are
    sent it passes."""
    assess(staff.worker, case, "care_act", started=100, completed=90)
    assert audit_item(pack, case, "11")[0] is False
    assess(staff.worker, case, "care_act_review", started=20, completed=15, sent_to="Edna")
    assert audit_item(pack, case, "11")[0] is True


# --- R002-12 finance (items 12-15) ---------------------------------------------------------


def test_r002_12_finance_items_are_for_the_manager_and_may_be_not_applicable(
    pack: PolicyPack, staff: AdultTeam
) -> None:
    """R002-12: nothing in the record evidences the financial process, Challenge Panel or
    funding, so items 12-15 are not pre-evaluated (the manager answers them), even on a
    well-recorded case; the finance section can be marked not applicable."""
    results = checklist_results(pack, AUDIT, context_for(well_recorded_case(staff)))
    finance = [r for r in results if r.section.id == "finance"]
    assert [r.item.id for r in finance] == ["12", "13", "14", "15"]
    assert all(not r.automatic and r.passed is None for r in finance)
    assert all(r.section.not_applicable_allowed for r in finance)
    assert all("R002-12" in r.item.requirement for r in finance)


# --- R002-13 seen before closure (item 16) -------------------------------------------------


def test_r002_13_a_client_seen_last_week_passes_item_16_and_needs_no_agreement(
    pack: PolicyPack, staff: AdultTeam, case: Case
) -> None:
    """R002-13: a face-to-face visit a week ago passes item 16, with the visit as evidence,
    and the never-seen gate is met."""
    seen(staff, case, 7)
    result = item(checklist_results(pack, AUDIT, context_for(case)), "16")
    assert result.passed is True
    assert [row(e)["date"] for e in result.evidence] == [days_ago(7).isoformat()]
    assert gate(pack, "never-seen", case).passed


def test_r002_13_last_seen_two_months_ago_fails_item_16_and_shows_when(
    pack: PolicyPack, staff: AdultTeam, case: Case
) -> None:
    """R002-13: a client last seen two months ago was not seen immediately before closure:
    item 16 fails and its evidence says when they were last seen; as they have been seen,
    no senior agreement is needed."""
    seen(staff, case, 60)
    result = item(checklist_results(pack, AUDIT, context_for(case)), "16")
    assert result.passed is False
    assert [row(e)["date"] for e in result.evidence] == [days_ago(60).isoformat()]
    assert gate(pack, "never-seen", case).passed


def test_r002_13_a_client_never_seen_needs_service_manager_or_head_of_service_agreement(
    pack: PolicyPack, staff: AdultTeam, case: Case
) -> None:
    """R002-13: a client only ever spoken to by video, or visited without being seen, has
    never been seen in person: the audit needs the agreement of a Service Manager or Head of
    Service (it is not a plain block)."""
    seen(staff, case, 5, face_to_face=False)
    visit_record(actor=staff.worker, case=case, visited_on=days_ago(3), subject_seen=False)
    results = closure_gates(pack, context_for(case), step_id="case-audit")
    never = next(r for r in results if r.gate_id == "never-seen")
    assert never.outstanding
    assert not never.blocks
    assert never.gate.effect == "needs_agreement"
    assert never.gate.roles == ["service_manager", "head_of_service"]
    assert "Service Manager or Head of Service" in never.explanation


# --- R002-14 risk (item 17) -------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["high_risk", "complex", "self_neglect", "disengaging"])
def test_r002_14_a_risky_client_not_seen_face_to_face_escalates_to_head_of_service(
    pack: PolicyPack, staff: AdultTeam, case: Case, flag: str
) -> None:
    """R002-14: a high-risk, complex, self-neglecting or disengaging client seen only by
    video in the last four weeks escalates to the Head of Service, and item 17 fails; the
    video call is cited as the evidence looked at."""
    case_risk_flags_set(actor=staff.worker, case=case, flags=[flag], reason="Assessed risk.")
    seen(staff, case, 3, face_to_face=False)
    result = gate(pack, "high-risk-seen-face-to-face", case)
    assert result.outstanding
    assert not result.blocks
    assert result.gate.effect == "escalate"
    assert result.gate.roles == ["head_of_service"]
    assert "escalated to the Head of Service" in result.explanation
    assert [row(e)["face_to_face"] for e in result.evidence] == ["no"]
    assert audit_item(pack, case, "17")[0] is False


def test_r002_14_a_risky_client_seen_face_to_face_recently_is_not_escalated(
    pack: PolicyPack, staff: AdultTeam, case: Case
) -> None:
    """R002-14: the same high-risk client seen face to face last week is not escalated and
    passes item 17."""
    case_risk_flags_set(actor=staff.worker, case=case, flags=["high_risk"], reason="Falls.")
    seen(staff, case, 7)
    result = gate(pack, "high-risk-seen-face-to-face", case)
    assert result.applies
    assert result.passed
    assert audit_item(pack, case, "17")[0] is True


def test_r002_14_the_escalation_does_not_apply_to_clients_without_those_risks(
    pack: PolicyPack, staff: AdultTeam, case: Case
) -> None:
    """R002-14: a client with no risk flags (or only a domestic abuse flag, which has its own
    checks) is not escalated even if not seen recently."""
    assert not gate(pack, "high-risk-seen-face-to-face", case).applies
    case_risk_flags_set(actor=staff.worker, case=case, flags=["domestic_abuse"], reason="DA.")
    result = gate(pack, "high-risk-seen-face-to-face", case)
    assert not result.applies
    assert not result.outstanding
    assert audit_item(pack, case, "17")[0] is True


# --- R002-15 supervision (item 18) --------------------------------------------------------


def test_r002_15_no_supervision_blocks_the_audit_and_authorisation(
    pack: PolicyPack, staff: AdultTeam, case: Case
) -> None:
    """R002-15: without supervision recorded on the client's record, item 18 fails and the
    closure cannot be authorised; the user is told to record it first."""
    assert audit_item(pack, case, "18")[0] is False
    authorise = closure_gates(
        pack, context_for(case), step_id="authorise", reason_id="goals-achieved"
    )
    assert [(r.gate_id, r.blocks) for r in authorise] == [
        ("no-open-protection-plan", False),
        ("supervision-recorded", True),
    ]
    assert "Record the supervision date" in authorise[1].explanation


def test_r002_15_recorded_supervision_passes_item_18_with_its_date_as_evidence(
    pack: PolicyPack, staff: AdultTeam, case: Case
) -> None:
    """R002-15: once supervision is recorded, item 18 passes citing its date, and the
    authorisation gate is met."""
    supervision_record(
        actor=staff.manager, case=case, held_on=days_ago(12), discussion="Closure plan."
    )
    result = item(checklist_results(pack, AUDIT, context_for(case)), "18")
    assert result.passed is True
    assert [(row(e)["date"], row(e)["days_ago"]) for e in result.evidence] == [
        (days_ago(12).isoformat(), "12")
    ]
    assert gate(pack, "supervision-recorded", case).passed


# --- R002-16 pre-evaluated items with evidence ---------------------------------------------


def test_r002_16_a_well_recorded_case_passes_every_automatic_item(
    pack: PolicyPack, staff: AdultTeam
) -> None:
    """R002-16: on a case whose record evidences each action, every item the system can
    check is pre-evaluated as met and cites the facts it read; only the finance items are
    left for the manager to answer."""
    results = checklist_results(pack, AUDIT, context_for(well_recorded_case(staff)))
    automatic = [r for r in results if r.automatic]
    assert [r.item.id for r in automatic] == [
        "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "16", "17", "18",
    ]  # fmt: skip
    failed = [(r.item.id, r.facts, r.error) for r in automatic if r.passed is not True]
    assert failed == []
    assert all(r.facts for r in automatic)
    assert [r.item.id for r in results if not r.automatic] == ["12", "13", "14", "15"]


def test_r002_16_a_bare_record_shows_the_manager_what_is_missing(
    pack: PolicyPack, case: Case
) -> None:
    """R002-16: on a case with nothing recorded but the referral, the pre-evaluation shows
    each gap (and the facts behind it) for the manager to confirm or override with a note;
    only ethnicity (asked at registration) and the not-applicable-by-default items pass."""
    results = checklist_results(pack, AUDIT, context_for(case))
    passed = [r.item.id for r in results if r.passed is True]
    failed = [r.item.id for r in results if r.passed is False]
    assert passed == ["1", "3", "9", "17"]
    assert failed == ["2", "4", "5", "6", "7", "8", "10", "11", "16", "18"]
    assert pack.spec.checklists[AUDIT].item_note_required
    assert dict(item(results, "18").facts) == {"supervisions": "0 recorded"}


# --- X-04 retention ------------------------------------------------------------------------


def test_x04_adults_records_are_kept_eight_years_after_care_ends(
    pack: PolicyPack, staff: AdultTeam, case: Case
) -> None:
    """X-04: an adult's case record, open or closed, is kept 8 years after care and support
    ends (the adults-common schedule the 002 pack inherits)."""
    decision = retention_class(pack, context_for(case))
    assert decision is not None
    assert (decision.record_class.id, decision.trigger, decision.years) == (
        "adult-social-care",
        "end_of_care",
        8,
    )
    assert decision.record_class.requirement == "X-04"
    closed = case_close_imported(
        actor=staff.manager,
        case=case,
        closed_on=days_ago(30),
        reason_code="NFA - Support ended - other reason",
        note="Closed before migration.",
    )
    later = retention_class(pack, context_for(closed))
    assert later is not None
    assert later.years == 8


def test_x04_the_adults_schedule_is_not_the_childrens(open_case: Case) -> None:
    """X-04: a child's case under a children's pack is kept on the children's schedule (to
    the 25th birthday for a child in need), not the adults' 8 years from end of care."""
    children = load_pack("004-transfer-and-closure")
    decision = retention_class(children, context_for(open_case))
    assert decision is not None
    assert (decision.trigger, decision.years) == ("date_of_birth", 25)


def test_r002_13_to_15_the_audit_step_carries_the_escalation_and_supervision_gates(
    pack: PolicyPack,
) -> None:
    """R002-13, R002-14, R002-15: the audit step carries the never-seen, high-risk and
    supervision gates (besides the gate on every closure), for any closure reason but
    "declines support", which adds its capacity gate."""
    assert closure_gate_ids(pack, step_id="case-audit", reason_id="moved-away") == [
        "no-open-protection-plan",
        "never-seen",
        "high-risk-seen-face-to-face",
        "supervision-recorded",
    ]


def test_evidence_rows_list_fields_in_a_stable_order(
    pack: PolicyPack, staff: AdultTeam, case: Case
) -> None:
    """R002-16: the evidence shown with a pre-evaluated item reads the same every time,
    fields in the case view's documented order (date, days ago, working days ago)."""
    supervision_record(actor=staff.manager, case=case, held_on=days_ago(12), discussion="Plan.")
    context = context_for(case)
    shown = {tuple(item(checklist_results(pack, AUDIT, context), "18").evidence) for _ in range(12)}
    assert len(shown) == 1
    assert next(iter(shown))[0].startswith(f"date: {days_ago(12).isoformat()}, days_ago: 12, ")


def _unevaluable_escalation(tmp_path: Path) -> PolicyPack:
    """002 with the escalation's applies_when replaced by one that cannot be evaluated on a
    case with no ended protection plan (it compares a null date)."""
    raw = yaml.safe_load((BUILT_IN_PACKS / "002-adults-closure.yaml").read_text("utf-8"))
    raw["gates"]["high-risk-seen-face-to-face"]["applies_when"] = (
        "plans.adult_protection.last_ended_on < now"
    )
    (tmp_path / "002-adults-closure.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    return PackRegistry.from_directories([BUILT_IN_PACKS, tmp_path]).load("002-adults-closure")


def test_r002_14_an_escalation_gate_that_cannot_be_evaluated_does_not_let_closure_through(
    tmp_path: Path, case: Case
) -> None:
    """R002-14: if an escalation's condition cannot be evaluated on a case, the escalation is
    treated as applying and stays outstanding (fails closed), never silently skipped."""
    broken = _unevaluable_escalation(tmp_path)
    result = evaluate_gate(broken, "high-risk-seen-face-to-face", context_for(case))
    assert result.applies
    assert result.outstanding


def test_r002_14_an_unevaluable_escalation_says_the_record_could_not_be_checked(
    tmp_path: Path, case: Case
) -> None:
    """R002-14: the user is told the escalation could not be checked (and to ask for the pack
    to be fixed), not that a client with no risk flags is high-risk."""
    broken = _unevaluable_escalation(tmp_path)
    result = evaluate_gate(broken, "high-risk-seen-face-to-face", context_for(case))
    assert result.error is not None
    assert "could not be checked" in result.explanation
