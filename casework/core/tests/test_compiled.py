"""Compiled reads (issue 10): for any ids, the results the ORM gives, in the ORM's types,
from one statement whose SQL was written once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.db.models import Model, Prefetch, Q
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from casework.accounts.models import User
from casework.cases.models import Case, CaseNote, Meeting, Plan, PlanKind
from casework.cases.services import case_open
from casework.core.compiled import CompiledRead
from casework.organisation.models import Team
from casework.people.models import CarerLink
from casework.people.services import person_create

pytestmark = pytest.mark.django_db

PLANS = CompiledRead(lambda case_id: Plan.objects.filter(case_id=case_id))
CASE = CompiledRead(
    lambda case_id: Case.objects.select_related(
        "subject", "responsible_team__authority", "allocated_worker"
    ).filter(pk=case_id)
)
NOTES = CompiledRead(
    lambda case_id: CaseNote.objects.filter(case_id=case_id).values_list("occurred_on", "kind")
)
NOTE_DAYS = CompiledRead(
    lambda case_id: CaseNote.objects.filter(case_id=case_id).values_list("occurred_on", flat=True)
)
MEETINGS = CompiledRead(
    lambda case_id: Meeting.objects.filter(case_id=case_id).values("kind", "held_on", "attendees")
)
HAS_PLAN = CompiledRead(lambda case_id: Plan.objects.filter(case_id=case_id), exists=True)
CARER_LINKS = CompiledRead(
    lambda carer, cared_for: CarerLink.objects.filter(Q(carer_id=carer) | Q(cared_for_id=cared_for))
)


@pytest.fixture
def other_case(worker: User, team_ai: Team) -> Case:
    """A second case, of another child, with nothing recorded on it and no one allocated."""
    sibling = person_create(
        actor=worker, given_name="Sam", family_name="Example", sex="F", ethnicity="WBRI"
    )
    return case_open(
        actor=worker,
        subject=sibling,
        team=team_ai,
        received_on=dt.date(2026, 1, 5),
        source="2A",
        reason="Referred by health.",
        primary_need="N1",
    )


def _fields(instances: list[Any]) -> list[dict[str, Any]]:
    return [model_to_dict(i) | {"pk": i.pk, "db": i._state.db} for i in instances]


@pytest.fixture
def recorded_case(open_case: Case, worker: User) -> Case:
    for started, kind in (
        (dt.date(2026, 1, 5), PlanKind.CHILD_IN_NEED),
        (dt.date(2026, 3, 2), PlanKind.CHILD_PROTECTION),
    ):
        Plan.objects.create(case=open_case, kind=kind, started_on=started)
    for day in (dt.date(2026, 2, 1), dt.date(2026, 2, 9)):
        CaseNote.objects.create(
            case=open_case, occurred_on=day, author=worker, title="Visit", body="Seen at home."
        )
    Meeting.objects.create(
        case=open_case,
        kind="strategy",
        held_on=dt.date(2026, 2, 3),
        attendees=["police", "health"],
        recorded_by=worker,
    )
    return open_case


def test_a_compiled_read_gives_what_the_orm_gives_for_each_kind_of_result(
    recorded_case: Case, other_case: Case
) -> None:
    """Instances (with the model's ordering), tuples, flat values, dicts and exists(), for
    a case with records and one without: equal to the ORM's own, dates as dates and JSON
    decoded on every database, each read one statement."""
    for case in (recorded_case, other_case):
        with CaptureQueriesContext(connection) as captured:
            compiled = (
                PLANS(case.pk),
                NOTES(case.pk),
                NOTE_DAYS(case.pk),
                MEETINGS(case.pk),
                HAS_PLAN.exists(case.pk),
            )
        assert len(captured) == 5
        assert _fields(compiled[0]) == _fields(list(Plan.objects.filter(case=case)))
        assert compiled[1:] == (
            list(case.notes.values_list("occurred_on", "kind")),
            list(case.notes.values_list("occurred_on", flat=True)),
            list(case.meetings.values("kind", "held_on", "attendees")),
            case.plans.exists(),
        )
    assert [type(day) for day in NOTE_DAYS(recorded_case.pk)] == [dt.date, dt.date]
    assert MEETINGS(recorded_case.pk)[0]["attendees"] == ["police", "health"]
    assert [p.kind for p in PLANS(recorded_case.pk)] == [
        PlanKind.CHILD_PROTECTION,
        PlanKind.CHILD_IN_NEED,
    ]  # newest first


def test_select_related_is_filled_in_from_the_same_row(
    open_case: Case, other_case: Case, django_assert_num_queries: Any
) -> None:
    """The case, its subject, its team and the team's authority in one statement, and a
    missing allocated worker (an outer join) as None."""
    for case_id in (open_case.pk, other_case.pk):
        with django_assert_num_queries(1):
            [case] = CASE(case_id)
            seen = (
                case.subject.family_name,
                case.responsible_team.authority.name,
                case.allocated_worker.username if case.allocated_worker else None,
                case.risk_flags,
            )
        orm = Case.objects.select_related(
            "subject", "responsible_team__authority", "allocated_worker"
        ).get(pk=case_id)
        assert _fields([case]) == _fields([orm])
        assert seen == (
            orm.subject.family_name,
            orm.responsible_team.authority.name,
            orm.allocated_worker.username if orm.allocated_worker else None,
            orm.risk_flags,
        )
    assert CASE(0) == []


def test_a_read_with_two_ids_puts_each_in_its_place(open_case: Case, child: Any) -> None:
    assert CARER_LINKS(child.pk, child.pk) == []
    assert _fields(CARER_LINKS(child.pk, 0)) == _fields(list(CarerLink.objects.filter(carer=child)))


def test_strings_and_dates_take_their_places_as_the_orm_would_send_them(
    recorded_case: Case,
) -> None:
    """A kind and a day as well as an id (SQLite is sent dates as text, PostgreSQL as
    dates), several values in one `__in`, and a different number of them compiled apart."""
    read = CompiledRead(
        lambda case_id, *rest: Plan.objects.filter(
            case_id=case_id, kind__in=rest[:-1], started_on__lte=rest[-1]
        )
    )
    asked = [
        (PlanKind.CHILD_IN_NEED, dt.date(2026, 6, 1)),
        (PlanKind.CHILD_PROTECTION, dt.date(2026, 2, 1)),
        (PlanKind.CHILD_IN_NEED, PlanKind.CHILD_PROTECTION, dt.date(2026, 6, 1)),
    ]
    for values in asked:
        kinds, day = values[:-1], values[-1]
        orm = Plan.objects.filter(case=recorded_case, kind__in=kinds, started_on__lte=day)
        assert _fields(read(recorded_case.pk, *values)) == _fields(list(orm))
    assert [len(read(recorded_case.pk, *values)) for values in asked] == [1, 0, 2]
    # No values for an `__in`: nothing, without asking, as the ORM answers.
    any_of = CompiledRead(lambda *ids: Plan.objects.filter(case_id__in=ids))
    with CaptureQueriesContext(connection) as captured:
        assert any_of() == []
    assert len(captured) == 0
    assert len(any_of(recorded_case.pk)) == 2
    with pytest.raises(ValueError, match="Each value must reach the query"):
        CompiledRead(lambda text: Plan.objects.filter(summary__contains=text))("x")


def test_a_builder_that_reads_anything_but_its_ids_is_caught_under_test(open_case: Case) -> None:
    """The SQL is written once: a query that would change with anything else (here a
    limit read from outside) would send stale SQL, and the tests' check says so."""
    limit = [1]
    read = CompiledRead(lambda case_id: Plan.objects.filter(case_id=case_id)[: limit[0]])
    assert read(open_case.pk) == []
    limit[0] = 2
    with pytest.raises(AssertionError, match="changed with something other than its values"):
        read(open_case.pk)


@pytest.mark.parametrize(
    ("build", "problem"),
    [
        (lambda case_id: Plan.objects.all(), "Each value must reach the query"),
        (lambda case_id: Plan.objects.filter(kind=str(case_id)), "Each value must reach the query"),
        (
            lambda case_id: Case.objects.filter(pk=case_id).prefetch_related(
                Prefetch("plans", queryset=Plan.objects.all())
            ),
            "cannot prefetch",
        ),
    ],
)
def test_a_read_that_cannot_be_compiled_is_refused_at_its_first_call(
    open_case: Case, build: Any, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        CompiledRead(build)(open_case.pk)


def test_only_ids_are_taken_and_each_kind_of_read_answers_its_own_way(open_case: Case) -> None:
    for not_a_value in (float(open_case.pk), True, 2**63, dt.datetime(2026, 1, 5, tzinfo=dt.UTC)):
        with pytest.raises(TypeError, match="takes ids"):
            PLANS(not_a_value)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="exists"):
        HAS_PLAN(open_case.pk)
    with pytest.raises(TypeError, match="exists"):
        PLANS.exists(open_case.pk)


def test_related_managers_are_refused(open_case: Case) -> None:
    """A manager's queryset carries the object it came from, which compiled SQL would not
    set on what it reads: the read must filter by the id instead."""
    read: CompiledRead[Model] = CompiledRead(
        lambda case_id: open_case.plans.filter(case_id=case_id)
    )
    with pytest.raises(ValueError, match="filter by the id"):
        read(open_case.pk)
