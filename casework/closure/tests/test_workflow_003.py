"""A full closure under procedure 003 (Ending Interventions with Families), driven only
through the services, from proposal to a closed case with its summary signed and shared."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from casework.accounts.models import User
from casework.audit.models import AuditEvent
from casework.cases.models import Case
from casework.cases.services import decision_record, document_upload, meeting_record
from casework.closure.models import Closure, ClosureState, SignedDocument
from casework.closure.services import (
    GateBlocked,
    checklist_answer,
    checklist_complete,
    closure_decide,
    closure_propose,
    closure_step_complete,
    content_hash,
    form_save_draft,
    form_submit,
    summary_share,
    summary_sign,
)
from casework.core.errors import InvalidInput
from casework.tasks.models import Task

TODAY = timezone.localdate()


def test_r003_full_ending_closes_the_case_with_a_signed_shared_summary(
    bind: Callable[[str], None], child_case: Case, worker: User, manager: User
) -> None:
    """R003-01, R003-03, R003-04, R003-05, R003-06, R003-08, R000-01: the case closes only
    once every step of the bound pack is done, and then carries the national code."""
    bind("003-ending-interventions")
    closure = closure_propose(
        actor=worker, case=child_case, reason_id="no-longer-in-need", note="Plan outcomes achieved"
    )
    assert closure.state == ClosureState.PROPOSED
    closure = closure_decide(
        actor=manager, closure=closure, outcome="agreed", note="Discussed in supervision: agreed"
    )
    assert closure.state == ClosureState.AGREED

    with pytest.raises(InvalidInput, match="Record the meeting"):
        closure_step_complete(actor=worker, closure=closure, step_id="final-meeting")
    meeting_record(
        actor=worker,
        case=child_case,
        kind="final",
        held_on=TODAY,
        attendees=[{"name": "Parent", "role": "mother"}, {"name": "School", "role": "head"}],
        minutes="Reasons for closure explained; family feedback heard.",
    )
    closure_step_complete(actor=worker, closure=closure, step_id="final-meeting")

    form_save_draft(
        actor=worker,
        closure=closure,
        form_id="ending-evidence",
        answers={
            "family_can_meet_needs": "Routines are stable",
            "why_no_longer_required": "Goals met",
            "family_strategies": "Grandmother will help",
            "sustainability_confidence": "High",
            "decision_understood": True,
            "safety_plan_score": 8,
        },
    )
    form_submit(actor=worker, closure=closure, form_id="ending-evidence")

    draft = form_save_draft(
        actor=worker, closure=closure, form_id="case-closure-summary", answers={}
    )
    assert draft.prefilled["final_meeting_date"] == "final_meeting_date"
    assert draft.answers["final_meeting_date"] == TODAY.isoformat()
    form_save_draft(
        actor=worker,
        closure=closure,
        form_id="case-closure-summary",
        answers={
            "intervention_and_impact": "Parenting work helped",
            "safety_plan": "School will watch",
            "minutes_uploaded": True,
        },
    )
    form_submit(actor=worker, closure=closure, form_id="case-closure-summary")

    with pytest.raises(GateBlocked, match="decision to end involvement"):
        checklist_complete(actor=manager, closure=closure, checklist_id="ending-checks")
    decision_record(
        actor=manager, case=child_case, kind="advise_closure", decided_on=TODAY, decision="Close"
    )
    document_upload(
        actor=worker,
        case=child_case,
        kind="minutes",
        title="Final meeting",
        upload=SimpleUploadedFile("m.pdf", b"%PDF-1.4 minutes", content_type="application/pdf"),
    )
    for item in ("decision", "key-documents", "contact-details"):
        checklist_answer(
            actor=manager,
            closure=closure,
            checklist_id="ending-checks",
            item_id=item,
            answer="yes",
            note="Checked on the record",
        )
    checklist_complete(actor=manager, closure=closure, checklist_id="ending-checks")

    summary_sign(actor=worker, closure=closure, form_id="case-closure-summary")
    summary_sign(actor=manager, closure=closure, form_id="case-closure-summary")
    document = SignedDocument.objects.get(closure=closure)
    assert document.content_hash == content_hash(document.content)
    assert {s.role for s in document.signatures.all()} == {"social_worker", "team_manager"}

    summary_share(
        actor=worker,
        closure=closure,
        shared_on=TODAY,
        recipients=[
            {"recipient": "Parent", "kind": "family", "method": "in_person"},
            {"recipient": "Testford Primary", "kind": "professional", "method": "secure_email"},
        ],
    )
    closure = Closure.objects.get(pk=closure.pk)
    child_case.refresh_from_db()
    assert closure.state == ClosureState.CLOSED
    assert child_case.status == "closed"
    assert child_case.closure_reason == "RC7"
    assert AuditEvent.objects.filter(case=child_case, verb="case.closed").exists()
    archive = Task.objects.get(key=f"closure:{closure.pk}:task:archive")
    assert archive.role == "business_support"
    assert archive.due_on == child_case.responsible_team.authority.calendar().add_working_days(
        TODAY, 20
    )


def test_r000_01_no_closure_without_a_bound_procedure(child_case: Case, worker: User) -> None:
    """R000-01: there is no way to close without a planned closure under a procedure."""
    with pytest.raises(InvalidInput, match="No closure procedure"):
        closure_propose(actor=worker, case=child_case, reason_id="no-longer-in-need")


def test_r000_03_cp_child_cannot_be_proposed_without_seen_alone_home_visit(
    bind: Callable[[str], None], child_case: Case, worker: User
) -> None:
    """R000-03: the gate runs at proposal and says what is missing and where to record it."""
    from casework.cases.services import plan_end, plan_start, visit_record

    bind("000-closing-cases")
    plan = plan_start(
        actor=worker,
        case=child_case,
        kind="cp",
        category="NEG",
        started_on=TODAY - dt.timedelta(days=50),
    )
    plan_end(actor=worker, plan=plan, ended_on=TODAY - dt.timedelta(days=10))
    with pytest.raises(GateBlocked) as blocked:
        closure_propose(actor=worker, case=child_case, reason_id="no-longer-in-need")
    assert "seen alone" in str(blocked.value)
    assert "Record it in: Visits" in str(blocked.value)
    assert not Closure.objects.filter(case=child_case).exists()
    visit_record(
        actor=worker,
        case=child_case,
        visited_on=TODAY - dt.timedelta(days=2),
        subject_seen=True,
        seen_alone=True,
        home_visited=True,
    )
    closure = closure_propose(actor=worker, case=child_case, reason_id="no-longer-in-need")
    assert closure.state == ClosureState.PROPOSED


def test_x05_pdf_carries_exactly_the_signed_content_and_its_hash(
    bind: Callable[[str], None], child_case: Case, worker: User, manager: User
) -> None:
    """X-05: the PDF of a signed summary shows the signed headings and answers and the
    hash they were signed under; a document whose content was altered is never printed."""
    import io

    from pypdf import PdfReader

    from casework.closure.documents import TamperedDocument, signed_document_pdf

    bind("003-ending-interventions")
    closure = closure_propose(actor=worker, case=child_case, reason_id="no-longer-in-need")
    closure = closure_decide(actor=manager, closure=closure, outcome="agreed", note="Agreed")
    meeting_record(
        actor=worker,
        case=child_case,
        kind="final",
        held_on=TODAY,
        attendees=[{"name": "Parent", "role": "mother"}],
        minutes="Minutes",
    )
    form_save_draft(
        actor=worker,
        closure=closure,
        form_id="ending-evidence",
        answers={
            "family_can_meet_needs": "Routines are stable",
            "why_no_longer_required": "Goals met",
            "family_strategies": "Grandmother will help",
            "sustainability_confidence": "High",
            "decision_understood": True,
            "safety_plan_score": 8,
        },
    )
    form_submit(actor=worker, closure=closure, form_id="ending-evidence")
    form_save_draft(
        actor=worker,
        closure=closure,
        form_id="case-closure-summary",
        answers={
            "reason_for_intervention": "Neglect concerns from school",
            "intervention_and_impact": "Parenting programme – routines now stable",
            "safety_plan": "Grandmother collects from school; call the front door if worried",
            "minutes_uploaded": True,
        },
    )
    form_submit(actor=worker, closure=closure, form_id="case-closure-summary")
    summary_sign(actor=worker, closure=closure, form_id="case-closure-summary")
    document = SignedDocument.objects.get(closure=closure)

    pdf = signed_document_pdf(document)
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    flat = " ".join(text.split())
    assert "Case closure summary" in flat
    assert "Grandmother collects from school" in flat
    assert "Parenting programme – routines now stable" in flat
    assert document.content_hash in flat.replace(" ", "")
    assert worker.display_name in flat

    document.content["headings"][0]["answer"] = "Altered after signing"
    with pytest.raises(TamperedDocument):
        signed_document_pdf(document)
