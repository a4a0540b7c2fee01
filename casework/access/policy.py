"""Need to know: which cases a member of staff may see, and what they may do.

One place answers both "may I?" and "which ones?", so a list and a detail page can never
disagree. A case that exists but is not visible is treated exactly like one that does not
exist (404), so its existence does not leak.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import CharField, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value
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


@dataclass(frozen=True)
class NeedToKnow:
    """What `user`'s need to know rests on, read in one query: their teams, the service
    areas they see whole, the cases offered or asked of their teams or opened in an
    emergency today, and the people restricted from them. Plain values rather than
    correlated subqueries, so that the database can answer "which cases" from its indexes
    (a bitmap of team, area, id and worker) instead of testing a million cases one by one."""

    team_ids: frozenset[int]
    area_wide: frozenset[str]
    case_ids: frozenset[int]
    hidden_people: frozenset[int]


_KIND_TEAM, _KIND_AREA, _KIND_CASE, _KIND_HIDDEN = 1, 2, 3, 4


def need_to_know(user: User) -> NeedToKnow:
    memberships = _current_memberships(user)
    my_team_ids = memberships.values("team_id")

    def tagged(queryset: QuerySet[Any], kind: int, number: str, text: str = "") -> QuerySet[Any]:
        return queryset.order_by().values_list(
            Value(kind, output_field=IntegerField()),
            number,
            F(text) if text else Value("", output_field=CharField()),
        )

    rows = tagged(memberships, _KIND_TEAM, "team_id").union(
        tagged(
            memberships.filter(role__in=SERVICE_AREA_WIDE_ROLES),
            _KIND_AREA,
            "team_id",
            "team__service_area",
        ),
        # A team asked to take a case (a transfer, a step-down, an escalation) needs to
        # read it before deciding (procedure 004).
        tagged(
            Transfer.objects.filter(state__in=ACTIVE_TRANSFER_STATES, to_team_id__in=my_team_ids),
            _KIND_CASE,
            "case_id",
        ),
        tagged(
            PathwayRequest.objects.filter(state=PathwayState.REQUESTED, to_team_id__in=my_team_ids),
            _KIND_CASE,
            "case_id",
        ),
        tagged(
            EmergencyAccess.objects.active(timezone.now()).filter(user=user, case_id__isnull=False),
            _KIND_CASE,
            "case_id",
        ),
        tagged(Restriction.objects.in_force().exclude(names__user=user), _KIND_HIDDEN, "person_id"),
        all=True,
    )
    found: dict[int, set[Any]] = {kind: set() for kind in (1, 2, 3, 4)}
    for kind, number, text in rows:
        found[kind].add(text if kind == _KIND_AREA else number)
    return NeedToKnow(
        frozenset(found[_KIND_TEAM]),
        frozenset(found[_KIND_AREA]),
        frozenset(found[_KIND_CASE]),
        frozenset(found[_KIND_HIDDEN]),
    )


def cases_visible_to(user: User) -> QuerySet[Case]:
    """Every case `user` has a need to know about: their teams' cases, their own allocations,
    for service-area-wide roles every case in that service area, a case offered or asked
    of their team, and a case they opened in an emergency today; never a restricted case
    they are not named on."""
    if not user.is_authenticated or not user.is_active:
        return Case.objects.none()
    known = need_to_know(user)
    # An empty list drops its own branch of the OR (Django never sends `IN ()`).
    visible = Case.objects.filter(
        Q(responsible_team_id__in=sorted(known.team_ids))
        | Q(service_area__in=sorted(known.area_wide))
        | Q(pk__in=sorted(known.case_ids))
        | Q(allocated_worker=user)
    )
    if known.hidden_people:
        visible = visible.exclude(subject_id__in=sorted(known.hidden_people))
    return visible


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
