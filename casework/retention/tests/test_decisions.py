"""The reviewer's decision and legal holds (X-04): a legal hold blocks destruction and the
refusal writes nothing; a decision is taken once; reviewers see only their service area."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
import time_machine
from django.db import connection

from casework.accounts.models import User
from casework.audit.models import AuditEvent
from casework.cases.models import Case
from casework.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from casework.organisation.models import Role, Team
from casework.people.models import Person
from casework.retention.models import LegalHold, RetentionReview, ReviewState
from casework.retention.selectors import reviews_visible_to
from casework.retention.services import (
    legal_hold_lift,
    legal_hold_place,
    retention_archive,
    retention_destroy,
    retention_retain,
    retention_sweep,
)
from casework.retention.tests.builders import D, closed_case, open_case, person

pytestmark = pytest.mark.usefixtures("bound")

DUE = D(2035, 5, 4)
LATER = D(2036, 1, 5)


@pytest.fixture
def due_review(worker: User, team_ai: Team) -> RetentionReview:
    child = person(worker, "Robin", "Listed", born=D(2010, 5, 4), local_id="RL2010")
    closed_case(worker, team_ai, child, D(2019, 1, 7), D(2020, 2, 3))
    retention_sweep(DUE)
    return RetentionReview.objects.get(person=child)


@pytest.fixture
def later() -> object:
    with time_machine.travel(LATER, tick=False) as traveller:
        yield traveller


@pytest.mark.usefixtures("later")
def test_x04_a_legal_hold_blocks_destruction_and_nothing_is_written(
    due_review: RetentionReview, reviewer: User
) -> None:
    """X-04: a legal hold on the person stops destruction with a plain-English reason and
    what to do instead; the review stays due, the records stay, and no event is written.
    Once the hold is lifted, the same decision goes through."""
    hold = legal_hold_place(
        actor=reviewer,
        service_area="children",
        person_local_id="rl2010",
        reference="Independent inquiry, notice 12",
        reason="The inquiry asked councils to keep these records",
    )
    events = AuditEvent.objects.count()
    with pytest.raises(NotPermitted) as refused:
        retention_destroy(actor=reviewer, review_id=due_review.pk, confirmed=True)
    message = str(refused.value)
    assert message.startswith(
        "These records are under a legal hold: Independent inquiry, notice 12, placed by "
        "Csm-Service-Manager Tester on 5 January 2036. They cannot be destroyed"
    )
    assert "Keep them, with a review date after the hold is expected to end" in message
    due_review.refresh_from_db()
    assert (due_review.state, due_review.decided_by) == (ReviewState.DUE, None)
    assert Person.objects.filter(local_id="RL2010").exists()
    assert AuditEvent.objects.count() == events

    legal_hold_lift(actor=reviewer, hold_id=hold.pk, reason="The inquiry has reported")
    retention_destroy(actor=reviewer, review_id=due_review.pk, confirmed=True)
    assert not Person.objects.filter(local_id="RL2010").exists()


@pytest.mark.usefixtures("later")
def test_x04_holds_on_a_class_or_a_whole_service_area_block_destruction_too(
    due_review: RetentionReview, reviewer: User
) -> None:
    """X-04: a hold on every record of a class (here child in need), or on every record of
    the service area, blocks destruction like a hold on the person; holds of the other
    service area or another class do not."""
    other_class = legal_hold_place(
        actor=reviewer,
        service_area="children",
        record_class="looked-after",
        reason="Inquiry into children in care",
    )
    whole_area = legal_hold_place(
        actor=reviewer, service_area="children", reason="Litigation about all our records"
    )
    by_class = legal_hold_place(
        actor=reviewer,
        service_area="children",
        record_class="child-in-need",
        reason="Inquiry into early help and children in need",
    )
    assert (other_class.scope, whole_area.scope, by_class.scope) == ("class", "area", "class")
    with pytest.raises(NotPermitted, match="under a legal hold \\(and 1 more\\)"):
        retention_destroy(actor=reviewer, review_id=due_review.pk, confirmed=True)
    legal_hold_lift(actor=reviewer, hold_id=whole_area.pk, reason="The claim was settled")
    with pytest.raises(NotPermitted, match="Inquiry into early help"):
        retention_destroy(actor=reviewer, review_id=due_review.pk, confirmed=True)
    legal_hold_lift(actor=reviewer, hold_id=by_class.pk, reason="The inquiry has reported")
    retention_destroy(actor=reviewer, review_id=due_review.pk, confirmed=True)


@pytest.mark.usefixtures("later")
def test_x04_a_review_is_decided_once(due_review: RetentionReview, reviewer: User) -> None:
    """X-04: once decided, a second decision is refused and changes nothing."""
    retention_archive(actor=reviewer, review_id=due_review.pk, reason="Historical interest")
    with pytest.raises(Conflict) as refused:
        retention_destroy(actor=reviewer, review_id=due_review.pk, confirmed=True)
    assert str(refused.value) == (
        "This review has already been decided: archived by Csm-Service-Manager Tester on "
        "5 January 2036. Nothing has been changed."
    )
    due_review.refresh_from_db()
    assert due_review.state == ReviewState.ARCHIVED
    assert Person.objects.filter(local_id="RL2010").exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("later")
def test_x04_two_reviewers_deciding_at_once_give_one_decision(
    due_review: RetentionReview,
    reviewer: User,
    make_staff: Callable[..., User],
    make_team: Callable[..., Team],
) -> None:
    """X-04: two reviewers press the button together: exactly one decision is recorded,
    and the other is told plainly that someone else decided."""
    head = make_staff("head", make_team("hos", "other", holds_cases=False), Role.HEAD_OF_SERVICE)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(user: User, destroy: bool) -> None:
        try:
            barrier.wait(timeout=10)
            if destroy:
                retention_destroy(actor=user, review_id=due_review.pk, confirmed=True)
            else:
                retention_retain(
                    actor=user,
                    review_id=due_review.pk,
                    reason="The family asked us to keep it",
                    next_review_on=D(2040, 1, 1),
                )
            outcomes.append("decided")
        except Conflict as refusal:
            outcomes.append(f"refused: {refusal}")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=(reviewer, True)),
        threading.Thread(target=decide, args=(head, False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(o.split(":")[0] for o in outcomes) == ["decided", "refused"], outcomes
    decided = RetentionReview.objects.get(pk=due_review.pk)
    assert decided.state in (ReviewState.DESTROYED, ReviewState.RETAINED)
    assert Person.objects.filter(local_id="RL2010").exists() == (
        decided.state == ReviewState.RETAINED
    )


@pytest.mark.usefixtures("later")
def test_x04_keeping_needs_a_reason_and_a_future_review_date(
    due_review: RetentionReview, reviewer: User
) -> None:
    """X-04: every problem with a decision to keep is listed at once, in plain English, and
    nothing is written."""
    with pytest.raises(InvalidInput) as refused:
        retention_retain(actor=reviewer, review_id=due_review.pk, reason="", next_review_on=None)
    assert refused.value.by_field() == {
        "reason": [
            "Say why the records are being kept, for example an inquiry, a complaint or a "
            "request from the family (at least 10 characters)."
        ],
        "next_review_on": ["Enter the date to review the records again."],
    }
    with pytest.raises(InvalidInput, match="The next review must be after today"):
        retention_retain(
            actor=reviewer,
            review_id=due_review.pk,
            reason="A complaint is open",
            next_review_on=LATER,
        )
    with pytest.raises(InvalidInput, match="within 25 years"):
        retention_retain(
            actor=reviewer,
            review_id=due_review.pk,
            reason="A complaint is open",
            next_review_on=D(2070, 1, 1),
        )
    with pytest.raises(InvalidInput, match="Confirm that the records should be destroyed"):
        retention_destroy(actor=reviewer, review_id=due_review.pk, confirmed=False)
    due_review.refresh_from_db()
    assert due_review.state == ReviewState.DUE


@pytest.mark.usefixtures("later")
def test_x04_records_with_an_open_case_again_are_not_destroyed(
    due_review: RetentionReview, reviewer: User, worker: User, team_ai: Team
) -> None:
    """X-04: if the person comes back (a case is opened after they were listed), their
    records are not destroyed: the reviewer is told to keep them instead."""
    assert due_review.person is not None
    open_case(worker, team_ai, due_review.person, LATER - dt.timedelta(days=3))
    with pytest.raises(InvalidInput, match="has an open case, and records are never destroyed"):
        retention_destroy(actor=reviewer, review_id=due_review.pk, confirmed=True)
    assert Case.objects.filter(subject=due_review.person).count() == 2


@pytest.mark.usefixtures("later")
def test_x04_only_reviewers_of_the_service_area_can_decide_or_place_holds(
    due_review: RetentionReview,
    adults_reviewer: User,
    manager: User,
    make_staff: Callable[..., User],
    make_team: Callable[..., Team],
) -> None:
    """X-04: an adults' head of service, a team manager and business support (who audit
    every case) cannot see children's reviews: to them the review does not exist. Holds
    on another service area's records are refused."""
    support = make_staff(
        "support", make_team("cbs", "business_support", holds_cases=False), Role.BUSINESS_SUPPORT
    )
    for outsider in (adults_reviewer, manager, support):
        assert not reviews_visible_to(outsider).exists()
        with pytest.raises(NotFound):
            retention_destroy(actor=outsider, review_id=due_review.pk, confirmed=True)
    with pytest.raises(NotPermitted, match="Only a service manager or head of service"):
        legal_hold_place(actor=adults_reviewer, service_area="children", reason="An inquiry")
    with pytest.raises(InvalidInput, match="There is nobody with local ID RL2010 among the"):
        legal_hold_place(
            actor=adults_reviewer,
            service_area="adults",
            person_local_id="RL2010",
            reason="An inquiry into everything",
        )
    assert not LegalHold.objects.exists()
