"""The API's records (issue 7): people, referrals, assessments, plans, meetings, documents,
tasks, reports and exports, over the same services and need to know as the screens."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from casework.accounts.models import User
from casework.api.models import IdempotentRequest
from casework.api.services import api_token_create
from casework.audit.models import AuditEvent
from casework.cases.models import Case, CaseStatus, Document
from casework.cases.services import case_close_imported
from casework.organisation.models import Role, Team, TeamFunction
from casework.people.models import Person
from casework.policy.services import pack_bind
from casework.tasks.models import Notification, TaskStatus
from casework.tasks.services import task_schedule

TODAY = timezone.localdate()
JSON = "application/json"


class Caller:
    """A client that always sends its holder's token."""

    def __init__(self, user: User) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {api_token_create(actor=user, name='t')[1]}"}

    def get(self, url: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get(f"/api/v1{url}", params or {}, headers=self.headers)

    def post(self, url: str, body: dict[str, Any] | None = None, **headers: str) -> Any:
        return self.client.post(
            f"/api/v1{url}", body or {}, content_type=JSON, headers={**self.headers, **headers}
        )

    def patch(self, url: str, body: dict[str, Any]) -> Any:
        return self.client.patch(f"/api/v1{url}", body, content_type=JSON, headers=self.headers)

    def upload(self, url: str, fields: dict[str, Any]) -> Any:
        return self.client.post(f"/api/v1{url}", fields, headers=self.headers)


@pytest.fixture
def front_door(make_team: Callable[..., Team]) -> Team:
    return make_team("mash", TeamFunction.FRONT_DOOR)


@pytest.fixture
def intake(make_staff: Callable[..., User], front_door: Team) -> User:
    return make_staff("intake", front_door)


def test_x01_front_door_adds_a_person_and_opens_a_case_through_the_api(
    intake: User, front_door: Team
) -> None:
    """The journey of a partner portal: search, add the person, open the case, add a later
    contact; each step is on the record (X-01)."""
    api = Caller(intake)
    assert api.get("/people", {"q": "Robin Newcome"}).json() == []
    added = api.post(
        "/people",
        {
            "given_name": "Robin",
            "family_name": "Newcome",
            "date_of_birth": "2016-03-04",
            "sex": "F",
        },
    )
    assert added.status_code == 201, added.json()
    person_id = added.json()["id"]
    assert added.json()["local_id"].startswith("P")
    # adding someone does not open their record to the front door; the case does.
    assert api.get(f"/people/{person_id}").status_code == 404

    referral = {
        "person_id": person_id,
        "team": "mash",
        "received_on": TODAY.isoformat(),
        "source": "2A",
        "reason": "School worried about bruising.",
        "primary_need": "N1",
        "allocate_to_me": True,
    }
    # `true` is not person 1.
    assert api.post("/referrals", {**referral, "person_id": True}).status_code == 422
    opened = api.post("/referrals", referral)
    assert opened.status_code == 201, opened.json()
    case = opened.json()["case"]
    assert case["team"] == "mash"
    assert case["allocated_worker"] == "intake"
    assert opened.json()["referral"]["source"] == "2A"
    assert opened.json()["known_before"] is None
    assert api.get(f"/people/{person_id}").json()["family_name"] == "Newcome"

    # A second referral for a child with an open case is refused, saying what to do instead.
    again = api.post("/referrals", referral)
    assert again.status_code == 400
    assert "already has an open case" in again.json()["detail"]
    assert Case.objects.filter(subject_id=person_id).count() == 1

    contact = api.post(
        f"/cases/{case['id']}/referrals",
        {"received_on": TODAY.isoformat(), "source": "5A", "reason": "Police notification."},
    )
    assert contact.status_code == 201, contact.json()
    assert contact.json()["kind"] == "contact"
    listed = api.get(f"/cases/{case['id']}/referrals").json()["items"]
    assert len(listed) == 2
    verbs = set(AuditEvent.objects.filter(case_id=case["id"]).values_list("verb", flat=True))
    assert {"case.opened", "referral.recorded"} <= verbs


def test_r003_07_a_referral_for_a_family_known_before_brings_back_the_last_episode(
    open_case: Case, worker: User
) -> None:
    case_close_imported(
        actor=None,
        case=open_case,
        closed_on=TODAY - dt.timedelta(days=10),
        reason_code="RC8",
        note="Closed",
    )
    api = Caller(worker)
    opened = api.post(
        "/referrals",
        {
            "person_id": open_case.subject_id,
            "team": "ai",
            "received_on": TODAY.isoformat(),
            "source": "2A",
            "reason": "New worries from school.",
        },
    )
    assert opened.status_code == 201, opened.json()
    known = opened.json()["known_before"]
    assert known["earlier_case_id"] == open_case.pk
    assert known["is_re_referral"] is True


def test_a_referral_cannot_be_opened_in_someone_elses_team_or_for_an_unseen_person(
    open_case: Case, outsider: User, child: Person
) -> None:
    api = Caller(outsider)
    body = {
        "person_id": child.pk,
        "team": "sgcp",
        "received_on": TODAY.isoformat(),
        "source": "2A",
        "reason": "x",
    }
    # The outsider is not at the front door and has no case for this child.
    assert api.post("/referrals", body).status_code == 404
    assert api.post("/referrals", {**body, "team": "nope"}).status_code == 404


def test_x01_a_persons_details_are_corrected_with_a_reason_on_the_record(
    open_case: Case, worker: User, child: Person
) -> None:
    api = Caller(worker)
    changed = api.patch(
        f"/people/{child.pk}", {"other_names": "Lex", "reason": "Known as Lex at school"}
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["other_names"] == "Lex"
    assert changed.json()["given_name"] == "Alex"  # untouched: only what was sent changes
    event = AuditEvent.objects.filter(verb="person.updated", person=child).get()
    assert event.reason == "Known as Lex at school"
    bad = api.patch(f"/people/{child.pk}", {"nhs_number": "1234567890"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "nhs_number"
    cleared = api.patch(f"/people/{child.pk}", {"other_names": None})
    assert cleared.json()["other_names"] == ""
    assert api.patch(f"/people/{child.pk}", {"date_of_birth": 0}).status_code == 422


def test_assessments_and_plans_follow_the_same_rules_as_the_screens(
    open_case: Case, worker: User
) -> None:
    api = Caller(worker)
    base = f"/cases/{open_case.pk}"
    started = api.post(f"{base}/assessments", {"kind": "single", "started_on": TODAY.isoformat()})
    assert started.status_code == 201, started.json()
    twice = api.post(f"{base}/assessments", {"kind": "single", "started_on": TODAY.isoformat()})
    assert twice.status_code == 400
    assert "already in progress" in twice.json()["detail"]
    assessment = started.json()["id"]
    early = api.post(
        f"{base}/assessments/{assessment}/completion",
        {"completed_on": (TODAY - dt.timedelta(days=1)).isoformat(), "outcome": "CiN plan"},
    )
    assert early.status_code == 400
    assert early.json()["errors"][0]["field"] == "completed_on"
    done = api.post(
        f"{base}/assessments/{assessment}/completion",
        {"completed_on": TODAY.isoformat(), "outcome": "CiN plan", "factors": ["2B", "3B"]},
    )
    assert done.status_code == 200, done.json()
    assert done.json()["factors"] == ["2B", "3B"]

    no_category = api.post(f"{base}/plans", {"kind": "cp", "started_on": TODAY.isoformat()})
    assert no_category.status_code == 400
    assert no_category.json()["errors"][0]["field"] == "category"
    cin = api.post(f"{base}/plans", {"kind": "cin", "started_on": TODAY.isoformat()})
    assert cin.status_code == 201
    # CIN census rule: a CP plan cannot start while the CiN plan is open.
    clash = api.post(
        f"{base}/plans", {"kind": "cp", "started_on": TODAY.isoformat(), "category": "NEG"}
    )
    assert clash.status_code == 400
    assert "cannot run at the same time" in clash.json()["detail"]
    ended = api.post(
        f"{base}/plans/{cin.json()['id']}/end", {"ended_on": TODAY.isoformat(), "outcome": "CP"}
    )
    assert ended.status_code == 200
    assert ended.json()["ended_on"] == TODAY.isoformat()
    assert [p["kind"] for p in api.get(f"{base}/plans").json()] == ["cin"]


def test_meetings_visits_and_notes_are_listed_newest_first(open_case: Case, worker: User) -> None:
    api = Caller(worker)
    base = f"/cases/{open_case.pk}"
    for days_ago in (5, 1):
        held = (TODAY - dt.timedelta(days=days_ago)).isoformat()
        made = api.post(
            f"{base}/meetings",
            {
                "kind": "cin_review",
                "held_on": held,
                "attendees": [{"name": "Head teacher", "role": "School"}],
            },
        )
        assert made.status_code == 201, made.json()
    meetings = api.get(f"{base}/meetings").json()["items"]
    assert [m["held_on"] for m in meetings] == sorted(
        (m["held_on"] for m in meetings), reverse=True
    )
    assert meetings[0]["attendees"] == [{"name": "Head teacher", "role": "School"}]
    nameless = api.post(
        f"{base}/meetings",
        {"kind": "cin_review", "held_on": TODAY.isoformat(), "attendees": [{"name": ""}]},
    )
    assert nameless.status_code == 422
    api.post(f"{base}/visits", {"visited_on": TODAY.isoformat(), "subject_seen": True})
    assert api.get(f"{base}/visits").json()["items"][0]["visited_by"] == "worker"
    api.post(
        f"{base}/notes", {"title": "Call", "body": "Rang mum", "occurred_on": TODAY.isoformat()}
    )
    assert api.get(f"{base}/notes").json()["items"][0]["title"] == "Call"


def test_documents_are_uploaded_sniffed_and_downloaded(open_case: Case, worker: User) -> None:
    api = Caller(worker)
    base = f"/cases/{open_case.pk}/documents"
    made = api.upload(
        base,
        {
            "kind": "minutes",
            "title": "Core group minutes",
            "upload": SimpleUploadedFile("minutes.txt", b"Agreed actions.", "text/plain"),
        },
    )
    assert made.status_code == 201, made.json()
    document = made.json()
    assert document["content_type"] == "text/plain"
    assert document["size_bytes"] == len(b"Agreed actions.")
    content = api.client.get(document["content_url"], headers=api.headers)
    assert content.status_code == 200
    assert content.getvalue() == b"Agreed actions."
    assert content["Content-Type"] == "text/plain"
    # A program dressed up as a PDF is refused, and nothing is stored.
    disguised = api.upload(
        base,
        {
            "kind": "report",
            "title": "Report",
            "upload": SimpleUploadedFile("report.pdf", b"MZ\x90\x00\x03", "application/pdf"),
        },
    )
    assert disguised.status_code == 400
    assert "PDF, PNG, JPEG or plain text" in disguised.json()["detail"]
    assert Document.objects.filter(case=open_case).count() == 1
    assert [d["title"] for d in api.get(base).json()["items"]] == ["Core group minutes"]


def test_tasks_are_listed_for_their_holder_and_marked_done_once(
    open_case: Case, worker: User, manager: User
) -> None:
    task = task_schedule(
        key="t1",
        case=open_case,
        title="Visit within 10 days",
        role=Role.SOCIAL_WORKER,
        due_on=TODAY,
    )
    api = Caller(worker)
    assert [t["id"] for t in api.get("/tasks").json()] == [task.pk]
    done = api.post(f"/tasks/{task.pk}/done")
    assert done.status_code == 200
    assert done.json()["status"] == TaskStatus.DONE
    assert api.post(f"/tasks/{task.pk}/done").status_code == 404
    assert api.get("/tasks").json() == []


def test_reports_and_the_case_export_count_only_what_the_caller_may_see(
    open_case: Case, worker: User, manager: User, outsider: User
) -> None:
    task_schedule(
        key="late",
        case=open_case,
        title="Visit",
        role=Role.SOCIAL_WORKER,
        due_on=TODAY - dt.timedelta(days=3),
    )
    overdue = Caller(manager).get("/reports/overdue-by-worker").json()
    assert overdue == [
        {
            "worker": "Worker Tester",
            "overdue": 1,
            "oldest_due": (TODAY - dt.timedelta(days=3)).isoformat(),
        }
    ]
    assert Caller(outsider).get("/reports/overdue-by-worker").json() == []

    exported = Caller(worker).get("/exports/cases.csv", {"status": "open"})
    assert exported["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert rows[0][0] == "reference"
    assert [r[0] for r in rows[1:]] == [open_case.reference]
    empty = Caller(outsider).get("/exports/cases.csv")
    rows = list(csv.reader(io.StringIO(b"".join(empty.streaming_content).decode())))
    assert len(rows) == 1
    closed_only = Caller(worker).get("/exports/cases.csv", {"status": CaseStatus.CLOSED})
    assert len(list(csv.reader(io.StringIO(b"".join(closed_only.streaming_content).decode())))) == 1


def test_cases_and_the_chronology_filter_by_dates(open_case: Case, worker: User) -> None:
    api = Caller(worker)
    opened = open_case.opened_on
    assert [
        c["id"] for c in api.get("/cases", {"opened_from": opened.isoformat()}).json()["items"]
    ] == [open_case.pk]
    after = (opened + dt.timedelta(days=1)).isoformat()
    assert api.get("/cases", {"opened_from": after}).json()["items"] == []
    assert api.get("/cases", {"opened_to": "yesterday"}).status_code == 422
    api.post(
        f"/cases/{open_case.pk}/visits", {"visited_on": TODAY.isoformat(), "subject_seen": True}
    )
    visits = api.get(
        f"/cases/{open_case.pk}/chronology",
        {"category": "visit", "occurred_from": TODAY.isoformat()},
    ).json()["items"]
    assert [e["verb"] for e in visits] == ["visit.recorded"]
    before = api.get(
        f"/cases/{open_case.pk}/chronology",
        {"occurred_to": (opened - dt.timedelta(days=1)).isoformat()},
    ).json()["items"]
    assert before == []


def test_a_manager_allocates_decides_complexity_and_flags_risk_with_reasons(
    open_case: Case, worker: User, manager: User, outsider: User
) -> None:
    """X-01: each change carries its reason on the record; only a manager may make it."""
    boss, staff = Caller(manager), Caller(worker)
    base = f"/cases/{open_case.pk}"
    refused = staff.post(f"{base}/complexity", {"is_complex": True, "reason": "x"})
    assert refused.status_code == 405  # PUT, not POST
    by_worker = staff.client.put(
        f"/api/v1{base}/complexity",
        {"is_complex": True, "reason": "Several agencies"},
        content_type=JSON,
        headers=staff.headers,
    )
    assert by_worker.status_code == 403
    decided = boss.client.put(
        f"/api/v1{base}/complexity",
        {"is_complex": True, "reason": "Several agencies and a court order"},
        content_type=JSON,
        headers=boss.headers,
    )
    assert decided.status_code == 200, decided.json()
    assert decided.json()["is_complex"] is True
    flagged = boss.client.put(
        f"/api/v1{base}/risk-flags",
        {"flags": ["high_risk", "domestic_abuse"], "reason": "MARAC referral"},
        content_type=JSON,
        headers=boss.headers,
    )
    assert flagged.status_code == 200, flagged.json()
    assert sorted(flagged.json()["risk_flags"]) == ["domestic_abuse", "high_risk"]
    unallocated = boss.post(f"{base}/allocation", {"worker": None, "started_on": TODAY.isoformat()})
    assert unallocated.status_code == 200, unallocated.json()
    assert unallocated.json()["allocated_worker"] is None
    elsewhere = boss.post(
        f"{base}/allocation", {"worker": "outsider", "started_on": TODAY.isoformat()}
    )
    assert elsewhere.status_code == 400
    assert elsewhere.json()["errors"][0]["field"] == "worker"
    reasons = AuditEvent.objects.filter(case=open_case).values_list("reason", flat=True)
    assert "MARAC referral" in reasons


def test_supervision_and_managers_decisions_are_recorded_by_a_manager(
    open_case: Case, worker: User, manager: User
) -> None:
    base = f"/cases/{open_case.pk}"
    supervision = {"held_on": TODAY.isoformat(), "discussion": "Progress on the plan"}
    assert Caller(worker).post(f"{base}/supervisions", supervision).status_code == 403
    boss = Caller(manager)
    made = boss.post(f"{base}/supervisions", supervision)
    assert made.status_code == 201, made.json()
    assert made.json()["worker"] == "worker"
    assert boss.get(f"{base}/supervisions").json()["items"][0]["supervisor"] == "manager"
    decision = {
        "kind": "advise_closure",
        "decided_on": TODAY.isoformat(),
        "decision": "Close at the next review",
        "rationale": "Plan achieved",
    }
    recorded = boss.post(f"{base}/decisions", decision)
    assert recorded.status_code == 201, recorded.json()
    assert boss.get(f"{base}/decisions").json()["items"][0]["kind"] == "advise_closure"


def test_notifications_are_listed_and_marked_read_by_their_recipient_only(
    open_case: Case, worker: User, manager: User
) -> None:
    mine = Notification.objects.create(
        key="n1", recipient=worker, case=open_case, event="closure.proposed", message="Hello"
    )
    theirs = Notification.objects.create(
        key="n2", recipient=manager, case=open_case, event="closure.proposed", message="Hi"
    )
    api = Caller(worker)
    assert [n["id"] for n in api.get("/notifications").json()] == [mine.pk]
    marked = api.post("/notifications/read", {"ids": [mine.pk, theirs.pk]})
    assert marked.json() == {"marked_read": 1}
    assert api.get("/notifications").json() == []
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_r003_07_the_front_door_records_its_judgements_on_a_returning_family(
    authority: Any, open_case: Case, worker: User
) -> None:
    pack_bind(
        actor=None,
        authority=authority,
        service_area="children",
        purpose="closure",
        pack_id="003-ending-interventions",
    )
    case_close_imported(
        actor=None,
        case=open_case,
        closed_on=TODAY - dt.timedelta(days=20),
        reason_code="RC8",
        note="Closed",
    )
    api = Caller(worker)
    opened = api.post(
        "/referrals",
        {
            "person_id": open_case.subject_id,
            "team": "ai",
            "received_on": TODAY.isoformat(),
            "source": "2A",
            "reason": "School again",
        },
    ).json()["case"]
    url = f"/cases/{opened['id']}/re-referral-review"
    answers = {
        "further_statutory_intervention_needed": True,
        "parent_following_arrangements": False,
        "agencies_completed_support": True,
        "analysis": "Arrangements have lapsed since the summer.",
    }
    typed_wrong = api.post(url, {"answers": {**answers, "parent_following_arrangements": "no"}})
    assert typed_wrong.status_code == 400
    assert typed_wrong.json()["errors"][0]["field"] == "parent_following_arrangements"
    recorded = api.post(url, {"answers": answers})
    assert recorded.status_code == 201, recorded.json()
    assert recorded.json()["earlier_case_id"] == open_case.pk
    assert AuditEvent.objects.filter(verb="referral.re_referral_reviewed").count() == 1


def test_a_retried_upload_is_stored_once_and_a_different_file_under_the_same_key_is_refused(
    open_case: Case, worker: User
) -> None:
    api = Caller(worker)
    url = f"/api/v1/cases/{open_case.pk}/documents"

    def send(title: str, name: str, content: bytes) -> Any:
        upload = SimpleUploadedFile(name, content, "text/plain")
        return api.client.post(
            url,
            {"kind": "letter", "title": title, "upload": upload},
            headers={**api.headers, "Idempotency-Key": "upload-1"},
        )

    first = send("Letter A", "a.txt", b"Letter one")
    again = send("Letter A", "a.txt", b"Letter one")
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    other = send("Letter B", "b.txt", b"Letter two")  # same size, different file
    assert other.status_code == 422
    assert Document.objects.filter(case=open_case).count() == 1


def test_an_idempotency_key_is_free_again_after_a_day(open_case: Case, worker: User) -> None:
    api = Caller(worker)
    body = {"visited_on": TODAY.isoformat(), "subject_seen": True}
    url = f"/cases/{open_case.pk}/visits"
    assert api.post(url, body, **{"Idempotency-Key": "v-1"}).status_code == 201
    IdempotentRequest.objects.filter(key="v-1").update(
        created_at=timezone.now() - dt.timedelta(days=2)
    )
    again = api.post(url, body, **{"Idempotency-Key": "v-1"})
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers
    assert open_case.visits.count() == 2


def test_x02_intake_staff_do_not_read_or_change_people_they_have_no_case_for(
    open_case: Case, intake: User
) -> None:
    """The front door may search everyone to find a family known before, and open a referral
    for them, but reading or correcting a person's whole record needs a case they can see."""
    api = Caller(intake)
    assert api.get(f"/people/{open_case.subject_id}").status_code == 404
    assert api.patch(f"/people/{open_case.subject_id}", {"family_name": "X"}).status_code == 404
