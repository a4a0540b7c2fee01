"""The JSON API's first slice (issue 7): tokens, the same need to know as the screens,
problem documents for errors, keyset pages, and an idempotent visit."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver
from django.utils import timezone

from casework.accounts.models import User
from casework.api.services import api_token_create, api_token_revoke
from casework.cases.models import Case, Visit
from casework.core.errors import NotPermitted

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
    assert Visit.objects.filter(case=open_case).count() == 1
    refused = client.post(
        url,
        {"visited_on": "2999-01-01", "subject_seen": True},
        content_type="application/json",
        headers=bearer(worker),
    )
    assert refused.status_code == 400
    assert refused.json()["title"] == "Invalid input"
    assert Visit.objects.filter(case=open_case).count() == 1


def _api_case_paths() -> list[str]:
    resolver = get_resolver()
    paths = []
    for pattern in resolver.url_patterns:
        if str(pattern.pattern) == "api/v1/":
            assert isinstance(pattern, URLResolver)
            for inner in pattern.url_patterns:
                if "case_id" in str(inner.pattern):
                    paths.append("/api/v1/" + str(inner.pattern))
    return sorted(set(paths))


# A valid body for each kind of action, so that the case check (not the body's) answers.
VALID_BODIES: dict[str, dict[str, object]] = {
    "visits": {"visited_on": TODAY, "subject_seen": True},
    "notes": {"title": "Note", "body": "Text", "occurred_on": TODAY},
    "closure": {"reason_id": "goals-achieved"},
    "decision": {"outcome": "agreed", "note": "Agreed"},
    "items": {"answer": "yes"},
}


def test_x02_every_api_path_with_a_case_id_is_404_to_another_team(
    open_case: Case, outsider: User
) -> None:
    """X-02: the sweep finds every API route that takes a case id and checks that a caller
    from another team gets a 404 from every method it serves, with a body it would accept."""
    paths = _api_case_paths()
    assert len(paths) >= 8
    client = Client()
    auth = bearer(outsider)
    for path in paths:
        url = re.sub(r"<(int:)?case_id>", str(open_case.pk), path)
        url = re.sub(r"<[^>]+>", "some-id", url)
        # The most specific segment names the action (`closure` is in all closure paths).
        segments = [seg for seg in url.split("/") if seg in VALID_BODIES]
        body = VALID_BODIES[segments[-1]] if segments else {}
        served = 0
        for method in ("get", "post", "put"):
            got = (
                getattr(client, method)(url, body, content_type="application/json", headers=auth)
                if method != "get"
                else client.get(url, headers=auth)
            )
            if got.status_code == 405:
                continue
            served += 1
            assert got.status_code == 404, (method, url, got.status_code, got.content[:200])
        assert served, url
