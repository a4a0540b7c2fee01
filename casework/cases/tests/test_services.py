"""Case services: plain-English refusals with nothing half-written, and every change on the
record (X-01)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from casework.accounts.models import User
from casework.audit.models import AppendOnlyError, AuditEvent
from casework.cases.models import Allocation, Case, Plan, Referral, Visit
from casework.cases.services import (
    case_allocate,
    case_close_imported,
    case_open,
    decision_record,
    plan_end,
    plan_start,
    visit_record,
)
from casework.core.errors import InvalidInput, NotFound, NotPermitted
from casework.organisation.models import Team
from casework.people.models import Person
from casework.people.services import person_create

TODAY = timezone.localdate()


def _counts() -> tuple[int, ...]:
    return (
        Case.objects.count(),
        Referral.objects.count(),
        Allocation.objects.count(),
        Visit.objects.count(),
        Plan.objects.count(),
        AuditEvent.objects.count(),
    )


def test_x01_opening_a_case_writes_case_referral_allocation_and_event(open_case: Case) -> None:
    """X-01: the case, its referral, its first allocation and the event arrive together."""
    assert open_case.reference == f"C{open_case.pk:07d}"
    assert open_case.referrals.count() == 1
    assert open_case.allocations.get().worker == open_case.allocated_worker
    event = AuditEvent.objects.get(case=open_case, verb="case.opened")
    assert event.event_date == open_case.opened_on
    assert "Schools" in event.summary


def test_unknown_person_is_refused(worker: User, team_ai: Team) -> None:
    before = _counts()
    with pytest.raises(InvalidInput, match="no person with that ID"):
        case_open(
            actor=worker,
            subject=Person(pk=987654),
            team=team_ai,
            received_on=TODAY,
            source="2A",
            reason="Concern",
        )
    assert _counts() == before


def test_second_open_case_for_the_same_person_is_refused(open_case: Case, worker: User) -> None:
    """CIN rule 8815: one open episode per child; a new contact goes on the open case."""
    with pytest.raises(InvalidInput, match="already has an open case"):
        case_open(
            actor=worker,
            subject=open_case.subject,
            team=open_case.responsible_team,
            received_on=TODAY,
            source="6",
            reason="Police notification",
        )


def test_visit_before_birth_is_refused_with_nothing_written(worker: User, team_ai: Team) -> None:
    baby = person_create(
        actor=worker,
        given_name="Baby",
        family_name="Example",
        date_of_birth=TODAY - dt.timedelta(days=10),
    )
    case = case_open(
        actor=worker,
        subject=baby,
        team=team_ai,
        received_on=TODAY - dt.timedelta(days=200),
        source="3B",
        reason="Pre-birth concern",
    )
    before = _counts()
    with pytest.raises(InvalidInput) as refused:
        visit_record(
            actor=worker,
            case=case,
            visited_on=TODAY - dt.timedelta(days=20),
            subject_seen=False,
            seen_alone=True,
        )
    problems = refused.value.by_field()
    assert "before Baby Example was born" in problems["visited_on"][0]
    assert "cannot have been seen alone" in problems["seen_alone"][0]
    assert _counts() == before


def test_future_visit_is_refused(open_case: Case, worker: User) -> None:
    with pytest.raises(InvalidInput, match="cannot be in the future"):
        visit_record(
            actor=worker,
            case=open_case,
            visited_on=TODAY + dt.timedelta(days=1),
            subject_seen=True,
        )


def test_plan_ending_before_it_starts_is_refused(open_case: Case, worker: User) -> None:
    plan = plan_start(
        actor=worker, case=open_case, kind="cin", started_on=TODAY - dt.timedelta(days=30)
    )
    before = _counts()
    with pytest.raises(InvalidInput, match="cannot end before it starts"):
        plan_end(actor=worker, plan=plan, ended_on=TODAY - dt.timedelta(days=31))
    plan.refresh_from_db()
    assert plan.ended_on is None
    assert _counts() == before


def test_cp_plan_needs_a_category_and_only_one_can_be_open(open_case: Case, worker: User) -> None:
    with pytest.raises(InvalidInput, match="category of abuse"):
        plan_start(actor=worker, case=open_case, kind="cp", started_on=TODAY)
    plan_start(actor=worker, case=open_case, kind="cp", started_on=TODAY, category="NEG")
    with pytest.raises(InvalidInput, match="already an open child protection plan"):
        plan_start(actor=worker, case=open_case, kind="cp", started_on=TODAY, category="EMO")


def test_x01_visit_is_in_the_chronology_with_what_was_seen(open_case: Case, worker: User) -> None:
    """X-01: the chronology is read from the audit events."""
    visit_record(
        actor=worker,
        case=open_case,
        visited_on=TODAY - dt.timedelta(days=2),
        subject_seen=True,
        seen_alone=True,
        home_visited=True,
    )
    event = AuditEvent.objects.filter(case=open_case).first()
    assert event is not None
    assert event.verb == "visit.recorded"
    assert event.summary == "Visit: seen, seen alone, home visited"
    assert event.actor == worker


def test_x01_audit_events_cannot_be_changed_or_deleted(open_case: Case) -> None:
    """X-01: the record cannot be altered afterwards."""
    event = AuditEvent.objects.filter(case=open_case).first()
    assert event is not None
    event.summary = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(case=open_case).update(summary="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(case=open_case).delete()


def test_x01_a_failure_after_the_write_rolls_back_the_event_too(
    open_case: Case, worker: User
) -> None:
    """X-01: change and event are one transaction: if anything fails, neither is kept."""
    before = _counts()

    def record_then_fail() -> None:
        with transaction.atomic():
            visit_record(actor=worker, case=open_case, visited_on=TODAY, subject_seen=True)
            raise RuntimeError("the request failed after the service returned")

    with pytest.raises(RuntimeError):
        record_then_fail()
    assert _counts() == before


def test_outsider_cannot_write_to_a_case_they_cannot_see(open_case: Case, outsider: User) -> None:
    """X-02: a case outside the user's need to know behaves as if it did not exist."""
    with pytest.raises(NotFound):
        visit_record(actor=outsider, case=open_case, visited_on=TODAY, subject_seen=True)


def test_only_a_manager_records_decisions_and_allocations(
    open_case: Case, worker: User, manager: User
) -> None:
    with pytest.raises(NotPermitted, match="Only a manager"):
        decision_record(actor=worker, case=open_case, kind="other", decided_on=TODAY, decision="x")
    decision_record(
        actor=manager,
        case=open_case,
        kind="advise_closure",
        decided_on=TODAY,
        decision="Close: outcomes achieved",
    )
    case_allocate(
        actor=manager, case=open_case, worker=manager, started_on=TODAY, reason="Worker on leave"
    )
    open_case.refresh_from_db()
    assert open_case.allocated_worker == manager
    history = list(open_case.allocations.order_by("started_on", "id"))
    assert [a.worker for a in history] == [worker, manager]
    assert history[0].ended_on == TODAY


def test_closed_case_takes_no_new_records(open_case: Case, worker: User) -> None:
    case_close_imported(
        actor=None, case=open_case, closed_on=TODAY, reason_code="RC8", note="Imported"
    )
    with pytest.raises(InvalidInput, match="is closed"):
        visit_record(actor=worker, case=open_case, visited_on=TODAY, subject_seen=True)


def test_a_worker_opens_cases_only_in_their_own_team(
    worker: User, team_sgcp: Team, child: Person
) -> None:
    with pytest.raises(NotPermitted, match="only in your own team"):
        case_open(
            actor=worker,
            subject=child,
            team=team_sgcp,
            received_on=TODAY,
            source="6",
            reason="Police notification",
        )


def test_cin_and_cp_plans_never_overlap(open_case: Case, worker: User) -> None:
    """CIN census rule 4001: the CP plan replaces the CiN plan; both open is refused."""
    cin = plan_start(
        actor=worker, case=open_case, kind="cin", started_on=TODAY - dt.timedelta(days=20)
    )
    with pytest.raises(InvalidInput, match="End the open child in need plan"):
        plan_start(actor=worker, case=open_case, kind="cp", started_on=TODAY, category="NEG")
    plan_end(actor=worker, plan=cin, ended_on=TODAY)
    plan_start(actor=worker, case=open_case, kind="cp", started_on=TODAY, category="NEG")


def test_imported_closure_refuses_an_assessment_in_progress(open_case: Case, worker: User) -> None:
    from casework.cases.services import assessment_start

    assessment_start(actor=worker, case=open_case, kind="single", started_on=TODAY)
    with pytest.raises(InvalidInput, match="assessment in progress"):
        case_close_imported(
            actor=None, case=open_case, closed_on=TODAY, reason_code="RC8", note="Imported"
        )
    open_case.refresh_from_db()
    assert open_case.status == "open"
