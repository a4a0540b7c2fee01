"""Reads for the access pages: who has seen a record, emergency accesses awaiting review, and
what a case page says about access. Managers only, through `is_manager_for`."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from casework.access.models import EmergencyAccess, Restriction
from casework.access.policy import case_for, is_manager_for, need_to_know
from casework.access.services import emergency_accesses_reviewable_by
from casework.accounts.models import User
from casework.audit.models import AccessEvent
from casework.cases.models import Case
from casework.core.errors import NotPermitted
from casework.organisation.models import MANAGER_ROLES, Membership

ACCESS_LOG_PAGE = 50


@dataclass(frozen=True)
class CaseAccess:
    """What the case page says about access: an emergency access in force for this user,
    and for managers the restriction (if any) and the links to the access pages."""

    emergency: EmergencyAccess | None
    manages: bool
    restriction: Restriction | None


def case_access(user: User, case: Case) -> CaseAccess:
    # An emergency access in force is among the cases the need to know lists one by one
    # (with those offered to the user's teams): for any other case there is none to read.
    emergency = None
    if case.pk in need_to_know(user).case_ids:
        emergency = (
            EmergencyAccess.objects.active(timezone.now())
            .filter(user=user, case=case)
            .order_by("-expires_at")
            .first()
        )
    return CaseAccess(
        emergency=emergency,
        manages=is_manager_for(user, case),
        restriction=Restriction.objects.in_force()
        .filter(person=case.subject_id)
        .prefetch_related("names__user")
        .first(),
    )


def managed_case(user: User, case_id: int, action: str) -> Case:
    """The case, if `user` sees it (else NotFound) and manages it (else NotPermitted)."""
    case = case_for(user, case_id)
    if not is_manager_for(user, case):
        raise NotPermitted(
            f"Only a manager of the team that holds this case can {action}. Ask your team manager."
        )
    return case


def access_log_page(
    user: User, case_id: int, *, before: int | None = None
) -> tuple[Case, list[AccessEvent], int | None]:
    """Who has seen this record (X-02): every look at the case and at its subject's person
    record, newest first, a page at a time. For the case's managers only."""
    case = managed_case(user, case_id, "see who has looked at it")
    events = (
        AccessEvent.objects.filter(Q(case=case) | Q(person_id=case.subject_id))
        .select_related("actor", "case", "emergency_access")
        .order_by("-id")
    )
    if before is not None:
        events = events.filter(id__lt=before)
    page = list(events[: ACCESS_LOG_PAGE + 1])
    next_before = page[ACCESS_LOG_PAGE - 1].pk if len(page) > ACCESS_LOG_PAGE else None
    return case, page[:ACCESS_LOG_PAGE], next_before


def emergency_reviews_for(user: User) -> QuerySet[EmergencyAccess]:
    """Emergency accesses `user` may review, those without an outcome first."""
    return (
        EmergencyAccess.objects.filter(emergency_accesses_reviewable_by(user))
        .annotate(pages_opened=Count("views"))
        .select_related("user", "case", "case__responsible_team", "reviewed_by")
        .order_by("-started_at")
    )


def may_review_emergency_access(user: User) -> bool:
    """Managers review emergency access (the same test decides the menu's link)."""
    return Membership.objects.current().filter(user=user, role__in=MANAGER_ROLES).exists()
