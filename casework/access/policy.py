"""Need to know: which cases a member of staff may see, and what they may do.

One place answers both "may I?" and "which ones?", so a list and a detail page can never
disagree. A case that exists but is not visible is treated exactly like one that does not
exist (404), so its existence does not leak.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from casework.access.models import Restriction
from casework.accounts.models import User
from casework.cases.models import Case
from casework.core.compiled import CompiledRead
from casework.core.errors import NotFound, NotPermitted
from casework.organisation.models import (
    MANAGER_ROLES,
    SERVICE_AREA_WIDE_ROLES,
    Role,
    TeamFunction,
)
from casework.transfers.models import PathwayState, TransferState


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


class Seat(NamedTuple):
    """One of the user's current memberships: a role in a team."""

    team_id: int
    role: str
    service_area: str
    team_function: str


@dataclass(frozen=True)
class NeedToKnow:
    """What `user`'s need to know rests on, read in one query: their current memberships
    (so their teams, and the service areas they see whole), the cases offered or asked of
    their teams or opened in an emergency today, and the people restricted from them. Plain
    values rather than correlated subqueries, so that the database can answer "which cases"
    from its indexes (a bitmap of team, area, id and worker) instead of testing a million
    cases one by one."""

    seats: frozenset[Seat]
    case_ids: frozenset[int]
    hidden_people: frozenset[int]

    @property
    def team_ids(self) -> frozenset[int]:
        return frozenset(seat.team_id for seat in self.seats)

    @property
    def area_wide(self) -> frozenset[str]:
        return frozenset(s.service_area for s in self.seats if s.role in SERVICE_AREA_WIDE_ROLES)

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(seat.role for seat in self.seats)


@dataclass(frozen=True)
class _Known:
    """One user's need to know as read, and, if it was read inside a transaction the
    request opened, that transaction's end marker (see `_transaction_marker`)."""

    value: NeedToKnow
    marker: Callable[[], None] | None


@dataclass
class _Remembered:
    """What each user's need to know was found to be during the current request, remembered
    from the first read until the request writes anything (see `need_to_know_remembered`).
    `depth` is how many transactions were open when the request began (a test's own)."""

    depth: int
    known: dict[int, _Known]


# None outside a request: workers, commands and tests calling selectors read afresh.
_remembered: ContextVar[_Remembered | None] = ContextVar("need_to_know_remembered", default=None)

# Statements that neither change data nor undo a change: reading, and opening or releasing a
# savepoint. A write forgets if it is to a table the need to know is read from (see
# `_changes_need_to_know`); anything else (ROLLBACK TO SAVEPOINT, SQLite's BEGIN) forgets.
_HARMLESS = ("SELECT", "SAVEPOINT", "RELEASE SAVEPOINT")
# The table a plain INSERT, UPDATE or DELETE writes to, as Django writes them.
_WRITTEN_TABLE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?\s', re.I)


@contextmanager
def need_to_know_remembered() -> Iterator[None]:
    """For the length of one request, read each user's need to know once (a page asks three
    or four times: its list, the case, the readiness panel; a closure proposal five), and
    forget it the moment the request sends the database anything that changes data or
    undoes a change: a write (accepting a transfer, placing a restriction) may change what
    the user may see, and a rollback may undo a grant read since. So a read after a write
    always reads afresh.

    What is read inside a transaction the request opened (a service's) is kept only while
    that transaction lasts: the outermost COMMIT and ROLLBACK never pass the statement
    watcher, so each such read leaves a marker among the transaction's on-commit callbacks,
    which Django discards when the transaction (or the savepoint it was read in) ends, and
    a read whose marker is gone is not used again."""
    remembered = _Remembered(depth=len(connection.atomic_blocks), known={})

    def forget_on_write(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        # Only the statement's start is looked at: this runs for every query of a request.
        if (
            sql is not _NEED_TO_KNOW_SQL
            and not sql[:40].lstrip("( \n")[:17].upper().startswith(_HARMLESS)
            and _changes_need_to_know(sql)
        ):
            remembered.known.clear()
        return execute(sql, params, many, context)

    token = _remembered.set(remembered)
    try:
        with connection.execute_wrapper(forget_on_write):
            yield
    finally:
        _remembered.reset(token)


def _changes_need_to_know(sql: str) -> bool:
    """Whether a statement other than a read may change someone's need to know: a write to
    a table it is read from (a membership, a transfer, an emergency access, a restriction),
    and anything not recognised as a plain write. A closure, its step, a task, a
    notification or an audit event written by the same request leaves it as it was, so the
    answer a service sends back after its writes does not read it a second time."""
    written = _WRITTEN_TABLE.match(sql)
    return written is None or written.group(1).lower() in _NEED_TO_KNOW_TABLES


def _transaction_marker() -> Callable[[], None]:
    """A do-nothing on-commit callback whose presence says the transaction it was added in
    (and every savepoint open then) is still going: Django drops it from the list at a
    rollback to one of those savepoints and starts a new list when the transaction commits
    or rolls back. An identity, not a depth: a service decorated with `atomic` enters the
    same Atomic object at each call, so neither tells one transaction from the next."""

    def marker() -> None:
        return None

    connection.on_commit(marker)
    return marker


def _transaction_still_open(marker: Callable[[], None]) -> bool:
    # Each entry is (savepoint ids, callback, robust); the stubs know only the first two.
    return any(entry[1] is marker for entry in connection.run_on_commit)


def need_to_know(user: User) -> NeedToKnow:
    remembered = _remembered.get()
    if remembered is None:  # outside a request: read afresh
        return _read_need_to_know(user)
    known = remembered.known.get(user.pk)
    if known is not None and (known.marker is None or _transaction_still_open(known.marker)):
        return known.value
    value = _read_need_to_know(user)
    in_own_transaction = len(connection.atomic_blocks) > remembered.depth
    remembered.known[user.pk] = _Known(value, _transaction_marker() if in_own_transaction else None)
    return value


# Written by hand rather than with the ORM: it runs for every request and again inside every
# write, and the ORM took 5 ms of CPU to build this union each time (0.3 ms as SQL). The
# rules are the managers' own: Membership.objects.current(), EmergencyAccess.objects.active(),
# Restriction.objects.in_force(), ACTIVE_TRANSFER_STATES; the tests of each reason, at its
# boundaries, are in casework/access/tests/test_need_to_know_at_scale.py.
_NEED_TO_KNOW_SQL = """
    WITH my_seats AS (
        SELECT m.team_id, m.role, t.service_area, t.function
        FROM organisation_membership m JOIN organisation_team t ON t.id = m.team_id
        WHERE m.user_id = %(user)s AND m.started_on <= %(today)s
          AND (m.ended_on IS NULL OR m.ended_on >= %(today)s)
    )
    SELECT 1, team_id, role, service_area, function FROM my_seats
    UNION ALL
    -- A team asked to take a case (a transfer, a step-down, an escalation) needs to read it
    -- before deciding (procedure 004).
    SELECT 2, case_id, '', '', '' FROM transfers_transfer
    WHERE state IN (%(requested)s, %(authorised)s, %(accepted)s)
      AND to_team_id IN (SELECT team_id FROM my_seats)
    UNION ALL
    SELECT 2, case_id, '', '', '' FROM transfers_pathwayrequest
    WHERE state = %(pathway_requested)s AND to_team_id IN (SELECT team_id FROM my_seats)
    UNION ALL
    SELECT 2, case_id, '', '', '' FROM access_emergencyaccess
    WHERE user_id = %(user)s AND case_id IS NOT NULL AND expires_at > %(now)s
    UNION ALL
    SELECT 3, r.person_id, '', '', '' FROM access_restriction r
    WHERE r.lifted_at IS NULL AND NOT EXISTS (
        SELECT 1 FROM access_restrictionname n
        WHERE n.restriction_id = r.id AND n.user_id = %(user)s
    )"""
_SEAT, _CASE, _HIDDEN = 1, 2, 3
# Every table the statement above reads: a write to one of them forgets what was read.
_NEED_TO_KNOW_TABLES = frozenset(re.findall(r"(?:FROM|JOIN)\s+(\w+)", _NEED_TO_KNOW_SQL))


def _read_need_to_know(user: User) -> NeedToKnow:
    ops = connection.ops
    params = {
        "user": user.pk,
        "today": ops.adapt_datefield_value(timezone.localdate()),
        "now": ops.adapt_datetimefield_value(timezone.now()),
        # ACTIVE_TRANSFER_STATES, each by name (a test fails if that tuple changes).
        "requested": str(TransferState.REQUESTED),
        "authorised": str(TransferState.AUTHORISED),
        "accepted": str(TransferState.ACCEPTED),
        "pathway_requested": str(PathwayState.REQUESTED),
    }
    seats: set[Seat] = set()
    case_ids: set[int] = set()
    hidden: set[int] = set()
    with connection.cursor() as cursor:
        cursor.execute(_NEED_TO_KNOW_SQL, params)
        for kind, number, role, area, function in cursor.fetchall():
            if kind == _SEAT:
                seats.add(Seat(number, role, area, function))
            elif kind == _CASE:
                case_ids.add(number)
            else:
                hidden.add(number)
    return NeedToKnow(frozenset(seats), frozenset(case_ids), frozenset(hidden))


def cases_visible_to(user: User) -> QuerySet[Case]:
    """Every case `user` has a need to know about: their teams' cases, their own allocations,
    for service-area-wide roles every case in that service area, a case offered or asked
    of their team, and a case they opened in an emergency today; never a restricted case
    they are not named on."""
    if not user.is_authenticated or not user.is_active:
        return Case.objects.none()
    return _cases_known_to(user, need_to_know(user))


def _cases_known_to(user: User, known: NeedToKnow) -> QuerySet[Case]:
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


def _known_to(user: User, known: NeedToKnow, case: Case) -> bool:
    """`_cases_known_to`'s rule for one case already read: for `case_for`, which reads a
    case by its key and then asks, instead of sending every case offered or asked of the
    user's teams, or opened in an emergency, to find one. The boundary tests ask both and
    hold them equal for every way of knowing a case."""
    if case.subject_id in known.hidden_people:
        return False
    return (
        case.responsible_team_id in known.team_ids
        or case.service_area in known.area_wide
        or case.pk in known.case_ids
        or case.allocated_worker_id == user.pk
    )


# A case by its key with the relations a caller names, compiled once for each list of them:
# every page and action that names a case reads it this way.
_CASES_BY_KEY: dict[tuple[str, ...], CompiledRead[Case]] = {}
_KEYS = range(1, 2**63)  # what a BigAutoField holds


def _case_by_key(related: tuple[str, ...]) -> CompiledRead[Case]:
    read = _CASES_BY_KEY.get(related)
    if read is None:
        read = _CASES_BY_KEY[related] = CompiledRead(
            lambda case_id: Case.objects.select_related(*related).filter(pk=case_id)
        )
    return read


# Set on a case read by `case_for`: the need to know it was checked against.
_CHECKED_AGAINST = "_casework_checked_against"


def case_for(user: User, case_id: int, *, related: tuple[str, ...] = ()) -> Case:
    """The case, if `user` may see it; otherwise NotFound, as if it did not exist.
    `related` names relations to read with it (`select_related`)."""
    if not user.is_authenticated or not user.is_active:
        raise NotFound("There is no case with that reference that you can see.")
    known = need_to_know(user)
    if type(case_id) is int and case_id in _KEYS:
        case = _case_by_key(related).one(case_id)
    else:  # the ORM's own answer (nothing) to a key no column can hold, or a key as text
        case = Case.objects.select_related(*related).filter(pk=case_id).first()
    if case is None or not _known_to(user, known, case):
        case = None  # nothing of a case they may not see stays in reach (a traceback's locals)
        raise NotFound("There is no case with that reference that you can see.")
    setattr(case, _CHECKED_AGAINST, known)
    return case


def case_again(user: User, case: Case) -> Case:
    """`case` checked once more, for another panel of the same page: the case itself if
    `case_for` read it for `user` and the request has written nothing since (the need to
    know it was checked against is still the one this request remembers); otherwise read
    and checked afresh by `case_for`. For pages: services use `case_for`, which reads the
    case inside their transaction."""
    if user.is_active and getattr(case, _CHECKED_AGAINST, None) is need_to_know(user):
        return case
    return case_for(user, case.pk)


def case_in_transaction(user: User, case: Case) -> Case:
    """`case` for a service handed it by a caller in the same transaction: the case itself
    if `case_for` read it for `user` inside the transaction now open and nothing has been
    written since (so it is what reading it again would give); otherwise read and checked
    afresh by `case_for`. A case read before the transaction began is always read again."""
    remembered = _remembered.get()
    known = remembered.known.get(user.pk) if remembered is not None else None
    if (
        user.is_active
        and known is not None
        and known.marker is not None
        and getattr(case, _CHECKED_AGAINST, None) is known.value
        and _transaction_still_open(known.marker)
    ):
        return case
    return case_for(user, case.pk)


def is_manager_for(user: User, case: Case) -> bool:
    """`user` manages in the case's team, or holds a senior role across its service area."""
    if not user.is_active:
        return False
    return any(
        seat.role in MANAGER_ROLES
        and (
            seat.team_id == case.responsible_team_id
            or (seat.role in SERVICE_AREA_WIDE_ROLES and seat.service_area == case.service_area)
        )
        for seat in need_to_know(user).seats
    )


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
    if not user.is_active:
        return False
    seats = need_to_know(user).seats
    if role == Role.SOCIAL_WORKER:
        # The allocated worker, or anyone in the team that holds the case (managers
        # included: a manager may do a worker's step).
        return case.allocated_worker_id == user.pk or any(
            seat.team_id == case.responsible_team_id for seat in seats
        )
    if role in _LADDER:
        senior = [r for r in _LADDER[_LADDER.index(Role(role)) :] if r != Role.TEAM_MANAGER]
        return any(
            (seat.role == role and seat.team_id == case.responsible_team_id)
            or (seat.role in senior and seat.service_area == case.service_area)
            for seat in seats
        )
    return any(seat.role == role and seat.service_area == case.service_area for seat in seats)


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
    return any(
        seat.team_function in INTAKE_FUNCTIONS or seat.role in SERVICE_AREA_WIDE_ROLES
        for seat in need_to_know(user).seats
    )
