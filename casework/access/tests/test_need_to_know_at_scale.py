"""The shape of the need-to-know queries, which decides whether they stay fast at a million
cases (issue 10; docs/performance.md). Correlated subqueries ORed together made PostgreSQL
test every case one by one: My cases took 117 s and person search 120 s at scale 1.0. The
user's teams, areas and exceptional cases are now read first, in one query, as plain values
the database can look up in its indexes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from casework.access.models import EmergencyAccess, Restriction
from casework.access.policy import (
    case_for,
    cases_visible_to,
    holds_role_for_case,
    is_manager_for,
    need_to_know,
    need_to_know_remembered,
)
from casework.access.services import emergency_access_open, restriction_place
from casework.accounts.models import User
from casework.audit.models import AuditCategory
from casework.audit.services import audit_record
from casework.cases.models import Case
from casework.core.errors import NotFound
from casework.organisation.models import Membership, Role, Team
from casework.people.selectors import people_visible_to
from casework.tasks.services import notify_role, task_schedule
from casework.transfers.models import (
    ACTIVE_TRANSFER_STATES,
    PathwayRequest,
    PathwayState,
    Transfer,
    TransferState,
)

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def test_what_a_worker_may_see_is_read_in_one_query_and_filtered_by_plain_values(
    worker: User, open_case: Case
) -> None:
    with CaptureQueriesContext(connection) as captured:
        visible = cases_visible_to(worker)
    assert len(captured.captured_queries) == 1  # the need to know, read once
    sql = str(visible.query).upper()
    # No subquery left for the database to run once per case.
    assert "EXISTS" not in sql
    assert "SELECT" not in sql.split("WHERE", 1)[1]
    assert list(visible) == [open_case]


def test_the_need_to_know_holds_each_kind_of_reason(
    worker: User,
    manager: User,
    outsider: User,
    open_case: Case,
    team_sgcp: Team,
    make_staff: Callable[..., User],
) -> None:
    head = make_staff("head", team_sgcp, Role.HEAD_OF_SERVICE)
    _emergency(outsider, open_case)
    known = need_to_know(outsider)
    assert known.team_ids == {team_sgcp.pk}
    assert known.area_wide == frozenset()  # a social worker sees their teams, not the area
    assert known.case_ids == {open_case.pk}
    assert known.hidden_people == frozenset()
    assert need_to_know(head).area_wide == {team_sgcp.service_area}

    restriction_place(actor=manager, case=open_case, reason="The subject is a member of staff.")
    assert need_to_know(outsider).hidden_people == {open_case.subject_id}
    assert need_to_know(worker).hidden_people == frozenset()  # named: the allocated worker
    assert not cases_visible_to(outsider).filter(pk=open_case.pk).exists()


def test_a_persons_visibility_is_checked_from_the_person_not_from_every_visible_case(
    worker: User, open_case: Case
) -> None:
    sql = str(people_visible_to(worker).filter(pk=open_case.subject_id).query).upper()
    # Correlated EXISTS: a few index lookups for this person, whatever the caseload.
    assert sql.count("EXISTS") >= 5
    assert " IN (SELECT" not in sql
    assert list(people_visible_to(worker).filter(pk=open_case.subject_id)) == [open_case.subject]


def _emergency(outsider: User, case: Case) -> EmergencyAccess:
    return emergency_access_open(
        actor=outsider,
        case_reference=case.reference,
        reason="Police at the door asking about this child now",
    )


def _need_to_know_reads(captured: CaptureQueriesContext) -> int:
    return sum(1 for q in captured.captured_queries if "UNION" in q["sql"].upper())


def test_a_request_reads_the_need_to_know_once(worker: User, open_case: Case) -> None:
    """A case page asks who may see the case several times (the page, the readiness panel,
    the re-referral panel); within one request the need to know is read once."""
    client = Client()
    client.force_login(worker)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("case-detail", kwargs={"case_id": open_case.pk}))
    assert response.status_code == 200
    assert _need_to_know_reads(captured) == 1


def test_a_write_in_the_request_makes_the_next_question_read_afresh(
    outsider: User, open_case: Case
) -> None:
    """What a request remembers is forgotten at its first write: here the outsider opens
    the case in an emergency, and the very next question in the same request sees it."""
    with need_to_know_remembered():
        assert not cases_visible_to(outsider).filter(pk=open_case.pk).exists()
        with CaptureQueriesContext(connection) as captured:
            assert not cases_visible_to(outsider).filter(pk=open_case.pk).exists()
        assert _need_to_know_reads(captured) == 0  # remembered
        _emergency(outsider, open_case)
        assert cases_visible_to(outsider).filter(pk=open_case.pk).exists()
    # Outside a request nothing is remembered at all.
    with CaptureQueriesContext(connection) as captured:
        cases_visible_to(outsider)
        cases_visible_to(outsider)
    assert _need_to_know_reads(captured) == 2


def test_only_a_write_to_what_the_need_to_know_is_read_from_forgets_it(
    worker: User, outsider: User, open_case: Case
) -> None:
    """What a service writes after its checks (an audit event, a task, a notification) does
    not change who may see what, so the answer it sends back does not read the need to know
    again; a write to a table the need to know is read from (here a membership of the
    case's team) is seen by the very next question."""
    with need_to_know_remembered():
        assert not _visible(outsider, open_case)
        with CaptureQueriesContext(connection) as captured:
            audit_record(
                actor=worker,
                verb="case.viewed",
                category=AuditCategory.ACCESS,
                obj=open_case,
                summary="Case viewed",
                case=open_case,
            )
            task_schedule(
                key="check", case=open_case, title="Check", role=Role.SOCIAL_WORKER, due_on=None
            )
            notify_role(
                key="told", case=open_case, role=Role.SOCIAL_WORKER, event="e", message="Told"
            )
            assert not _visible(outsider, open_case)
        assert _need_to_know_reads(captured) == 0
        Membership.objects.create(
            user=outsider,
            team=open_case.responsible_team,
            role=Role.SOCIAL_WORKER,
            started_on=TODAY,
        )
        assert _visible(outsider, open_case)


# --- Each reason at its boundaries (the need to know is read with hand-written SQL) ---------


def _visible(user: User, case: Case) -> bool:
    """Whether `user` sees `case`, asked both of the list rule (`cases_visible_to`) and of
    `case_for`, which applies the same rule in Python to the one case it reads by key: every
    boundary below holds the two equal."""
    listed = cases_visible_to(user).filter(pk=case.pk).exists()
    try:
        found = case_for(user, case.pk) == case
    except NotFound:
        found = False
    assert found is listed, f"case_for says {found}, cases_visible_to says {listed}"
    return listed


@pytest.mark.parametrize("state", list(TransferState))
def test_x02_a_transfer_opens_the_case_to_the_receiving_team_while_it_is_active(
    outsider: User, worker: User, open_case: Case, team_sgcp: Team, state: TransferState
) -> None:
    """Every state in ACTIVE_TRANSFER_STATES (and only those) lets the receiving team read
    the case before deciding; a transfer completed, declined or withdrawn does not."""
    Transfer.objects.create(
        case=open_case,
        pack_id="004",
        from_team=open_case.responsible_team,
        to_team=team_sgcp,
        state=state,
        rationale="Needs the SGCP team",
        requested_by=worker,
        requested_on=TODAY,
    )
    assert _visible(outsider, open_case) is (state in ACTIVE_TRANSFER_STATES)


@pytest.mark.parametrize("state", list(PathwayState))
def test_x02_a_pathway_request_opens_the_case_only_while_it_waits_for_a_decision(
    outsider: User, worker: User, open_case: Case, team_sgcp: Team, state: PathwayState
) -> None:
    PathwayRequest.objects.create(
        case=open_case,
        pack_id="004",
        pathway_id="escalation",
        kind="escalation",
        to_team=team_sgcp,
        state=state,
        requested_by=worker,
        requested_on=TODAY,
    )
    assert _visible(outsider, open_case) is (state == PathwayState.REQUESTED)


@pytest.mark.parametrize(
    ("started", "ended", "counts"),
    [
        (-10, None, True),
        (0, 0, True),  # both ends of a membership count
        (1, None, False),  # starts tomorrow
        (-10, -1, False),  # ended yesterday
    ],
)
def test_x02_a_membership_counts_from_its_first_day_to_its_last(
    make_staff: Callable[..., User],
    team_ai: Team,
    open_case: Case,
    started: int,
    ended: int | None,
    counts: bool,
) -> None:
    joiner = make_staff("joiner", team_ai)
    joiner.memberships.update(
        started_on=TODAY + dt.timedelta(days=started),
        ended_on=None if ended is None else TODAY + dt.timedelta(days=ended),
    )
    assert _visible(joiner, open_case) is counts
    assert (need_to_know(joiner).team_ids == {team_ai.pk}) is counts


def test_x02_emergency_access_ends_when_it_expires_and_a_lifted_restriction_hides_nobody(
    outsider: User, manager: User, open_case: Case
) -> None:
    access = _emergency(outsider, open_case)
    assert _visible(outsider, open_case)
    EmergencyAccess.objects.filter(pk=access.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert not _visible(outsider, open_case)

    restriction = restriction_place(
        actor=manager, case=open_case, reason="The subject is a member of staff."
    )
    assert need_to_know(outsider).hidden_people == {open_case.subject_id}
    Restriction.objects.filter(pk=restriction.pk).update(lifted_at=timezone.now())
    assert need_to_know(outsider).hidden_people == frozenset()


def test_x02_a_restriction_hides_the_case_from_its_team_but_not_from_those_named(
    worker: User,
    manager: User,
    make_staff: Callable[..., User],
    team_ai: Team,
    open_case: Case,
) -> None:
    """A restricted subject's case is hidden from their own team, even from a head of
    service who sees the whole area, except from those named on the restriction (the
    allocated worker and the manager who placed it)."""
    colleague = make_staff("colleague", team_ai)
    head = make_staff("areahead", team_ai, Role.HEAD_OF_SERVICE)
    assert _visible(colleague, open_case)
    assert _visible(head, open_case)
    restriction_place(actor=manager, case=open_case, reason="The subject is a member of staff.")
    assert not _visible(colleague, open_case)
    assert not _visible(head, open_case)
    assert _visible(worker, open_case)
    assert _visible(manager, open_case)


def test_x02_a_service_area_wide_role_sees_the_area_from_another_team(
    make_staff: Callable[..., User], team_sgcp: Team, open_case: Case
) -> None:
    """A head of service in another team of the same service area sees the case (the area
    is theirs); a social worker or team manager in that team does not."""
    assert _visible(make_staff("sgcphead", team_sgcp, Role.HEAD_OF_SERVICE), open_case)
    assert not _visible(make_staff("sgcpworker", team_sgcp), open_case)
    assert not _visible(make_staff("sgcplead", team_sgcp, Role.TEAM_MANAGER), open_case)


def test_x02_the_allocated_worker_sees_the_case_from_outside_its_team(
    outsider: User, open_case: Case
) -> None:
    assert not _visible(outsider, open_case)
    Case.objects.filter(pk=open_case.pk).update(allocated_worker=outsider)
    open_case.refresh_from_db()
    assert _visible(outsider, open_case)


def test_x02_roles_for_a_case_come_from_the_current_memberships(
    worker: User,
    manager: User,
    outsider: User,
    open_case: Case,
    team_sgcp: Team,
    make_staff: Callable[..., User],
) -> None:
    """The checks of who may act on a case read the same memberships as the need to know:
    a team manager manages their team's cases, a head of service every case in the area,
    a social worker none; a worker in another team holds no role for the case."""
    head = make_staff("head", team_sgcp, Role.HEAD_OF_SERVICE)
    assert is_manager_for(manager, open_case)
    assert is_manager_for(head, open_case)
    assert not is_manager_for(worker, open_case)
    assert not is_manager_for(make_staff("sgcpmanager", team_sgcp, Role.TEAM_MANAGER), open_case)
    assert holds_role_for_case(worker, open_case, Role.SOCIAL_WORKER)
    assert not holds_role_for_case(outsider, open_case, Role.SOCIAL_WORKER)
    assert holds_role_for_case(head, open_case, Role.SERVICE_MANAGER)  # higher on the ladder
    assert not holds_role_for_case(manager, open_case, Role.SERVICE_MANAGER)


@pytest.mark.django_db(transaction=True)
def test_what_a_rolled_back_transaction_granted_is_forgotten(
    outsider: User, open_case: Case
) -> None:
    """A grant written and read inside a transaction that then rolls back is not remembered
    for the rest of the request: the outermost ROLLBACK (and COMMIT) never passes the
    statement watcher, so nothing read inside a transaction the request opened is kept."""

    class Refused(Exception):
        pass

    def grant_read_and_roll_back() -> None:
        with transaction.atomic():
            _emergency(outsider, open_case)
            assert _visible(outsider, open_case)
            raise Refused

    with need_to_know_remembered():
        with pytest.raises(Refused):
            grant_read_and_roll_back()
        with transaction.atomic():  # not by the first question of the next transaction
            assert not _visible(outsider, open_case)
        assert not _visible(outsider, open_case)  # nor outside one


def test_inside_a_transaction_the_need_to_know_is_read_once_until_a_write(
    worker: User, outsider: User, open_case: Case
) -> None:
    """A service asks several times inside its transaction (the case, the role, the answer
    it sends back): once, across savepoints opened and released, until it writes."""
    with need_to_know_remembered(), transaction.atomic():
        with CaptureQueriesContext(connection) as captured:
            case_for(worker, open_case.pk)
            with transaction.atomic():  # a service's own savepoint
                case_for(worker, open_case.pk)
            assert holds_role_for_case(worker, open_case, Role.SOCIAL_WORKER)
        assert _need_to_know_reads(captured) == 1
        _emergency(outsider, open_case)
        with CaptureQueriesContext(connection) as captured:
            assert _visible(outsider, open_case)  # the write is seen at once
            assert _visible(outsider, open_case)
        assert _need_to_know_reads(captured) == 1


def test_a_rollback_to_a_savepoint_forgets_what_was_read_since(
    outsider: User, open_case: Case
) -> None:
    """A grant written and read inside a savepoint that is then rolled back is not seen by
    the rest of the transaction."""
    with need_to_know_remembered(), transaction.atomic():
        try:
            with transaction.atomic():
                _emergency(outsider, open_case)
                assert _visible(outsider, open_case)
                raise ValueError("refused after the grant")
        except ValueError:
            pass
        assert not _visible(outsider, open_case)


@pytest.mark.django_db(transaction=True)
def test_a_service_entered_twice_does_not_see_what_its_rolled_back_first_call_granted(
    outsider: User, open_case: Case
) -> None:
    """The request's own outermost transactions, as in production (no test transaction
    around them): a service decorated with `atomic` enters the same Atomic object each call,
    and its first call's grant, read then rolled back, is not remembered into the second."""

    class Refused(Exception):
        pass

    @transaction.atomic
    def service(grant: bool) -> bool:
        if grant:
            _emergency(outsider, open_case)
        seen = _visible(outsider, open_case)
        if grant:
            raise Refused
        return seen

    with need_to_know_remembered():
        assert len(connection.atomic_blocks) == 0
        with pytest.raises(Refused):
            service(grant=True)
        assert service(grant=False) is False
        assert not _visible(outsider, open_case)
