"""Procedure 003, "Ending Interventions with Families" (children): R003-01 to R003-06 and
R003-08, driven only through the closure workflow services under the bound pack
003-ending-interventions. (R003-07, the re-referral review, is not part of a closure.)"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from casework.accounts.models import User
from casework.cases.models import Case, CaseStatus
from casework.cases.services import (
    assessment_complete,
    assessment_start,
    decision_record,
    meeting_record,
    note_add,
    plan_end,
    plan_start,
)
from casework.closure.models import (
    ChecklistAnswer,
    Closure,
    ClosureState,
    FormResponse,
    Sharing,
    SignedDocument,
    StepRecord,
)
from casework.closure.services import (
    GateBlocked,
    checklist_answer,
    checklist_complete,
    closure_propose,
    closure_step_complete,
    form_save_draft,
    form_submit,
    summary_share,
    summary_sign,
)
from casework.closure.tests.journeys import (
    CLOSURE_SUMMARY_003,
    SEVEN_POINTS,
    answer_checklist,
    case_status,
    days_ago,
    ending_003_until_signing,
    make_child,
    open_child_case,
    propose_and_agree,
    record_final_meeting,
    refusal,
    reload,
    sign_and_share_003,
    today,
    upload_minutes,
)
from casework.core.errors import InvalidInput, NotPermitted
from casework.organisation.models import Team
from casework.people.services import person_move_in, phone_number_add

PACK = "003-ending-interventions"
SUMMARY = "case-closure-summary"


@pytest.fixture
def pack_003(bind: Callable[[str], None]) -> None:
    bind(PACK)


def step_done(closure: Closure, step_id: str) -> bool:
    return StepRecord.objects.filter(closure=closure, step_id=step_id).exists()


# --- R003-01 --------------------------------------------------------------------------------


@pytest.mark.usefixtures("pack_003")
def test_r003_01_the_final_meeting_is_recorded_with_attendees_and_minutes(
    child_case: Case, worker: User, manager: User
) -> None:
    """R003-01: the final-meeting step is refused until a final meeting is on the case; a
    meeting recorded without who attended or minutes does not let the closure summary be
    completed (the refusal names the date, attendees and minutes, recorded in Meetings);
    a full record does, and its date is carried into the summary."""
    closure = propose_and_agree(child_case, worker, manager)
    form_save_draft(actor=worker, closure=closure, form_id="ending-evidence", answers=SEVEN_POINTS)
    form_submit(actor=worker, closure=closure, form_id="ending-evidence")
    with pytest.raises(InvalidInput, match="Record the meeting on the case first"):
        closure_step_complete(actor=worker, closure=closure, step_id="final-meeting")
    assert not step_done(closure, "final-meeting")

    meeting_record(actor=worker, case=child_case, kind="final", held_on=days_ago(3), attendees=[])
    form_save_draft(actor=worker, closure=closure, form_id=SUMMARY, answers=CLOSURE_SUMMARY_003)
    with pytest.raises(GateBlocked) as blocked:
        form_submit(actor=worker, closure=closure, form_id=SUMMARY)
    assert "Record the final meeting with the family and the agencies involved" in refusal(
        blocked.value
    )
    assert "who attended, and the minutes" in refusal(blocked.value)
    assert "Record it in: Meetings." in refusal(blocked.value)
    assert FormResponse.objects.get(closure=closure, form_id=SUMMARY).submitted_at is None

    record_final_meeting(child_case, worker, on=days_ago(2))
    closure_step_complete(actor=worker, closure=closure, step_id="final-meeting")
    form_submit(actor=worker, closure=closure, form_id=SUMMARY)
    assert step_done(closure, "final-meeting")
    assert step_done(closure, SUMMARY)


# --- R003-02 --------------------------------------------------------------------------------


@pytest.mark.usefixtures("pack_003")
def test_r003_02_family_and_young_person_feedback_are_kept_with_the_case(
    child_case: Case, worker: User, manager: User
) -> None:
    """R003-02: the family's and the young person's feedback forms are captured on the
    closure (so on the case) and kept, submitted, when the case closes."""
    closure = propose_and_agree(child_case, worker, manager)
    for form_id in ("family-feedback", "young-person-feedback"):
        form_save_draft(
            actor=worker,
            closure=closure,
            form_id=form_id,
            answers={"what_helped": "Having one worker", "what_could_be_better": "Less waiting"},
        )
        form_submit(actor=worker, closure=closure, form_id=form_id)
    ending_003_until_signing(child_case, closure, worker, manager)
    sign_and_share_003(closure, worker, manager)

    assert case_status(child_case) == CaseStatus.CLOSED
    feedback = FormResponse.objects.filter(
        closure__case=child_case, form_id__in=["family-feedback", "young-person-feedback"]
    )
    assert feedback.count() == 2
    for response in feedback:
        assert response.submitted_at is not None
        assert response.answers["what_helped"] == "Having one worker"
    assert step_done(closure, "feedback")
    assert step_done(closure, "young-person-feedback")


@pytest.mark.usefixtures("pack_003")
def test_r003_02_feedback_is_optional_and_the_young_persons_form_is_from_age_8(
    worker: User, manager: User, team_ai: Team
) -> None:
    """R003-02: feedback is offered, not required: a closure ends without it. The young
    person's own form is not offered for a five-year-old."""
    child = make_child(worker, age=5)
    person_move_in(
        actor=worker,
        person=child,
        line_1="5 Lane",
        town="Testford",
        postcode="TE5 5LA",
        started_on=days_ago(200),
    )
    phone_number_add(actor=worker, person=child, number="07700 900555", label="father")
    case = open_child_case(worker, team_ai, child, received_on=days_ago(90))
    closure = propose_and_agree(case, worker, manager)
    with pytest.raises(InvalidInput, match="That form is not part of this closure"):
        form_save_draft(actor=worker, closure=closure, form_id="young-person-feedback", answers={})
    ending_003_until_signing(case, closure, worker, manager)
    sign_and_share_003(closure, worker, manager)
    assert case_status(case) == CaseStatus.CLOSED
    assert not FormResponse.objects.filter(closure=closure, form_id__contains="feedback")


# --- R003-03 --------------------------------------------------------------------------------


@pytest.mark.usefixtures("pack_003")
def test_r003_03_the_seven_points_are_evidenced_before_the_case_can_close(
    child_case: Case, worker: User, manager: User
) -> None:
    """R003-03: each of the seven points must be answered (the agencies taking over are
    pre-filled from the record); with everything else done, signed and shared the case
    stays open and finishing names the missing evidence; evidencing the seven points
    closes it."""
    closure = propose_and_agree(child_case, worker, manager)
    draft = form_save_draft(actor=worker, closure=closure, form_id="ending-evidence", answers={})
    assert "School: Testford Primary" in draft.answers["handed_over"]
    with pytest.raises(InvalidInput) as missing:
        form_submit(actor=worker, closure=closure, form_id="ending-evidence")
    assert set(missing.value.by_field()) == {
        "family_can_meet_needs",
        "why_no_longer_required",
        "family_strategies",
        "sustainability_confidence",
        "decision_understood",
        "safety_plan_score",
    }

    record_final_meeting(child_case, worker)
    closure_step_complete(actor=worker, closure=closure, step_id="final-meeting")
    form_save_draft(actor=worker, closure=closure, form_id=SUMMARY, answers=CLOSURE_SUMMARY_003)
    with pytest.raises(InvalidInput, match="Do this first: Evidence the seven points"):
        form_submit(actor=worker, closure=closure, form_id=SUMMARY)

    form_save_draft(actor=worker, closure=closure, form_id="ending-evidence", answers=SEVEN_POINTS)
    form_submit(actor=worker, closure=closure, form_id="ending-evidence")
    form_submit(actor=worker, closure=closure, form_id=SUMMARY)
    decision_record(
        actor=manager, case=child_case, kind="advise_closure", decided_on=today(), decision="End"
    )
    upload_minutes(child_case, worker)
    answer_checklist(closure, "ending-checks", manager)
    checklist_complete(actor=manager, closure=closure, checklist_id="ending-checks")
    sign_and_share_003(closure, worker, manager)
    assert case_status(child_case) == CaseStatus.CLOSED


@pytest.mark.usefixtures("pack_003")
def test_r003_03_the_summary_waits_for_the_seven_points(
    child_case: Case, worker: User, manager: User
) -> None:
    """R003-03, R003-04: the case closure summary explains the seven points, so it cannot
    be submitted until they are evidenced."""
    closure = propose_and_agree(child_case, worker, manager)
    record_final_meeting(child_case, worker)
    form_save_draft(actor=worker, closure=closure, form_id=SUMMARY, answers=CLOSURE_SUMMARY_003)
    with pytest.raises(InvalidInput, match="Do this first: Evidence the seven points"):
        form_submit(actor=worker, closure=closure, form_id=SUMMARY)


# --- R003-04 --------------------------------------------------------------------------------


@pytest.mark.usefixtures("pack_003")
def test_r003_04_summary_headings_are_prefilled_from_the_record(
    child_case: Case, worker: User, manager: User
) -> None:
    """R003-04: the reason for intervention is pre-filled from the referral and the date of
    the final meeting from the meeting record, each marked as pre-filled until the worker
    changes it; the intervention, safety plan and minutes headings must be answered."""
    record_final_meeting(child_case, worker, on=days_ago(4))
    closure = propose_and_agree(child_case, worker, manager)
    form_save_draft(actor=worker, closure=closure, form_id="ending-evidence", answers=SEVEN_POINTS)
    form_submit(actor=worker, closure=closure, form_id="ending-evidence")
    draft = form_save_draft(actor=worker, closure=closure, form_id=SUMMARY, answers={})
    assert draft.prefilled == {
        "reason_for_intervention": "reasons_for_involvement",
        "final_meeting_date": "final_meeting_date",
    }
    assert (
        "School raised concerns about attendance and presentation."
        in (draft.answers["reason_for_intervention"])
    )
    assert draft.answers["final_meeting_date"] == days_ago(4).isoformat()
    with pytest.raises(InvalidInput) as missing:
        form_submit(actor=worker, closure=closure, form_id=SUMMARY)
    assert set(missing.value.by_field()) == {
        "intervention_and_impact",
        "safety_plan",
        "minutes_uploaded",
    }

    edited = form_save_draft(
        actor=worker,
        closure=closure,
        form_id=SUMMARY,
        answers=CLOSURE_SUMMARY_003
        | {"reason_for_intervention": "Neglect concerns (2024) and poor attendance (2026)"},
    )
    assert edited.prefilled == {"final_meeting_date": "final_meeting_date"}
    assert edited.version == draft.version + 1
    form_submit(actor=worker, closure=closure, form_id=SUMMARY)
    summary_sign(actor=worker, closure=closure, form_id=SUMMARY)
    signed = SignedDocument.objects.get(closure=closure, form_id=SUMMARY)
    assert [h["id"] for h in signed.content["headings"]] == [
        "reason_for_intervention",
        "intervention_and_impact",
        "safety_plan",
        "final_meeting_date",
        "minutes_uploaded",
    ]


# --- R003-05 --------------------------------------------------------------------------------


@pytest.mark.usefixtures("pack_003")
def test_r003_05_file_checks_need_the_decision_documents_and_contact_details(
    open_case: Case, worker: User, manager: User
) -> None:
    """R003-05: the team manager's file checks are refused while the decision to end is not
    recorded and the family's phone number and address are not confirmed (both reasons
    given, with where to record them); the checks read the record (key documents, contact
    details); the worker cannot do them."""
    closure = propose_and_agree(open_case, worker, manager)
    with pytest.raises(NotPermitted, match="Only the team manager"):
        checklist_answer(
            actor=worker,
            closure=closure,
            checklist_id="ending-checks",
            item_id="decision",
            answer="yes",
            note="Mine",
        )
    answer_checklist(closure, "ending-checks", manager, note="Checking")
    automatic = dict(
        ChecklistAnswer.objects.filter(closure=closure).values_list("item_id", "automatic_result")
    )
    assert automatic == {"decision": False, "key-documents": False, "contact-details": False}
    with pytest.raises(GateBlocked) as blocked:
        checklist_complete(actor=manager, closure=closure, checklist_id="ending-checks")
    message = refusal(blocked.value)
    assert "The team manager's decision to end involvement must be recorded" in message
    assert "Record it in: Manager's decisions." in message
    assert "Confirm the family's current phone number and address" in message
    assert "Record it in: Person details." in message

    decision_record(
        actor=manager, case=open_case, kind="advise_closure", decided_on=today(), decision="End"
    )
    person_move_in(
        actor=worker,
        person=open_case.subject,
        line_1="8 Hill",
        town="Testford",
        postcode="TE8 8HL",
        started_on=days_ago(30),
    )
    phone_number_add(actor=worker, person=open_case.subject, number="07700 900888")
    upload_minutes(open_case, worker)
    note_add(actor=worker, case=open_case, title="Final", body="Ending", occurred_on=today())
    answer_checklist(closure, "ending-checks", manager, note="All on file")
    automatic = dict(
        ChecklistAnswer.objects.filter(closure=closure).values_list("item_id", "automatic_result")
    )
    assert automatic == {"decision": True, "key-documents": True, "contact-details": True}
    checklist_complete(actor=manager, closure=closure, checklist_id="ending-checks")
    assert step_done(closure, "checks")


# --- R003-06 --------------------------------------------------------------------------------


@pytest.mark.usefixtures("pack_003")
def test_r003_06_sharing_records_who_when_and_how_and_only_once_signed(
    child_case: Case, worker: User, manager: User
) -> None:
    """R003-06: sharing is refused before the summary is signed; incomplete sharing
    details are all reported and nothing is recorded; a complete record keeps each
    recipient (family or professional), the method, the date and who recorded it, against
    the signed summary, and completes the closure."""
    closure = propose_and_agree(child_case, worker, manager)
    ending_003_until_signing(child_case, closure, worker, manager)
    family = {"recipient": "Jo Example", "kind": "family", "method": "in_person"}
    with pytest.raises(
        InvalidInput, match="Only a summary signed by everyone who signs it can be shared"
    ):
        summary_share(actor=worker, closure=closure, recipients=[family], shared_on=today())

    summary_sign(actor=worker, closure=closure, form_id=SUMMARY)
    summary_sign(actor=manager, closure=closure, form_id=SUMMARY)
    assert case_status(child_case) == CaseStatus.OPEN
    with pytest.raises(InvalidInput) as bad:
        summary_share(
            actor=worker,
            closure=closure,
            shared_on=today() + dt.timedelta(days=1),
            recipients=[{"recipient": " ", "kind": "neighbour", "method": "pigeon"}],
        )
    message = refusal(bad.value)
    for problem in (
        "The date shared cannot be in the future.",
        "Recipient 1 has no name.",
        "Say how recipient 1 received it.",
        "Say whether recipient 1 is family or professional.",
    ):
        assert problem in message
    with pytest.raises(InvalidInput, match="Add who the summary was shared with"):
        summary_share(actor=worker, closure=closure, recipients=[], shared_on=today())
    assert not Sharing.objects.exists()

    shared = summary_share(
        actor=worker,
        closure=closure,
        shared_on=days_ago(1),
        recipients=[
            family,
            {"recipient": "Testford Primary", "kind": "professional", "method": "secure_email"},
        ],
    )
    signed = SignedDocument.objects.get(closure=closure, form_id=SUMMARY)
    assert [
        (s.recipient, s.recipient_kind, s.method, s.shared_on, s.recorded_by, s.document)
        for s in shared
    ] == [
        ("Jo Example", "family", "in_person", days_ago(1), worker, signed),
        ("Testford Primary", "professional", "secure_email", days_ago(1), worker, signed),
    ]
    assert step_done(closure, "share")
    assert case_status(child_case) == CaseStatus.CLOSED


@pytest.mark.usefixtures("pack_003")
def test_r003_06_a_summary_is_shared_only_after_both_signatures(
    child_case: Case, worker: User, manager: User
) -> None:
    """R003-06: with the worker's signature alone the summary is not yet signed off, so
    sharing it is refused and nothing is recorded."""
    closure = propose_and_agree(child_case, worker, manager)
    ending_003_until_signing(child_case, closure, worker, manager)
    summary_sign(actor=worker, closure=closure, form_id=SUMMARY)
    with pytest.raises(InvalidInput, match="signed by everyone"):
        summary_share(
            actor=worker,
            closure=closure,
            shared_on=today(),
            recipients=[{"recipient": "Jo Example", "kind": "family", "method": "post"}],
        )
    assert not Sharing.objects.exists()


# --- R003-08 --------------------------------------------------------------------------------


@pytest.mark.usefixtures("pack_003")
def test_r003_08_step_down_after_assessment_ends_the_same_way_with_rc9(
    child_case: Case, worker: User, manager: User
) -> None:
    """R003-08: a step-down to early help after an assessment follows the same ending
    (final meeting, seven points, summary, checks, signatures, sharing) and closes the case
    with the national code RC9."""
    assessment = assessment_start(
        actor=worker, case=child_case, kind="single", started_on=days_ago(40)
    )
    assessment_complete(
        actor=worker, assessment=assessment, completed_on=days_ago(5), outcome="Early help"
    )
    closure = propose_and_agree(
        child_case, worker, manager, reason_id="early-help-after-assessment"
    )
    assert step_done(closure, "propose")
    ending_003_until_signing(child_case, closure, worker, manager, decision_kind="step_down")
    assert case_status(child_case) == CaseStatus.OPEN
    sign_and_share_003(closure, worker, manager)
    child_case.refresh_from_db()
    assert (reload(closure).state, child_case.status, child_case.closure_reason) == (
        ClosureState.CLOSED,
        CaseStatus.CLOSED,
        "RC9",
    )


@pytest.mark.usefixtures("pack_003")
def test_r003_08_step_down_after_a_plan_is_rc7_not_rc9(
    child_case: Case, worker: User, manager: User
) -> None:
    """R003-08: once there has been a child in need plan, "stepped down after assessment"
    (RC9) is refused against the reason, naming the right choice; "stepped down after a
    plan" is accepted and the case closes with RC7 after the same ending."""
    complete_plan = plan_start(actor=worker, case=child_case, kind="cin", started_on=days_ago(45))
    plan_end(actor=worker, plan=complete_plan, ended_on=days_ago(2), outcome="Met")
    assessment = assessment_start(
        actor=worker, case=child_case, kind="single", started_on=days_ago(50)
    )
    assessment_complete(
        actor=worker, assessment=assessment, completed_on=days_ago(46), outcome="CiN plan"
    )
    with pytest.raises(InvalidInput) as refused:
        closure_propose(actor=worker, case=child_case, reason_id="early-help-after-assessment")
    assert list(refused.value.by_field()) == ["reason_id"]
    assert "choose 'services ceased'" in refusal(refused.value)
    assert not Closure.objects.filter(case=child_case).exists()

    closure = propose_and_agree(child_case, worker, manager, reason_id="stepped-down-after-plan")
    ending_003_until_signing(child_case, closure, worker, manager, decision_kind="step_down")
    sign_and_share_003(closure, worker, manager)
    child_case.refresh_from_db()
    assert (child_case.status, child_case.closure_reason) == (CaseStatus.CLOSED, "RC7")
