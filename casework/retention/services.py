"""The one write path for records retention (X-04): the nightly sweep that lists records whose
retention period has run, the reviewer's decision (destroy, keep with a reason and a review
date, or archive), and legal holds. Each function checks, writes and audits in one
transaction: a refusal writes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.apps import apps
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Subquery
from django.utils import timezone

from casework.access.policy import cases_visible_to
from casework.accounts.models import User
from casework.audit.models import AuditCategory
from casework.audit.services import audit_record
from casework.cases.models import Case, CaseStatus
from casework.core.dates import long_date
from casework.core.errors import Conflict, InvalidInput, NotFound, NotPermitted, ProblemCollector
from casework.organisation.models import Authority, ServiceArea
from casework.people.models import Person
from casework.retention.disposal import DisposalReport, dispose_of_person
from casework.retention.models import (
    LegalHold,
    RetentionEstimate,
    RetentionReview,
    ReviewState,
)
from casework.retention.schedule import RecordDate, Schedule, ScheduleProblem, schedule_pack
from casework.retention.selectors import (
    holds_blocking,
    holds_visible_to,
    reviewer_areas,
    reviews_visible_to,
)

logger = logging.getLogger(__name__)

# A person's estimated date is worked out again after this long even if nothing changed,
# so that a schedule whose conditions read the passage of time cannot leave it stale.
ESTIMATE_FRESH_FOR = dt.timedelta(days=30)
# Housekeeping the earlier work left to retention (docs/decisions/0008, casework.api.idempotency).
SPENT_TOKENS_KEPT_FOR = dt.timedelta(days=1)
LONGEST_REVIEW_INTERVAL_YEARS = 25
MIN_REASON_CHARACTERS = 10


def _area_label(area: str) -> str:
    return ServiceArea(area).label.lower() if area in ServiceArea.values else area


# --- The nightly sweep ------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    people_checked: int
    dates_worked_out: int
    listed: int
    not_covered: int
    spent_tokens_pruned: int
    api_answers_pruned: int


def _candidates(today: dt.date, fingerprint: str) -> list[int]:
    """People whose every case is closed and who are not waiting for, or deferred by, a
    review; minus those whose fresh estimate says their date is still to come."""
    cases = Case.objects.filter(subject=OuterRef("pk"))
    last = RetentionReview.objects.filter(person=OuterRef("pk")).order_by("-id")
    estimate = RetentionEstimate.objects.filter(person=OuterRef("pk"))
    people = (
        Person.objects.filter(Exists(cases))
        .exclude(Exists(cases.exclude(status=CaseStatus.CLOSED)))
        .annotate(
            last_state=Subquery(last.values("state")[:1]),
            last_next_review=Subquery(last.values("next_review_on")[:1]),
            last_decided_at=Subquery(last.values("decided_at")[:1]),
            latest_closure=Subquery(
                cases.order_by(F("closed_on").desc(nulls_last=True)).values("closed_on")[:1]
            ),
            estimate_due=Subquery(estimate.values("due_on")[:1]),
            estimate_on=Subquery(estimate.values("computed_on")[:1]),
            estimate_schedule=Subquery(estimate.values("schedule")[:1]),
        )
        .order_by("pk")
        .values_list(
            "pk",
            "last_state",
            "last_next_review",
            "last_decided_at",
            "latest_closure",
            "estimate_due",
            "estimate_on",
            "estimate_schedule",
        )
    )
    fresh_since = today - ESTIMATE_FRESH_FOR
    chosen = []
    for (
        pk,
        state,
        next_review,
        decided_at,
        latest_closure,
        estimate_due,
        estimate_on,
        estimate_schedule,
    ) in people.iterator(chunk_size=2000):
        if state == ReviewState.DUE:
            continue
        if state in (ReviewState.RETAINED, ReviewState.ARCHIVED) and decided_at is not None:
            # A decision covers the record as it was: a case closed since reopens the question.
            decided_on = timezone.localdate(decided_at)
            unchanged = latest_closure is None or latest_closure <= decided_on
            if unchanged and (next_review is None or next_review > today):
                continue
        if (
            estimate_schedule == fingerprint
            and estimate_on is not None
            and estimate_on > fresh_since
            and (estimate_due is None or estimate_due > today)
        ):
            continue
        chosen.append(pk)
    return chosen


def retention_sweep(today: dt.date) -> SweepResult:
    """List every person whose record reached the end of its retention period by `today`
    for a reviewer's decision. Idempotent: a person is listed once until decided, and a
    decision to keep is listed again on its review date."""
    schedule = Schedule(today)
    fingerprint = schedule.fingerprint(list(Authority.objects.order_by("pk")))
    chosen = _candidates(today, fingerprint)
    worked = listed = not_covered = 0
    for pk in chosen:
        person = Person.objects.filter(pk=pk).first()
        if person is None:
            continue
        try:
            record = schedule.record_date(person)
        except ScheduleProblem as problem:
            logger.warning("Retention: person %s: %s", pk, problem)
            not_covered += 1
            record = None
        worked += 1
        RetentionEstimate.objects.update_or_create(
            person=person,
            defaults={
                "due_on": record.due_on if record else None,
                "computed_on": today,
                "schedule": fingerprint,
            },
        )
        if record is not None and record.is_due(today) and _list(person, record, today):
            listed += 1
    tokens, answers = _housekeeping()
    return SweepResult(len(chosen), worked, listed, not_covered, tokens, answers)


def _list(person: Person, record: RecordDate, today: dt.date) -> RetentionReview | None:
    deciding = record.deciding
    assert deciding is not None  # noqa: S101 - only due records are listed
    try:
        with transaction.atomic():
            review = RetentionReview.objects.create(
                person=person,
                service_area=deciding.service_area,
                record_class=deciding.class_id,
                record_class_label=deciding.class_label,
                basis=deciding.basis,
                trigger=deciding.trigger,
                years=deciding.years,
                due_on=deciding.due_on,
                classes=record.class_ids,
                note=deciding.note,
                listed_on=today,
            )
            audit_record(
                actor=None,
                verb="retention.listed",
                category=AuditCategory.PERSON,
                obj=review,
                person=person,
                event_date=today,
                summary=f"Listed for retention review: {deciding.class_label}, kept "
                f"{deciding.period}, which ended on {long_date(deciding.due_on)}",
            )
    except IntegrityError:
        return None  # another sweep listed them a moment ago
    return review


def _housekeeping() -> tuple[int, int]:
    """Spent one-time form tokens older than a day, and stored API answers past their
    idempotency window: records of no use once their window has passed."""
    from casework.api.idempotency import KEEP_FOR

    now = timezone.now()
    tokens, _ = (
        apps.get_model("core", "SpentFormToken")
        .objects.filter(spent_at__lt=now - SPENT_TOKENS_KEPT_FOR)
        .delete()
    )
    answers, _ = (
        apps.get_model("api", "IdempotentRequest")
        .objects.filter(created_at__lt=now - KEEP_FOR)
        .delete()
    )
    return tokens, answers


# --- Decisions --------------------------------------------------------------------------------


def _open_review(actor: User, review_id: int) -> RetentionReview:
    """The review, locked, if `actor` may decide it and nobody has yet."""
    review = reviews_visible_to(actor).select_for_update().filter(pk=review_id).first()
    if review is None:
        raise NotFound("There is no retention review with that number that you can see.")
    if review.state != ReviewState.DUE:
        who = review.decided_by.display_name if review.decided_by else "someone else"
        when = long_date(timezone.localdate(review.decided_at)) if review.decided_at else ""
        raise Conflict(
            f"This review has already been decided: {review.get_state_display().lower()} by "
            f"{who}{' on ' + when if when else ''}. Nothing has been changed."
        )
    return review


def _claim(review: RetentionReview, **values: object) -> None:
    """Record the decision only if the review is still open (a conditional UPDATE: of two
    reviewers deciding at once, one succeeds and the other is refused)."""
    updated = RetentionReview.objects.filter(pk=review.pk, state=ReviewState.DUE).update(**values)
    if updated != 1:
        raise Conflict("Someone else decided this review at the same moment. Nothing changed.")
    review.refresh_from_db()


def _check_reason(problems: ProblemCollector, reason: str, message: str) -> str:
    reason = reason.strip()
    problems.check(len(reason) >= MIN_REASON_CHARACTERS, "reason", message)
    return reason


def _check_next_review(
    problems: ProblemCollector, next_review_on: dt.date | None, *, required: bool
) -> None:
    today = timezone.localdate()
    if next_review_on is None:
        if required:
            problems.add("next_review_on", "Enter the date to review the records again.")
        return
    if next_review_on <= today:
        problems.add("next_review_on", "The next review must be after today.")
    elif next_review_on.year > today.year + LONGEST_REVIEW_INTERVAL_YEARS:
        problems.add(
            "next_review_on",
            f"Choose a review date within {LONGEST_REVIEW_INTERVAL_YEARS} years: records kept "
            "for longer are looked at again in the meantime.",
        )


@transaction.atomic
def retention_retain(
    *, actor: User, review_id: int, reason: str, next_review_on: dt.date | None
) -> RetentionReview:
    """Keep the records beyond their retention period, for a reason, until a review date
    (the sweep lists them again on that date)."""
    review = _open_review(actor, review_id)
    problems = ProblemCollector()
    reason = _check_reason(
        problems,
        reason,
        "Say why the records are being kept, for example an inquiry, a complaint or "
        f"a request from the family (at least {MIN_REASON_CHARACTERS} characters).",
    )
    _check_next_review(problems, next_review_on, required=True)
    problems.raise_if_any()
    assert next_review_on is not None  # noqa: S101 - checked above
    _claim(
        review,
        state=ReviewState.RETAINED,
        reason=reason,
        next_review_on=next_review_on,
        decided_by=actor,
        decided_at=timezone.now(),
    )
    audit_record(
        actor=actor,
        verb="retention.retained",
        category=AuditCategory.PERSON,
        obj=review,
        person=review.person,
        summary=f"Records kept after their retention review, to be reviewed again on "
        f"{long_date(next_review_on)}",
        reason=reason,
        changes={"state": [ReviewState.DUE, ReviewState.RETAINED]},
    )
    return review


@transaction.atomic
def retention_archive(
    *, actor: User, review_id: int, reason: str, next_review_on: dt.date | None = None
) -> RetentionReview:
    """Archive the records: kept for their lasting value (permanent preservation, in the
    Code of Practice's words), off the review queue until the review date if one is given,
    otherwise for good. Closed cases are already read-only; archiving changes nothing else."""
    review = _open_review(actor, review_id)
    problems = ProblemCollector()
    reason = _check_reason(
        problems,
        reason,
        "Say why the records are archived, for example their historical or research value "
        f"(at least {MIN_REASON_CHARACTERS} characters).",
    )
    _check_next_review(problems, next_review_on, required=False)
    problems.raise_if_any()
    _claim(
        review,
        state=ReviewState.ARCHIVED,
        reason=reason,
        next_review_on=next_review_on,
        decided_by=actor,
        decided_at=timezone.now(),
    )
    audit_record(
        actor=actor,
        verb="retention.archived",
        category=AuditCategory.PERSON,
        obj=review,
        person=review.person,
        summary="Records archived after their retention review"
        + (f", to be reviewed again on {long_date(next_review_on)}" if next_review_on else ""),
        reason=reason,
        changes={"state": [ReviewState.DUE, ReviewState.ARCHIVED]},
    )
    return review


def hold_description(hold: LegalHold, class_labels: dict[str, dict[str, str]] | None = None) -> str:
    """What the hold covers, in words. A page listing many holds passes `class_labels`
    (service area: {class id: label}), read once, so its queries do not grow with the holds."""
    area = _area_label(hold.service_area)
    if hold.person is not None:
        return f"{hold.person.full_name} ({hold.person.local_id})"
    if hold.record_class:
        labels = (
            class_labels[hold.service_area]
            if class_labels is not None and hold.service_area in class_labels
            else dict(known_classes(hold.service_area))
        )
        label = labels.get(hold.record_class, hold.record_class)
        return f"every {label[0].lower()}{label[1:]} in {area}"
    return f"every record in {area}"


def _hold_refusal(holds: list[LegalHold]) -> str:
    hold = holds[0]
    what = hold.reference or hold.reason
    more = f" (and {len(holds) - 1} more)" if len(holds) > 1 else ""
    return (
        f"These records are under a legal hold{more}: {what}, placed by "
        f"{hold.placed_by.display_name} on {long_date(timezone.localdate(hold.placed_at))}. "
        "They cannot be destroyed while it is in place. Keep them, with a review date after "
        "the hold is expected to end, or ask whoever placed the hold whether it can be lifted."
    )


@transaction.atomic
def retention_destroy(*, actor: User, review_id: int, confirmed: bool) -> DisposalReport:
    """Destroy the person's records: remove their personal data from every table and file,
    leaving the audit log's events as tombstones and one event recording the disposal."""
    review = _open_review(actor, review_id)
    if not confirmed:
        raise InvalidInput(
            "Confirm that the records should be destroyed: this cannot be undone.",
            field="confirmed",
        )
    assert review.person_id is not None  # noqa: S101 - an open review has its person
    person = Person.objects.select_for_update().get(pk=review.person_id)
    today = timezone.localdate()
    record = Schedule(today).record_date(person)
    if record.open_cases:
        raise InvalidInput(
            f"{person.full_name} has an open case, and records are never destroyed while a "
            "case is open. Keep them, with a review date after the case is expected to close."
        )
    if not record.is_due(today):
        due_on = record.due_on
        raise InvalidInput(
            "These records are not due for destruction any more: the record has changed "
            "since it was listed"
            + (f", and its retention period now ends on {long_date(due_on)}" if due_on else "")
            + ". Keep them, with a review date on or after that day."
        )
    holds = list(holds_blocking(person.pk, record.class_ids, record.service_areas))
    if holds:
        raise NotPermitted(_hold_refusal(holds))
    deciding = record.deciding
    assert deciding is not None  # noqa: S101 - due, so dated
    _claim(
        review,
        state=ReviewState.DESTROYED,
        reason="",
        next_review_on=None,
        decided_by=actor,
        decided_at=timezone.now(),
    )
    # What earlier reviewers wrote about the person goes with the person.
    RetentionReview.objects.filter(person=person).update(reason="")
    report = dispose_of_person(person)
    audit_record(
        actor=actor,
        verb="retention.disposed",
        category=AuditCategory.PERSON,
        obj=review,
        summary=f"Records disposed of under the retention schedule: {deciding.class_label} "
        f"(retention review {review.pk})",
        changes=report.as_changes(),
    )
    return report


# --- Legal holds ------------------------------------------------------------------------------


def known_classes(service_area: str) -> list[tuple[str, str]]:
    """The retention classes (id, label) of `service_area`'s schedule, for choosing a hold."""
    found: dict[str, str] = {}
    for authority in Authority.objects.order_by("pk"):
        for record_class in schedule_pack(authority, service_area).spec.retention:
            found.setdefault(record_class.id, record_class.label)
    return list(found.items())


@transaction.atomic
def legal_hold_place(
    *,
    actor: User,
    service_area: str,
    reason: str,
    reference: str = "",
    person_local_id: str = "",
    record_class: str = "",
) -> LegalHold:
    """Stop the destruction of one person's records, of every record of one class in a
    service area, or of every record in a service area (give neither a person nor a class)."""
    if service_area not in reviewer_areas(actor):
        raise NotPermitted(
            "Only a service manager or head of service of a service area can place a legal "
            "hold on its records."
        )
    problems = ProblemCollector()
    reason = _check_reason(
        problems,
        reason,
        "Say why the records must be kept, for example the inquiry or the legal case "
        f"(at least {MIN_REASON_CHARACTERS} characters).",
    )
    local_id = person_local_id.strip()
    record_class = record_class.strip()
    problems.check(
        not (local_id and record_class),
        "record_class",
        "A hold is on one person or on one class of records, not both.",
    )
    person = None
    if local_id:
        visible = cases_visible_to(actor).filter(service_area=service_area)
        person = Person.objects.filter(
            local_id__iexact=local_id, pk__in=visible.values("subject_id")
        ).first()
        problems.check(
            person is not None,
            "person_local_id",
            f"There is nobody with local ID {local_id} among the records of "
            f"{_area_label(service_area)} that you can see. Check the ID on the person's record.",
        )
    if record_class:
        problems.check(
            record_class in dict(known_classes(service_area)),
            "record_class",
            "Choose a class of records from the list.",
        )
    problems.raise_if_any()
    hold = LegalHold.objects.create(
        service_area=service_area,
        person=person,
        record_class="" if person else record_class,
        reference=reference.strip()[:200],
        reason=reason,
        placed_by=actor,
    )
    audit_record(
        actor=actor,
        verb="retention.hold_placed",
        category=AuditCategory.PERSON,
        obj=hold,
        person=person,
        summary=f"Legal hold placed on {hold_description(hold)}",
        reason=reason,
    )
    return hold


@transaction.atomic
def legal_hold_lift(*, actor: User, hold_id: int, reason: str) -> LegalHold:
    """End a hold: the records it covered may be destroyed again after review."""
    hold = holds_visible_to(actor).select_for_update().filter(pk=hold_id).first()
    if hold is None:
        raise NotFound("There is no legal hold with that number that you can see.")
    if not hold.in_force:
        who = hold.lifted_by.display_name if hold.lifted_by else "someone else"
        raise Conflict(f"This hold has already been lifted by {who}. Nothing has been changed.")
    problems = ProblemCollector()
    reason = _check_reason(
        problems,
        reason,
        "Say why the hold can end, for example that the inquiry has finished "
        f"(at least {MIN_REASON_CHARACTERS} characters).",
    )
    problems.raise_if_any()
    updated = LegalHold.objects.filter(pk=hold.pk, lifted_at__isnull=True).update(
        lifted_by=actor, lifted_at=timezone.now(), lift_reason=reason
    )
    if updated != 1:
        raise Conflict("Someone else lifted this hold at the same moment. Nothing changed.")
    hold.refresh_from_db()
    audit_record(
        actor=actor,
        verb="retention.hold_lifted",
        category=AuditCategory.PERSON,
        obj=hold,
        person=hold.person,
        summary=f"Legal hold lifted from {hold_description(hold)}",
        reason=reason,
    )
    return hold
