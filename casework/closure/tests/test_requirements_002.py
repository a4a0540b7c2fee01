"""Procedure 002, "Case Closure Policy" (adults): R002-01 to R002-16, driven only through the
closure workflow services under the bound pack 002-adults-closure.

The Case Audit Tool items are answered through checklist_answer, which stores the automatic
result the record gives beside the manager's answer, note and evidence date: the tests
change the record through the services and show the stored automatic result follow it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pytest

from casework.accounts.models import User
from casework.cases.models import Case, CaseStatus
from casework.cases.services import (
    assessment_complete,
    assessment_start,
    case_risk_flags_set,
    consent_record,
    note_add,
    plan_end,
    plan_start,
    supervision_record,
)
from casework.closure.models import (
    ChecklistAnswer,
    Closure,
    ClosureState,
    FurtherAction,
    GateAgreement,
    SignedDocument,
    StepRecord,
)
from casework.closure.selectors import closure_view
from casework.closure.services import (
    GateBlocked,
    checklist_answer,
    checklist_complete,
    closure_authorise,
    closure_decide,
    closure_finish,
    closure_propose,
    closure_resubmit,
    closure_withdraw,
    further_action_complete,
    gate_agree,
)
from casework.closure.tests.journeys import (
    AdultStaff,
    adult_staff,
    answer_checklist,
    case_status,
    days_ago,
    open_adult_case,
    record_adult_essentials,
    record_closure_discussion,
    refusal,
    reload,
    today,
)
from casework.core.errors import Conflict, InvalidInput, NotPermitted
from casework.organisation.models import Role, Team
from casework.people.models import ContactRole
from casework.people.services import (
    carer_link_add,
    key_safe_record,
    person_create,
    person_update,
    professional_contact_add,
)
from casework.tasks.models import Notification

PACK = "002-adults-closure"
AUDIT = "case-audit-tool"


@pytest.fixture
def staff(
    bind: Callable[[str, str], None],
    make_team: Callable[..., Team],
    make_staff: Callable[..., User],
) -> AdultStaff:
    bind(PACK, "adults")
    return adult_staff(make_team, make_staff)


def agreed_closure(case: Case, staff: AdultStaff, reason_id: str = "goals-achieved") -> Closure:
    closure = closure_propose(actor=staff.worker, case=case, reason_id=reason_id)
    return closure_decide(
        actor=staff.manager, closure=closure, outcome="agreed", note="Closure discussion held"
    )


def answer(
    closure: Closure,
    staff: AdultStaff,
    item_id: str,
    answer: str = "yes",
    note: str = "Checked on the record",
) -> ChecklistAnswer:
    """The team manager answers one Case Audit Tool item, dated with today's evidence."""
    return checklist_answer(
        actor=staff.manager,
        closure=closure,
        checklist_id=AUDIT,
        item_id=item_id,
        answer=answer,
        note=note,
        evidence_date=today() if answer == "yes" else None,
    )


def automatic(closure: Closure, staff: AdultStaff, item_id: str) -> bool | None:
    """The automatic result stored with an answer confirming the item (note given, so an
    override is accepted whatever the record shows)."""
    return answer(closure, staff, item_id, note="Confirmed after checking").automatic_result


# --- R002-01 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason_id", "national_code"),
    [
        ("goals-achieved", "NFA - Support ended - other reason"),
        ("no-role-for-social-care", "NFA - No services offered - other reason"),
        ("moved-away", "NFA - Moved to another LA"),
    ],
)
def test_r002_01_the_adults_closure_reasons_and_their_outcome_codes(
    staff: AdultStaff, reason_id: str, national_code: str
) -> None:
    """R002-01: goals achieved, no role for social care and a permanent move are accepted
    as they are, each recorded with its Client Level Data outcome; a children's reason is
    not one of the adults' reasons."""
    case = open_adult_case(staff)
    with pytest.raises(InvalidInput, match="Choose one of the closure reasons listed"):
        closure_propose(actor=staff.worker, case=case, reason_id="no-longer-in-need")
    closure = closure_propose(actor=staff.worker, case=case, reason_id=reason_id)
    assert (closure.state, closure.reason_id, closure.national_code) == (
        ClosureState.PROPOSED,
        reason_id,
        national_code,
    )


# --- R002-02 --------------------------------------------------------------------------------


def _capacity(case: Case, staff: AdultStaff, outcome: str, *, started: int, done: int) -> None:
    assessment = assessment_start(
        actor=staff.worker, case=case, kind="mental_capacity", started_on=days_ago(started)
    )
    assessment_complete(
        actor=staff.worker,
        assessment=assessment,
        completed_on=days_ago(done),
        outcome="Decision about support at home",
        capacity=outcome,
    )


def _needs(case: Case, staff: AdultStaff, kind: str, unmet: bool, *, started: int) -> None:
    assessment = assessment_start(
        actor=staff.worker, case=case, kind=kind, started_on=days_ago(started)
    )
    assessment_complete(
        actor=staff.worker,
        assessment=assessment,
        completed_on=days_ago(max(started - 1, 0)),
        outcome="Needs reviewed",
        eligible_unmet_needs=unmet,
    )


def test_r002_02_declines_support_needs_capacity_and_no_statutory_reason(
    staff: AdultStaff,
) -> None:
    """R002-02: "declines support" is refused, with the reason and where to record what is
    missing, while there is no capacity assessment, the latest says the person lacks
    capacity, a safeguarding plan is open, or eligible needs are unmet; nothing is written
    until all four are answered."""

    def refused() -> str:
        with pytest.raises(GateBlocked) as blocked:
            closure_propose(actor=staff.worker, case=case, reason_id="declines-support")
        assert "Record it in: Assessments and Plans." in refusal(blocked.value)
        return refusal(blocked.value)

    case = open_adult_case(staff)
    assert "needs a recorded mental capacity assessment showing the person has capacity" in (
        refused()
    )
    _capacity(case, staff, "lacks_capacity", started=30, done=25)
    refused()
    _capacity(case, staff, "has_capacity", started=10, done=5)
    protection = plan_start(
        actor=staff.worker, case=case, kind="adult_protection", started_on=days_ago(20)
    )
    refused()
    plan_end(actor=staff.worker, plan=protection, ended_on=days_ago(1))
    _needs(case, staff, "care_act", True, started=8)
    refused()
    assert not Closure.objects.filter(case=case).exists()

    _needs(case, staff, "care_act_review", False, started=1)
    closure = closure_propose(actor=staff.worker, case=case, reason_id="declines-support")
    assert (closure.state, closure.national_code) == (
        ClosureState.PROPOSED,
        "NFA - Support declined",
    )


# --- R002-03 --------------------------------------------------------------------------------


def test_r002_03_the_worker_tells_the_team_manager_the_record_is_ready(staff: AdultStaff) -> None:
    """R002-03: proposing records the "ready for closure" step as the worker's and tells
    the Team Manager (only them) that their decision is needed on this case."""
    case = open_adult_case(staff)
    closure = closure_propose(actor=staff.worker, case=case, reason_id="goals-achieved")
    step = StepRecord.objects.get(closure=closure)
    assert (step.step_id, step.done_by) == ("ready-for-closure", staff.worker)
    note = Notification.objects.get(event="closure.proposed")
    assert (note.recipient, note.case) == (staff.manager, case)
    assert case.reference in note.message
    assert staff.worker.display_name in note.message
    assert "Your decision is needed" in note.message


def test_r002_03_only_the_allocated_team_can_say_the_record_is_ready(staff: AdultStaff) -> None:
    """R002-03: a senior manager outside the case's team is not the allocated worker and
    cannot propose closure in the worker's place."""
    case = open_adult_case(staff)
    with pytest.raises(NotPermitted, match="Only the social worker can propose closure"):
        closure_propose(actor=staff.service_manager, case=case, reason_id="goals-achieved")
    assert not Closure.objects.filter(case=case).exists()


# --- R002-04 --------------------------------------------------------------------------------


def test_r002_04_further_actions_are_tracked_to_done_before_resubmission(
    staff: AdultStaff,
) -> None:
    """R002-04: the manager's decision needs the closure discussion in the case notes and a
    note; "further actions" needs the actions listed; each action is recorded done once;
    the closure can be resubmitted only when all are done, then agreed."""
    case = open_adult_case(staff)
    closure = closure_propose(actor=staff.worker, case=case, reason_id="goals-achieved")
    with pytest.raises(GateBlocked) as blocked:
        closure_decide(actor=staff.manager, closure=closure, outcome="agreed", note="Agreed")
    assert "record the closure discussion in the case notes" in refusal(blocked.value)
    assert "Record it in: Case notes." in refusal(blocked.value)
    with pytest.raises(NotPermitted, match="Only the team manager"):
        closure_decide(actor=staff.worker, closure=closure, outcome="agreed", note="Mine")
    with pytest.raises(InvalidInput) as no_note:
        closure_decide(actor=staff.manager, closure=closure, outcome="further_actions", note=" ")
    assert set(no_note.value.by_field()) == {"note"}
    with pytest.raises(InvalidInput) as no_actions:
        closure_decide(
            actor=staff.manager,
            closure=closure,
            outcome="further_actions",
            note="Not yet",
            actions=["", "  "],
        )
    assert set(no_actions.value.by_field()) == {"actions"}
    assert reload(closure).state == ClosureState.PROPOSED

    record_closure_discussion(case, staff)
    closure = closure_decide(
        actor=staff.manager,
        closure=closure,
        outcome="further_actions",
        note="Two things first",
        actions=["End the day centre service", "Send the review to the GP"],
    )
    assert closure.state == ClosureState.FURTHER_ACTIONS
    actions = list(FurtherAction.objects.filter(closure=closure))
    with pytest.raises(InvalidInput) as outstanding:
        closure_resubmit(actor=staff.worker, closure=closure)
    assert "Not yet done: End the day centre service" in refusal(outstanding.value)
    assert "Not yet done: Send the review to the GP" in refusal(outstanding.value)

    with pytest.raises(NotPermitted):
        further_action_complete(actor=staff.service_manager, action=actions[0], note="Done")
    done = further_action_complete(actor=staff.worker, action=actions[0], note="Ended 20 Nov")
    assert (done.done_by, done.note) == (staff.worker, "Ended 20 Nov")
    assert done.done_at is not None
    with pytest.raises(Conflict, match="already recorded as done"):
        further_action_complete(actor=staff.worker, action=actions[0], note="Again")
    with pytest.raises(InvalidInput, match="Not yet done: Send the review to the GP"):
        closure_resubmit(actor=staff.worker, closure=closure)
    further_action_complete(actor=staff.worker, action=actions[1], note="Sent by secure email")

    closure = closure_resubmit(actor=staff.worker, closure=closure)
    assert closure.state == ClosureState.PROPOSED
    closure = closure_decide(actor=staff.manager, closure=closure, outcome="agreed", note="Done")
    assert (closure.state, closure.decided_by) == (ClosureState.AGREED, staff.manager)


def test_r002_04_rejection_and_withdrawal_keep_their_reasons(
    staff: AdultStaff, make_staff: Callable[..., User]
) -> None:
    """R002-04: a rejected proposal keeps the manager's reason and leaves the case open for
    a new proposal; withdrawing needs a reason and is for the proposer or a manager, not a
    colleague."""
    case = open_adult_case(staff)
    closure = closure_propose(actor=staff.worker, case=case, reason_id="goals-achieved")
    closure = closure_decide(
        actor=staff.manager, closure=closure, outcome="rejected", note="Carer still struggling"
    )
    assert (closure.state, closure.ended_reason) == (
        ClosureState.REJECTED,
        "Carer still struggling",
    )
    assert case_status(case) == CaseStatus.OPEN

    again = closure_propose(actor=staff.worker, case=case, reason_id="no-role-for-social-care")
    colleague = make_staff("colleague", staff.team)
    with pytest.raises(InvalidInput) as no_reason:
        closure_withdraw(actor=staff.worker, closure=again, reason="")
    assert set(no_reason.value.by_field()) == {"reason"}
    with pytest.raises(NotPermitted, match="withdraw someone else's proposal"):
        closure_withdraw(actor=colleague, closure=again, reason="Not mine to close")
    assert reload(again).state == ClosureState.PROPOSED
    again = closure_withdraw(actor=staff.worker, closure=again, reason="New concerns from the GP")
    assert (again.state, again.ended_reason) == (
        ClosureState.WITHDRAWN,
        "New concerns from the GP",
    )
    assert case_status(case) == CaseStatus.OPEN


# --- R002-05 and R002-16 --------------------------------------------------------------------


def test_r002_05_the_case_audit_tool_is_completed_before_every_closure(staff: AdultStaff) -> None:
    """R002-05, R002-16: authorisation is refused until the Case Audit Tool is completed;
    completing it needs every one of the 18 items answered; the team manager then
    authorises, the case closes with its outcome code, and the authorised audit is frozen
    with each answer, note and evidence date, signed off by the manager and dated."""
    case = open_adult_case(staff)
    record_adult_essentials(case, staff)
    closure = agreed_closure(case, staff)
    with pytest.raises(InvalidInput, match="Not done yet: Complete the Case Audit Tool"):
        closure_authorise(actor=staff.manager, closure=closure)
    answer_checklist(closure, AUDIT, staff.manager, skip={"18"}, evidence_date=days_ago(2))
    with pytest.raises(InvalidInput, match="Answer item 18"):
        checklist_complete(actor=staff.manager, closure=closure, checklist_id=AUDIT)
    answer(closure, staff, "18")
    checklist_complete(actor=staff.manager, closure=closure, checklist_id=AUDIT)
    closure = closure_authorise(actor=staff.manager, closure=closure)

    case.refresh_from_db()
    assert (closure.state, case.status, case.closure_reason) == (
        ClosureState.CLOSED,
        CaseStatus.CLOSED,
        "NFA - Support ended - other reason",
    )
    audit = SignedDocument.objects.get(closure=closure, form_id=f"checklist:{AUDIT}")
    answers = {h["id"]: h["answer"] for h in audit.content["headings"]}
    assert len(answers) == 18
    dated = days_ago(2)  # the service writes dates as GOV.UK does: "5 December 2026"
    assert answers["1"] == f"Yes. Checked on the record (record dated {dated.day} {dated:%B %Y})"
    sign_off = audit.signatures.get()
    assert (sign_off.signer, sign_off.role, sign_off.signed_at.date()) == (
        staff.manager,
        Role.TEAM_MANAGER,
        today(),
    )
    assert not Notification.objects.filter(event="closure.escalated").exists()


def test_r002_05_the_authorised_audit_carries_its_header(staff: AdultStaff) -> None:
    """R002-05: the completed Case Audit Tool's header holds the person's ID, the local
    system number, the date, the worker and the manager's sign-off."""
    case = open_adult_case(staff)
    record_adult_essentials(case, staff)
    closure = agreed_closure(case, staff)
    answer_checklist(closure, AUDIT, staff.manager)
    checklist_complete(actor=staff.manager, closure=closure, checklist_id=AUDIT)
    closure_authorise(actor=staff.manager, closure=closure)
    audit = SignedDocument.objects.get(closure=closure, form_id=f"checklist:{AUDIT}")
    header = json.dumps(audit.content)
    assert case.reference in header
    assert case.subject.local_id in header
    assert staff.worker.display_name in header


# --- R002-06 --------------------------------------------------------------------------------


def test_r002_06_each_item_has_a_note_and_the_date_of_the_evidence(staff: AdultStaff) -> None:
    """R002-06: an item confirmed "yes" needs the supervisor's note and the date of the
    record that evidences it (both problems are reported together and nothing is stored);
    "not applicable" is only for "if appropriate" sections and needs a reason; answering
    again replaces the answer rather than adding a second."""
    case = open_adult_case(staff)
    record_adult_essentials(case, staff)
    closure = agreed_closure(case, staff)
    with pytest.raises(InvalidInput) as missing:
        checklist_answer(
            actor=staff.manager, closure=closure, checklist_id=AUDIT, item_id="6", answer="yes"
        )
    assert set(missing.value.by_field()) == {"note", "evidence_date"}
    with pytest.raises(InvalidInput) as not_na:
        checklist_answer(
            actor=staff.manager,
            closure=closure,
            checklist_id=AUDIT,
            item_id="1",
            answer="na",
            note="Not relevant",
        )
    assert not_na.value.by_field() == {"answer": ["This item cannot be marked not applicable."]}
    with pytest.raises(InvalidInput) as no_reason:
        checklist_answer(
            actor=staff.manager, closure=closure, checklist_id=AUDIT, item_id="12", answer="na"
        )
    assert set(no_reason.value.by_field()) == {"note"}
    with pytest.raises(InvalidInput, match="Answer yes, no or not applicable"):
        answer(closure, staff, "6", answer="maybe")
    assert not ChecklistAnswer.objects.filter(closure=closure).exists()

    first = answer(closure, staff, "6", note="Care Act assessment on file")
    assert (first.answer, first.note, first.evidence_date) == (
        "yes",
        "Care Act assessment on file",
        today(),
    )
    na = answer(closure, staff, "12", answer="na", note="No chargeable services")
    assert (na.answer, na.evidence_date) == ("na", None)
    checklist_answer(
        actor=staff.manager,
        closure=closure,
        checklist_id=AUDIT,
        item_id="6",
        answer="yes",
        note="Care Act assessment dated 17 August",
        evidence_date=days_ago(100),
    )
    replaced = ChecklistAnswer.objects.get(closure=closure, item_id="6")
    assert (replaced.note, replaced.evidence_date) == (
        "Care Act assessment dated 17 August",
        days_ago(100),
    )
    assert ChecklistAnswer.objects.filter(closure=closure).count() == 2


# --- R002-07 to R002-12: the automatic checks follow the record ------------------------------


def test_r002_07_personal_details_ethnicity_contacts_and_key_safe(staff: AdultStaff) -> None:
    """R002-07: item 1 fails until the worker is recorded as having asked the person's
    ethnicity; item 2 fails until the GP (and a key safe's number) is recorded."""
    case = open_adult_case(staff, ethnicity_asked=False)
    record_closure_discussion(case, staff)
    closure = agreed_closure(case, staff)
    assert automatic(closure, staff, "1") is False
    assert automatic(closure, staff, "2") is False

    person_update(actor=staff.worker, person=case.subject, ethnicity_asked=True, reason="Asked")
    professional_contact_add(
        actor=staff.worker,
        person=case.subject,
        role=ContactRole.GP,
        organisation="Care Close Surgery",
        started_on=days_ago(1000),
    )
    key_safe_record(actor=staff.worker, person=case.subject, location="Porch", code="0451")
    assert automatic(closure, staff, "1") is True
    assert automatic(closure, staff, "2") is True


def test_r002_08_carer_conversation_shared_or_assessment_declined(staff: AdultStaff) -> None:
    """R002-08: with no carer, item 3 passes and item 4 (carer linked) does not, and the
    carer section may be marked not applicable; once a carer is linked item 4 passes and
    item 3 waits for the carer's conversation, or an assessment offered and declined."""
    case = open_adult_case(staff)
    record_closure_discussion(case, staff)
    closure = agreed_closure(case, staff)
    assert automatic(closure, staff, "3") is True
    assert automatic(closure, staff, "4") is False
    assert answer(closure, staff, "4", answer="na", note="No carer").answer == "na"

    daughter = person_create(
        actor=staff.worker,
        given_name="Jean",
        family_name="Client",
        date_of_birth=dt.date(1970, 1, 1),
    )
    carer_link_add(
        actor=staff.worker, carer=daughter, cared_for=case.subject, started_on=days_ago(90)
    )
    assert automatic(closure, staff, "3") is False
    assert automatic(closure, staff, "4") is True
    carer = assessment_start(actor=staff.worker, case=case, kind="carer", started_on=days_ago(9))
    assessment_complete(
        actor=staff.worker,
        assessment=carer,
        completed_on=days_ago(8),
        outcome="Offered; Jean declined",
        offered_and_declined=True,
    )
    assert automatic(closure, staff, "3") is True


def test_r002_09_consent_and_the_assessment_sent_and_authorised(staff: AdultStaff) -> None:
    """R002-09: items 5-8 fail on a bare record and pass once signed consent to share is
    on file and an assessment is completed, sent to the person and authorised."""
    case = open_adult_case(staff)
    record_closure_discussion(case, staff)
    closure = agreed_closure(case, staff)
    assert [automatic(closure, staff, i) for i in ("5", "6", "7", "8")] == [False] * 4

    consent_record(
        actor=staff.worker,
        case=case,
        kind="share_information",
        given_by="Pat Client",
        given_on=days_ago(30),
        signed=True,
    )
    review = assessment_start(
        actor=staff.worker, case=case, kind="care_act_review", started_on=days_ago(20)
    )
    assessment_complete(
        actor=staff.manager,
        assessment=review,
        completed_on=days_ago(10),
        outcome="Needs met",
        sent_to="Pat Client; GP",
        authorise=True,
    )
    assert [automatic(closure, staff, i) for i in ("5", "6", "7", "8")] == [True] * 4


def test_r002_10_safeguarding_and_dols_outcome_clear(staff: AdultStaff) -> None:
    """R002-10: item 9 fails while a DoLS authorisation is open and passes once it ends;
    the outcome section may be marked not applicable with a reason."""
    case = open_adult_case(staff)
    record_closure_discussion(case, staff)
    dols = plan_start(actor=staff.worker, case=case, kind="dols", started_on=days_ago(60))
    closure = agreed_closure(case, staff)
    assert automatic(closure, staff, "9") is False
    plan_end(actor=staff.worker, plan=dols, ended_on=days_ago(1), outcome="Authorisation ended")
    assert automatic(closure, staff, "9") is True
    assert answer(closure, staff, "9", answer="na", note="No DoLS or safeguarding now").answer == (
        "na"
    )


def test_r002_11_case_notes_current_and_assessment_sent(staff: AdultStaff) -> None:
    """R002-11: item 10 fails with no case note in the last 28 days and passes with one;
    item 11 passes once an assessment on file has been sent out."""
    case = open_adult_case(staff)
    record_closure_discussion(case, staff)
    closure = agreed_closure(case, staff)
    note_add(actor=staff.worker, case=case, title="Old", body="Old note", occurred_on=days_ago(60))
    # The closure discussion note (today) counts as a case note: item 10 reads the latest.
    assert automatic(closure, staff, "10") is True
    assert automatic(closure, staff, "11") is False
    review = assessment_start(
        actor=staff.worker, case=case, kind="care_act", started_on=days_ago(20)
    )
    assessment_complete(
        actor=staff.worker,
        assessment=review,
        completed_on=days_ago(5),
        outcome="Met",
        sent_to="Pat Client",
    )
    assert automatic(closure, staff, "11") is True


def test_r002_11_stale_case_notes_fail_item_10(staff: AdultStaff) -> None:
    """R002-11: when the latest case note is older than 28 days item 10 fails, so the
    manager must say why they differ to confirm it."""
    case = open_adult_case(staff)
    note_add(
        actor=staff.manager,
        case=case,
        kind="closure_discussion",
        title="Closure discussion",
        body="Discussed",
        occurred_on=days_ago(40),
    )
    closure = agreed_closure(case, staff)
    with pytest.raises(InvalidInput, match="why you differ from the automatic check"):
        checklist_answer(
            actor=staff.manager,
            closure=closure,
            checklist_id=AUDIT,
            item_id="10",
            answer="yes",
            evidence_date=days_ago(40),
        )
    assert answer(closure, staff, "10", note="Notes complete to 40 days ago").automatic_result is (
        False
    )


def test_r002_12_finance_items_are_checked_by_the_manager_or_not_applicable(
    staff: AdultStaff,
) -> None:
    """R002-12: items 12-15 have no automatic check (the manager's answer stands alone,
    never an override); each may be "not applicable" with a reason."""
    case = open_adult_case(staff)
    record_closure_discussion(case, staff)
    closure = agreed_closure(case, staff)
    for item_id in ("12", "13", "14", "15"):
        stored = answer(closure, staff, item_id, answer="no", note="Not documented yet")
        assert (stored.automatic_result, stored.overridden) == (None, False)
        stored = answer(closure, staff, item_id, answer="na", note="No chargeable services")
        assert stored.answer == "na"


# --- R002-13 --------------------------------------------------------------------------------


@pytest.mark.parametrize("agreeing_role", ["service_manager", "head_of_service"])
def test_r002_13_a_client_never_seen_needs_senior_agreement_to_close(
    staff: AdultStaff, agreeing_role: str
) -> None:
    """R002-13: for a client never seen in person the audit cannot be completed: it says a
    Service Manager or Head of Service must agree. The team manager cannot agree; a
    Service Manager or Head of Service can, with a note; then the closure goes on to close."""
    case = open_adult_case(staff)
    record_adult_essentials(case, staff, seen_days_ago=None)
    closure = agreed_closure(case, staff)
    answer_checklist(closure, AUDIT, staff.manager)
    assert ChecklistAnswer.objects.get(closure=closure, item_id="16").automatic_result is False
    with pytest.raises(GateBlocked) as blocked:
        checklist_complete(actor=staff.manager, closure=closure, checklist_id=AUDIT)
    assert "never been seen in person" in refusal(blocked.value)
    assert "agreement of a Service Manager or Head of Service" in refusal(blocked.value)
    assert "Record it in: Visits." in refusal(blocked.value)

    with pytest.raises(NotPermitted, match="Only a service manager or head of service"):
        gate_agree(actor=staff.manager, closure=closure, gate_id="never-seen", note="Fine")
    senior = getattr(staff, agreeing_role)
    with pytest.raises(InvalidInput) as no_note:
        gate_agree(actor=senior, closure=closure, gate_id="never-seen", note="")
    assert set(no_note.value.by_field()) == {"note"}
    agreement = gate_agree(
        actor=senior, closure=closure, gate_id="never-seen", note="Phone reviews only; safe"
    )
    assert (agreement.gate_id, agreement.agreed_by, agreement.note) == (
        "never-seen",
        senior,
        "Phone reviews only; safe",
    )

    checklist_complete(actor=staff.manager, closure=closure, checklist_id=AUDIT)
    closure = closure_authorise(actor=staff.manager, closure=closure)
    assert (closure.state, case_status(case)) == (ClosureState.CLOSED, CaseStatus.CLOSED)


def test_r002_13_a_head_of_services_agreement_is_recorded_as_theirs(staff: AdultStaff) -> None:
    """R002-13: when the Head of Service agrees to close for a client never seen, the
    agreement on record says it was the Head of Service who agreed."""
    case = open_adult_case(staff)
    record_adult_essentials(case, staff, seen_days_ago=None)
    closure = agreed_closure(case, staff)
    agreement = gate_agree(
        actor=staff.head_of_service, closure=closure, gate_id="never-seen", note="Agreed"
    )
    assert agreement.role == Role.HEAD_OF_SERVICE


def test_r002_13_a_client_seen_a_while_ago_needs_the_reason_for_no_final_visit(
    staff: AdultStaff,
) -> None:
    """R002-13: a client last seen 60 days ago was seen, so no senior agreement is needed
    (or accepted), but item 16's automatic check fails: confirming it needs a note saying
    why; answering "no" records when they were last seen and why no final visit."""
    case = open_adult_case(staff)
    record_adult_essentials(case, staff, seen_days_ago=60)
    closure = agreed_closure(case, staff)
    with pytest.raises(InvalidInput, match="already meets this condition"):
        gate_agree(actor=staff.service_manager, closure=closure, gate_id="never-seen", note="Agree")
    with pytest.raises(InvalidInput, match="why you differ from the automatic check"):
        checklist_answer(
            actor=staff.manager,
            closure=closure,
            checklist_id=AUDIT,
            item_id="16",
            answer="yes",
            evidence_date=days_ago(60),
        )
    last_seen = answer(
        closure, staff, "16", answer="no", note="Last seen 60 days ago; moved to daughter's"
    )
    assert (last_seen.automatic_result, last_seen.overridden) == (False, False)
    answer_checklist(closure, AUDIT, staff.manager, skip={"16"})
    checklist_complete(actor=staff.manager, closure=closure, checklist_id=AUDIT)
    assert not GateAgreement.objects.filter(closure=closure).exists()


# --- R002-14 --------------------------------------------------------------------------------


def test_r002_14_high_risk_client_not_seen_escalates_and_blocks_the_close(
    staff: AdultStaff,
) -> None:
    """R002-14: a high-risk client not seen face to face in 28 days does not stop the audit,
    but escalates it: the Head of Service (only) is told once. The closure can be authorised
    but the case does not close: finishing is refused with the reason until the Head of
    Service agrees (a team or service manager cannot); then it closes."""
    case = open_adult_case(staff)
    record_adult_essentials(case, staff, seen_days_ago=40)
    case_risk_flags_set(actor=staff.manager, case=case, flags=["high_risk"], reason="Falls")
    closure = agreed_closure(case, staff)
    answer_checklist(closure, AUDIT, staff.manager)
    assert ChecklistAnswer.objects.get(closure=closure, item_id="17").automatic_result is False

    checklist_complete(actor=staff.manager, closure=closure, checklist_id=AUDIT)
    escalated = Notification.objects.filter(event="closure.escalated")
    assert [(n.recipient, n.requirement) for n in escalated] == [(staff.head_of_service, "R002-14")]
    assert "Escalated to you" in escalated[0].message
    assert "escalated to the Head of Service" in escalated[0].message

    closure = closure_authorise(actor=staff.manager, closure=closure)
    assert (closure.state, case_status(case)) == (ClosureState.AUTHORISED, CaseStatus.OPEN)
    with pytest.raises(GateBlocked) as blocked:
        closure_finish(actor=staff.worker, closure=closure)
    assert "not been seen face to face in the last 28 days" in refusal(blocked.value)
    assert "Record it in: Visits." in refusal(blocked.value)
    for not_senior_enough in (staff.manager, staff.service_manager):
        with pytest.raises(NotPermitted, match="Only a head of service can agree this"):
            gate_agree(
                actor=not_senior_enough,
                closure=closure,
                gate_id="high-risk-seen-face-to-face",
                note="Agree",
            )
    gate_agree(
        actor=staff.head_of_service,
        closure=closure,
        gate_id="high-risk-seen-face-to-face",
        note="Daughter and GP confirm safe; MARAC not needed",
    )
    closure = closure_finish(actor=staff.worker, closure=closure)
    assert (closure.state, case_status(case)) == (ClosureState.CLOSED, CaseStatus.CLOSED)
    assert Notification.objects.filter(event="closure.escalated").count() == 1


# --- R002-15 --------------------------------------------------------------------------------


def test_r002_15_supervision_must_be_recorded_before_closure(staff: AdultStaff) -> None:
    """R002-15: with no supervision on the client's record item 18 fails and the audit is
    refused, saying what to record and where; once supervision is recorded it completes."""
    case = open_adult_case(staff)
    record_adult_essentials(case, staff, supervision=False)
    closure = agreed_closure(case, staff)
    answer_checklist(closure, AUDIT, staff.manager)
    assert ChecklistAnswer.objects.get(closure=closure, item_id="18").automatic_result is False
    with pytest.raises(GateBlocked) as blocked:
        checklist_complete(actor=staff.manager, closure=closure, checklist_id=AUDIT)
    assert "There is no supervision on this client's record" in refusal(blocked.value)
    assert "Record it in: Supervision." in refusal(blocked.value)

    supervision_record(
        actor=staff.manager, case=case, held_on=today(), discussion="Closure and risks"
    )
    assert automatic(closure, staff, "18") is True
    closure = checklist_complete(actor=staff.manager, closure=closure, checklist_id=AUDIT)
    assert StepRecord.objects.filter(closure=closure, step_id="case-audit").exists()


# --- R002-16 --------------------------------------------------------------------------------


def test_r002_16_automatic_checks_are_shown_with_evidence_and_overrides_need_a_note(
    staff: AdultStaff,
) -> None:
    """R002-16: the checks the record can answer are pre-evaluated with their evidence;
    the manager confirms (no override) or overrides with a note saying why, and both the
    automatic result and the override are stored with the answer."""
    case = open_adult_case(staff)
    record_adult_essentials(case, staff)
    closure = agreed_closure(case, staff)

    results = {r.item.id: r for r in closure_view(staff.manager, case.pk).checklist_results(AUDIT)}
    assert results["6"].passed is True
    assert any("kind: care_act" in row for row in results["6"].evidence)
    assert results["12"].automatic is False

    confirmed = answer(closure, staff, "6", note="Assessment dated 17 August on file")
    assert (confirmed.automatic_result, confirmed.overridden) == (True, False)
    with pytest.raises(InvalidInput) as unexplained:
        checklist_answer(
            actor=staff.manager, closure=closure, checklist_id=AUDIT, item_id="7", answer="no"
        )
    assert unexplained.value.by_field()["note"] == [
        "Add a note saying what you checked and why you differ from the automatic check."
    ]
    overridden = answer(
        closure, staff, "7", answer="no", note="Sent to the GP but not to the person"
    )
    assert (overridden.automatic_result, overridden.overridden, overridden.note) == (
        True,
        True,
        "Sent to the GP but not to the person",
    )
