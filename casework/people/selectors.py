"""Reads of people, scoped by access: a person is visible when they are the subject of a case
the user can see, or connected (relationship or carer link) to such a subject."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from casework.access.policy import cases_visible_to
from casework.accounts.models import User
from casework.core.errors import NotFound
from casework.people.models import CarerLink, Person, Relationship


def people_visible_to(user: User) -> QuerySet[Person]:
    subjects = cases_visible_to(user).values("subject_id")
    related = Relationship.objects.filter(Q(person_id__in=subjects) | Q(relative_id__in=subjects))
    carers = CarerLink.objects.filter(Q(carer_id__in=subjects) | Q(cared_for_id__in=subjects))
    return Person.objects.filter(
        Q(pk__in=subjects)
        | Exists(related.filter(Q(person=OuterRef("pk")) | Q(relative=OuterRef("pk"))))
        | Exists(carers.filter(Q(carer=OuterRef("pk")) | Q(cared_for=OuterRef("pk"))))
    )


def person_for(user: User, person_id: int) -> Person:
    person = people_visible_to(user).filter(pk=person_id).first()
    if person is None:
        raise NotFound("There is no person with that ID that you can see.")
    return person
