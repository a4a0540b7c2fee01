"""A full closure under procedure 002 (adults) using only the API (issue 7): the worker
proposes, the manager records the closure discussion note, agrees, answers the Case Audit
Tool item by item, completes it and authorises; the case closes with its national code."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.test import Client
from django.utils import timezone

from casework.accounts.models import User
from casework.api.services import api_token_create
from casework.cases.models import Case
from casework.cases.services import case_open, consent_record, supervision_record, visit_record
from casework.organisation.models import Role, Team, TeamFunction
from casework.people.services import person_create, person_move_in
from casework.policy.loader import load_pack
from casework.policy.services import pack_bind

TODAY = timezone.localdate()


def _adult_case(worker: User, manager: User, team: Team) -> Case:
    """The record a well-kept adult case has before closure (set up as the screens would)."""
    client = person_create(
        actor=worker,
        given_name="Pat",
        family_name="Example",
        date_of_birth=dt.date(1950, 5, 1),
        ethnicity="WBRI",
        ethnicity_asked=True,
    )
    person_move_in(
        actor=worker,
        person=client,
        line_1="9 Care Close",
        town="Testford",
        postcode="TE9 9CC",
        started_on=dt.date(2000, 1, 1),
    )
    case = case_open(
        actor=worker,
        subject=client,
        team=team,
        received_on=TODAY - dt.timedelta(days=90),
        source="3A",
        reason="Needs support at home",
        allocated_worker=worker,
    )
    visit_record(
        actor=worker, case=case, visited_on=TODAY - dt.timedelta(days=3), subject_seen=True
    )
    supervision_record(
        actor=manager, case=case, held_on=TODAY - dt.timedelta(days=2), discussion="Ready"
    )
    consent_record(
        actor=worker,
        case=case,
        kind="share_information",
        given_by="Pat",
        given_on=TODAY - dt.timedelta(days=80),
        signed=True,
    )
    return case


def test_r002_a_full_closure_using_only_the_api(
    make_team: Callable[..., Team], make_staff: Callable[..., User]
) -> None:
    team = make_team("north", TeamFunction.ADULTS_LOCALITY, service_area="adults")
    worker = make_staff("adultworker", team)
    manager = make_staff("adultmanager", team, Role.TEAM_MANAGER)
    pack_bind(
        actor=None,
        authority=team.authority,
        service_area="adults",
        purpose="closure",
        pack_id="002-adults-closure",
    )
    case = _adult_case(worker, manager, team)
    api = Client()
    as_worker = {"Authorization": f"Bearer {api_token_create(actor=worker, name='t')[1]}"}
    as_manager = {"Authorization": f"Bearer {api_token_create(actor=manager, name='t')[1]}"}
    base = f"/api/v1/cases/{case.pk}"

    def send(method: str, path: str, body: object, headers: dict[str, str]) -> dict[str, object]:
        response = getattr(api, method)(
            f"{base}{path}", body, content_type="application/json", headers=headers
        )
        assert response.status_code in (200, 201), (path, response.json())
        result: dict[str, object] = response.json()
        return result

    proposed = send("post", "/closure", {"reason_id": "goals-achieved"}, as_worker)
    assert proposed["state"] == "proposed"
    # The answer reuses the record the proposal read (issue 10): it is exactly what reading
    # the closure afresh gives.
    assert api.get(f"{base}/closure", headers=as_worker).json() == proposed
    refused = api.post(
        f"{base}/closure/decision",
        {"outcome": "agreed", "note": "Agreed"},
        content_type="application/json",
        headers=as_manager,
    )
    assert refused.status_code == 400  # the discussion must be in the case notes first
    assert "case notes" in refused.json()["detail"]
    send(
        "post",
        "/notes",
        {
            "kind": "closure_discussion",
            "title": "Closure discussion",
            "body": "Goals achieved; agreed to close.",
            "occurred_on": TODAY.isoformat(),
        },
        as_manager,
    )
    assert (
        send("post", "/closure/decision", {"outcome": "agreed", "note": "Agreed"}, as_manager)[
            "state"
        ]
        == "agreed"
    )
    checklist = load_pack("002-adults-closure").spec.checklists["case-audit-tool"]
    for section in checklist.sections:
        for item in section.items:
            send(
                "put",
                f"/closure/checklists/case-audit-tool/items/{item.id}",
                {"answer": "yes", "note": "Seen on the record", "evidence_date": TODAY.isoformat()},
                as_manager,
            )
    send("post", "/closure/checklists/case-audit-tool/completion", {}, as_manager)
    closed = send("post", "/closure/authorisation", {}, as_manager)
    assert (closed["state"], closed["case_status"], closed["national_code"]) == (
        "closed",
        "closed",
        "NFA - Support ended - other reason",
    )
    # Once closed there is no closure in progress to act on.
    assert api.get(f"{base}/closure", headers=as_manager).status_code == 404
