"""`__in_list` finds exactly what `__in` finds, on a field and through a foreign key, on both
databases (on PostgreSQL it sends one array instead of a placeholder per value)."""

from __future__ import annotations

import pytest
from django.db.models import QuerySet

from casework.accounts.models import User
from casework.cases.models import Case
from casework.core.lookups import Ids
from casework.people.models import Person
from casework.people.services import person_create


@pytest.mark.django_db
def test_in_list_matches_in(worker: User, open_case: Case) -> None:
    others = [person_create(actor=worker, given_name=f"P{n}", family_name="List") for n in range(3)]
    ids = [others[0].pk, others[2].pk, 999_999_999]
    assert set(Person.objects.filter(pk__in_list=ids)) == set(Person.objects.filter(pk__in=ids))
    assert set(Person.objects.filter(pk__in_list=ids)) == {others[0], others[2]}
    assert list(Person.objects.filter(pk__in_list=[])) == []
    assert list(Person.objects.filter(pk__in_list=[None])) == []
    # A subquery goes to the database as Django's own IN (SELECT ...).
    listed = Person.objects.filter(family_name="List", given_name__in=["P0", "P2"])
    assert set(Person.objects.filter(pk__in_list=listed.values("pk"))) == {others[0], others[2]}
    subject = open_case.subject_id
    assert list(Case.objects.filter(subject_id__in_list=[subject, 1])) == [open_case]
    assert list(Case.objects.filter(subject__in_list=[open_case.subject])) == [open_case]


@pytest.mark.django_db
def test_in_list_takes_plain_ids_as_they_are_and_prepares_anything_else(
    worker: User, open_case: Case
) -> None:
    """Plain ints against an integer key skip Django's value-by-value preparation (a
    search's two thousand candidates); any other value is still prepared as `__in` would."""
    subject = open_case.subject_id
    for ids in ([subject], (subject,), {subject}, frozenset({subject, 1})):
        assert list(Case.objects.filter(subject_id__in_list=ids)) == [open_case]
        assert list(Case.objects.filter(subject__in_list=ids)) == [open_case]
    assert list(Case.objects.filter(subject_id__in_list=[str(subject)])) == [open_case]
    assert list(Case.objects.filter(pk__in_list=[str(open_case.pk), None])) == [open_case]
    with pytest.raises(ValueError, match="expected a number"):
        list(Case.objects.filter(pk__in_list=["not a number"]))


def _outcome(query: QuerySet[Case]) -> object:
    try:
        return list(query)
    except OverflowError as refused:  # SQLite's driver cannot bind an int past 64 bits
        return type(refused)


@pytest.mark.django_db
def test_in_list_outside_the_integer_range_behaves_as_in(open_case: Case) -> None:
    """An id no key can hold (past 64 bits), a negative one or a bool: `__in_list` does what
    `__in` does on each database (PostgreSQL finds the rest; SQLite's driver refuses a
    64-bit overflow either way), rather than the database refusing the array it was sent."""
    for ids in ([2**70, open_case.pk], [-5, open_case.pk]):
        listed = _outcome(Case.objects.filter(pk__in_list=ids))
        assert listed == _outcome(Case.objects.filter(pk__in=ids))
        assert listed in ([open_case], OverflowError)
    assert _outcome(Case.objects.filter(pk__in_list=[True])) == _outcome(
        Case.objects.filter(pk__in=[True])
    )


@pytest.mark.django_db
def test_ids_find_what_the_same_list_finds_and_refuse_what_is_not_an_id(
    worker: User, open_case: Case
) -> None:
    """`Ids(...)` is the same question as the plain list, on a field, through a foreign key
    and by the relation's name; a value that is not a 64-bit id is refused where it is made,
    not sent to the database."""
    others = [person_create(actor=worker, given_name=f"P{n}", family_name="Ids") for n in range(3)]
    ids = [others[0].pk, others[2].pk, 999_999_999]
    assert set(Person.objects.filter(pk__in_list=Ids(ids))) == {others[0], others[2]}
    assert list(Person.objects.filter(pk__in_list=Ids([]))) == []
    subject = open_case.subject_id
    assert list(Case.objects.filter(subject_id__in_list=Ids({subject, 1}))) == [open_case]
    assert list(Case.objects.filter(subject__in_list=Ids([subject]))) == [open_case]
    assert list(Case.objects.exclude(subject_id__in_list=Ids([subject]))) == []
    for not_ids in ([subject, None], [str(subject)]):
        with pytest.raises(TypeError):
            Ids(not_ids)  # type: ignore[arg-type]  # what a careless caller could pass
    with pytest.raises(OverflowError):
        Ids([2**70])
