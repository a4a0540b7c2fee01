"""Exceptions to need to know (X-02; issue 9 items 1 and 2): records restricted to named
people, emergency ("break-glass") access with a reason that ends at midnight and waits for a
manager's review, and the access log with its "who has seen this record" page."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.utils import timezone

from casework.access.models import EmergencyAccess, EmergencyOutcome
from casework.access.policy import cases_visible_to
from casework.access.services import (
    emergency_access_open,
    emergency_access_review,
    restriction_lift,
    restriction_name,
    restriction_place,
)
from casework.accounts.models import User
from casework.api.services import api_token_create
from casework.audit.integrity import audit_redaction
from casework.audit.models import (
    AccessAction,
    AccessChannel,
    AccessEvent,
    AppendOnlyError,
    AuditEvent,
)
from casework.cases.models import Case
from casework.cases.services import document_upload
from casework.core.errors import Conflict, InvalidInput, NotPermitted
from casework.organisation.models import Role, Team
from casework.people.selectors import people_visible_to
from casework.tasks.models import Notification

LONDON = zoneinfo.ZoneInfo("Europe/London")


def _bearer(user: User) -> dict[str, str]:
    _, plain = api_token_create(actor=user, name="tests")
    return {"Authorization": f"Bearer {plain}"}


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def outsider_manager(make_staff: Callable[..., User], team_sgcp: Team) -> User:
    return make_staff("sgcpmanager", team_sgcp, Role.TEAM_MANAGER)


# --- Restricted records ---------------------------------------------------------------------


def test_x02_a_restricted_record_is_seen_only_by_the_people_named(
    open_case: Case, worker: User, manager: User, make_staff: Callable[..., User], team_ai: Team
) -> None:
    colleague = make_staff("colleague", team_ai)
    head = make_staff("head", team_ai, Role.HEAD_OF_SERVICE)
    assert cases_visible_to(colleague).filter(pk=open_case.pk).exists()

    restriction = restriction_place(
        actor=manager, case=open_case, reason="The child's mother works in this team."
    )

    # The manager who restricted and the allocated worker are named; nobody else sees it,
    # not even a head of service across the area.
    named = set(restriction.names.values_list("user__username", flat=True))
    assert named == {"manager", "worker"}
    for user in (worker, manager):
        assert cases_visible_to(user).filter(pk=open_case.pk).exists()
        assert _client(user).get(f"/cases/{open_case.pk}/").status_code == 200
    for user in (colleague, head):
        assert not cases_visible_to(user).filter(pk=open_case.pk).exists()
        assert not people_visible_to(user).filter(pk=open_case.subject_id).exists()
        page = _client(user).get(f"/cases/{open_case.pk}/")
        assert page.status_code == 404
        assert "Example" not in page.content.decode()
        api = Client().get(f"/api/v1/people/{open_case.subject_id}", headers=_bearer(user))
        assert api.status_code == 404

    restriction_name(actor=manager, case=open_case, user=colleague)
    assert cases_visible_to(colleague).filter(pk=open_case.pk).exists()
    assert not cases_visible_to(head).filter(pk=open_case.pk).exists()

    restriction_lift(actor=manager, case=open_case, reason="The parent has left the council.")
    assert cases_visible_to(head).filter(pk=open_case.pk).exists()
    verbs = list(
        AuditEvent.objects.filter(case=open_case, category="access").values_list("verb", flat=True)
    )
    assert sorted(verbs) == [
        "access.restricted",
        "access.restriction_lifted",
        "access.restriction_named",
    ]


def test_x02_only_a_manager_restricts_and_a_second_restriction_is_refused(
    open_case: Case, worker: User, manager: User
) -> None:
    with pytest.raises(NotPermitted):
        restriction_place(actor=worker, case=open_case, reason="The subject is a member of staff.")
    page = _client(worker).get(f"/cases/{open_case.pk}/restriction/")
    assert page.status_code == 403
    with pytest.raises(InvalidInput, match="Say why"):
        restriction_place(actor=manager, case=open_case, reason="staff")
    restriction_place(actor=manager, case=open_case, reason="The subject is a member of staff.")
    with pytest.raises(Conflict):
        restriction_place(actor=manager, case=open_case, reason="The subject is a member of staff.")


def test_x02_the_restriction_page_restricts_names_and_explains_errors(
    open_case: Case, manager: User, make_staff: Callable[..., User], team_ai: Team
) -> None:
    colleague = make_staff("colleague", team_ai)
    client = _client(manager)
    url = f"/cases/{open_case.pk}/restriction/"
    short = client.post(url, {"action": "restrict", "reason": "staff"})
    assert short.status_code == 200
    assert "There is a problem" in short.content.decode()
    assert not open_case.subject.pk or not AuditEvent.objects.filter(verb="access.restricted")
    done = client.post(url, {"action": "restrict", "reason": "The subject is a member of staff."})
    assert done.status_code == 302
    unknown = client.post(url, {"action": "name", "username": "nobody-here"})
    assert "There is nobody with that username" in unknown.content.decode()
    client.post(url, {"action": "name", "username": "colleague"})
    assert cases_visible_to(colleague).filter(pk=open_case.pk).exists()
    page = client.get(url).content.decode()
    assert "Colleague Tester" in page


# --- Emergency access -----------------------------------------------------------------------


def test_x02_emergency_access_opens_a_case_until_midnight_and_tells_the_managers(
    open_case: Case, outsider: User, outsider_manager: User, manager: User
) -> None:
    with time_machine.travel(dt.datetime(2026, 11, 25, 22, 30, tzinfo=LONDON), tick=False):
        # Signed in inside the travel: a session idle since the real "now" would time out.
        client = _client(outsider)
        assert client.get(f"/cases/{open_case.pk}/").status_code == 404
        response = client.post(
            "/access/emergency/",
            {
                "case_reference": open_case.reference.lower(),
                "reason": "Police called out of hours about the child's safety tonight.",
            },
        )
        assert response.status_code == 302
        assert response["Location"] == f"/cases/{open_case.pk}/"
        page = client.get(f"/cases/{open_case.pk}/")
        assert page.status_code == 200
        assert "You opened this record in an emergency" in page.content.decode()
        access = EmergencyAccess.objects.get()
        assert timezone.localtime(access.expires_at) == dt.datetime(
            2026, 11, 26, 0, 0, tzinfo=LONDON
        )
        # The view is on the access log, marked as emergency access.
        view = AccessEvent.objects.get(actor=outsider, case=open_case)
        assert view.emergency_access == access
        assert view.person_id == open_case.subject_id
    # The person's own manager and the case's manager are told.
    told = set(
        Notification.objects.filter(event="access.emergency_opened").values_list(
            "recipient__username", flat=True
        )
    )
    assert told == {"sgcpmanager", "manager"}
    assert AuditEvent.objects.filter(verb="access.emergency_opened", case=open_case).count() == 1
    # After midnight the case is closed to them again.
    with time_machine.travel(dt.datetime(2026, 11, 26, 0, 1, tzinfo=LONDON), tick=False):
        assert _client(outsider).get(f"/cases/{open_case.pk}/").status_code == 404


def test_x02_emergency_access_needs_a_real_reason_and_never_opens_a_restricted_record(
    open_case: Case, outsider: User, manager: User
) -> None:
    with pytest.raises(InvalidInput, match="Say why"):
        emergency_access_open(actor=outsider, case_reference=open_case.reference, reason="urgent")
    with pytest.raises(InvalidInput, match="no case with that reference"):
        emergency_access_open(
            actor=outsider, case_reference="C99999", reason="A police officer asked for it."
        )
    restriction_place(actor=manager, case=open_case, reason="The subject is a member of staff.")
    with pytest.raises(InvalidInput, match="no case with that reference") as refused:
        emergency_access_open(
            actor=outsider,
            case_reference=open_case.reference,
            reason="A police officer asked for it.",
        )
    # A restricted case is refused exactly as a missing one is: its existence does not leak.
    assert "restricted" in str(refused.value)  # the generic advice mentions restriction
    assert not EmergencyAccess.objects.exists()
    page = _client(outsider).post(
        "/access/emergency/", {"case_reference": open_case.reference, "reason": "short"}
    )
    assert page.status_code == 200
    assert "There is a problem" in page.content.decode()


def test_x02_a_manager_reviews_each_emergency_access_once(
    open_case: Case, outsider: User, outsider_manager: User, manager: User, worker: User
) -> None:
    access = emergency_access_open(
        actor=outsider,
        case_reference=open_case.reference,
        reason="Hospital asked who the allocated worker is, out of hours.",
    )
    # The case's team worker is not a manager: no review page.
    assert _client(worker).get("/access/emergency/review/").status_code == 403
    review = _client(outsider_manager)
    listed = review.get("/access/emergency/review/").content.decode()
    assert "Outsider Tester opened case" in listed
    refused = review.post(
        "/access/emergency/review/",
        {"access": access.pk, f"access-{access.pk}-outcome": EmergencyOutcome.NOT_JUSTIFIED},
    )
    assert "Say what you have done" in refused.content.decode()
    done = review.post(
        "/access/emergency/review/",
        {"access": access.pk, f"access-{access.pk}-outcome": EmergencyOutcome.JUSTIFIED},
    )
    assert done.status_code == 302
    access.refresh_from_db()
    assert access.outcome == EmergencyOutcome.JUSTIFIED
    assert access.reviewed_by == outsider_manager
    assert (
        "No emergency access is waiting" in review.get("/access/emergency/review/").content.decode()
    )
    with pytest.raises(Conflict):
        emergency_access_review(
            actor=manager, access_id=access.pk, outcome=EmergencyOutcome.JUSTIFIED, note=""
        )


def test_x02_nobody_reviews_their_own_emergency_access(
    open_case: Case, make_staff: Callable[..., User], team_sgcp: Team
) -> None:
    boss = make_staff("boss", team_sgcp, Role.TEAM_MANAGER)
    access = emergency_access_open(
        actor=boss, case_reference=open_case.reference, reason="Out-of-hours call from police."
    )
    from casework.core.errors import NotFound

    with pytest.raises(NotFound):
        emergency_access_review(
            actor=boss, access_id=access.pk, outcome=EmergencyOutcome.JUSTIFIED, note=""
        )


# --- The access log -------------------------------------------------------------------------


def test_x02_every_view_of_a_case_or_person_is_logged_once_and_a_refusal_is_not(
    open_case: Case, worker: User, outsider: User
) -> None:
    web = _client(worker)
    web.get(f"/cases/{open_case.pk}/")
    api = Client()
    api.get(f"/api/v1/cases/{open_case.pk}/visits", headers=_bearer(worker))
    api.get(f"/api/v1/people/{open_case.subject_id}", headers=_bearer(worker))
    _client(outsider).get(f"/cases/{open_case.pk}/")
    events = list(AccessEvent.objects.order_by("id"))
    assert [(e.channel, e.action, e.url_name) for e in events] == [
        (AccessChannel.WEB, AccessAction.VIEWED, "case-detail"),
        (AccessChannel.API, AccessAction.VIEWED, "list_visits"),
        (AccessChannel.API, AccessAction.VIEWED, "get_person"),
    ]
    assert all(e.actor == worker and e.person_id == open_case.subject_id for e in events)
    assert events[0].case == open_case
    assert events[1].case == open_case
    assert events[2].case is None


def test_x02_a_download_is_logged_as_a_download(open_case: Case, worker: User) -> None:
    with transaction.atomic():
        document = document_upload(
            actor=worker,
            case=open_case,
            kind="other",
            title="School letter",
            upload=SimpleUploadedFile("letter.txt", b"hello", content_type="text/plain"),
        )
    response = _client(worker).get(f"/cases/{open_case.pk}/documents/?document={document.pk}")
    assert response.status_code == 200
    b"".join(response.streaming_content)  # type: ignore[attr-defined]
    event = AccessEvent.objects.get()
    assert event.action == AccessAction.DOWNLOADED
    assert event.case == open_case


def test_x02_who_has_seen_this_record_is_for_the_case_managers(
    open_case: Case, worker: User, manager: User
) -> None:
    _client(worker).get(f"/cases/{open_case.pk}/")
    assert _client(worker).get(f"/cases/{open_case.pk}/access-log/").status_code == 403
    page = _client(manager).get(f"/cases/{open_case.pk}/access-log/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Worker Tester" in text
    assert "Viewed: Case record" in text
    # The manager's own look at the log is on it too (the next time it is opened).
    assert AccessEvent.objects.filter(actor=manager, url_name="case-access-log").count() == 1


def test_x02_the_access_log_is_append_only_in_the_database(open_case: Case, worker: User) -> None:
    _client(worker).get(f"/cases/{open_case.pk}/")
    event = AccessEvent.objects.get()
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        AccessEvent.objects.all().delete()
    table = AccessEvent._meta.db_table
    for sql in (f"UPDATE {table} SET summary = 'x'", f"DELETE FROM {table}"):  # noqa: S608
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql)
    with pytest.raises(IntegrityError), transaction.atomic(), audit_redaction():
        # Even a disposal may not change who looked, or when.
        AccessEvent._base_manager.filter(pk=event.pk).update(actor=None)
    with transaction.atomic(), audit_redaction():
        AccessEvent._base_manager.filter(pk=event.pk).update(
            summary="Record disposed of", case=None, person=None
        )
    event.refresh_from_db()
    assert event.case is None
    assert event.actor == worker
