"""`__in_list` finds exactly what `__in` finds, on a field and through a foreign key, on both
databases (on PostgreSQL it sends one array instead of a placeholder per value)."""

from __future__ import annotations

import pytest

from casework.accounts.models import User
from casework.cases.models import Case
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
