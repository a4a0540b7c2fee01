"""The nightly retention sweep (X-04): it lists each person whose record reached the end of
its retention period once, lists kept records again on their review date, leaves archived
and open records alone, and is registered with the scheduler."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from casework.accounts.models import User
from casework.api.models import IdempotentRequest
from casework.audit.models import AuditEvent
from casework.core.models import SpentFormToken
from casework.organisation.models import Team
from casework.people.models import Person
from casework.retention.models import RetentionEstimate, RetentionReview, ReviewState
from casework.retention.services import retention_archive, retention_retain, retention_sweep
from casework.retention.tasks import sweep_retention_reviews
from casework.retention.tests.builders import D, closed_case, open_case, person
from casework.tasks.scheduler import SWEEPS

pytestmark = pytest.mark.usefixtures("bound")

DUE = D(2035, 5, 4)  # a child in need record: the 25th birthday of a child born 4 May 2010


@pytest.fixture
def child_in_need(worker: User, team_ai: Team) -> Person:
    child = person(worker, born=D(2010, 5, 4))
    closed_case(worker, team_ai, child, D(2019, 1, 7), D(2020, 2, 3))
    return child


def test_x04_the_sweep_lists_a_record_once_on_the_day_it_falls_due(child_in_need: Person) -> None:
    """X-04: the nightly job lists a person on the day the retention period of their whole
    record ends, with the class, period and basis that make it due, and says so in the
    audit log; running it again lists nobody twice."""
    assert retention_sweep(DUE - dt.timedelta(days=1)).listed == 0
    result = retention_sweep(DUE)
    assert (result.people_checked, result.listed) == (1, 1)
    review = RetentionReview.objects.get(person=child_in_need)
    assert (review.state, review.record_class, review.due_on, review.listed_on) == (
        ReviewState.DUE,
        "child-in-need",
        DUE,
        DUE,
    )
    assert (review.trigger, review.years, review.service_area) == ("date_of_birth", 25, "children")
    assert review.basis.startswith("Local policy")
    assert retention_sweep(DUE).listed == 0
    assert retention_sweep(DUE + dt.timedelta(days=400)).listed == 0
    assert RetentionReview.objects.count() == 1
    event = AuditEvent.objects.get(verb="retention.listed")
    assert event.person == child_in_need
    assert event.summary == (
        "Listed for retention review: Child in need record, kept 25 years from the date of "
        "birth, which ended on 4 May 2035"
    )


def test_x04_the_sweep_reads_each_record_again_only_when_it_may_have_become_due(
    child_in_need: Person,
) -> None:
    """X-04: the sweep notes each person's date, and until the note is a month old (or the
    schedule changes) it does not read their cases again, unless the noted date has come."""
    first = retention_sweep(D(2030, 1, 1))
    assert (first.people_checked, first.dates_worked_out, first.listed) == (1, 1, 0)
    assert RetentionEstimate.objects.get(person=child_in_need).due_on == DUE
    assert retention_sweep(D(2030, 1, 2)).people_checked == 0
    assert retention_sweep(D(2030, 2, 5)).people_checked == 1
    assert retention_sweep(DUE).listed == 1


def test_x04_kept_records_are_listed_again_on_their_review_date(
    child_in_need: Person, reviewer: User
) -> None:
    """X-04: keeping the records sets the next review; the sweep lists them again that day."""
    retention_sweep(DUE)
    review = RetentionReview.objects.get(person=child_in_need)
    next_review = DUE + dt.timedelta(days=730)
    with time_machine.travel(DUE, tick=False):
        retention_retain(
            actor=reviewer,
            review_id=review.pk,
            reason="The family asked for a copy; wait for the request to be met",
            next_review_on=next_review,
        )
    review.refresh_from_db()
    assert (review.state, review.next_review_on) == (ReviewState.RETAINED, next_review)
    assert review.decided_by == reviewer
    assert retention_sweep(next_review - dt.timedelta(days=1)).listed == 0
    assert retention_sweep(next_review).listed == 1
    assert list(
        RetentionReview.objects.filter(person=child_in_need).values_list("state", flat=True)
    ) == [ReviewState.RETAINED, ReviewState.DUE]


def test_x04_archived_records_leave_the_queue_until_their_review_date(
    worker: User, team_ai: Team, child_in_need: Person, reviewer: User
) -> None:
    """X-04: archived records (kept for their lasting value) are not listed again, unless the
    reviewer set a review date, or a case closed after the decision (the record changed)."""
    other = person(worker, "Sky", born=D(2010, 5, 4))
    closed_case(worker, team_ai, other, D(2019, 1, 7), D(2020, 2, 3))
    retention_sweep(DUE)
    for_good, for_a_while = (
        RetentionReview.objects.get(person=child_in_need),
        RetentionReview.objects.get(person=other),
    )
    with time_machine.travel(DUE, tick=False):
        retention_archive(
            actor=reviewer, review_id=for_good.pk, reason="Of historical interest: a test case"
        )
        retention_archive(
            actor=reviewer,
            review_id=for_a_while.pk,
            reason="Research project may want it",
            next_review_on=D(2040, 1, 1),
        )
    assert retention_sweep(D(2039, 12, 31)).listed == 0
    assert retention_sweep(D(2040, 1, 1)).listed == 1
    assert retention_sweep(D(2090, 1, 1)).listed == 0
    assert RetentionReview.objects.filter(person=child_in_need).count() == 1


def test_x04_open_cases_keep_a_record_off_the_list(worker: User, team_ai: Team) -> None:
    """X-04: a person with an open case is never listed, however old their other records."""
    child = person(worker, born=D(1990, 5, 4))
    closed_case(worker, team_ai, child, D(2000, 1, 4), D(2001, 2, 6))
    open_case(worker, team_ai, child, D(2019, 1, 7))
    assert retention_sweep(D(2100, 1, 1)).people_checked == 0
    assert not RetentionReview.objects.exists()


def test_x04_the_sweep_runs_nightly_from_the_scheduler_and_by_hand(child_in_need: Person) -> None:
    """X-04: the scheduler queues the sweep every night at 03:00; the task and the
    management command run the same sweep."""
    sweep = next(s for s in SWEEPS if s.name == "retention-reviews")
    assert sweep.describe() == "retention-reviews daily at 03:00"
    assert sweep.task is sweep_retention_reviews
    result = sweep_retention_reviews.call(DUE.isoformat())
    assert result["listed"] == 1
    out = StringIO()
    call_command("retention_sweep", "--date", DUE.isoformat(), stdout=out)
    assert "0 listed for review" in out.getvalue()


def test_the_sweep_prunes_spent_form_tokens_and_old_api_answers(worker: User) -> None:
    """Housekeeping left to retention by earlier work: one-time form tokens older than a
    day, and stored API answers older than their idempotency window, are removed."""
    now = timezone.now()
    with time_machine.travel(now - dt.timedelta(days=2), tick=False):
        SpentFormToken.objects.create(token="old")
        IdempotentRequest.objects.create(
            user=worker, key="old", fingerprint="0" * 64, path="/", status=200, content=""
        )
    SpentFormToken.objects.create(token="new")
    IdempotentRequest.objects.create(
        user=worker, key="new", fingerprint="0" * 64, path="/", status=200, content=""
    )
    result = retention_sweep(timezone.localdate())
    assert (result.spent_tokens_pruned, result.api_answers_pruned) == (1, 1)
    assert list(SpentFormToken.objects.values_list("token", flat=True)) == ["new"]
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["new"]
