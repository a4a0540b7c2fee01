"""X-01 and X-02 together, as a property: whatever mix of reads and writes people do, through
the screens or the API, each read leaves exactly one access-log entry and no audit event, each
write exactly one audit event and no access-log entry, and a refused action leaves neither
(issue 9, "done when")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casework.accounts.models import User
from casework.api.services import api_token_create
from casework.audit.models import AccessEvent, AuditEvent
from casework.cases.models import Case
from casework.cases.services import document_upload

TODAY = timezone.localdate().isoformat()


@dataclass(frozen=True)
class Action:
    name: str
    # (access-log entries, audit events) the action must add
    adds: tuple[int, int]
    run: Callable[[World], int]  # returns the HTTP status


@dataclass
class World:
    case: Case
    web: Client
    outsider_web: Client
    api: dict[str, str]
    outsider_api: dict[str, str]
    document_id: int

    def get(self, url: str, *, api: bool = True, outsider: bool = False) -> int:
        if api:
            headers = self.outsider_api if outsider else self.api
            response = Client().get(url, headers=headers)
        else:
            response = (self.outsider_web if outsider else self.web).get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        return response.status_code

    def post(self, url: str, body: dict[str, object]) -> int:
        response = Client().post(url, body, content_type="application/json", headers=self.api)
        return response.status_code


def _case(w: World) -> str:
    return f"/api/v1/cases/{w.case.pk}"


ACTIONS = [
    Action("open the case page", (1, 0), lambda w: w.get(f"/cases/{w.case.pk}/", api=False)),
    Action(
        "open the documents page",
        (1, 0),
        lambda w: w.get(f"/cases/{w.case.pk}/documents/", api=False),
    ),
    Action(
        "download a document",
        (1, 0),
        lambda w: w.get(f"/cases/{w.case.pk}/documents/?document={w.document_id}", api=False),
    ),
    Action("read the case (API)", (1, 0), lambda w: w.get(_case(w))),
    Action("read the chronology (API)", (1, 0), lambda w: w.get(f"{_case(w)}/chronology")),
    Action("read the visits (API)", (1, 0), lambda w: w.get(f"{_case(w)}/visits")),
    Action(
        "read the person (API)",
        (1, 0),
        lambda w: w.get(f"/api/v1/people/{w.case.subject_id}"),
    ),
    Action(
        "read another team's case (refused)",
        (0, 0),
        lambda w: w.get(f"/cases/{w.case.pk}/", api=False, outsider=True),
    ),
    Action(
        "read another team's case by API (refused)",
        (0, 0),
        lambda w: w.get(_case(w), outsider=True),
    ),
    Action(
        "record a visit",
        (0, 1),
        lambda w: w.post(f"{_case(w)}/visits", {"visited_on": TODAY, "subject_seen": True}),
    ),
    Action(
        "add a case note",
        (0, 1),
        lambda w: w.post(
            f"{_case(w)}/notes",
            {"title": "Phone call", "body": "Spoke to school.", "occurred_on": TODAY},
        ),
    ),
    Action(
        "record a visit in the future (refused)",
        (0, 0),
        lambda w: w.post(f"{_case(w)}/visits", {"visited_on": "2999-01-01", "subject_seen": True}),
    ),
]


def _bearer(user: User) -> dict[str, str]:
    _, plain = api_token_create(actor=user, name="property")
    return {"Authorization": f"Bearer {plain}"}


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=8))
def test_x01_x02_each_read_is_one_access_entry_and_each_write_one_audit_event(
    actions: list[Action], open_case: Case, worker: User, outsider: User
) -> None:
    with transaction.atomic():
        document = document_upload(
            actor=worker,
            case=open_case,
            kind="other",
            title="Letter",
            upload=SimpleUploadedFile("letter.txt", b"hello", content_type="text/plain"),
        )
    web, outsider_web = Client(), Client()
    web.force_login(worker)
    outsider_web.force_login(outsider)
    world = World(open_case, web, outsider_web, _bearer(worker), _bearer(outsider), document.pk)
    for action in actions:
        access_before, audit_before = AccessEvent.objects.count(), AuditEvent.objects.count()
        last_access = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        status = action.run(world)
        added = (
            AccessEvent.objects.count() - access_before,
            AuditEvent.objects.count() - audit_before,
        )
        assert added == action.adds, f"{action.name} (HTTP {status}) added {added}"
        for entry in AccessEvent.objects.filter(id__gt=last_access):
            # Who looked, and at whose record.
            assert entry.actor == worker, action.name
            assert entry.person_id == open_case.subject_id, action.name
