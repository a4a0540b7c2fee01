"""The JSON API's first slice (issue 7): tokens, the same need to know as the screens,
problem documents for errors, keyset pages, and an idempotent visit."""

from __future__ import annotations

import datetime as dt
import inspect
import re
import threading
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone
from ninja import Schema

from casework.accounts.models import User
from casework.api import api as api_module
from casework.api.models import ApiToken
from casework.api.services import api_token_create, api_token_revoke
from casework.cases.models import Case, Visit
from casework.cases.services import case_close_imported
from casework.core.errors import NotPermitted
from casework.people.models import Person
from casework.tasks.services import task_schedule

TODAY = timezone.localdate().isoformat()


def bearer(user: User) -> dict[str, str]:
    _, plain = api_token_create(actor=user, name="tests")
    return {"Authorization": f"Bearer {plain}"}


def test_x02_a_token_sees_what_its_holder_sees_and_nothing_else(
    open_case: Case, worker: User, outsider: User
) -> None:
    client = Client()
    mine = client.get(f"/api/v1/cases/{open_case.pk}", headers=bearer(worker))
    assert mine.status_code == 200
    assert mine.json()["reference"] == open_case.reference
    theirs = client.get(f"/api/v1/cases/{open_case.pk}", headers=bearer(outsider))
    assert theirs.status_code == 404
    assert theirs.json()["detail"] == "There is no case with that reference that you can see."
    assert client.get("/api/v1/cases", headers=bearer(outsider)).json()["items"] == []


def test_no_token_or_a_revoked_one_is_a_401_problem(open_case: Case, worker: User) -> None:
    client = Client()
    missing = client.get("/api/v1/cases")
    assert missing.status_code == 401
    assert "Authorization: Bearer" in missing.json()["detail"]
    token, plain = api_token_create(actor=worker, name="to revoke")
    api_token_revoke(actor=worker, token=token)
    revoked = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {plain}"})
    assert revoked.status_code == 401
    # The session sign-in of the screens does not open the API.
    client.force_login(worker)
    assert client.get("/api/v1/cases").status_code == 401


def test_only_the_holder_or_an_administrator_revokes_a_token(worker: User, manager: User) -> None:
    token, _ = api_token_create(actor=worker, name="mine")
    with pytest.raises(NotPermitted):
        api_token_revoke(actor=manager, token=token)


def test_cases_come_a_page_at_a_time_with_a_cursor(
    open_case: Case, worker: User, child: Any, team_ai: Any
) -> None:
    from casework.cases.services import case_close_imported, case_open
    from casework.people.services import person_create

    for n in range(3):
        person = person_create(
            actor=worker,
            given_name=f"Kid{n}",
            family_name="Example",
            date_of_birth=dt.date(2015, 1, 1),
        )
        case_open(
            actor=worker,
            subject=person,
            team=team_ai,
            received_on=timezone.localdate() - dt.timedelta(days=n),
            source="6",
            reason="Concern",
        )
    case_close_imported(
        actor=None, case=open_case, closed_on=timezone.localdate(), reason_code="RC7", note="x"
    )
    client = Client()
    auth = bearer(worker)
    response = client.get("/api/v1/cases", {"limit": 2}, headers=auth)
    assert response.status_code == 200, response.json()
    first = response.json()
    assert len(first["items"]) == 2
    second = client.get("/api/v1/cases", {"limit": 2, "after": first["next"]}, headers=auth).json()
    assert second["next"] is None
    seen = [c["id"] for c in first["items"] + second["items"]]
    assert len(seen) == len(set(seen)) == 4
    closed = client.get("/api/v1/cases", {"status": "closed"}, headers=auth).json()["items"]
    assert [c["id"] for c in closed] == [open_case.pk]
    bad = client.get("/api/v1/cases", {"after": "yesterday"}, headers=auth)
    assert bad.status_code == 422
    assert "after" in bad.json()["errors"][0]["field"]


def test_a_visit_with_an_idempotency_key_is_recorded_once(open_case: Case, worker: User) -> None:
    client = Client()
    auth = {**bearer(worker), "Idempotency-Key": "visit-1"}
    body = {"visited_on": TODAY, "subject_seen": True, "seen_alone": True}
    url = f"/api/v1/cases/{open_case.pk}/visits"
    first = client.post(url, body, content_type="application/json", headers=auth)
    again = client.post(url, body, content_type="application/json", headers=auth)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert Visit.objects.filter(case=open_case).count() == 1
    # The same key for a different request is refused, and records nothing.
    other = client.post(
        url, {**body, "seen_alone": False}, content_type="application/json", headers=auth
    )
    assert other.status_code == 422
    assert "different request" in other.json()["detail"]
    assert Visit.objects.filter(case=open_case).count() == 1
    refused = client.post(
        url,
        {"visited_on": "2999-01-01", "subject_seen": True},
        content_type="application/json",
        headers=bearer(worker),
    )
    assert refused.status_code == 400
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["title"] == "Invalid input"
    assert Visit.objects.filter(case=open_case).count() == 1


def test_a_refused_action_is_not_remembered_so_a_retry_can_succeed(
    open_case: Case, worker: User
) -> None:
    """Only a success is replayed: a refusal changed nothing, so the same key may try again
    once the problem is put right (here, the case note that was missing its kind)."""
    client = Client()
    auth = {**bearer(worker), "Idempotency-Key": "note-1"}
    url = f"/api/v1/cases/{open_case.pk}/notes"
    body = {"title": "Call", "body": "Spoke to school", "occurred_on": TODAY}
    case_close_imported(
        actor=None, case=open_case, closed_on=timezone.localdate(), reason_code="RC8", note="x"
    )
    refused = client.post(url, body, content_type="application/json", headers=auth)
    assert refused.status_code == 400, refused.json()
    Case.objects.filter(pk=open_case.pk).update(status="open", closed_on=None)
    accepted = client.post(url, body, content_type="application/json", headers=auth)
    assert accepted.status_code == 201
    assert "Idempotent-Replayed" not in accepted.headers


@pytest.mark.django_db(transaction=True)
def test_two_copies_of_a_request_racing_in_with_one_key_act_once(
    open_case: Case, worker: User
) -> None:
    """A client that retries before its first request has answered: both copies get the same
    answer and one visit is recorded (the loser's action rolls back with its failed insert
    of the answer)."""
    auth = {**bearer(worker), "Idempotency-Key": "racing-visit"}
    url = f"/api/v1/cases/{open_case.pk}/visits"
    body = {"visited_on": TODAY, "subject_seen": True}
    barrier = threading.Barrier(2)
    answers: list[tuple[int, Any]] = []

    def post() -> None:
        try:
            barrier.wait(timeout=10)
            got = Client().post(url, body, content_type="application/json", headers=auth)
            answers.append((got.status_code, got.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [status for status, _ in answers] == [201, 201]
    assert answers[0][1] == answers[1][1]
    assert Visit.objects.filter(case=open_case).count() == 1


def test_the_openapi_description_says_errors_are_problem_documents() -> None:
    described = Client().get("/api/v1/openapi.json").json()
    visits = described["paths"]["/api/v1/cases/{case_id}/visits"]["post"]["responses"]
    assert set(visits["404"]["content"]) == {"application/problem+json"}
    assert set(visits["201"]["content"]) == {"application/json"}


# --- Need to know: a sweep of every route that takes an ID -----------------------------------

OPENAPI_PATH_PARAM = re.compile(r"{([a-z_]+)}")


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def minimal_valid(spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    """The smallest value the schema accepts, so that the route's own checks (here, need to
    know) answer rather than the schema's."""
    schema = _resolve(spec, schema)
    for choice in ("anyOf", "oneOf", "allOf"):
        if choice in schema:
            options = [o for o in schema[choice] if _resolve(spec, o).get("type") != "null"]
            return minimal_valid(spec, options[0])
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object":
        return {
            name: minimal_valid(spec, schema["properties"][name])
            for name in schema.get("required", [])
        }
    if kind == "array":
        return []
    if kind == "integer" or kind == "number":
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return True
    if schema.get("format") == "date":
        return TODAY
    if schema.get("format") == "date-time":
        return timezone.now().isoformat()
    if schema.get("format") == "binary":
        return SimpleUploadedFile("note.txt", b"A note.", content_type="text/plain")
    return "a"


def test_x02_every_api_route_with_an_id_is_404_to_another_team(
    open_case: Case, outsider: User, worker: User
) -> None:
    """X-02: the sweep reads the API's own description, finds every operation whose path
    takes an ID, and calls it as a worker from another team with a body the schema accepts:
    each answer is a 404. IDs are those of real records held by the case's team, so the
    answer comes from need to know, not from a record that does not exist."""
    task = task_schedule(
        key="sweep", case=open_case, title="Visit", role="social_worker", due_on=None
    )
    real_ids = {
        "case_id": open_case.pk,
        "person_id": open_case.subject_id,
        "task_id": task.pk,
    }
    spec = Client().get("/api/v1/openapi.json").json()
    client = Client()
    auth = bearer(outsider)
    swept = 0
    for path, operations in spec["paths"].items():
        params = OPENAPI_PATH_PARAM.findall(path)
        if not params:
            continue
        if "case_id" not in params:
            unknown = set(params) - set(real_ids)
            assert not unknown, f"{path}: add a real record for {unknown} to this sweep"
        url = path
        for name in params:
            # Other IDs on a case route are looked up through the case, which comes first.
            url = url.replace("{" + name + "}", str(real_ids.get(name, 1)))
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            kwargs: dict[str, Any] = {}
            if "application/json" in content:
                body = minimal_valid(spec, content["application/json"]["schema"])
                kwargs = {"data": body, "content_type": "application/json"}
            elif "multipart/form-data" in content:
                kwargs = {"data": minimal_valid(spec, content["multipart/form-data"]["schema"])}
            got = getattr(client, method)(url, headers=auth, **kwargs)
            assert got.status_code == 404, (method, url, got.status_code, got.content[:300])
            swept += 1
    # Guard against a sweep that quietly finds nothing.
    assert swept >= 30
    # The same calls as the case's own worker are not 404s (the IDs are real).
    mine = Client().get(f"/api/v1/people/{open_case.subject_id}", headers=bearer(worker))
    assert mine.status_code == 200


def test_the_browsable_docs_load_swagger_from_casework_not_a_cdn() -> None:
    page = Client().get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


def test_no_two_schemas_share_a_name() -> None:
    """The OpenAPI description keys schemas by class name: two `DecisionIn`s in different
    modules would silently describe one operation with the other's body."""
    seen: dict[str, str] = {}
    clashes = []
    for module in (api_module, *api_module.AREAS):
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, Schema)
                and value.__module__ == module.__name__
            ):
                if name in seen:
                    clashes.append(f"{name} in {seen[name]} and {module.__name__}")
                seen[name] = module.__name__
    assert not clashes


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            "[null, null]",
            "The request body must be a JSON object ({...}): check it and send again.",
        ),
        ('"x"', "The request body must be a JSON object ({...}): check it and send again."),
        ("{not json", "The request body is not valid JSON: check it and send again."),
        (
            '{"ids": [], "x": "a\\u0000b"}',
            "The request contains a NUL character (\\u0000), "
            "which no record can hold: remove it and send again.",
        ),
    ],
)
def test_a_body_that_is_not_a_clean_json_object_is_refused_before_anything_acts(
    open_case: Case, worker: User, body: str, detail: str
) -> None:
    got = Client().post(
        "/api/v1/notifications/read", body, content_type="application/json", headers=bearer(worker)
    )
    assert got.status_code == 400
    assert got.json()["detail"] == detail


def test_a_nul_character_is_refused_in_a_body_or_a_query_and_nothing_is_written(
    worker: User,
) -> None:
    """PostgreSQL text cannot hold NUL (the fuzzer found a server error adding a person)."""
    client = Client()
    added = client.post(
        "/api/v1/people",
        {"given_name": "Ro\u0000bin", "family_name": "Example"},
        content_type="application/json",
        headers=bearer(worker),
    )
    assert added.status_code == 400
    assert "NUL character" in added.json()["detail"]
    assert not Person.objects.filter(family_name="Example").exists()
    searched = client.get("/api/v1/people", {"q": "Ro\u0000bin"}, headers=bearer(worker))
    assert searched.status_code == 400
    assert "NUL character" in searched.json()["detail"]


def test_a_tokens_last_use_is_kept_to_within_minutes_without_a_write_per_request(
    open_case: Case, worker: User
) -> None:
    token, plain = api_token_create(actor=worker, name="reader")
    auth = {"Authorization": f"Bearer {plain}"}
    client = Client()
    client.get("/api/v1/tasks", headers=auth)
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None
    client.get("/api/v1/tasks", headers=auth)
    token.refresh_from_db()
    assert token.last_used_at == first_use
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first_use - dt.timedelta(minutes=6))
    client.get("/api/v1/tasks", headers=auth)
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.last_used_at > first_use - dt.timedelta(minutes=6)


def test_the_openapi_description_has_no_repeated_keys() -> None:
    """Swagger UI reads the description with a YAML parser that refuses a repeated key (such
    as a "200" written beside Ninja's own 200), and then draws nothing."""
    import json

    def refuse_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        repeated = {key for key in keys if keys.count(key) > 1}
        assert not repeated, f"repeated keys: {sorted(repeated)}"
        return dict(pairs)

    text = Client().get("/api/v1/openapi.json").content.decode()
    json.loads(text, object_pairs_hook=refuse_repeats)
