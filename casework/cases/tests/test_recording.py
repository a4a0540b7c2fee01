"""Recording on a case through its screens (J2): each kind goes through its service, lands
back on the case page with a banner, and refuses bad input in plain English with nothing
written."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework.accounts.models import User
from casework.audit.models import AuditEvent
from casework.cases.models import Case
from casework.cases.services import assessment_start, plan_start

TODAY = timezone.localdate().isoformat()


@pytest.mark.parametrize(
    ("what", "data", "banner", "verb"),
    [
        (
            "visit",
            {"visited_on": TODAY, "subject_seen": "on", "seen_alone": "on", "notes": "Well"},
            "Visit recorded",
            "visit.recorded",
        ),
        (
            "note",
            {"occurred_on": TODAY, "kind": "general", "title": "Call", "body": "Spoke to mum"},
            "Case note added",
            "note.added",
        ),
        ("plan", {"kind": "cin", "started_on": TODAY}, "Child in need plan started", "plan."),
        (
            "meeting",
            {
                "kind": "core_group",
                "held_on": TODAY,
                "attendees": "Sam Example, parent\nDr Jones, GP",
                "minutes": "Plan reviewed",
            },
            "Meeting recorded",
            "meeting.",
        ),
        ("assessment", {"kind": "single", "started_on": TODAY}, "Assessment started", "assess"),
    ],
)
def test_j2_recording_each_kind_from_the_case_page(
    open_case: Case, worker: User, what: str, data: dict[str, str], banner: str, verb: str
) -> None:
    client = Client()
    client.force_login(worker)
    url = f"{reverse('case-record', kwargs={'case_id': open_case.pk})}?what={what}"
    assert client.get(url).status_code == 200
    before = AuditEvent.objects.filter(case=open_case).count()
    response = client.post(url, data, follow=True)
    assert banner.encode() in response.content, response.content[:2000]
    events = AuditEvent.objects.filter(case=open_case).order_by("-id")
    assert events.count() == before + 1
    assert events.first().verb.startswith(verb)  # type: ignore[union-attr]


def test_j2_a_manager_records_decisions_and_supervision_and_a_worker_cannot(
    open_case: Case, worker: User, manager: User
) -> None:
    url = f"{reverse('case-record', kwargs={'case_id': open_case.pk})}?what=decision"
    data = {"kind": "advise_closure", "decided_on": TODAY, "decision": "Plan met: close"}
    refused = Client()
    refused.force_login(worker)
    response = refused.post(url, data)
    assert response.status_code == 403
    assert b"If you think you should be able to" in response.content
    assert not open_case.decisions.exists()
    client = Client()
    client.force_login(manager)
    assert b"Manager&#x27;s decision recorded" in client.post(url, data, follow=True).content
    assert open_case.decisions.count() == 1
    supervision = f"{reverse('case-record', kwargs={'case_id': open_case.pk})}?what=supervision"
    held = {"held_on": TODAY, "discussion": "Progress against the plan"}
    assert refused.post(supervision, held).status_code == 403
    assert b"Supervision recorded" in client.post(supervision, held, follow=True).content


def test_j2_bad_input_is_explained_and_nothing_is_written(open_case: Case, worker: User) -> None:
    client = Client()
    client.force_login(worker)
    url = f"{reverse('case-record', kwargs={'case_id': open_case.pk})}?what=visit"
    before = AuditEvent.objects.count()
    future = "2999-01-01"
    response = client.post(url, {"visited_on": future, "subject_seen": "on"})
    assert response.status_code == 400
    assert b"govuk-error-summary" in response.content
    response = client.post(url, {"visited_on": "31/02/2026"})
    assert b"Enter a real date of the visit" in response.content
    assert AuditEvent.objects.count() == before


def test_j2_ending_a_plan_and_completing_an_assessment(open_case: Case, worker: User) -> None:
    plan = plan_start(actor=worker, case=open_case, kind="cin", started_on=open_case.opened_on)
    assessment = assessment_start(
        actor=worker, case=open_case, kind="single", started_on=open_case.opened_on
    )
    client = Client()
    client.force_login(worker)
    base = reverse("case-record", kwargs={"case_id": open_case.pk})
    client.post(
        f"{base}?what=plan-end",
        {"plan": str(plan.pk), "ended_on": TODAY, "outcome": "Needs met"},
    )
    client.post(
        f"{base}?what=assessment-complete",
        {"assessment": str(assessment.pk), "completed_on": TODAY, "outcome": "No further action"},
    )
    plan.refresh_from_db()
    assessment.refresh_from_db()
    assert plan.ended_on is not None
    assert assessment.completed_on is not None


def test_the_pick_list_offers_managers_kinds_only_to_managers(
    open_case: Case, worker: User, manager: User
) -> None:
    url = reverse("case-record", kwargs={"case_id": open_case.pk})
    for user, shown in ((worker, False), (manager, True)):
        client = Client()
        client.force_login(user)
        html = client.get(url).content.decode()
        assert "Record a visit" in html
        assert ("Record supervision" in html) is shown
        assert ("Record a manager&#x27;s decision" in html) is shown


def test_inline_validation_checks_one_field_with_the_service_and_saves_nothing(
    open_case: Case, worker: User
) -> None:
    """htmx posts the form with `validate=<field>` when a field changes: the answer is the
    page with that field's error (here the service's: a visit cannot be in the future), as
    200 so htmx swaps it in, and nothing is recorded."""
    client = Client()
    client.force_login(worker)
    url = f"{reverse('case-record', kwargs={'case_id': open_case.pk})}?what=visit"
    page = client.get(url).content.decode()
    assert 'hx-select="#id_visited_on-group"' in page
    checked = client.post(
        url,
        {"visited_on": "2999-01-01", "subject_seen": "on", "validate": "visited_on"},
        headers={"HX-Request": "true"},
    )
    assert checked.status_code == 200
    html = checked.content.decode()
    group = html.split('id="id_visited_on-group"')[1].split('id="id_subject_seen-group"')[0]
    assert "govuk-error-message" in group
    assert "future" in group
    assert not open_case.visits.exists()
