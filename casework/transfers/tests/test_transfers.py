"""Internal transfers under procedure 004, driven through the services."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from casework.accounts.models import User
from casework.cases.models import Allocation, Case
from casework.cases.services import (
    case_open,
    document_upload,
    meeting_record,
    plan_start,
    visit_record,
)
from casework.core.errors import Conflict, InvalidInput, NotPermitted
from casework.organisation.models import Authority, Role, Team, TeamFunction
from casework.people.services import person_create, person_move_in, relationship_add
from casework.policy.services import pack_bind
from casework.tasks.models import Notification, Task
from casework.transfers.models import Transfer, TransferState
from casework.transfers.services import (
    TransferBlocked,
    transfer_audit_record,
    transfer_authorise,
    transfer_complete,
    transfer_decide,
    transfer_discuss,
    transfer_recommendation,
    transfer_request,
    transfer_summary_submit,
)

AUDIT_ALL_YES = {
    item: {"answer": "yes", "note": "Checked"}
    for item in ("chronology", "recording", "relationships", "genogram")
}


class Staff:
    def __init__(self, make_team: Callable[..., Team], make_staff: Callable[..., User]) -> None:
        self.sgcp = make_team("sgcp", TeamFunction.SAFEGUARDING_CARE_PLANNING)
        self.lac = make_team("lac", TeamFunction.LOOKED_AFTER)
        self.ai = make_team("ai", TeamFunction.ASSESSMENT_INTERVENTION)
        self.wrap = make_team("wrap", TeamFunction.WRAP_AROUND, holds_cases=False)
        self.su = make_team("su", TeamFunction.SAFEGUARDING_UNIT, holds_cases=False)
        self.sgcp_worker = make_staff("sgcpworker", self.sgcp)
        self.sgcp_manager = make_staff("sgcpmanager", self.sgcp, Role.TEAM_MANAGER)
        self.lac_worker = make_staff("lacworker", self.lac)
        self.lac_manager = make_staff("lacmanager", self.lac, Role.TEAM_MANAGER)
        self.lac_manager2 = make_staff("lacmanager2", self.lac, Role.TEAM_MANAGER)
        self.ai_manager = make_staff("aimanager", self.ai, Role.TEAM_MANAGER)
        self.iro = make_staff("iro", self.su, Role.REVIEWING_OFFICER)


@pytest.fixture
def staff(
    authority: Authority, make_team: Callable[..., Team], make_staff: Callable[..., User]
) -> Staff:
    pack_bind(
        actor=None,
        authority=authority,
        service_area="children",
        purpose="transfer",
        pack_id="004-transfer-and-closure",
    )
    return Staff(make_team, make_staff)


@pytest.fixture
def in_april_2026() -> Iterator[None]:
    """Thursday 2 April 2026: Good Friday and Easter Monday fall in the next 10 working days."""
    with time_machine.travel(dt.datetime(2026, 4, 2, 10, tzinfo=dt.UTC), tick=False):
        yield


def _looked_after_child(staff: Staff) -> Case:
    """A child in SGCP who has become looked after, with the record up to date."""
    today = timezone.localdate()
    worker = staff.sgcp_worker
    child = person_create(
        actor=worker, given_name="Robin", family_name="Example", date_of_birth=dt.date(2016, 6, 1)
    )
    parent = person_create(
        actor=worker, given_name="Lee", family_name="Example", date_of_birth=dt.date(1988, 3, 3)
    )
    home = person_move_in(
        actor=worker,
        person=child,
        line_1="4 Example Street",
        town="Testford",
        postcode="TE4 4EX",
        started_on=dt.date(2016, 6, 1),
    )
    person_move_in(
        actor=worker,
        person=parent,
        line_1="",
        town="",
        postcode="",
        started_on=dt.date(2016, 6, 1),
        address=home.address,
    )
    relationship_add(
        actor=worker, person=parent, relative=child, kind="parent", has_parental_responsibility=True
    )
    case = case_open(
        actor=worker,
        subject=child,
        team=staff.sgcp,
        received_on=today - dt.timedelta(days=120),
        source="6",
        reason="Police protection",
        allocated_worker=worker,
    )
    plan_start(
        actor=worker,
        case=case,
        kind="lac",
        legal_status="C2",
        started_on=today - dt.timedelta(days=30),
    )
    visit_record(
        actor=worker,
        case=case,
        visited_on=today - dt.timedelta(days=3),
        subject_seen=True,
        seen_alone=True,
        home_visited=True,
    )
    document_upload(
        actor=worker,
        case=case,
        kind="genogram",
        title="Genogram",
        upload=SimpleUploadedFile("g.pdf", b"%PDF-1.4 genogram", content_type="application/pdf"),
    )
    return case


def _requested_and_ready(staff: Staff, case: Case) -> Transfer:
    transfer = transfer_request(
        actor=staff.sgcp_worker,
        case=case,
        to_team=staff.lac,
        rationale="Care order made",
        trigger="care_order_made",
        request_details={"next_care_team_meeting": "2026-04-14"},
    )
    transfer_summary_submit(
        actor=staff.sgcp_worker,
        transfer=transfer,
        answers={
            "rationale": "Care order made at the end of proceedings",
            "outstanding": "Life story work",
            "transition_point": "Agreed date",
        },
    )
    transfer_audit_record(actor=staff.sgcp_manager, transfer=transfer, answers=AUDIT_ALL_YES)
    return Transfer.objects.get(pk=transfer.pk)


@pytest.mark.usefixtures("in_april_2026")
def test_r004_05_looked_after_transfer_across_easter_with_every_due_date(staff: Staff) -> None:
    """R004-05, R004-11, X-03: discussed on Thursday 2 April 2026, the case must move within
    10 working days: Good Friday (3 April) and Easter Monday (6 April) do not count, so the
    deadline is Monday 20 April. The IRO is told on authorisation; the case moves on the
    agreed date; later life letters are due 6 weeks later and the Business Support audit 5
    working days later."""
    case = _looked_after_child(staff)
    transfer = _requested_and_ready(staff, case)
    assert transfer.protocol_id == "to-looked-after"
    transfer = transfer_discuss(
        actor=staff.sgcp_manager, transfer=transfer, discussed_on=dt.date(2026, 4, 2)
    )
    deadline = Task.objects.get(key=f"transfer:{transfer.pk}:deadline")
    assert deadline.due_on == dt.date(2026, 4, 20)
    assert deadline.escalate_to == Role.SERVICE_MANAGER
    assert transfer.agreed_transfer_date == dt.date(2026, 4, 20)

    transfer = transfer_authorise(actor=staff.sgcp_manager, transfer=transfer)
    assert Notification.objects.filter(
        recipient=staff.iro, case=case, event="transfer.authorised"
    ).exists()
    transfer = transfer_decide(
        actor=staff.lac_manager, transfer=transfer, accept=True, receiving_worker=staff.lac_worker
    )
    assert transfer.state == TransferState.ACCEPTED
    with pytest.raises(InvalidInput, match="moves on the agreed date: on 20 April 2026"):
        transfer_complete(actor=staff.lac_manager, transfer=transfer)

    # Nobody recorded the transfer meeting: the case still moves on the agreed date.
    with time_machine.travel(dt.datetime(2026, 4, 20, 9, tzinfo=dt.UTC), tick=False):
        transfer = transfer_complete(actor=staff.lac_manager, transfer=transfer)
    case.refresh_from_db()
    assert transfer.state == TransferState.COMPLETED
    assert (case.responsible_team, case.allocated_worker) == (staff.lac, staff.lac_worker)
    letters = Task.objects.get(key=f"transfer:{transfer.pk}:later-life-letters")
    assert letters.due_on == dt.date(2026, 6, 1)
    assert letters.team == staff.sgcp  # the sending worker writes them
    audit = Task.objects.get(key=f"transfer:{transfer.pk}:business-support-transfer-audit")
    assert audit.due_on == dt.date(2026, 4, 27)
    assert Task.objects.get(pk=deadline.pk).status == "done"


@pytest.mark.usefixtures("in_april_2026")
def test_r004_12_responsibility_moves_only_at_the_transfer_point_and_history_is_kept(
    staff: Staff,
) -> None:
    """R004-02, R004-12: until completion the sending team holds the case; afterwards the
    allocation history keeps both workers."""
    case = _looked_after_child(staff)
    transfer = _requested_and_ready(staff, case)
    transfer_discuss(
        actor=staff.sgcp_manager,
        transfer=transfer,
        discussed_on=dt.date(2026, 4, 2),
        agreed_transfer_date=dt.date(2026, 4, 2),
    )
    transfer = transfer_authorise(actor=staff.sgcp_manager, transfer=transfer)
    transfer = transfer_decide(
        actor=staff.lac_manager, transfer=transfer, accept=True, receiving_worker=staff.lac_worker
    )
    case.refresh_from_db()
    assert case.responsible_team == staff.sgcp
    transfer_complete(actor=staff.sgcp_manager, transfer=transfer)
    workers = list(
        Allocation.objects.filter(case=case)
        .order_by("id")
        .values_list("worker__username", "team__code", "ended_on")
    )
    assert workers == [("sgcpworker", "sgcp", dt.date(2026, 4, 2)), ("lacworker", "lac", None)]


@pytest.mark.usefixtures("in_april_2026")
def test_r004_02_no_authorisation_without_summary_audit_and_current_genogram(
    staff: Staff,
) -> None:
    """R004-02: the sending manager cannot authorise before the summary and audit, nor while
    the record lacks a current genogram; the refusal says where to record it."""
    case = _looked_after_child(staff)
    transfer = transfer_request(
        actor=staff.sgcp_worker,
        case=case,
        to_team=staff.lac,
        rationale="Care order",
        request_details={"next_care_team_meeting": "2026-04-14"},
    )
    with pytest.raises(InvalidInput) as early:
        transfer_authorise(actor=staff.sgcp_manager, transfer=transfer)
    assert "transfer summary" in str(early.value)
    assert "transfer audit" in str(early.value)
    with pytest.raises(NotPermitted):
        transfer_audit_record(actor=staff.sgcp_worker, transfer=transfer, answers=AUDIT_ALL_YES)
    with pytest.raises(InvalidInput, match="Say why you differ"):
        transfer_audit_record(
            actor=staff.sgcp_manager,
            transfer=transfer,
            answers={**AUDIT_ALL_YES, "genogram": {"answer": "no", "note": ""}},
        )
    Case.objects.filter(pk=case.pk)  # the genogram is current, so remove it from the view:
    case.documents.all().delete()
    transfer_summary_submit(
        actor=staff.sgcp_worker,
        transfer=transfer,
        answers={
            "rationale": "Care order",
            "outstanding": "None",
            "transition_point": "Agreed date",
        },
    )
    transfer_audit_record(
        actor=staff.sgcp_manager,
        transfer=transfer,
        answers={
            **AUDIT_ALL_YES,
            "genogram": {"answer": "no", "note": "Being redrawn"},
        },
    )
    with pytest.raises(TransferBlocked, match="genogram") as blocked:
        transfer_authorise(actor=staff.sgcp_manager, transfer=transfer)
    assert "Record it in: Documents" in str(blocked.value)
    assert Transfer.objects.get(pk=transfer.pk).state == TransferState.REQUESTED


def test_r004_03_routing_recommends_and_an_override_needs_a_manager_and_a_reason(
    staff: Staff,
) -> None:
    """R004-03: for a care order the pack recommends the LAC team, citing its rule; a worker
    cannot choose another team; a manager can, with a reason, and the override is kept."""
    case = _looked_after_child(staff)
    recommendation = transfer_recommendation(staff.sgcp_worker, case, "care_order_made")
    assert recommendation is not None
    assert recommendation.team == "lac"
    assert "care order" in recommendation.explanation.lower()
    with pytest.raises(InvalidInput, match="recommends Looked After Children"):
        transfer_request(
            actor=staff.sgcp_worker,
            case=case,
            to_team=staff.ai,
            rationale="Nearer",
            trigger="care_order_made",
        )
    with pytest.raises(InvalidInput, match="Only a manager"):
        transfer_request(
            actor=staff.sgcp_worker,
            case=case,
            to_team=staff.ai,
            rationale="Nearer",
            trigger="care_order_made",
            override_reason="Why",
        )
    transfer = transfer_request(
        actor=staff.sgcp_manager,
        case=case,
        to_team=staff.ai,
        rationale="Supervision order",
        trigger="care_order_made",
        override_reason="The order was a supervision order after all",
    )
    assert transfer.recommended_team == staff.lac
    assert transfer.recommendation_rule == "care-order"
    assert transfer.override_reason == "The order was a supervision order after all"


def test_r004_04_wrap_around_support_never_moves_responsibility(staff: Staff) -> None:
    """R004-04: wrap-around support is requested with an end date and a plan, and when it
    starts the requesting team still holds the case."""
    case = _looked_after_child(staff)
    with pytest.raises(InvalidInput, match="end date"):
        transfer_request(
            actor=staff.sgcp_worker,
            case=case,
            to_team=staff.wrap,
            rationale="Crisis at weekends",
            request_details={"plan": "Evenings"},
        )
    transfer = transfer_request(
        actor=staff.sgcp_worker,
        case=case,
        to_team=staff.wrap,
        rationale="Crisis at weekends",
        request_details={"plan": "Evening support", "end_date": "2026-12-31"},
    )
    assert transfer.moves_responsibility is False
    assert transfer.protocol_id == "wrap-around"


@pytest.mark.django_db(transaction=True)
def test_racing_accept_and_decline_give_exactly_one_outcome(staff: Staff) -> None:
    """Two receiving managers, one accepting and one declining at the same moment: one
    outcome stands and the other is told plainly."""
    case = _looked_after_child(staff)
    transfer = _requested_and_ready(staff, case)
    transfer_discuss(actor=staff.sgcp_manager, transfer=transfer, discussed_on=timezone.localdate())
    transfer = transfer_authorise(actor=staff.sgcp_manager, transfer=transfer)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(user: User, accept: bool) -> None:
        try:
            barrier.wait(timeout=10)
            transfer_decide(actor=user, transfer=transfer, accept=accept, reason="Capacity")
            outcomes.append("accepted" if accept else "declined")
        except (Conflict, InvalidInput):
            outcomes.append("refused")
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            outcomes.append(f"error: {error!r}")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=(staff.lac_manager, True)),
        threading.Thread(target=decide, args=(staff.lac_manager2, False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) in (["accepted", "refused"], ["declined", "refused"]), outcomes
    final = Transfer.objects.get(pk=transfer.pk).state
    assert final == (TransferState.ACCEPTED if "accepted" in outcomes else TransferState.DECLINED)


def test_r004_06_cin_transfer_moves_at_the_cin_review(staff: Staff) -> None:
    """R004-06: a child in need case moving from SGCP to A&I moves at the CiN review, which
    must be recorded after acceptance."""
    from casework.cases.services import assessment_complete, assessment_start

    worker = staff.sgcp_worker
    today = timezone.localdate()
    child = person_create(
        actor=worker, given_name="Kit", family_name="Example", date_of_birth=dt.date(2015, 1, 1)
    )
    person_move_in(
        actor=worker,
        person=child,
        line_1="5 Example Street",
        town="Testford",
        postcode="TE5 5EX",
        started_on=dt.date(2015, 1, 1),
    )
    case = case_open(
        actor=worker,
        subject=child,
        team=staff.sgcp,
        received_on=today - dt.timedelta(days=200),
        source="2A",
        reason="Concern",
        allocated_worker=worker,
    )
    assessment = assessment_start(
        actor=worker, case=case, kind="cin", started_on=today - dt.timedelta(days=30)
    )
    assessment_complete(
        actor=staff.sgcp_manager,
        assessment=assessment,
        completed_on=today - dt.timedelta(days=2),
        outcome="CiN plan",
        authorise=True,
    )
    plan_start(actor=worker, case=case, kind="cin", started_on=today - dt.timedelta(days=2))
    visit_record(actor=worker, case=case, visited_on=today, subject_seen=True)
    for kind in ("genogram", "chronology"):
        document_upload(
            actor=worker,
            case=case,
            kind=kind,
            title=kind,
            upload=SimpleUploadedFile(f"{kind}.pdf", b"%PDF-1.4 x", content_type="application/pdf"),
        )
    transfer = transfer_request(
        actor=worker, case=case, to_team=staff.ai, rationale="Stepped to CiN"
    )
    assert transfer.protocol_id == "cin-sgcp-to-ai"
    transfer_summary_submit(
        actor=worker,
        transfer=transfer,
        answers={
            "rationale": "CP plan ended",
            "outstanding": "None",
            "transition_point": "CiN review",
        },
    )
    transfer_audit_record(actor=staff.sgcp_manager, transfer=transfer, answers=AUDIT_ALL_YES)
    transfer = transfer_authorise(actor=staff.sgcp_manager, transfer=transfer)
    transfer = transfer_decide(actor=staff.ai_manager, transfer=transfer, accept=True)
    with pytest.raises(InvalidInput, match="moves at the review"):
        transfer_complete(actor=staff.ai_manager, transfer=transfer)
    meeting_record(
        actor=worker,
        case=case,
        kind="cin_review",
        held_on=today,
        attendees=[{"name": "A&I worker", "role": "receiving worker"}],
        minutes="",
    )
    transfer = transfer_complete(actor=staff.ai_manager, transfer=transfer)
    case.refresh_from_db()
    assert case.responsible_team == staff.ai
    audit_task = Task.objects.get(key=f"transfer:{transfer.pk}:sending-manager-audit")
    assert audit_task.due_on == staff.sgcp.authority.calendar().add_working_days(today, 5)


def test_x02_the_receiving_team_sees_the_case_only_while_it_is_offered(staff: Staff) -> None:
    """X-02: a team asked to take a case can read it while the transfer is active; once it
    declines, its need to know ends."""
    from casework.access.policy import cases_visible_to

    case = _looked_after_child(staff)
    assert case not in cases_visible_to(staff.lac_worker)
    transfer = _requested_and_ready(staff, case)
    assert case in cases_visible_to(staff.lac_worker)
    transfer_discuss(actor=staff.sgcp_manager, transfer=transfer, discussed_on=timezone.localdate())
    transfer = transfer_authorise(actor=staff.sgcp_manager, transfer=transfer)
    transfer_decide(
        actor=staff.lac_manager, transfer=transfer, accept=False, reason="No capacity this month"
    )
    assert case not in cases_visible_to(staff.lac_worker)
    with pytest.raises(Conflict, match="already been decided"):
        transfer_decide(actor=staff.lac_manager2, transfer=transfer, accept=True)


def test_r004_03_overrides_are_reportable_to_managers_who_can_see_the_case(
    staff: Staff,
    make_staff: Callable[..., User],
    make_team: Callable[..., Team],
) -> None:
    """R004-03: a manager's choice of a team other than the recommended one is listed with
    the rule and the reason; a transfer that followed the recommendation is not; someone
    without need to know sees neither."""
    from casework.transfers.selectors import routing_overrides

    case = _looked_after_child(staff)
    transfer_request(
        actor=staff.sgcp_manager,
        case=case,
        to_team=staff.ai,
        rationale="Supervision order",
        trigger="care_order_made",
        override_reason="The court made a supervision order",
    )
    senior = make_staff(
        "hos", make_team("csm", TeamFunction.OTHER, holds_cases=False), Role.HEAD_OF_SERVICE
    )
    rows = list(routing_overrides(senior))
    assert [
        (t.recommended_team, t.to_team, t.recommendation_rule, t.override_reason) for t in rows
    ] == [(staff.lac, staff.ai, "care-order", "The court made a supervision order")]
    assert list(routing_overrides(staff.iro)) == []
