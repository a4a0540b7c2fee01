"""Who reviews records for destruction, and what they see.

Reviewers are the **service managers and heads of service** of a service area: senior roles
whose need to know already spans the area (`SERVICE_AREA_WIDE_ROLES`), who can weigh a
record's value and answer for an irreversible decision. Team managers (one team's view),
business support (audits, not decisions) and administrators (no case access: need to know
applies to them too) are not reviewers. A review belongs to the service area of the case
whose class set the date; a reviewer sees that area's reviews and holds, except records
restricted to named people they are not named on.

Every lookup by ID goes through these selectors, so a review or hold someone may not see is
indistinguishable from one that does not exist (404).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from casework.access.policy import restricted_from
from casework.accounts.models import User
from casework.cases.models import Case
from casework.core.errors import NotFound
from casework.core.planning import planned_for_each_run
from casework.organisation.models import Membership, Role
from casework.retention.models import LegalHold, RetentionReview, ReviewState

REVIEWER_ROLES = frozenset({Role.SERVICE_MANAGER, Role.HEAD_OF_SERVICE})


def reviewer_areas(user: User) -> frozenset[str]:
    """The service areas whose records `user` may review (none for most people)."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    return frozenset(
        Membership.objects.current()
        .filter(user=user, role__in=REVIEWER_ROLES)
        .values_list("team__service_area", flat=True)
    )


def may_review(user: User) -> bool:
    return bool(reviewer_areas(user))


def reviews_visible_to(user: User) -> QuerySet[RetentionReview]:
    areas = reviewer_areas(user)
    if not areas:
        return RetentionReview.objects.none()
    return RetentionReview.objects.filter(service_area__in=areas).exclude(
        restricted_from(user, "person")
    )


def review_for(user: User, review_id: int) -> RetentionReview:
    review = reviews_visible_to(user).filter(pk=review_id).select_related("person").first()
    if review is None:
        raise NotFound("There is no retention review with that number that you can see.")
    return review


def holds_visible_to(user: User) -> QuerySet[LegalHold]:
    areas = reviewer_areas(user)
    if not areas:
        return LegalHold.objects.none()
    return LegalHold.objects.filter(service_area__in=areas).exclude(restricted_from(user, "person"))


def hold_for(user: User, hold_id: int) -> LegalHold:
    hold = holds_visible_to(user).filter(pk=hold_id).select_related("person").first()
    if hold is None:
        raise NotFound("There is no legal hold with that number that you can see.")
    return hold


def holds_blocking(person_id: int, classes: list[str], areas: list[str]) -> QuerySet[LegalHold]:
    """Holds in force on this person's records: on them, on a class any of their cases is in
    (within that service area), or on a whole service area they have a case in."""
    return (
        LegalHold.objects.in_force()
        .filter(
            Q(person_id=person_id)
            | Q(person__isnull=True, record_class__in=classes, service_area__in=areas)
            | Q(person__isnull=True, record_class="", service_area__in=areas)
        )
        .select_related("placed_by")
        .order_by("placed_at", "id")
    )


def review_holds(review: RetentionReview) -> list[LegalHold]:
    if review.person_id is None:
        return []
    areas = sorted({review.service_area, *_areas_of(review)})
    return list(holds_blocking(review.person_id, list(review.classes), areas))


def _areas_of(review: RetentionReview) -> list[str]:
    return list(
        Case.objects.filter(subject_id=review.person_id)
        .values_list("service_area", flat=True)
        .distinct()
    )


# The queue is read a page at a time, by keyset on (due_on, id): a first sweep may list
# decades of records at once.
PAGE = 50


@dataclass(frozen=True)
class QueuePage:
    reviews: list[RetentionReview]
    on_hold: set[int]
    next_after: str


def due_queue(user: User, after: str = "") -> QueuePage:
    """Reviews waiting for a decision, longest overdue first, `PAGE` at a time, with which
    of them a legal hold covers (in a fixed number of queries)."""
    rows = (
        reviews_visible_to(user)
        .filter(state=ReviewState.DUE)
        .select_related("person")
        .order_by("due_on", "id")
    )
    position = _position(after)
    if position is not None:
        day, last_id = position
        # The first condition is implied by the second; it lets the database start reading
        # its index at that date rather than filtering every earlier review.
        rows = rows.filter(due_on__gte=day).filter(
            Q(due_on__gt=day) | Q(due_on=day, id__gt=last_id)
        )
    with planned_for_each_run():  # where the cursor is decides the plan
        reviews = list(rows[: PAGE + 1])
    more = len(reviews) > PAGE
    reviews = reviews[:PAGE]
    next_after = f"{reviews[-1].due_on.isoformat()}.{reviews[-1].pk}" if more else ""
    return QueuePage(reviews, _on_hold(reviews), next_after)


def _position(after: str) -> tuple[dt.date, int] | None:
    day, _, last = after.partition(".")
    try:
        return dt.date.fromisoformat(day), int(last)
    except ValueError:
        return None


def _on_hold(reviews: list[RetentionReview]) -> set[int]:
    if not reviews:
        return set()
    person_ids = [r.person_id for r in reviews if r.person_id is not None]
    holds = list(
        LegalHold.objects.in_force().filter(Q(person_id__in=person_ids) | Q(person__isnull=True))
    )
    areas: dict[int, set[str]] = {}
    for person_id, area in (
        Case.objects.filter(subject_id__in=person_ids)
        .values_list("subject_id", "service_area")
        .distinct()
    ):
        areas.setdefault(person_id, set()).add(area)
    held = set()
    for review in reviews:
        person_areas = areas.get(review.person_id or 0, set()) | {review.service_area}
        for hold in holds:
            if hold.person_id is not None:
                hit = hold.person_id == review.person_id
            elif hold.record_class:
                hit = hold.record_class in review.classes and hold.service_area in person_areas
            else:
                hit = hold.service_area in person_areas
            if hit:
                held.add(review.pk)
                break
    return held


def recent_decisions(user: User, limit: int = 20) -> list[RetentionReview]:
    return list(
        reviews_visible_to(user)
        .exclude(state=ReviewState.DUE)
        .select_related("person", "decided_by")
        .order_by("-decided_at", "-id")[:limit]
    )
