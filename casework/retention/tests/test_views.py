"""The reviewer's pages (X-04): the queue says why each record is due, the decision form
records a decision or shows a plain refusal, legal holds are placed and lifted, and nobody
but a reviewer of the service area can reach a review or a hold."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from casework.accounts.models import User
from casework.audit.models import AccessEvent
from casework.organisation.models import Team
from casework.retention.models import LegalHold, RetentionReview, ReviewState
from casework.retention.services import legal_hold_place, retention_sweep
from casework.retention.tests.builders import D, closed_case, person

pytestmark = pytest.mark.usefixtures("bound", "later")

DUE = D(2035, 5, 4)
LATER = D(2036, 1, 5)


@pytest.fixture
def later() -> object:
    with time_machine.travel(LATER, tick=False) as traveller:
        yield traveller


@pytest.fixture
def due_review(worker: User, team_ai: Team) -> RetentionReview:
    child = person(worker, "Robin", "Listed", born=D(2010, 5, 4), local_id="RL2010")
    closed_case(worker, team_ai, child, D(2019, 1, 7), D(2020, 2, 3))
    retention_sweep(DUE)
    return RetentionReview.objects.get(person=child)


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _no_inline_code(html: str) -> None:
    """A strict Content Security Policy allows no inline styles or scripts."""
    assert ' style="' not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)


def test_x04_the_queue_shows_why_each_record_is_due(
    due_review: RetentionReview, reviewer: User
) -> None:
    """X-04: the reviewer's queue lists each due record with its class, the period that
    ended and when, and whether a legal hold covers it."""
    client = _client(reviewer)
    page = client.get(reverse("retention-queue"))
    assert page.status_code == 200
    html = page.content.decode()
    _no_inline_code(html)
    assert "Robin Listed" in html
    assert "Child in need record" in html
    assert "Kept 25 years from the date of birth" in html
    assert "4 May 2035" in html
    assert "On hold" not in html
    legal_hold_place(
        actor=reviewer, service_area="children", person_local_id="RL2010", reason="An inquiry"
    )
    assert "On hold" in client.get(reverse("retention-queue")).content.decode()


def test_x04_the_review_page_records_a_decision_to_keep(
    due_review: RetentionReview, reviewer: User
) -> None:
    """X-04: the review page shows the person's cases with each one's class and date (and
    goes on the access log); keeping the records needs a reason and a review date."""
    client = _client(reviewer)
    url = reverse("retention-review", args=[due_review.pk])
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    _no_inline_code(html)
    assert "Their cases" in html
    assert "4 May 2035" in html
    assert AccessEvent.objects.filter(
        actor=reviewer, person=due_review.person, url_name="retention-review"
    ).exists()
    refused = client.post(url, {"decision": "retain", "reason": "", "next_review_on": ""})
    assert refused.status_code == 200
    html = refused.content.decode()
    assert "There is a problem" in html
    assert "Enter the date to review the records again." in html
    kept = client.post(
        url,
        {
            "decision": "retain",
            "reason": "The family asked for a copy of the file",
            "next_review_on": "2038-01-05",
        },
    )
    assert kept.status_code == 302
    assert kept["Location"] == reverse("retention-queue")
    due_review.refresh_from_db()
    assert (due_review.state, due_review.next_review_on) == (ReviewState.RETAINED, D(2038, 1, 5))
    followed = client.get(reverse("retention-queue")).content.decode()
    assert "They will be listed again on 5 January 2038" in followed


def test_x04_destroying_records_under_a_hold_is_refused_on_the_page(
    due_review: RetentionReview, reviewer: User
) -> None:
    """X-04: the refusal is shown in the error summary, and the review stays due."""
    legal_hold_place(
        actor=reviewer,
        service_area="children",
        person_local_id="RL2010",
        reference="Inquiry notice 12",
        reason="Keep everything for the inquiry",
    )
    client = _client(reviewer)
    url = reverse("retention-review", args=[due_review.pk])
    assert "under a legal hold and cannot be destroyed" in client.get(url).content.decode()
    page = client.post(url, {"decision": "destroy", "confirmed": "on"})
    assert page.status_code == 200
    assert "These records are under a legal hold: Inquiry notice 12" in page.content.decode()
    due_review.refresh_from_db()
    assert due_review.state == ReviewState.DUE


def test_x04_destroying_records_from_the_page(due_review: RetentionReview, reviewer: User) -> None:
    """X-04: destroying needs the confirmation ticked; then the person is gone and the
    review shows only what was decided."""
    client = _client(reviewer)
    url = reverse("retention-review", args=[due_review.pk])
    unconfirmed = client.post(url, {"decision": "destroy"})
    assert "Confirm that the records should be destroyed" in unconfirmed.content.decode()
    done = client.post(url, {"decision": "destroy", "confirmed": "on"})
    assert done.status_code == 302
    due_review.refresh_from_db()
    assert (due_review.state, due_review.person) == (ReviewState.DESTROYED, None)
    page = client.get(url).content.decode()
    assert "Records destroyed" in page
    assert "Robin" not in page


def test_x04_legal_holds_are_placed_and_lifted_on_their_pages(
    due_review: RetentionReview, reviewer: User
) -> None:
    """X-04: a reviewer places a hold on one person's records by their local ID, sees it in
    force, and lifts it with a reason."""
    client = _client(reviewer)
    form = client.get(reverse("retention-hold-new"))
    assert form.status_code == 200
    _no_inline_code(form.content.decode())
    missing = client.post(
        reverse("retention-hold-new"),
        {"service_area": "children", "scope": "person", "reason": "An inquiry needs them"},
    )
    assert "Enter the person&#x27;s local ID." in missing.content.decode()
    placed = client.post(
        reverse("retention-hold-new"),
        {
            "service_area": "children",
            "scope": "person",
            "person_local_id": "RL2010",
            "reference": "Inquiry notice 12",
            "reason": "The inquiry asked us to keep them",
        },
    )
    assert placed.status_code == 302
    hold = LegalHold.objects.get()
    assert hold.person == due_review.person
    listing = client.get(reverse("retention-holds")).content.decode()
    _no_inline_code(listing)
    assert "Robin Listed (RL2010)" in listing
    lift_url = reverse("retention-hold-lift", args=[hold.pk])
    assert client.get(lift_url).status_code == 200
    lifted = client.post(lift_url, {"reason": "The inquiry has reported"})
    assert lifted.status_code == 302
    hold.refresh_from_db()
    assert (hold.in_force, hold.lifted_by, hold.lift_reason) == (
        False,
        reviewer,
        "The inquiry has reported",
    )


def test_x04_only_reviewers_of_the_service_area_reach_the_pages(
    due_review: RetentionReview,
    reviewer: User,
    adults_reviewer: User,
    manager: User,
    outsider: User,
) -> None:
    """X-04: the lists are refused (403) to anyone who is not a reviewer; a review or hold
    by number is a 404 for anyone who may not review it, including the other service area's
    head of service, whether they read or post."""
    hold = legal_hold_place(
        actor=reviewer, service_area="children", person_local_id="RL2010", reason="An inquiry"
    )
    review_url = reverse("retention-review", args=[due_review.pk])
    lift_url = reverse("retention-hold-lift", args=[hold.pk])
    for user in (manager, outsider):
        client = _client(user)
        for name in ("retention-queue", "retention-holds", "retention-hold-new"):
            assert client.get(reverse(name)).status_code == 403
    for user in (adults_reviewer, manager, outsider):
        client = _client(user)
        assert client.get(review_url).status_code == 404
        assert client.post(review_url, {"decision": "destroy", "confirmed": "on"}).status_code == (
            404
        )
        assert client.get(lift_url).status_code == 404
        assert client.post(lift_url, {"reason": "Not mine to lift"}).status_code == 404
    adults_queue = _client(adults_reviewer).get(reverse("retention-queue")).content.decode()
    assert "Robin Listed" not in adults_queue
    due_review.refresh_from_db()
    hold.refresh_from_db()
    assert (due_review.state, hold.in_force) == (ReviewState.DUE, True)


def test_x04_the_queue_pages_by_due_date_without_counting(
    worker: User, team_ai: Team, reviewer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """X-04: a first sweep can list decades of records: the queue shows them a page at a
    time, longest overdue first, by keyset (never a deep OFFSET)."""
    for given, born in (("Ada", D(2009, 1, 1)), ("Bea", D(2008, 1, 1)), ("Cy", D(2010, 1, 1))):
        child = person(worker, given, "Paged", born=born)
        closed_case(worker, team_ai, child, D(2019, 1, 7), D(2020, 2, 3))
    retention_sweep(DUE)
    monkeypatch.setattr("casework.retention.selectors.PAGE", 2)
    client = _client(reviewer)
    first = client.get(reverse("retention-queue")).content.decode()
    assert first.index("Bea Paged") < first.index("Ada Paged")
    assert "Cy Paged" not in first
    after = re.search(r'href="\?after=([^"]+)"', first)
    assert after is not None
    second = client.get(reverse("retention-queue") + f"?after={after.group(1)}").content.decode()
    assert "Cy Paged" in second
    assert "Ada Paged" not in second
    assert "Next records" not in second
