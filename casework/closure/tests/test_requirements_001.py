"""Procedure 001, "Completing a Closure Record" (children): R001-01 to R001-08, driven only
through the closure workflow services under the bound pack 001-closure-record.

The 10 working day assessment period is tested at its boundary by travelling in time from
the day the case opened, so the result does not depend on when the suite runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import time_machine

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
    SignedDocument,
    StepRecord,
)
from casework.closure.services import (
    GateBlocked,
    checklist_answer,
    closure_authorise,
    closure_propose,
    closure_step_complete,
    form_save_draft,
    form_submit,
)
from casework.closure.tests.journeys import (
    answer_checklist,
    case_status,
    complete_assessment,
    days_ago,
    make_child,
    open_child_case,
    propose_and_agree,
    refusal,
    reload,
    today,
    working_days_after,
)
from casework.core.errors import InvalidInput, NotPermitted
from casework.organisation.models import Role, Team, TeamFunction
from casework.people.services import person_move_in, professional_contact_add
from casework.tasks.models import Task, TaskStatus
from casework.tasks.services import task_complete

PACK = "001-closure-record"

CLOSURE_RECORD = {
    "progress": "Attendance restored to 97%; mother attends parents' evenings",
    "ending_discussed_with_parent": True,
    "ending_discussed_with_child": "na",
    "parent_given_plan": True,
}


@pytest.fixture
def pack_001(bind: Callable[[str], None]) -> None:
    bind(PACK)


@pytest.fixture
def support(make_staff: Callable[..., User], make_team: Callable[..., Team]) -> User:
    team = make_team("cbs", TeamFunction.BUSINESS_SUPPORT, holds_cases=False)
    return make_staff("support", team, Role.BUSINESS_SUPPORT)


@contextmanager
def on_day(day: dt.date) -> Iterator[None]:
    with time_machine.travel(
        dt.datetime(day.year, day.month, day.day, 10, tzinfo=dt.UTC), tick=False
    ):
        yield


def child_in_need_history(case: Case, worker: User) -> None:
    """A Child in Need meeting that made a Child's Plan, now ended, and a case note."""
    plan = plan_start(actor=worker, case=case, kind="cin", started_on=days_ago(40))
    meeting_record(
        actor=worker,
        case=case,
        kind="cin_meeting",
        held_on=days_ago(40),
        attendees=[{"name": "Jo Example", "role": "mother"}],
        minutes="Child's Plan agreed",
    )
    plan_end(actor=worker, plan=plan, ended_on=days_ago(1), outcome="Outcomes met")
    note_add(actor=worker, case=case, title="Ending", body="Ending discussed", occurred_on=today())


def advise_closure(case: Case, manager: User, *, on: dt.date | None = None) -> None:
    decision_record(
        actor=manager,
        case=case,
        kind="advise_closure",
        decided_on=on or today(),
        decision="Close the case: the plan is achieved",
    )


def closure_record_done(case: Case, worker: User, manager: User) -> Closure:
    """Agreed, the Manager's Decision advising closure recorded, the closure record
    submitted and the remedial work done: ready for the Senior Fieldwork Manager."""
    closure = propose_and_agree(case, worker, manager)
    advise_closure(case, manager)
    form_save_draft(actor=worker, closure=closure, form_id="closure-record", answers=CLOSURE_RECORD)
    form_submit(actor=worker, closure=closure, form_id="closure-record")
    closure_step_complete(actor=worker, closure=closure, step_id="remedial-work")
    return reload(closure)


# --- R001-01 --------------------------------------------------------------------------------


@pytest.mark.usefixtures("pack_001")
def test_r001_01_inside_the_assessment_period_the_case_closes_with_the_write_up(
    worker: User, manager: User, senior: User, team_ai: Team
) -> None:
    """R001-01: on the 10th working day after the case opened it is still inside the
    assessment period: it closes with the assessment write-up, and the closure record is
    not part of the closure (no Child in Need meeting is needed either)."""
    opened = today()
    child = make_child(worker)
    person_move_in(
        actor=worker,
        person=child,
        line_1="1 New Road",
        town="Testford",
        postcode="TE1 1NR",
        started_on=days_ago(100),
    )
    case = open_child_case(worker, team_ai, child, received_on=opened)
    with on_day(working_days_after(case, opened, 10)):
        complete_assessment(case, worker, "single", started=0)
        note_add(actor=worker, case=case, title="Outcome", body="NFA", occurred_on=today())
        closure = propose_and_agree(case, worker, manager, reason_id="nfa-after-assessment")
        with pytest.raises(InvalidInput, match="That form is not part of this closure"):
            form_save_draft(
                actor=worker, closure=closure, form_id="closure-record", answers=CLOSURE_RECORD
            )
        with pytest.raises(InvalidInput, match="Not done yet: Write up the assessment and close"):
            closure_authorise(actor=senior, closure=closure, compliance_review="In place")

        form_save_draft(
            actor=worker,
            closure=closure,
            form_id="assessment-write-up",
            answers={"conclusion": "No further action: needs met by universal services"},
        )
        form_submit(actor=worker, closure=closure, form_id="assessment-write-up")
        closure_step_complete(actor=worker, closure=closure, step_id="remedial-work")
        answer_checklist(closure, "compliance-review", senior)
        closure = closure_authorise(actor=senior, closure=closure, compliance_review="In place")

        assert closure.state == ClosureState.CLOSED
        case.refresh_from_db()
        assert (case.status, case.closure_reason) == (CaseStatus.CLOSED, "RC8")
        assert set(
            SignedDocument.objects.filter(closure=closure).values_list("form_id", flat=True)
        ) == {"assessment-write-up", "checklist:compliance-review"}


@pytest.mark.usefixtures("pack_001")
def test_r001_01_after_the_assessment_period_a_closure_record_is_needed(
    worker: User, manager: User, senior: User, team_ai: Team
) -> None:
    """R001-01: from the 11th working day the case needs a closure record: the assessment
    write-up is no longer offered, and authorisation is refused until the record is done."""
    opened = today()
    case = open_child_case(worker, team_ai, make_child(worker), received_on=opened)
    with on_day(working_days_after(case, opened, 11)):
        closure = propose_and_agree(case, worker, manager)
        with pytest.raises(InvalidInput, match="That form is not part of this closure"):
            form_save_draft(
                actor=worker, closure=closure, form_id="assessment-write-up", answers={}
            )
        with pytest.raises(InvalidInput, match="Not done yet: Complete the closure record"):
            closure_authorise(actor=senior, closure=closure, compliance_review="In place")
        advise_closure(case, manager)
        form_save_draft(
            actor=worker, closure=closure, form_id="closure-record", answers=CLOSURE_RECORD
        )
        form_submit(actor=worker, closure=closure, form_id="closure-record")
        assert StepRecord.objects.filter(closure=closure, step_id="closure-record").exists()


# --- R001-02 --------------------------------------------------------------------------------


@pytest.mark.usefixtures("pack_001")
def test_r001_02_a_long_open_case_needs_a_cin_meeting_with_a_plan_and_sfm_endorsement(
    child_case: Case, worker: User, manager: User, senior: User
) -> None:
    """R001-02: a case open more than 10 working days cannot close without a Child in Need
    meeting that produced a Child's Plan (a meeting alone is not enough), and the closure is
    endorsed by the Senior Fieldwork Manager, not the team manager."""
    note_add(actor=worker, case=child_case, title="Ending", body="Ending", occurred_on=today())
    closure = closure_record_done(child_case, worker, manager)
    answer_checklist(closure, "compliance-review", senior)
    with pytest.raises(GateBlocked) as blocked:
        closure_authorise(actor=senior, closure=closure, compliance_review="In place")
    assert "a Child in Need meeting must be held and result in a Child's Plan" in refusal(
        blocked.value
    )
    assert "Record it in: Meetings and Plans." in refusal(blocked.value)

    meeting_record(
        actor=worker,
        case=child_case,
        kind="cin_meeting",
        held_on=days_ago(30),
        attendees=[{"name": "Jo Example", "role": "mother"}],
        minutes="Agreed to close straight after this meeting",
    )
    with pytest.raises(GateBlocked, match="result in a Child's Plan"):
        closure_authorise(actor=senior, closure=closure, compliance_review="In place")
    plan = plan_start(actor=worker, case=child_case, kind="cin", started_on=days_ago(30))
    plan_end(actor=worker, plan=plan, ended_on=days_ago(1), outcome="Met")

    with pytest.raises(NotPermitted, match="Only the senior fieldwork manager can authorise"):
        closure_authorise(actor=manager, closure=closure, compliance_review="In place")
    assert reload(closure).state == ClosureState.AGREED
    closure = closure_authorise(actor=senior, closure=closure, compliance_review="In place")
    assert (closure.state, closure.authorised_by) == (ClosureState.CLOSED, senior)
    assert case_status(child_case) == CaseStatus.CLOSED


# --- R001-03 --------------------------------------------------------------------------------


@pytest.mark.usefixtures("pack_001")
def test_r001_03_closure_record_headings_prefilled_and_required(
    child_case: Case, worker: User, manager: User, senior: User
) -> None:
    """R001-03: the record pre-fills the current address, the reasons for involvement since
    the referral, the professionals still supporting the child and the lead professional;
    the yes/no headings must be answered (the child's may be "not age appropriate"); the
    address may be left as it is. The authorised record carries every heading."""
    professional_contact_add(
        actor=worker,
        person=child_case.subject,
        role="early_help",
        organisation="Testford Family Hub",
        started_on=days_ago(30),
        name="Robin Lee",
        designation="Family support worker",
        is_lead_professional=True,
    )
    child_in_need_history(child_case, worker)
    closure = propose_and_agree(child_case, worker, manager)
    advise_closure(child_case, manager)

    draft = form_save_draft(actor=worker, closure=closure, form_id="closure-record", answers={})
    assert "3 Example Row" in draft.answers["current_address"]
    assert draft.answers["reasons_for_involvement"]
    assert "School raised concerns about attendance" in draft.answers["reasons_for_involvement"]
    assert "Testford Primary" in draft.answers["continuing_professionals"]
    assert draft.answers["lead_professional"] == (
        "Robin Lee, Family support worker, Testford Family Hub"
    )
    with pytest.raises(InvalidInput) as missing:
        form_submit(actor=worker, closure=closure, form_id="closure-record")
    assert set(missing.value.by_field()) == {
        "progress",
        "ending_discussed_with_parent",
        "ending_discussed_with_child",
        "parent_given_plan",
    }

    form_save_draft(actor=worker, closure=closure, form_id="closure-record", answers=CLOSURE_RECORD)
    form_submit(actor=worker, closure=closure, form_id="closure-record")
    closure_step_complete(actor=worker, closure=closure, step_id="remedial-work")
    answer_checklist(closure, "compliance-review", senior)
    closure_authorise(actor=senior, closure=closure, compliance_review="In place")
    record = SignedDocument.objects.get(closure=closure, form_id="closure-record")
    headings = {h["id"]: h["answer"] for h in record.content["headings"]}
    assert list(headings) == [
        "current_address",
        "reasons_for_involvement",
        "progress",
        "ending_discussed_with_parent",
        "ending_discussed_with_child",
        "continuing_professionals",
        "lead_professional",
        "parent_given_plan",
    ]
    assert headings["ending_discussed_with_child"] == "na"


@pytest.mark.usefixtures("pack_001")
def test_r001_03_lead_professional_heading_only_when_there_is_one(
    child_case: Case, worker: User, manager: User, senior: User
) -> None:
    """R001-03: with no lead professional recorded the heading is not part of the record
    that is authorised."""
    child_in_need_history(child_case, worker)
    closure = closure_record_done(child_case, worker, manager)
    answer_checklist(closure, "compliance-review", senior)
    closure_authorise(actor=senior, closure=closure, compliance_review="In place")
    record = SignedDocument.objects.get(closure=closure, form_id="closure-record")
    assert "lead_professional" not in {h["id"] for h in record.content["headings"]}


# --- R001-04 --------------------------------------------------------------------------------


@pytest.mark.usefixtures("pack_001")
def test_r001_04_closure_record_waits_for_the_decision_and_is_due_in_15_working_days(
    child_case: Case, worker: User, manager: User
) -> None:
    """R001-04: the closure record cannot be submitted until a Manager's Decision advising
    closure is on the case (the refusal says where to record it); the worker's task to
    complete it is due 15 working days after the decision."""
    closure = propose_and_agree(child_case, worker, manager)
    form_save_draft(actor=worker, closure=closure, form_id="closure-record", answers=CLOSURE_RECORD)
    with pytest.raises(GateBlocked) as blocked:
        form_submit(actor=worker, closure=closure, form_id="closure-record")
    assert "Ask the team manager to record that decision first" in refusal(blocked.value)
    assert "Record it in: Manager's decisions." in refusal(blocked.value)

    advise_closure(child_case, manager)
    task = Task.objects.get(key=f"closure:{closure.pk}:step:closure-record")
    assert (task.role, task.assignee, task.status) == (Role.SOCIAL_WORKER, worker, TaskStatus.OPEN)
    assert task.due_on == working_days_after(child_case, today(), 15)
    form_submit(actor=worker, closure=closure, form_id="closure-record")
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE


@pytest.mark.usefixtures("pack_001")
def test_r001_04_the_15_working_days_run_from_the_decision_date(
    child_case: Case, worker: User, manager: User
) -> None:
    """R001-04: closure was advised in supervision a week ago and recorded as a Manager's
    Decision dated that day; the closure record is due 15 working days after that day."""
    advised_on = days_ago(7)
    advise_closure(child_case, manager, on=advised_on)
    closure = propose_and_agree(child_case, worker, manager)
    task = Task.objects.get(key=f"closure:{closure.pk}:step:closure-record")
    assert task.due_on == working_days_after(child_case, advised_on, 15)


# --- R001-05 --------------------------------------------------------------------------------


@pytest.mark.usefixtures("pack_001")
def test_r001_05_remedial_work_is_listed_and_done_before_authorisation(
    child_case: Case, worker: User, manager: User, senior: User
) -> None:
    """R001-05: with an assessment still in progress and no case notes, the remedial work
    step is refused with what to put right and where; authorisation is refused while it is
    outstanding; once the record is put right the step is done."""
    child_in_need_history(child_case, worker)
    closure = propose_and_agree(child_case, worker, manager)
    advise_closure(child_case, manager)
    form_save_draft(actor=worker, closure=closure, form_id="closure-record", answers=CLOSURE_RECORD)
    form_submit(actor=worker, closure=closure, form_id="closure-record")
    assessment = assessment_start(
        actor=worker, case=child_case, kind="single", started_on=days_ago(3)
    )
    with pytest.raises(GateBlocked) as blocked:
        closure_step_complete(actor=worker, closure=closure, step_id="remedial-work")
    assert "Remedial work is outstanding" in refusal(blocked.value)
    assert "Record it in: Assessments, Case notes and Person details." in refusal(blocked.value)
    answer_checklist(closure, "compliance-review", senior)
    with pytest.raises(InvalidInput, match="Not done yet: Complete outstanding remedial work"):
        closure_authorise(actor=senior, closure=closure, compliance_review="In place")
    assert not StepRecord.objects.filter(closure=closure, step_id="remedial-work").exists()

    assessment_complete(actor=worker, assessment=assessment, completed_on=today(), outcome="Done")
    closure_step_complete(actor=worker, closure=closure, step_id="remedial-work")
    closure = closure_authorise(actor=senior, closure=closure, compliance_review="In place")
    assert closure.state == ClosureState.CLOSED


# --- R001-06 --------------------------------------------------------------------------------


@pytest.mark.usefixtures("pack_001")
def test_r001_06_the_senior_fieldwork_manager_authorises_with_a_compliance_review(
    child_case: Case, worker: User, manager: User, senior: User
) -> None:
    """R001-06: only the Senior Fieldwork Manager answers the Compliance Review and
    authorises; every item is answered (automatic checks stored, a gap recorded with a
    note); authorisation without the review's conclusion is refused and writes nothing;
    the conclusion is kept on the closure and in the authorised document."""
    child_in_need_history(child_case, worker)
    closure = closure_record_done(child_case, worker, manager)
    with pytest.raises(NotPermitted, match="senior fieldwork manager"):
        checklist_answer(
            actor=manager,
            closure=closure,
            checklist_id="compliance-review",
            item_id="gaps",
            answer="no",
            note="None",
        )
    checklist_answer(
        actor=senior,
        closure=closure,
        checklist_id="compliance-review",
        item_id="visits-recorded",
        answer="no",
        note="No visit recorded since the plan review: gap remains",
    )
    visits = ChecklistAnswer.objects.get(closure=closure, item_id="visits-recorded")
    assert (visits.automatic_result, visits.overridden, visits.answered_by) == (
        False,
        False,
        senior,
    )
    with pytest.raises(InvalidInput, match="Answer item assessments-complete"):
        closure_authorise(actor=senior, closure=closure, compliance_review="Visit gap remains")

    answer_checklist(closure, "compliance-review", senior, skip={"visits-recorded"})
    with pytest.raises(NotPermitted, match="Only the senior fieldwork manager"):
        closure_authorise(actor=manager, closure=closure, compliance_review="In place")
    with pytest.raises(InvalidInput) as no_review:
        closure_authorise(actor=senior, closure=closure, compliance_review="  ")
    assert set(no_review.value.by_field()) == {"compliance_review"}
    closure = reload(closure)
    assert (closure.state, closure.authorised_by) == (ClosureState.AGREED, None)

    closure = closure_authorise(
        actor=senior, closure=closure, compliance_review="Recording in place except the visit gap"
    )
    assert (closure.authorised_by, closure.authorised_on, closure.compliance_review) == (
        senior,
        today(),
        "Recording in place except the visit gap",
    )
    review = SignedDocument.objects.get(closure=closure, form_id="checklist:compliance-review")
    answers = {h["id"]: h["answer"] for h in review.content["headings"]}
    assert answers["visits-recorded"].startswith("No. No visit recorded since the plan review")
    assert review.signatures.get().signer == senior


# --- R001-07 --------------------------------------------------------------------------------


@pytest.mark.usefixtures("pack_001")
def test_r001_07_authorisation_creates_business_support_tasks(
    child_case: Case, worker: User, manager: User, senior: User, support: User
) -> None:
    """R001-07: no Business Support task exists before authorisation; authorising creates
    "update closure details" and "archive the file", each for Business Support, due 5
    working days later, and Business Support (not the worker) completes them."""
    child_in_need_history(child_case, worker)
    closure = closure_record_done(child_case, worker, manager)
    answer_checklist(closure, "compliance-review", senior)
    assert not Task.objects.filter(case=child_case, role=Role.BUSINESS_SUPPORT).exists()

    closure_authorise(actor=senior, closure=closure, compliance_review="In place")
    tasks = {
        t.key.rsplit(":", 1)[1]: t
        for t in Task.objects.filter(case=child_case, role=Role.BUSINESS_SUPPORT)
    }
    assert set(tasks) == {"update-closure-details", "archive"}
    for task in tasks.values():
        assert task.key.startswith(f"closure:{closure.pk}:task:")
        assert (task.requirement, task.status, task.team) == (
            "R001-07",
            TaskStatus.OPEN,
            child_case.responsible_team,
        )
        assert task.due_on == working_days_after(child_case, today(), 5)
        with pytest.raises(NotPermitted):
            task_complete(actor=worker, task=task)
        assert task_complete(actor=support, task=task).status == TaskStatus.DONE


# --- R001-08 --------------------------------------------------------------------------------


@pytest.mark.usefixtures("pack_001")
def test_r001_08_a_move_to_another_area_follows_the_transfer_process(
    child_case: Case, worker: User, manager: User
) -> None:
    """R001-08: "moved to another local authority" is refused at proposal until the
    manager's transfer decision is recorded, and says so; nothing is written until then."""
    with pytest.raises(GateBlocked) as blocked:
        closure_propose(actor=worker, case=child_case, reason_id="transferred-to-another-la")
    assert "follows the transfer process, not closure" in refusal(blocked.value)
    assert "Record it in: Manager's decisions." in refusal(blocked.value)
    assert not Closure.objects.filter(case=child_case).exists()

    decision_record(
        actor=manager,
        case=child_case,
        kind="transfer",
        decided_on=today(),
        decision="Family moved to Another Borough: refer to their front door",
    )
    closure = closure_propose(actor=worker, case=child_case, reason_id="transferred-to-another-la")
    assert (closure.state, closure.national_code) == (ClosureState.PROPOSED, "RC5")
