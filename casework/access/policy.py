"""Need to know: which cases a member of staff may see, and what they may do.

One place answers both "may I?" and "which ones?", so a list and a detail page can never
disagree. A case that exists but is not visible is treated exactly like one that does not
exist (404), so its existence does not leak.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from casework.access.models import EmergencyAccess, Restriction
from casework.accounts.models import User
from casework.cases.models import Case
from casework.core.errors import NotFound, NotPermitted
from casework.organisation.models import (
    MANAGER_ROLES,
    SERVICE_AREA_WIDE_ROLES,
    Membership,
    Role,
    TeamFunction,
)
from casework.transfers.models import (
    ACTIVE_TRANSFER_STATES,
    PathwayRequest,
    PathwayState,
    Transfer,
)


def _current_memberships(user: User) -> QuerySet[Membership]:
    return Membership.objects.current().filter(user=user)


def restricted_from(user: User, person_field: str = "pk") -> Q:
    """Whether the person at `person_field` has records restricted to named people, and
    `user` is not one of them (X-02: staff, or their family, as the subject)."""
    return Q(
        Exists(
            Restriction.objects.in_force()
            .filter(person=OuterRef(person_field))
            .exclude(names__user=user)
        )
    )


def cases_visible_to(user: User) -> QuerySet[Case]:
    """Every case `user` has a need to know about: their teams' cases, their own allocations,
    for service-area-wide roles every case in that service area, and a case they opened in
    an emergency today; never a restricted case they are not named on."""
    if not user.is_authenticated or not user.is_active:
        return Case.objects.none()
    memberships = _current_memberships(user)
    in_my_team = Exists(memberships.filter(team=OuterRef("responsible_team")))
    area_wide = Exists(
        memberships.filter(
            role__in=SERVICE_AREA_WIDE_ROLES, team__service_area=OuterRef("service_area")
        )
    )
    # A team asked to take a case (a transfer, a step-down, an escalation) needs to read it
    # before deciding (procedure 004).
    offered_to_my_team = Exists(
        Transfer.objects.filter(
            case=OuterRef("pk"),
            state__in=ACTIVE_TRANSFER_STATES,
            to_team_id__in=memberships.values("team_id"),
        )
    )
    asked_of_my_team = Exists(
        PathwayRequest.objects.filter(
            case=OuterRef("pk"),
            state=PathwayState.REQUESTED,
            to_team_id__in=memberships.values("team_id"),
        )
    )
    in_emergency = Exists(
        EmergencyAccess.objects.active(timezone.now()).filter(user=user, case=OuterRef("pk"))
    )
    return Case.objects.filter(
        in_my_team
        | area_wide
        | offered_to_my_team
        | asked_of_my_team
        | in_emergency
        | Q(allocated_worker=user)
    ).exclude(restricted_from(user, "subject"))


def case_for(user: User, case_id: int) -> Case:
    """The case, if `user` may see it; otherwise NotFound, as if it did not exist."""
    case = cases_visible_to(user).filter(pk=case_id).first()
    if case is None:
        raise NotFound("There is no case with that reference that you can see.")
    return case


def is_manager_for(user: User, case: Case) -> bool:
    """`user` manages in the case's team, or holds a senior role across its service area."""
    memberships = _current_memberships(user).filter(role__in=MANAGER_ROLES)
    return memberships.filter(
        Q(team_id=case.responsible_team_id)
        | Q(role__in=SERVICE_AREA_WIDE_ROLES, team__service_area=case.service_area)
    ).exists()


def require_manager_for(user: User, case: Case, action: str) -> None:
    if not is_manager_for(user, case):
        raise NotPermitted(
            f"Only a manager of the team that holds this case can {action}. "
            "Ask your team manager to do it, or to check your team membership."
        )


# A role is held for a case by someone with that role in the case's team, or by someone
# higher on the management ladder across the service area (a head of service can do what a
# service manager can). Roles off the ladder are held by that exact role in the area.
_LADDER = [
    Role.TEAM_MANAGER,
    Role.SENIOR_FIELDWORK_MANAGER,
    Role.SERVICE_MANAGER,
    Role.HEAD_OF_SERVICE,
]


def holds_role_for_case(user: User, case: Case, role: str) -> bool:
    memberships = _current_memberships(user)
    if role == Role.SOCIAL_WORKER:
        # The allocated worker, or anyone in the team that holds the case (managers
        # included: a manager may do a worker's step).
        return (
            case.allocated_worker_id == user.pk
            or memberships.filter(team_id=case.responsible_team_id).exists()
        )
    if role in _LADDER:
        higher = _LADDER[_LADDER.index(Role(role)) :]
        in_team = Q(role=role, team_id=case.responsible_team_id)
        above = Q(
            role__in=[r for r in higher if r != Role.TEAM_MANAGER],
            team__service_area=case.service_area,
        )
        return memberships.filter(in_team | above).exists()
    return memberships.filter(role=role, team__service_area=case.service_area).exists()


# Teams that take new contacts and referrals: they must check whether a person is already
# recorded (anywhere in the authority) before adding them, to avoid duplicate records.
INTAKE_FUNCTIONS = frozenset(
    {TeamFunction.FRONT_DOOR, TeamFunction.ADULTS_LOCALITY, TeamFunction.EARLY_HELP}
)


def may_check_for_duplicates(user: User) -> bool:
    """Whether `user` searches everyone when recording a referral (identity only is shown
    for people they have no need to know about)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return (
        _current_memberships(user)
        .filter(Q(team__function__in=INTAKE_FUNCTIONS) | Q(role__in=SERVICE_AREA_WIDE_ROLES))
        .exists()
    )
