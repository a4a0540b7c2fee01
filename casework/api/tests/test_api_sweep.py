"""X-02 (issue 9, "done when") for the API: every operation whose path takes an ID, read from
the API's own description, called with a body its schema accepts, as

- a worker and a team manager of another team in the same service area,
- a worker and the head of service of the other service area,
- the record's owner (the case's allocated worker, the task's holder) with their own token,
  after their account is disabled,

answers 404 or 403 (401 for the disabled owner's token, which no longer signs anyone in) with
none of the case's details in the body, and writes nothing. A member of the case's own team
whose role is below what an operation needs is refused it: `MANAGER_ONLY` lists those
operations with the role; every other ID-taking operation is in `ANY_TEAM_MEMBER`, and a new
one in neither fails the sweep until someone decides which it is.

The records are the web sweep's (casework/access/tests/test_sweep.py): real, in the state each
operation needs, made once for the module and rolled back after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client

from casework.access.tests.test_sweep import (
    DISABLED_OWNER,
    PERSONAS,
    TODAY,
    World,
    leaked,
    world,
)
from casework.accounts.models import User
from casework.api.tests.test_api import OPENAPI_PATH_PARAM, minimal_valid
from casework.audit.models import AuditEvent
from casework.organisation.models import Role

__all__ = ["world"]  # the module-scoped records, shared with the web sweep

SPEC: dict[str, Any] = {}


def spec() -> dict[str, Any]:
    if not SPEC:
        SPEC.update(Client().get("/api/v1/openapi.json").json())
    return SPEC


def _operations() -> list[str]:
    """Every "METHOD /path" whose path takes an ID, from the published description."""
    from casework.api.api import api

    described = api.get_openapi_schema()
    return sorted(
        f"{method.upper()} {path}"
        for path, operations in described["paths"].items()
        if OPENAPI_PATH_PARAM.search(path)
        for method in operations
    )


OPERATIONS = _operations()

C = "/api/v1/cases/{case_id}"

# IDs that are not integers: the pack's own names for a step, a checklist and its item, a
# form, a gate and a pathway.
NAMED_IDS = {
    "step_id": "decide-complexity",
    "checklist_id": "supervisor-audit",
    "item_id": "recording-up-to-date",
    "form_id": "closing-summary",
    "gate_id": "complexity-decided",
    "pathway_id": "transfer-out-looked-after",
}


@dataclass(frozen=True)
class Needs:
    """What an operation needs that a team member may lack (see the web sweep's Needs)."""

    role: str
    case: str = "closure"
    body: dict[str, Any] = field(default_factory=dict)
    lower: str = "colleague"
    ids: dict[str, str] = field(default_factory=dict)
    not_swept: str = ""


TM = Role.TEAM_MANAGER
AUDIT = {
    item: {"answer": "yes", "note": "Checked"}
    for item in ("chronology", "recording", "relationships", "genogram")
}

# Operations that need more than membership of the case's team, with the least role; found
# from the services' require_manager_for / holds_role_for_case / _require_role calls.
MANAGER_ONLY: dict[str, Needs] = {
    f"POST {C}/allocation": Needs(TM, body={"worker": None, "reason": "Rebalancing"}),
    f"PUT {C}/complexity": Needs(TM, body={"is_complex": False, "reason": "One issue"}),
    f"POST {C}/supervisions": Needs(TM, body={"discussion": "Caseload review"}),
    f"POST {C}/decisions": Needs(TM, body={"decision": "Agreed"}),
    # Authorising an assessment needs a manager; completing one without does not.
    f"POST {C}/assessments/{{assessment_id}}/completion": Needs(
        TM, body={"authorise": True, "outcome": "Done"}
    ),
    f"POST {C}/closure/decision": Needs(TM, body={"outcome": "agreed", "note": "Agreed"}),
    # Withdrawing someone else's proposal (its proposer may withdraw their own).
    f"POST {C}/closure/withdrawal": Needs(TM, body={"reason": "Not needed now"}),
    f"POST {C}/closure/steps/{{step_id}}/completion": Needs(TM, body={"note": "Not complex"}),
    f"PUT {C}/closure/checklists/{{checklist_id}}/items/{{item_id}}": Needs(
        TM, body={"answer": "yes", "note": "Checked"}
    ),
    f"POST {C}/closure/checklists/{{checklist_id}}/completion": Needs(TM),
    f"POST {C}/closure/authorisation": Needs(TM),
    f"POST {C}/closure/gates/{{gate_id}}/agreement": Needs(
        Role.SERVICE_MANAGER,
        not_swept="only procedure 002 (adults) names a gate that can be agreed past; its "
        "role check is tested in casework/closure/tests/test_requirements_002.py",
    ),
    f"POST {C}/transfer/discussion": Needs(TM, "transfer", body={"discussed_on": TODAY}),
    f"PUT {C}/transfer/audit": Needs(TM, "transfer", body={"answers": AUDIT}),
    f"POST {C}/transfer/authorisation": Needs(TM, "transfer"),
    # Withdrawing someone else's request (the worker who asked may withdraw their own).
    f"POST {C}/transfer/withdrawal": Needs(TM, "transfer", body={"reason": "Not needed now"}),
    f"POST {C}/transfer/decision": Needs(
        TM, "transfer_authorised", body={"accept": True}, lower="receiving"
    ),
    f"POST {C}/transfer/completion": Needs(TM, "transfer_accepted"),
    f"POST {C}/pathway-requests/{{request_id}}/decision": Needs(
        TM, "placement", body={"outcome": "notified", "rationale": "Letter sent"}
    ),
    # A task for the team manager's role is not the worker's to do.
    "POST /api/v1/tasks/{task_id}/done": Needs(TM, ids={"task_id": "manager_task_id"}),
}

# Operations any member of the team holding the case may use (the service still checks the
# state, and the role a pack names for a step or a signature).
ANY_TEAM_MEMBER = {
    f"GET {C}",
    f"GET {C}/chronology",
    f"GET {C}/closure-readiness",
    f"GET {C}/referrals",
    f"POST {C}/referrals",
    f"PUT {C}/risk-flags",
    f"POST {C}/re-referral-review",
    f"GET {C}/visits",
    f"POST {C}/visits",
    f"GET {C}/notes",
    f"POST {C}/notes",
    f"GET {C}/assessments",
    f"POST {C}/assessments",
    f"GET {C}/plans",
    f"POST {C}/plans",
    f"POST {C}/plans/{{plan_id}}/end",
    f"GET {C}/meetings",
    f"POST {C}/meetings",
    f"GET {C}/supervisions",
    f"GET {C}/decisions",
    "GET /api/v1/people/{person_id}",
    "PATCH /api/v1/people/{person_id}",
    f"GET {C}/closure",
    f"POST {C}/closure",
    f"GET {C}/closure/further-actions",
    f"POST {C}/closure/further-actions/{{action_id}}/completion",
    f"POST {C}/closure/resubmission",
    f"POST {C}/closure/finish",
    f"GET {C}/closure/forms/{{form_id}}",
    f"PUT {C}/closure/forms/{{form_id}}",
    f"POST {C}/closure/forms/{{form_id}}/submission",
    f"POST {C}/closure/forms/{{form_id}}/signatures",
    f"POST {C}/closure/forms/{{form_id}}/sharings",
    f"GET {C}/closure/documents",
    f"GET {C}/closure/documents/{{document_id}}/pdf",
    f"GET {C}/transfer",
    f"POST {C}/transfer",
    f"GET {C}/transfers",
    f"GET {C}/transfer/recommendations",
    f"GET {C}/transfer/summary",
    f"PUT {C}/transfer/summary",
    f"GET {C}/transfer/audit",
    f"GET {C}/pathways",
    f"GET {C}/pathway-requests",
    f"POST {C}/pathways/{{pathway_id}}/requests",
    f"POST {C}/pathway-requests/{{request_id}}/closure",
    f"GET {C}/pathway-requests/{{request_id}}/letter",
    f"GET {C}/documents",
    f"POST {C}/documents",
    f"GET {C}/documents/{{document_id}}",
    f"GET {C}/documents/{{document_id}}/content",
    "POST /api/v1/tasks/{task_id}/done",
}


def case_key(operation: str) -> str:
    """The swept case in the state where the operation acts."""
    path = operation.split(" ", 1)[1]
    if "/transfer/decision" in path:
        return "transfer_authorised"
    if "/transfer/completion" in path:
        return "transfer_accepted"
    if "/transfer" in path:
        return "transfer"
    if "/pathway" in path:
        return "placement"
    if "/closure/documents" in path or "/closure/forms" in path:
        return "signed"
    return "closure"


def url_for(world: World, operation: str, ids: dict[str, str] | None = None) -> str:
    path = operation.split(" ", 1)[1]
    key = case_key(operation)
    for name in OPENAPI_PATH_PARAM.findall(path):
        source = (ids or {}).get(name, name)
        if name == "case_id":
            value: object = world.cases[key].case.pk
        elif name == "person_id":
            value = world.cases[key].case.subject_id
        elif name == "document_id" and "/closure/" in path:
            value = world.ids["signed_document_id"]
        elif name in NAMED_IDS:
            value = NAMED_IDS[name]
        else:
            assert source in world.ids, f"{operation}: add a real record for '{name}'"
            value = world.ids[source]
        path = path.replace("{" + name + "}", str(value))
    return path


def body_for(operation: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Keyword arguments for the test client: a body the operation's schema accepts."""
    method, path = operation.split(" ", 1)
    described = spec()["paths"][path][method.lower()]
    content = described.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        body = minimal_valid(spec(), content["application/json"]["schema"]) | (extra or {})
        return {"data": body, "content_type": "application/json"}
    if "multipart/form-data" in content:
        return {"data": minimal_valid(spec(), content["multipart/form-data"]["schema"])}
    return {}


def call(world: World, user: User | None, operation: str, **kwargs: Any) -> Any:
    method = operation.split(" ", 1)[0].lower()
    headers = {"Authorization": f"Bearer {world.token_for(user)}"} if user else {}
    url = kwargs.pop("url", None) or url_for(world, operation)
    return getattr(Client(), method)(url, headers=headers, **kwargs)


def owner_of(world: World, operation: str) -> User:
    if "{task_id}" in operation:
        return world.owners["task_id"]
    return world.cases[case_key(operation)].owner


# --- The sweep --------------------------------------------------------------------------------


def test_x02_the_api_sweep_finds_the_operations_that_take_ids() -> None:
    assert f"GET {C}" in OPERATIONS
    assert len(OPERATIONS) >= 60


def test_x02_every_api_operation_with_an_id_is_classified() -> None:
    """A new operation that takes an ID fails here until it is listed as open to any team
    member or in MANAGER_ONLY with the role it needs."""
    unclassified = set(OPERATIONS) - ANY_TEAM_MEMBER - set(MANAGER_ONLY)
    assert not unclassified, f"Classify these in {__name__}: {sorted(unclassified)}"
    assert not (ANY_TEAM_MEMBER | set(MANAGER_ONLY)) - set(OPERATIONS)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_x02_every_api_operation_with_an_id_refuses_those_with_no_need_to_know(
    world: World, db: None, operation: str, persona: str
) -> None:
    """X-02: as someone with no need to know, a 404 or 403 with none of the record's details
    in it; a disabled owner's token is a 401; nothing is written."""
    if persona == DISABLED_OWNER:
        user = owner_of(world, operation)
        token = world.token_for(user)
        User.objects.filter(pk=user.pk).update(is_active=False)
        headers = {"Authorization": f"Bearer {token}"}
        method = operation.split(" ", 1)[0].lower()
        before = AuditEvent.objects.count()
        answer = getattr(Client(), method)(
            url_for(world, operation), headers=headers, **body_for(operation)
        )
        assert answer.status_code in (401, 403, 404), (operation, answer.status_code)
    else:
        user = world.personas[persona]
        before = AuditEvent.objects.count()
        answer = call(world, user, operation, **body_for(operation))
        assert answer.status_code in (403, 404), (operation, persona, answer.status_code)
    assert not leaked(world, answer), (operation, persona, leaked(world, answer))
    assert AuditEvent.objects.count() == before


READS = [o for o in OPERATIONS if o.startswith("GET ") and "{action_id}" not in o]


@pytest.mark.parametrize("operation", READS)
def test_x02_the_swept_ids_are_real_records_their_owner_can_read(
    world: World, db: None, operation: str
) -> None:
    """The control: each read, as the record's owner, answers 200, so the refusals above
    come from need to know, not from an ID that does not exist."""
    answer = call(world, owner_of(world, operation), operation)
    assert answer.status_code == 200, (operation, answer.status_code, answer.content[:300])


@pytest.mark.parametrize("operation", sorted(MANAGER_ONLY))
def test_x02_a_lower_role_in_the_team_is_refused_what_needs_a_manager_through_the_api(
    world: World, db: None, operation: str
) -> None:
    """X-02: a social worker of the team (or of the team asked to take the case), with their
    own token, is refused the manager's operation with the case in the state where a manager
    could do it, and nothing is written."""
    needs = MANAGER_ONLY[operation]
    if needs.not_swept:
        pytest.skip(f"{operation}: {needs.not_swept}")
    swept = world.cases[needs.case]
    lower = world.users["lac_colleague"] if needs.lower == "receiving" else swept.colleague
    before = AuditEvent.objects.count()
    answer = call(
        world,
        lower,
        operation,
        url=url_for(world, operation, needs.ids),
        **body_for(operation, needs.body),
    )
    assert answer.status_code in (403, 404), (operation, answer.status_code, answer.content[:300])
    assert AuditEvent.objects.count() == before
