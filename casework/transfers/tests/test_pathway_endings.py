"""What follows a pathway's decision (R004-07, R004-08, R004-10, R003-08): a step-down or a move
away that ends the case closes it through the closure workflow with the pathway's national
code; a looked-after child placed in another area goes on the duty fostering register with a
notification letter; the pack's follow-up tasks are due in working days from the move."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone
from pypdf import PdfReader

from casework.accounts.models import User
from casework.cases.models import Case
from casework.cases.services import case_open, decision_record, plan_start
from casework.closure.models import Closure, ClosureState
from casework.core.errors import InvalidInput
from casework.organisation.models import Role, Team, TeamFunction
from casework.people.services import person_create
from casework.policy.loader import BUILT_IN_PACKS, PackError, PackRegistry
from casework.tasks.models import Notification, Task
from casework.transfers.documents import placement_letter_pdf
from casework.transfers.models import OutOfAreaPlacement
from casework.transfers.pathways import pathway_close_case, pathway_decide, pathway_request
from casework.transfers.tests.test_pathways import RFEH, _assessed_case

PACK = "004-transfer-and-closure"


@pytest.fixture
def staff(
    bind_004: Callable[..., None],
    make_team: Callable[..., Team],
    make_staff: Callable[..., User],
) -> dict[str, User]:
    bind_004()
    ai = make_team("ai", TeamFunction.ASSESSMENT_INTERVENTION)
    eh = make_team("eh", TeamFunction.EARLY_HELP)
    lac = make_team("lac", TeamFunction.LOOKED_AFTER)
    make_team("irt", TeamFunction.FRONT_DOOR)
    return {
        "ai_worker": make_staff("aiworker", ai),
        "ai_manager": make_staff("aimanager", ai, Role.TEAM_MANAGER),
        "duty": make_staff("ehduty", eh, Role.EARLY_HELP_DUTY_MANAGER),
        "eh_worker": make_staff("ehworker", eh),
        "eh_manager": make_staff("ehmanager", eh, Role.TEAM_MANAGER),
        "lac_worker": make_staff("lacworker", lac),
        "lac_manager": make_staff("lacmanager", lac, Role.TEAM_MANAGER),
        "lac_admin": make_staff("lacadmin", lac, Role.BUSINESS_SUPPORT),
    }


def _child(worker: User, team: Team, name: str = "Sam") -> Case:
    child = person_create(
        actor=worker, given_name=name, family_name="Example", date_of_birth=dt.date(2015, 5, 5)
    )
    return case_open(
        actor=worker,
        subject=child,
        team=team,
        received_on=timezone.localdate() - dt.timedelta(days=90),
        source="6",
        reason="Concern",
        allocated_worker=worker,
    )


def test_r004_08_r003_08_an_accepted_step_down_closes_through_the_closure_workflow_with_rc9(
    staff: dict[str, User],
) -> None:
    """R004-08, R003-08: the duty manager accepts the step-down; the holding worker is given a
    task to close the case, and closing proposes a closure under the closure procedure with
    RC9 and the decision quoted. A threshold dispute does not close anything."""
    worker, duty = staff["ai_worker"], staff["duty"]
    team = worker.memberships.get().team
    case = _assessed_case(worker, team)
    with time_machine.travel(dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC), tick=False):
        request = pathway_request(
            actor=worker,
            case=case,
            pathway_id="step-down-full-assessment",
            answers=RFEH,
            meeting_on=dt.date(2026, 12, 10),
        )
        with pytest.raises(InvalidInput, match="not been decided in a way that closes"):
            pathway_close_case(actor=worker, request=request)
        decided = pathway_decide(
            actor=duty, request=request, outcome="accepted", rationale="Family agreed TAF"
        )
    close_task = Task.objects.get(key=f"pathway:{decided.pk}:close")
    assert close_task.role == Role.SOCIAL_WORKER
    assert close_task.team == case.responsible_team
    assert "(RC9)" in close_task.title

    closure = pathway_close_case(actor=worker, request=decided)
    assert closure.state == ClosureState.PROPOSED
    assert (closure.national_code, closure.reason_id) == ("RC9", "early-help-after-assessment")
    assert "Family agreed TAF" in closure.proposal_note
    assert Task.objects.get(pk=close_task.pk).status == "done"


def test_r004_08_a_threshold_dispute_leaves_the_case_open(staff: dict[str, User]) -> None:
    worker, duty = staff["ai_worker"], staff["duty"]
    case = _assessed_case(worker, worker.memberships.get().team)
    with time_machine.travel(dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC), tick=False):
        request = pathway_request(
            actor=worker,
            case=case,
            pathway_id="step-down-full-assessment",
            answers=RFEH,
            meeting_on=dt.date(2026, 12, 10),
        )
        decided = pathway_decide(
            actor=duty, request=request, outcome="threshold-dispute", rationale="Needs CiN"
        )
    assert not Task.objects.filter(key=f"pathway:{decided.pk}:close").exists()
    with pytest.raises(InvalidInput):
        pathway_close_case(actor=worker, request=decided)
    assert not Closure.objects.filter(case=case).exists()


@time_machine.travel(dt.datetime(2026, 4, 2, 10, tzinfo=dt.UTC), tick=False)
def test_r004_10_a_family_moving_away_is_referred_then_closed_with_rc5(
    staff: dict[str, User],
) -> None:
    """R004-10: a CiN family moving permanently: the worker is asked to refer to the new
    authority within 5 working days of the move (over Easter 2026: moved Thursday 2 April,
    due Monday 13 April), the manager records the referral, and the case closes with RC5."""
    worker, manager = staff["ai_worker"], staff["ai_manager"]
    case = _child(worker, worker.memberships.get().team)
    with pytest.raises(InvalidInput) as refused:
        pathway_request(
            actor=worker,
            case=case,
            pathway_id="transfer-out-cin",
            answers={"new_authority": "Another Council", "moved_on": "2 April"},
        )
    assert "moved_on" in refused.value.by_field()
    assert "needs_identified" in refused.value.by_field()
    request = pathway_request(
        actor=worker,
        case=case,
        pathway_id="transfer-out-cin",
        answers={
            "new_authority": "Another Council",
            "moved_on": "2026-04-02",
            "needs_identified": "School place; support for the parent's mental health",
        },
    )
    refer = Task.objects.get(key=f"pathway:{request.pk}:refer-to-new-authority")
    assert (refer.role, refer.due_on, refer.requirement) == (
        Role.SOCIAL_WORKER,
        dt.date(2026, 4, 13),
        "R004-10",
    )
    decided = pathway_decide(
        actor=manager,
        request=request,
        outcome="referred-and-closed",
        rationale="Referred to the new authority's front door on 7 April",
    )
    closure = pathway_close_case(actor=worker, request=decided)
    assert closure.national_code == "RC5"
    assert closure.reason_id == "moved-to-another-authority"


@time_machine.travel(dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC), tick=False)
def test_r004_10_a_looked_after_child_placed_elsewhere_is_registered_with_a_letter(
    staff: dict[str, User],
) -> None:
    """R004-10: a looked-after child placed in another authority's area is entered in the duty
    fostering register; Business Support are told to send the notification letter, which is a
    PDF naming the child, the placement and the responsible authority; the manager's
    'notified' decision records when it went."""
    worker, manager = staff["lac_worker"], staff["lac_manager"]
    case = _child(worker, worker.memberships.get().team, "Alex")
    plan_start(
        actor=worker, case=case, kind="lac", legal_status="C2", started_on=dt.date(2026, 9, 1)
    )
    answers = {
        "host_authority": "Northshire County Council",
        "placed_on": "2026-10-30",
        "placement_type": "Foster care",
        "placement_address": "1 Example Lane, Northtown, NT1 1AA",
        "host_contact": "Children in care team, secure email",
    }
    request = pathway_request(
        actor=worker, case=case, pathway_id="transfer-out-looked-after", answers=answers
    )
    entry = OutOfAreaPlacement.objects.get(request=request)
    assert (entry.host_authority, entry.placed_on, entry.notification_sent_on) == (
        "Northshire County Council",
        dt.date(2026, 10, 30),
        None,
    )
    told = Notification.objects.get(recipient=staff["lac_admin"], case=case)
    assert told.event == "case.placed_out_of_area"
    assert "Duty Fostering" in told.message

    pages = PdfReader(_pdf_file(placement_letter_pdf(request))).pages
    text = " ".join(" ".join(page.extract_text() for page in pages).split())
    for expected in (
        "Notification of a looked-after child placed in your area",
        "Northshire County Council",
        "Alex Example",
        "1 Example Lane",
        "30 October 2026",
        "Foster care",
        case.reference,
    ):
        assert expected in text, expected

    pathway_decide(actor=manager, request=request, outcome="notified", rationale="Letter sent")
    entry.refresh_from_db()
    assert entry.notification_sent_on == dt.date(2026, 11, 2)


def test_r004_07_the_escalation_decision_reminds_early_help_of_next_steps(
    staff: dict[str, User], make_team: Callable[..., Team]
) -> None:
    """R004-07: when the front door decides an escalation, the pack's note (record a
    Manager's Decision if not accepted) goes to the Early Help manager."""
    eh_worker, eh_manager = staff["eh_worker"], staff["eh_manager"]
    irt = Team.objects.get(code="irt")
    from casework.organisation.models import Membership

    irt_manager = User.objects.create_user(username="irtmanager", password="x-Long-pass-123")
    Membership.objects.create(
        user=irt_manager, team=irt, role=Role.TEAM_MANAGER, started_on=dt.date(2020, 1, 1)
    )
    case = _child(eh_worker, eh_worker.memberships.get().team, "Kit")
    decision_record(
        actor=eh_manager,
        case=case,
        kind="transfer",
        decided_on=timezone.localdate(),
        decision="Early help closure summary authorised; escalate",
    )
    request = pathway_request(
        actor=eh_worker, case=case, pathway_id="escalation-from-early-help", answers={}
    )
    assert request.to_team == irt
    pathway_decide(
        actor=irt_manager, request=request, outcome="not-accepted", rationale="Below threshold"
    )
    note = Notification.objects.get(recipient=eh_manager, event="escalation.decided")
    assert "Manager's Decision" in note.message


def test_a_pack_that_closes_on_an_unknown_outcome_or_code_is_refused(tmp_path: Path) -> None:
    """Pathway closing rules are checked when a pack loads, with the path and what is
    expected."""
    base = (BUILT_IN_PACKS / f"{PACK}.yaml").read_text(encoding="utf-8")
    for old, new, message in (
        ("closes_on: [direct-allocation]", "closes_on: [approved]", "not listed: approved"),
        ("closes_case_with: RC5", "closes_case_with: RC8X", "closure code 'RC8X'"),
    ):
        folder = tmp_path / message.split()[0]
        folder.mkdir()
        (folder / f"{PACK}.yaml").write_text(base.replace(old, new), encoding="utf-8")
        common = (BUILT_IN_PACKS / "children-common.yaml").read_text(encoding="utf-8")
        (folder / "children-common.yaml").write_text(common, encoding="utf-8")
        with pytest.raises(PackError, match=message):
            PackRegistry.from_directories([folder]).load(PACK)


def _pdf_file(content: bytes) -> io.BytesIO:
    return io.BytesIO(content)


def test_r004_09_a_cin_case_moving_in_is_accepted_only_with_its_four_documents(
    staff: dict[str, User], make_team: Callable[..., Team], make_staff: Callable[..., User]
) -> None:
    """R004-09: SGCP opens the case sent by another authority and asks to accept it; until
    the assessment, CiN plan, chronology and genogram are on file the request is refused
    with what is missing; then the SGCP manager accepts it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from casework.cases.services import document_upload
    from casework.transfers.services import TransferBlocked

    sgcp = make_team("sgcp", TeamFunction.SAFEGUARDING_CARE_PLANNING)
    worker = make_staff("sgcpworker", sgcp)
    manager = make_staff("sgcpmanager", sgcp, Role.TEAM_MANAGER)
    case = _child(worker, sgcp, "Morgan")
    with pytest.raises(TransferBlocked, match="a single assessment, a CiN plan, a chronology"):
        pathway_request(actor=worker, case=case, pathway_id="transfer-in-cin", answers={})
    for kind in ("assessment", "plan", "chronology", "genogram"):
        document_upload(
            actor=worker,
            case=case,
            kind=kind,
            title=f"From the previous authority: {kind}",
            upload=SimpleUploadedFile(f"{kind}.pdf", b"%PDF-1.4 x", content_type="application/pdf"),
        )
    request = pathway_request(actor=worker, case=case, pathway_id="transfer-in-cin", answers={})
    assert request.to_team == sgcp
    decided = pathway_decide(
        actor=manager, request=request, outcome="accepted", rationale="Documents received"
    )
    assert decided.outcome == "accepted"


def test_r004_09_a_cp_case_moving_in_tells_the_safeguarding_unit(
    staff: dict[str, User], make_team: Callable[..., Team], make_staff: Callable[..., User]
) -> None:
    """R004-09: a child on a CP plan moving in: the request notifies the Safeguarding Unit's
    administrator, who alerts the SGCP team manager."""
    sgcp = make_team("sgcp", TeamFunction.SAFEGUARDING_CARE_PLANNING)
    unit = make_team("su", TeamFunction.SAFEGUARDING_UNIT, holds_cases=False)
    admin = make_staff("suadmin", unit, Role.SAFEGUARDING_UNIT_ADMIN)
    worker = make_staff("sgcpworker", sgcp)
    case = _child(worker, sgcp, "Rowan")
    plan_start(
        actor=worker,
        case=case,
        kind="cp",
        started_on=timezone.localdate() - dt.timedelta(days=3),
        category="PHY",
    )
    pathway_request(actor=worker, case=case, pathway_id="transfer-in-cp", answers={})
    note = Notification.objects.get(recipient=admin, case=case)
    assert note.event == "transfer.requested"
    assert "Alert the SGCP team manager" in note.message


@time_machine.travel(dt.datetime(2026, 12, 21, 10, tzinfo=dt.UTC), tick=False)
def test_r004_10_a_child_on_a_cp_plan_moving_is_notified_and_confirmed_in_writing(
    staff: dict[str, User], make_team: Callable[..., Team], make_staff: Callable[..., User]
) -> None:
    """R004-10: a child on a CP plan moving to another area: the Safeguarding Unit's
    designated administrator is told to notify the other authority, and the team manager
    confirms the supervision arrangements in writing within 5 working days of the move
    (moved Monday 21 December 2026: Christmas and the Boxing Day substitute do not count,
    so due Wednesday 30 December)."""
    sgcp = make_team("sgcp", TeamFunction.SAFEGUARDING_CARE_PLANNING)
    unit = make_team("su", TeamFunction.SAFEGUARDING_UNIT, holds_cases=False)
    admin = make_staff("suadmin", unit, Role.SAFEGUARDING_UNIT_ADMIN)
    worker = make_staff("sgcpworker", sgcp)
    case = _child(worker, sgcp, "Quinn")
    plan_start(actor=worker, case=case, kind="cp", started_on=dt.date(2026, 10, 1), category="NEG")
    request = pathway_request(
        actor=worker,
        case=case,
        pathway_id="transfer-out-child-protection",
        answers={
            "new_authority": "Southshire Council",
            "moved_on": "2026-12-21",
            "needs_identified": "CP plan for neglect; core group to hand over",
        },
    )
    told = Notification.objects.get(recipient=admin, case=case)
    assert told.event == "case.moved_out_of_area"
    assert "designated manager and administrator" in told.message
    confirm = Task.objects.get(key=f"pathway:{request.pk}:confirm-in-writing")
    assert (confirm.role, confirm.due_on) == (Role.TEAM_MANAGER, dt.date(2026, 12, 30))
