"""People are written only through services that refuse bad input whole and audit (X-01)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from casework.accounts.models import User
from casework.audit.models import AuditEvent
from casework.core.errors import InvalidInput, NotPermitted
from casework.people.models import Person, Residence
from casework.people.services import (
    person_create,
    person_move_in,
    person_update,
    relationship_add,
)

TODAY = timezone.localdate()


def test_person_create_audits_who_and_what(worker: User) -> None:
    """X-01: creating a person records who did it and what was recorded."""
    person = person_create(
        actor=worker,
        given_name=" Sam ",
        family_name="Example",
        date_of_birth=dt.date(2015, 3, 1),
        nhs_number="943 476 5919",
    )
    assert person.given_name == "Sam"
    assert person.local_id == f"P{person.pk:08d}"
    event = AuditEvent.objects.get(person=person, verb="person.created")
    assert event.actor == worker
    assert event.changes["nhs_number"] == [None, "9434765919"]


def test_date_of_death_before_birth_is_refused_with_nothing_written(worker: User) -> None:
    """Bad input: every problem at once, in plain English, and no partial write."""
    people_before = Person.objects.count()
    events_before = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as refused:
        person_create(
            actor=worker,
            given_name="",
            family_name="Example",
            date_of_birth=dt.date(2015, 3, 1),
            date_of_death=dt.date(2014, 1, 1),
            nhs_number="1234567890",
        )
    problems = refused.value.by_field()
    assert problems["given_name"] == ["Enter a first name."]
    assert "on or after the date of birth" in problems["date_of_death"][0]
    assert "check digit" in problems["nhs_number"][0]
    assert Person.objects.count() == people_before
    assert AuditEvent.objects.count() == events_before


def test_future_birth_and_both_birth_dates_are_refused(worker: User) -> None:
    with pytest.raises(InvalidInput) as refused:
        person_create(
            actor=worker,
            given_name="Baby",
            family_name="Example",
            date_of_birth=TODAY + dt.timedelta(days=3),
            expected_date_of_birth=TODAY + dt.timedelta(days=3),
        )
    fields = refused.value.by_field()
    assert "expected date of birth instead" in fields["date_of_birth"][0]
    assert "not both" in fields["expected_date_of_birth"][0]


def test_update_records_before_and_after(worker: User, child: Person) -> None:
    """X-01: a change keeps what it was before, and why."""
    person_update(actor=worker, person=child, reason="Mother confirmed", ethnicity="MWBC")
    event = AuditEvent.objects.get(person=child, verb="person.updated")
    assert event.changes == {"ethnicity": ["WBRI", "MWBC"]}
    assert event.reason == "Mother confirmed"


def test_update_refuses_death_before_birth_and_leaves_record_unchanged(
    worker: User, child: Person
) -> None:
    assert child.date_of_birth is not None
    with pytest.raises(InvalidInput, match="on or after the date of birth"):
        person_update(
            actor=worker, person=child, date_of_death=child.date_of_birth - dt.timedelta(days=1)
        )
    child.refresh_from_db()
    assert child.date_of_death is None


def test_staff_without_a_team_cannot_write(db: None, child: Person) -> None:
    stranger = User.objects.create_user(username="stranger", password="x-long-password-1")
    with pytest.raises(NotPermitted):
        person_update(actor=stranger, person=child, given_name="Changed")


def test_moving_house_ends_the_previous_residence(worker: User, child: Person) -> None:
    first = person_move_in(
        actor=worker,
        person=child,
        line_1="1 High Street",
        town="Testford",
        postcode="TE1 1ST",
        started_on=TODAY - dt.timedelta(days=100),
    )
    second = person_move_in(
        actor=worker,
        person=child,
        line_1="2 Low Road",
        town="Testford",
        postcode="te2 2nd",
        started_on=TODAY - dt.timedelta(days=10),
    )
    first.refresh_from_db()
    assert first.ended_on == TODAY - dt.timedelta(days=11)
    assert second.address.postcode == "TE2 2ND"
    assert Residence.objects.filter(person=child, ended_on__isnull=True).count() == 1


def test_relationship_to_self_is_refused(worker: User, child: Person) -> None:
    with pytest.raises(InvalidInput, match="themselves"):
        relationship_add(actor=worker, person=child, relative=child, kind="sibling")
