"""Transfers and pathways under procedure 004 using only the API (issue 7): a transfer to the
looked-after team from request to completion, a decline, a step-down to early help that ends
in a closure proposal, the services' refusals as problem documents, and the caller's queue
and the out-of-area register limited to what the caller may see. The record each case
starts from is set up through the services, as the screens would."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.test import Client

from casework.accounts.models import User
from casework.api.services import api_token_create
from casework.cases.models import Case
from casework.organisation.models import Role, Team, TeamFunction
from casework.transfers.models import Transfer, TransferState
from casework.transfers.services import (
    transfer_audit_record,
    transfer_authorise,
    transfer_discuss,
    transfer_request,
    transfer_summary_submit,
)
from casework.transfers.tests.test_pathways import RFEH, _assessed_case
from casework.transfers.tests.test_transfers import AUDIT_ALL_YES, Staff, _looked_after_child

API = "/api/v1"
THURSDAY_2_APRIL_2026 = dt.datetime(2026, 4, 2, 10, tzinfo=dt.UTC)


class People(Staff):
    """The transfer tests' teams and staff, with early help and the front door added for
    the pathways, and a worker and a manager in A&I."""

    def __init__(self, make_team: Callable[..., Team], make_staff: Callable[..., User]) -> None:
        super().__init__(make_team, make_staff)
        self.eh = make_team("eh", TeamFunction.EARLY_HELP)
        self.irt = make_team("irt", TeamFunction.FRONT_DOOR)
        self.ai_worker = make_staff("aiworker", self.ai)
        self.duty = make_staff("ehduty", self.eh, Role.EARLY_HELP_DUTY_MANAGER)
        self.eh_worker = make_staff("ehworker", self.eh)


@pytest.fixture
def people(
    bind_004: Callable[..., None],
    make_team: Callable[..., Team],
    make_staff: Callable[..., User],
) -> People:
    bind_004()
    return People(make_team, make_staff)


@pytest.fixture
def in_april_2026() -> Iterator[None]:
    with time_machine.travel(THURSDAY_2_APRIL_2026, tick=False):
        yield


class Caller:
    """One member of staff calling the API with their own token."""

    def __init__(self, user: User) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {api_token_create(actor=user, name='t')[1]}"}

    def call(self, method: str, path: str, body: object | None = None) -> Any:
        if method == "get":
            return self.client.get(f"{API}{path}", headers=self.headers)
        return getattr(self.client, method)(
            f"{API}{path}", body or {}, content_type="application/json", headers=self.headers
        )

    def ok(self, method: str, path: str, body: object | None = None) -> Any:
        response = self.call(method, path, body)
        assert response.status_code in (200, 201), (path, response.json())
        return response.json()


def _ready_and_authorised(people: People, case: Case) -> Transfer:
    """A transfer to LAC, written, audited, discussed and authorised through the services."""
    transfer = transfer_request(
        actor=people.sgcp_worker,
        case=case,
        to_team=people.lac,
        rationale="Care order made",
        request_details={"next_care_team_meeting": "2026-04-14"},
    )
    transfer_summary_submit(
        actor=people.sgcp_worker,
        transfer=transfer,
        answers={"rationale": "Care order", "outstanding": "None", "transition_point": "Date"},
    )
    transfer_audit_record(actor=people.sgcp_manager, transfer=transfer, answers=AUDIT_ALL_YES)
    transfer_discuss(
        actor=people.sgcp_manager,
        transfer=transfer,
        discussed_on=dt.date(2026, 4, 2),
        agreed_transfer_date=dt.date(2026, 4, 2),
    )
    return transfer_authorise(actor=people.sgcp_manager, transfer=transfer)


@pytest.mark.usefixtures("in_april_2026")
def test_r004_02_r004_03_r004_05_a_transfer_to_looked_after_using_only_the_api(
    people: People,
) -> None:
    """R004-02, R004-03, R004-05, R004-12, X-01: the SGCP worker asks for a transfer on a care
    order and the procedure routes it to LAC with its rule; the worker writes the summary
    over what the record pre-fills; the SGCP manager records the discussion, audits the
    record and authorises; the LAC manager reads the summary, finds it in their queue,
    accepts naming the worker, and completes it on the agreed date. The case is then held
    by LAC with the named worker, and every step is in the chronology."""
    case = _looked_after_child(people)
    worker, manager = Caller(people.sgcp_worker), Caller(people.sgcp_manager)
    receiving = Caller(people.lac_manager)
    base = f"/cases/{case.pk}"

    routes = {r["trigger"]: r for r in worker.ok("get", f"{base}/transfer/recommendations")}
    assert (routes["care_order_made"]["team"], routes["care_order_made"]["rule"]) == (
        "lac",
        "care-order",
    )
    requested = worker.ok(
        "post",
        f"{base}/transfer",
        {
            "trigger": "care_order_made",
            "rationale": "Care order made at the end of proceedings",
            "request_details": {"next_care_team_meeting": "2026-04-14"},
        },
    )
    assert (requested["state"], requested["to_team"], requested["recommended_team"]) == (
        "requested",
        "lac",
        "lac",
    )
    assert requested["protocol_id"] == "to-looked-after"

    prefilled = worker.ok("get", f"{base}/transfer/summary")
    assert prefilled["submitted_at"] is None
    assert prefilled["answers"]["next_care_team_meeting"] == "2026-04-14"
    household = next(q for q in prefilled["questions"] if q["id"] == "household")
    assert household["prefilled_from"]
    summary = worker.ok(
        "put",
        f"{base}/transfer/summary",
        {
            "answers": {
                "rationale": "Care order made at the end of proceedings",
                "outstanding": "Life story work",
                "transition_point": "The agreed date",
            }
        },
    )
    assert summary["submitted_at"] is not None
    assert summary["answers"]["outstanding"] == "Life story work"

    discussed = manager.ok(
        "post",
        f"{base}/transfer/discussion",
        {"discussed_on": "2026-04-02", "agreed_transfer_date": "2026-04-02"},
    )
    assert discussed["agreed_transfer_date"] == "2026-04-02"
    audit = manager.ok("get", f"{base}/transfer/audit")
    assert {i["id"] for i in audit["items"]} == set(AUDIT_ALL_YES)
    audited = manager.ok("put", f"{base}/transfer/audit", {"answers": AUDIT_ALL_YES})
    assert audited["audited_by"] == "sgcpmanager"
    assert manager.ok("get", "/transfers")["to_authorise"][0]["id"] == requested["id"]
    authorised = manager.ok("post", f"{base}/transfer/authorisation")
    assert authorised["state"] == "authorised"

    # The receiving team may now read the case, the summary, and find it in its queue.
    assert receiving.ok("get", f"{base}/transfer/summary")["answers"]["outstanding"] == (
        "Life story work"
    )
    offered = receiving.ok("get", "/transfers")["to_decide"]
    assert [(t["id"], t["case"]["reference"]) for t in offered] == [
        (requested["id"], case.reference)
    ]
    detail = receiving.ok("get", f"{base}/transfer")
    assert detail["you"]["receiving_manager"] is True
    accepted = receiving.ok(
        "post",
        f"{base}/transfer/decision",
        {"decision": "accept", "receiving_worker": "lacworker"},
    )
    # The looked-after protocol moves the case on the agreed date, not on acceptance.
    assert (accepted["state"], accepted["case_team"]) == ("accepted", "sgcp")
    completed = receiving.ok("post", f"{base}/transfer/completion")
    assert (completed["state"], completed["case_team"], completed["case_allocated_worker"]) == (
        "completed",
        "lac",
        "lacworker",
    )
    case.refresh_from_db()
    assert (case.responsible_team, case.allocated_worker) == (people.lac, people.lac_worker)

    chronology = Caller(people.lac_worker).ok(
        "get", f"{base}/chronology?category=allocation&limit=100"
    )
    verbs = [e["verb"] for e in reversed(chronology["items"])]
    assert [v for v in verbs if v.startswith("transfer.")] == [
        "transfer.requested",
        "transfer.summary_completed",
        "transfer.discussed",
        "transfer.audited",
        "transfer.authorised",
        "transfer.accepted",
        "transfer.completed",
    ]
    steps = Caller(people.lac_worker).ok("get", f"{base}/transfer")["steps"]
    assert {s["status"] for s in steps} == {"Completed"}


@pytest.mark.usefixtures("in_april_2026")
def test_x02_a_decline_needs_a_reason_and_ends_the_receiving_teams_need_to_know(
    people: People,
) -> None:
    """R004-02, X-02: the receiving manager cannot decline without saying why (a 400 with
    the service's words); a decline with a reason is recorded, the case stays with the
    sending team, and the receiving team no longer sees the case; a team never asked
    never saw it."""
    case = _looked_after_child(people)
    transfer = _ready_and_authorised(people, case)
    receiving = Caller(people.lac_manager)
    bystander = Caller(people.eh_worker)
    url = f"/cases/{case.pk}/transfer/decision"
    assert bystander.call("get", f"/cases/{case.pk}/transfer").status_code == 404
    assert bystander.call("post", url, {"decision": "accept"}).status_code == 404
    assert Caller(people.lac_worker).call("post", url, {"decision": "accept"}).status_code == 403

    refused = receiving.call("post", url, {"decision": "decline", "reason": "  "})
    assert refused.status_code == 400
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["detail"] == "Say why the case is declined."
    assert refused.json()["errors"] == [
        {"field": "reason", "message": "Say why the case is declined."}
    ]

    declined = receiving.ok(
        "post", url, {"decision": "decline", "reason": "No capacity this month"}
    )
    assert (declined["state"], declined["decline_reason"], declined["case_team"]) == (
        "declined",
        "No capacity this month",
        "sgcp",
    )
    assert Transfer.objects.get(pk=transfer.pk).state == TransferState.DECLINED
    assert receiving.call("get", f"/cases/{case.pk}/transfer").status_code == 404
    assert receiving.ok("get", "/transfers")["to_decide"] == []
    # The sending team sees the outcome, and may ask again.
    seen = Caller(people.sgcp_worker).ok("get", f"/cases/{case.pk}/transfer")
    assert (seen["state"], seen["you"]["can_request"]) == ("declined", True)


@pytest.mark.usefixtures("in_april_2026")
def test_r004_02_r004_03_refusals_are_problem_documents_in_the_services_words(
    people: People,
) -> None:
    """R004-02, R004-03: authorising before the summary and audit, a worker authorising,
    a worker overriding the recommended team, a second transfer, and an answer of the
    wrong type each come back as a problem document saying what to do."""
    case = _looked_after_child(people)
    worker, manager = Caller(people.sgcp_worker), Caller(people.sgcp_manager)
    base = f"/cases/{case.pk}"

    override = worker.call(
        "post",
        f"{base}/transfer",
        {
            "to_team": "ai",
            "trigger": "care_order_made",
            "rationale": "Nearer",
            "override_reason": "Closer to home",
        },
    )
    assert override.status_code == 400
    assert "Only a manager" in override.json()["detail"]
    assert override.json()["errors"][0]["field"] == "override_reason"

    to_lac = {
        "to_team": "lac",
        "rationale": "Care order",
        "request_details": {"next_care_team_meeting": "2026-04-14"},
    }
    worker.ok("post", f"{base}/transfer", to_lac)
    again = worker.call("post", f"{base}/transfer", to_lac)
    assert again.status_code == 409
    assert again.json()["detail"] == "A transfer of this case is already in progress."

    early = manager.call("post", f"{base}/transfer/authorisation")
    assert early.status_code == 400
    assert early.json()["detail"] == (
        "Complete the transfer summary first. Complete the transfer audit first."
    )
    by_worker = worker.call("post", f"{base}/transfer/authorisation")
    assert by_worker.status_code == 403
    assert by_worker.json()["detail"] == "Only a manager of Team SGCP can authorise the transfer."

    wrong_type = worker.call(
        "put", f"{base}/transfer/summary", {"answers": {"next_care_team_meeting": "soon"}}
    )
    assert wrong_type.status_code == 400
    assert wrong_type.json()["errors"][0]["field"] == "next_care_team_meeting"

    unconfirmed = manager.call("put", f"{base}/transfer/audit", {"answers": {}})
    assert unconfirmed.status_code == 400
    assert "Confirm: Up to date chronology." in unconfirmed.json()["detail"]


def test_r004_08_r003_08_a_step_down_to_early_help_using_only_the_api(people: People) -> None:
    """R004-08, R003-08, X-02: the A&I worker sees the step-down among the routes that fit
    the case, and is refused an answer to a question the form does not ask and a meeting
    booked with too little notice; the request reaches the early help duty manager's
    queue, who may read the case, and who alone decides; once accepted the duty manager no
    longer sees the case, and the A&I worker proposes closure with RC9 from the decision."""
    case = _assessed_case(people.ai_worker, people.ai)
    worker, duty = Caller(people.ai_worker), Caller(people.duty)
    base = f"/cases/{case.pk}"
    with time_machine.travel(dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC), tick=False):
        routes = {p["id"]: p for p in worker.ok("get", f"{base}/pathways")}
        step_down = routes["step-down-full-assessment"]
        assert (step_down["kind"], step_down["decided_by"], step_down["to_team"]) == (
            "step_down",
            "early_help_duty_manager",
            "eh",
        )
        assert step_down["meeting_notice_working_days"] == 5
        assert {q["id"] for q in step_down["questions"]} >= set(RFEH)
        url = f"{base}/pathways/step-down-full-assessment/requests"
        extra = worker.call(
            "post", url, {"answers": {**RFEH, "moved_on": "soon"}, "meeting_on": "2026-12-10"}
        )
        assert extra.status_code == 400
        assert "does not ask about: moved_on" in extra.json()["detail"]
        too_soon = worker.call("post", url, {"answers": RFEH, "meeting_on": "2026-12-03"})
        assert too_soon.status_code == 400
        assert too_soon.json()["errors"] == [
            {
                "field": "meeting_on",
                "message": "The meeting needs 5 working days' notice: book it on or after "
                "8 December 2026.",
            }
        ]
        asked = worker.ok("post", url, {"answers": RFEH, "meeting_on": "2026-12-10"})
    assert (asked["state"], asked["to_team"], asked["kind"]) == ("requested", "eh", "step_down")

    queued = duty.ok("get", "/transfers")["requests"]
    assert [(r["id"], r["case"]["id"]) for r in queued] == [(asked["id"], case.pk)]
    assert [r["id"] for r in duty.ok("get", f"{base}/pathway-requests")] == [asked["id"]]
    decision = f"{base}/pathway-requests/{asked['id']}/decision"
    by_worker = worker.call("post", decision, {"outcome": "accepted", "rationale": "Fine"})
    assert by_worker.status_code == 403
    assert by_worker.json()["detail"] == "Only the early help duty manager decides this."
    decided = duty.ok(
        "post", decision, {"outcome": "accepted", "rationale": "Family agreed TAF; meets criteria"}
    )
    assert (decided["state"], decided["outcome"], decided["closes_case"]) == (
        "decided",
        "accepted",
        True,
    )
    assert duty.call("get", f"{base}/pathway-requests").status_code == 404

    closure = worker.call("post", f"{base}/pathway-requests/{asked['id']}/closure")
    assert closure.status_code == 201, closure.json()
    assert (closure.json()["state"], closure.json()["national_code"]) == ("proposed", "RC9")
    verbs = {e["verb"] for e in worker.ok("get", f"{base}/chronology?limit=100")["items"]}
    assert {"step_down.requested", "step_down.decided", "closure.proposed"} <= verbs


def test_r004_10_the_register_and_the_queue_show_only_what_the_caller_may_see(
    people: People,
) -> None:
    """R004-10, X-02: a looked-after child placed in another authority's area goes on the
    duty fostering register, which the holding team sees and other teams do not; the
    holding team's manager finds the request in their queue and records the notification;
    nobody else's queue shows it."""
    with time_machine.travel(THURSDAY_2_APRIL_2026, tick=False):
        case = _looked_after_child(people)
    worker, manager = Caller(people.sgcp_worker), Caller(people.sgcp_manager)
    placement = {
        "host_authority": "Otherborough Council",
        "placed_on": "2026-04-01",
        "placement_type": "Foster care",
        "placement_address": "1 Foster Lane, Otherborough",
        "host_contact": "LAC duty, lac@otherborough.example",
    }
    asked = worker.ok(
        "post",
        f"/cases/{case.pk}/pathways/transfer-out-looked-after/requests",
        {"answers": placement},
    )
    assert asked["to_team"] is None

    register = worker.ok("get", "/out-of-area-placements")
    assert [
        (e["case"]["id"], e["host_authority"], e["notification_sent_on"]) for e in register["items"]
    ] == [(case.pk, "Otherborough Council", None)]
    for other in (people.lac_manager, people.duty, people.ai_worker):
        caller = Caller(other)
        assert caller.ok("get", "/out-of-area-placements")["items"] == []
        assert caller.ok("get", "/transfers") == {
            "to_decide": [],
            "to_authorise": [],
            "requests": [],
        }

    assert [r["id"] for r in manager.ok("get", "/transfers")["requests"]] == [asked["id"]]
    manager.ok(
        "post",
        f"/cases/{case.pk}/pathway-requests/{asked['id']}/decision",
        {"outcome": "notified", "rationale": "Letter sent to Otherborough by secure email"},
    )
    entry = manager.ok("get", "/out-of-area-placements?limit=1")["items"][0]
    assert entry["notification_sent_on"] is not None
    assert manager.ok("get", "/transfers")["requests"] == []

    letter = worker.call("get", f"/cases/{case.pk}/pathway-requests/{asked['id']}/letter")
    assert letter.status_code == 200
    assert letter["Content-Type"] == "application/pdf"
    assert letter.content.startswith(b"%PDF-")
    assert (
        Caller(people.ai_worker)
        .call("get", f"/cases/{case.pk}/pathway-requests/{asked['id']}/letter")
        .status_code
        == 404
    )
