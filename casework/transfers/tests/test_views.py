"""The transfer screens' refusals and side pages, through Django's test client: the wrong
person gets a plain page, a blocked authorisation says what to record, a decline goes back to
the queue, and the queue, the register and the letter read only what the user may see."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework.accounts.models import User
from casework.cases.models import Case
from casework.organisation.models import Team
from casework.transfers.models import Transfer, TransferState
from casework.transfers.pathways import pathway_request
from casework.transfers.services import transfer_authorise
from casework.transfers.tests.test_transfers import (
    Staff,
    _looked_after_child,
    _requested_and_ready,
    staff,
)

__all__ = ["staff"]


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _url(name: str, case: Case) -> str:
    return reverse(name, kwargs={"case_id": case.pk})


def test_r004_02_only_the_sending_manager_can_authorise_and_gates_say_what_to_record(
    staff: Staff,
) -> None:
    """R004-02: the worker who asked cannot authorise (a plain 403 page); the manager is told
    what is missing, with where to record it, and nothing changes."""
    case = _looked_after_child(staff)
    transfer = _requested_and_ready(staff, case)
    refused = _client(staff.sgcp_worker).post(_url("transfer-authorise", case))
    assert refused.status_code == 403
    assert b"Only a manager of Team SGCP can authorise the transfer." in refused.content

    # The child has not been seen in the last 20 working days: the LAC protocol's gate.
    case.visits.update(visited_on=timezone.localdate() - dt.timedelta(days=60))
    blocked = _client(staff.sgcp_manager).post(_url("transfer-authorise", case))
    assert blocked.status_code == 400
    assert b"every assessment must be complete and the child seen" in blocked.content
    assert b"Record it in: Assessments and Visits." in blocked.content
    assert Transfer.objects.get(pk=transfer.pk).state == TransferState.REQUESTED


def test_r004_02_a_decline_needs_a_reason_and_returns_the_manager_to_the_queue(
    staff: Staff,
) -> None:
    case = _looked_after_child(staff)
    transfer = transfer_authorise(
        actor=staff.sgcp_manager, transfer=_requested_and_ready(staff, case)
    )
    lac = _client(staff.lac_manager)
    queue = lac.get(reverse("transfer-queue"))
    assert case.reference.encode() in queue.content
    missing = lac.post(_url("transfer-decide", case), {"decision": "decline"})
    assert missing.status_code == 400
    assert b"Say why the case is declined." in missing.content
    declined = lac.post(
        _url("transfer-decide", case), {"decision": "decline", "reason": "No capacity"}
    )
    assert declined.status_code == 302
    assert declined["Location"] == reverse("transfer-queue")
    assert Transfer.objects.get(pk=transfer.pk).decline_reason == "No capacity"
    # The decision made, LAC's need to know ends: the case is a 404 to it again.
    assert lac.get(_url("transfer-tasks", case)).status_code == 404


def test_the_queue_reads_a_fixed_number_of_queries(
    staff: Staff, django_assert_max_num_queries: Any
) -> None:
    """The queue costs the same however many transfers wait on the team."""
    for _ in range(3):
        case = _looked_after_child(staff)
        transfer_authorise(actor=staff.sgcp_manager, transfer=_requested_and_ready(staff, case))
    lac = _client(staff.lac_manager)
    with django_assert_max_num_queries(12):
        response = lac.get(reverse("transfer-queue"))
    assert response.content.count(b"/transfer/decision/") == 3


@pytest.mark.django_db
def test_r004_10_placement_letter_and_register_through_the_screens(staff: Staff) -> None:
    """R004-10: the LAC worker's placement notice is on the register, with its letter as a
    PDF; someone without a need to know sees neither."""
    case = _looked_after_child(staff)
    pathway_request(
        actor=staff.sgcp_worker,
        case=case,
        pathway_id="transfer-out-looked-after",
        answers={
            "host_authority": "Northshire County Council",
            "placed_on": timezone.localdate().isoformat(),
            "placement_type": "Foster care",
            "placement_address": "1 Example Lane",
            "host_contact": "Children in care team",
        },
    )
    worker = _client(staff.sgcp_worker)
    register = worker.get(reverse("placement-register"))
    assert b"Northshire County Council" in register.content
    assert b"Not yet" in register.content
    letter = worker.get(_url("placement-letter", case))
    assert letter.status_code == 200
    assert letter["Content-Type"] == "application/pdf"
    assert letter.content.startswith(b"%PDF")
    outsider = _client(staff.ai_manager)
    assert b"Northshire" not in outsider.get(reverse("placement-register")).content
    assert outsider.get(_url("placement-letter", case)).status_code == 404


def test_r004_03_r003_07_the_front_door_is_told_a_return_goes_back_to_sgcp(
    bind_004: Callable[..., None],
    make_team: Callable[..., Team],
    make_staff: Callable[..., User],
) -> None:
    """R004-03, R003-07: a family back within three months of SGCP closing the case comes in
    through the front door; the re-referral page recommends SGCP, with its rule, and offers
    the transfer."""
    from casework.cases.services import case_open
    from casework.organisation.models import Role, TeamFunction
    from casework.transfers.tests.test_re_referral import _closed_by_sgcp

    bind_004()
    sgcp = make_team("sgcp", TeamFunction.SAFEGUARDING_CARE_PLANNING)
    irt = make_team("irt", TeamFunction.FRONT_DOOR)
    sgcp_worker = make_staff("sgcpworker", sgcp)
    sgcp_manager = make_staff("sgcpmanager", sgcp, Role.TEAM_MANAGER)
    front_door = make_staff("irtworker", irt)
    earlier = _closed_by_sgcp(
        sgcp, sgcp_worker, sgcp_manager, opened=timezone.localdate() - dt.timedelta(days=60)
    )
    again = case_open(
        actor=front_door,
        subject=earlier.subject,
        team=irt,
        received_on=timezone.localdate(),
        source="2A",
        reason="New concern from school",
        allocated_worker=front_door,
    )
    page = _client(front_door).get(_url("re-referral", again))
    assert page.status_code == 200
    text = page.content.decode()
    assert "The procedure recommends Safeguarding and Care Planning takes this case" in text
    assert "rule re-referral-after-sgcp" in text
    assert f"/cases/{again.pk}/transfer/request/?trigger=re_referral" in text
    assert "Risks reduced" in text  # the last summary, beside the new referral


def test_r004_02_the_summary_is_checked_before_it_is_submitted(staff: Staff) -> None:
    """Check your answers: the first post shows every answer and writes nothing; "Change"
    brings the form back filled in; "Confirm" completes the summary."""
    from casework.transfers.services import transfer_request

    case = _looked_after_child(staff)
    transfer = transfer_request(
        actor=staff.sgcp_worker,
        case=case,
        to_team=staff.ai,
        rationale="Fresh assessment needed",
    )
    client = _client(staff.sgcp_worker)
    url = _url("transfer-summary", case)
    answers = {
        "rationale": "Principles followed",
        "household": "Robin and Lee Example",
        "current_plan": "Looked after",
        "agencies": "School",
        "outstanding": "Life story work",
        "transition_point": "On acceptance",
    }
    check = client.post(url, answers)
    assert b"Check your answers" in check.content
    assert b"Life story work" in check.content
    assert Transfer.objects.get(pk=transfer.pk).summary_submitted_at is None
    change = client.post(url, {**answers, "change": "1"})
    assert b"Check your answers" not in change.content
    assert b"Life story work" in change.content  # the form, filled in again
    done = client.post(url, {**answers, "confirm": "1"})
    assert done.status_code == 302
    saved = Transfer.objects.get(pk=transfer.pk)
    assert saved.summary_submitted_at is not None
    assert saved.summary["outstanding"] == "Life story work"
