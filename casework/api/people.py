"""People through the API: search (tolerant of spelling), read, add and correct. A person is
read and corrected only through the cases the caller can see (need to know); intake staff
may open a referral for anyone they find (`POST /referrals`), as on the screens, but do not
thereby read or change everyone's record."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from casework.api.common import IsoDate, PersonOut, person_out
from casework.api.problems import ERRORS
from casework.core.codes import Ethnicity, Sex
from casework.frontend.pages import signed_in_user as _user
from casework.people.models import Person
from casework.people.selectors import people_search, person_for
from casework.people.services import person_create, person_update

router = Router(tags=["people"])


class SearchQuery(Schema):
    q: str = Field(min_length=1, max_length=200, description="Name, date of birth or identifier.")


class MatchOut(Schema):
    person: PersonOut
    score: float
    why: str


@router.get("/people", response={200: list[MatchOut], **ERRORS})
def search_people(request: HttpRequest, query: Query[SearchQuery]) -> list[MatchOut]:
    """People the caller may see who match, best first. Search before adding someone."""
    return [
        MatchOut(person=person_out(m.person), score=round(m.score, 3), why=m.why)
        for m in people_search(_user(request), query.q)
    ]


class PersonDetail(PersonOut):
    other_names: str
    expected_date_of_birth: dt.date | None
    date_of_death: dt.date | None
    sex: str
    ethnicity: str
    nhs_number: str
    upn: str


def _detail(person: Person) -> PersonDetail:
    return PersonDetail(
        **person_out(person).dict(),
        other_names=person.other_names,
        expected_date_of_birth=person.expected_date_of_birth,
        date_of_death=person.date_of_death,
        sex=person.sex,
        ethnicity=person.ethnicity,
        nhs_number=person.nhs_number,
        upn=person.upn,
    )


@router.get("/people/{person_id}", response={200: PersonDetail, **ERRORS})
def get_person(request: HttpRequest, person_id: int) -> PersonDetail:
    return _detail(person_for(_user(request), person_id))


class PersonIn(Schema):
    given_name: str = Field(min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)
    other_names: str = Field(default="", max_length=200)
    date_of_birth: IsoDate | None = None
    expected_date_of_birth: IsoDate | None = Field(default=None, description="An unborn child.")
    date_of_death: IsoDate | None = None
    sex: Sex = Sex.UNKNOWN
    ethnicity: Ethnicity | None = None
    ethnicity_asked: bool = False
    nhs_number: str = Field(default="", max_length=12)
    upn: str = Field(default="", max_length=13, description="Unique Pupil Number.")


@router.post("/people", response={201: PersonDetail, **ERRORS})
def add_person(request: HttpRequest, body: PersonIn) -> Any:
    """Add a person who is not on record (search first: a duplicate splits their history)."""
    values = body.dict()
    values["ethnicity"] = values["ethnicity"] or ""
    return Status(201, _detail(person_create(actor=_user(request), **values)))


class PersonChanges(Schema):
    """Only the fields sent are changed; `reason` goes on the record."""

    given_name: str | None = Field(default=None, min_length=1, max_length=100)
    family_name: str | None = Field(default=None, min_length=1, max_length=100)
    other_names: str | None = Field(default=None, max_length=200)
    date_of_birth: IsoDate | None = None
    expected_date_of_birth: IsoDate | None = None
    date_of_death: IsoDate | None = None
    sex: Sex | None = None
    ethnicity: Ethnicity | None = None
    ethnicity_asked: bool | None = None
    nhs_number: str | None = Field(default=None, max_length=12)
    upn: str | None = Field(default=None, max_length=13)
    reason: str = Field(default="", max_length=1000, description="Why the record changed.")


# Fields that are text on the record: sending null for one means "clear it".
_TEXT_FIELDS = {"other_names", "ethnicity", "nhs_number", "upn"}
_NEVER_EMPTY = {"given_name", "family_name", "sex", "ethnicity_asked"}


@router.patch("/people/{person_id}", response={200: PersonDetail, **ERRORS})
def change_person(request: HttpRequest, person_id: int, body: PersonChanges) -> PersonDetail:
    """Correct a person's details. Send only what changes; null clears a date or identifier."""
    user = _user(request)
    person = person_for(user, person_id)
    sent = body.dict(exclude_unset=True)
    reason = sent.pop("reason", "")
    changes = {
        name: ("" if value is None and name in _TEXT_FIELDS else value)
        for name, value in sent.items()
        if not (value is None and name in _NEVER_EMPTY)
    }
    return _detail(person_update(actor=user, person=person, reason=reason, **changes))
