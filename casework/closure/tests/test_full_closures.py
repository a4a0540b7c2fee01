"""A full closure under each of the five procedures, from proposal to archived, driven only
through the services; each ends with a PDF whose hash matches the content that was signed
(or, where the procedure has no signatures, authorised)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

import pytest
from django.utils import timezone
from pypdf import PdfReader

from casework.accounts.models import User
from casework.cases.models import Case
from casework.cases.services import (
    case_open,
    consent_record,
    decision_record,
    meeting_record,
    note_add,
    plan_end,
    plan_start,
    supervision_record,
    visit_record,
)
from casework.closure.documents import signed_document_pdf
from casework.closure.models import Closure, ClosureState, SignedDocument
from casework.closure.services import (
    checklist_answer,
    checklist_complete,
    closure_authorise,
    closure_decide,
    closure_propose,
    closure_step_complete,
    content_hash,
    form_save_draft,
    form_submit,
    summary_sign,
)
from casework.organisation.models import Role, Team, TeamFunction
from casework.people.services import person_create, person_move_in
from casework.policy.loader import load_pack
from casework.tasks.models import Task, TaskStatus
from casework.tasks.services import task_complete

TODAY = timezone.localdate()


def _pdf_text(document: SignedDocument) -> str:
    pdf = signed_document_pdf(document)
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _assert_documents_match_what_was_signed(closure: Closure) -> None:
    documents = list(SignedDocument.objects.filter(closure=closure))
    assert documents, "a closed case has its signed or authorised summary on record"
    for document in documents:
        assert document.content_hash == content_hash(document.content)
        assert document.signatures.filter(content_hash=document.content_hash).exists()
        assert document.content_hash in "".join(_pdf_text(document).split())


def _answer_checklist(closure: Closure, checklist_id: str, manager: User) -> None:
    pack = load_pack(closure.pack_id)
    for section in pack.spec.checklists[checklist_id].sections:
        for item in section.items:
            checklist_answer(
                actor=manager,
                closure=closure,
                checklist_id=checklist_id,
                item_id=item.id,
                answer="yes",
                note="Seen on the record",
                evidence_date=TODAY,
            )


def _archive(case: Case, support: User) -> None:
    """Business support archives: the pack's post-closure task is due and gets done."""
    tasks = list(Task.objects.filter(case=case, role=Role.BUSINESS_SUPPORT, status=TaskStatus.OPEN))
    assert tasks, "closing schedules business support's work"
    for task in tasks:
        assert task.due_on is not None
        assert task.due_on >= TODAY
        task_complete(actor=support, task=task)


@pytest.fixture
def support(make_staff: Callable[..., User], make_team: Callable[..., Team]) -> User:
    return make_staff(
        "support",
        make_team("cbs", TeamFunction.BUSINESS_SUPPORT, holds_cases=False),
        Role.BUSINESS_SUPPORT,
    )


def test_r000_full_closure_to_archive_with_both_signatures(
    bind: Callable[[str], None], child_case: Case, worker: User, manager: User, support: User
) -> None:
    """R000-01, R000-06, R000-08, R000-09, R000-10, X-05 under procedure 000."""
    from casework.closure.tests.test_race_and_atomicity import _ready_to_authorise

    bind("000-closing-cases")
    closure = _ready_to_authorise(child_case, worker, manager)
    closure = closure_authorise(actor=manager, closure=closure)
    assert closure.state == ClosureState.AUTHORISED
    summary_sign(actor=worker, closure=closure, form_id="closing-summary")
    summary_sign(actor=manager, closure=closure, form_id="closing-summary")
    closure = Closure.objects.get(pk=closure.pk)
    child_case.refresh_from_db()
    assert closure.state == ClosureState.CLOSED
    assert (child_case.status, child_case.closure_reason) == ("closed", "RC7")
    _assert_documents_match_what_was_signed(closure)
    _archive(child_case, support)


def test_r001_full_closure_with_compliance_review_and_business_support_tasks(
    bind: Callable[[str], None],
    child_case: Case,
    worker: User,
    manager: User,
    senior: User,
    support: User,
) -> None:
    """R001-01..R001-07, X-05 under procedure 001: a case open beyond the assessment
    period closes with a closure record authorised by the Senior Fieldwork Manager after a
    Compliance Review; Business Support's tasks follow."""
    bind("001-closure-record")
    plan = plan_start(
        actor=worker, case=child_case, kind="cin", started_on=TODAY - dt.timedelta(days=40)
    )
    meeting_record(
        actor=worker,
        case=child_case,
        kind="cin_meeting",
        held_on=TODAY - dt.timedelta(days=40),
        attendees=[{"name": "Parent", "role": "mother"}],
        minutes="Child's Plan",
    )
    plan_end(actor=worker, plan=plan, ended_on=TODAY - dt.timedelta(days=1), outcome="Met")
    note_add(
        actor=worker, case=child_case, title="Ending", body="Discussed ending", occurred_on=TODAY
    )
    closure = closure_propose(actor=worker, case=child_case, reason_id="no-longer-in-need")
    closure = closure_decide(
        actor=manager, closure=closure, outcome="agreed", note="Close: plan achieved"
    )
    decision_record(
        actor=manager,
        case=child_case,
        kind="advise_closure",
        decided_on=TODAY,
        decision="Close the case",
    )
    task = Task.objects.get(key=f"closure:{closure.pk}:step:closure-record")
    assert task.due_on == child_case.responsible_team.authority.calendar().add_working_days(
        TODAY, 15
    )
    form_save_draft(
        actor=worker,
        closure=closure,
        form_id="closure-record",
        answers={
            "progress": "Attendance restored",
            "ending_discussed_with_parent": True,
            "ending_discussed_with_child": "na",
            "parent_given_plan": True,
        },
    )
    form_submit(actor=worker, closure=closure, form_id="closure-record")
    closure_step_complete(actor=worker, closure=closure, step_id="remedial-work")
    _answer_checklist(closure, "compliance-review", senior)
    closure = closure_authorise(
        actor=senior, closure=closure, compliance_review="Recording in place; no gaps"
    )
    child_case.refresh_from_db()
    assert closure.state == ClosureState.CLOSED
    assert child_case.status == "closed"
    kinds = set(SignedDocument.objects.filter(closure=closure).values_list("form_id", flat=True))
    assert kinds == {"closure-record", "checklist:compliance-review"}
    _assert_documents_match_what_was_signed(closure)
    _archive(child_case, support)


def test_r002_full_adult_closure_with_the_case_audit_tool(
    bind: Callable[[str, str], None],
    make_team: Callable[..., Team],
    make_staff: Callable[..., User],
) -> None:
    """R002-03..R002-16, X-05 under procedure 002: the Case Audit Tool is answered item by
    item with notes and dates, and the authorised audit is produced as a document."""
    team = make_team("north", TeamFunction.ADULTS_LOCALITY, service_area="adults")
    adult_worker = make_staff("adultworker", team)
    adult_manager = make_staff("adultmanager", team, Role.TEAM_MANAGER)
    bind("002-adults-closure", "adults")
    client = person_create(
        actor=adult_worker,
        given_name="Pat",
        family_name="Example",
        date_of_birth=dt.date(1950, 5, 1),
        ethnicity="WBRI",
        ethnicity_asked=True,
    )
    person_move_in(
        actor=adult_worker,
        person=client,
        line_1="9 Care Close",
        town="Testford",
        postcode="TE9 9CC",
        started_on=dt.date(2000, 1, 1),
    )
    case = case_open(
        actor=adult_worker,
        subject=client,
        team=team,
        received_on=TODAY - dt.timedelta(days=90),
        source="3A",
        reason="Needs support at home",
        allocated_worker=adult_worker,
    )
    visit_record(
        actor=adult_worker,
        case=case,
        visited_on=TODAY - dt.timedelta(days=3),
        subject_seen=True,
        face_to_face=True,
    )
    supervision_record(
        actor=adult_manager,
        case=case,
        held_on=TODAY - dt.timedelta(days=2),
        discussion="Ready to close",
    )
    consent_record(
        actor=adult_worker,
        case=case,
        kind="share_information",
        given_by="Pat",
        given_on=TODAY - dt.timedelta(days=80),
        signed=True,
    )
    closure = closure_propose(actor=adult_worker, case=case, reason_id="goals-achieved")
    note_add(
        actor=adult_manager,
        case=case,
        kind="closure_discussion",
        title="Closure",
        body="Discussed: goals achieved",
        occurred_on=TODAY,
    )
    closure = closure_decide(actor=adult_manager, closure=closure, outcome="agreed", note="Agreed")
    _answer_checklist(closure, "case-audit-tool", adult_manager)
    checklist_complete(actor=adult_manager, closure=closure, checklist_id="case-audit-tool")
    closure = closure_authorise(actor=adult_manager, closure=closure)
    case.refresh_from_db()
    assert closure.state == ClosureState.CLOSED
    assert case.closure_reason == "NFA - Support ended - other reason"
    _assert_documents_match_what_was_signed(closure)
    adult_support = make_staff(
        "adultsupport",
        make_team("abs", TeamFunction.BUSINESS_SUPPORT, service_area="adults", holds_cases=False),
        Role.BUSINESS_SUPPORT,
    )
    _archive(case, adult_support)


def test_r004_full_closure_with_business_support_audit(
    bind: Callable[[str], None], child_case: Case, worker: User, manager: User, support: User
) -> None:
    """R004-10, R004-11, X-05 under procedure 004: a family moving away closes with RC5 and
    a signed closing summary; Business Support's closure audit is scheduled and done."""
    bind("004-transfer-and-closure")
    closure = closure_propose(actor=worker, case=child_case, reason_id="moved-to-another-authority")
    closure = closure_decide(actor=manager, closure=closure, outcome="agreed", note="Moving")
    form_save_draft(
        actor=worker,
        closure=closure,
        form_id="closing-summary",
        answers={
            "reason_for_closure": "Family moved to another authority",
            "achieved": "Needs assessed and shared",
            "new_authority": "Another Borough Council",
        },
    )
    form_submit(actor=worker, closure=closure, form_id="closing-summary")
    summary_sign(actor=worker, closure=closure, form_id="closing-summary")
    summary_sign(actor=manager, closure=closure, form_id="closing-summary")
    child_case.refresh_from_db()
    assert child_case.closure_reason == "RC5"
    _assert_documents_match_what_was_signed(Closure.objects.get(pk=closure.pk))
    _archive(child_case, support)
