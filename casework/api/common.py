"""What the API's modules share: ISO dates, the person summary every answer uses, keyset pages."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Generic, TypeVar

from django.db.models import Model, QuerySet
from ninja import Schema
from pydantic import BeforeValidator, Field

from casework.people.models import Person

PAGE_DEFAULT = 25
PAGE_MAX = 100

M = TypeVar("M", bound=Model)
T = TypeVar("T")

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_text_only(value: Any) -> Any:
    """Pydantic would read `0` or `1700000000` as a date (seconds since 1970): a client that
    sends a number by mistake must hear so, not have a visit recorded in 1970."""
    if isinstance(value, dt.date):
        return value
    if not (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        raise ValueError("Give a date as YYYY-MM-DD, e.g. 2026-11-25.")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_text_only)]
"""A date the API accepts: ISO text only (`format: date` in the description)."""


class PageQuery(Schema):
    after: int | None = Field(default=None, ge=1, description="The `next` of the last page.")
    limit: int = Field(default=PAGE_DEFAULT, ge=1, le=PAGE_MAX)


class Page(Schema, Generic[T]):
    """A page of a list, most recently recorded first."""

    items: list[T]
    next: int | None = Field(description="Pass as `after` for the next page; null at the end.")


def keyset_page(rows: QuerySet[M], page: Any) -> tuple[list[M], int | None]:
    """Newest first by id, `limit` rows after the cursor: pages stay right while rows are
    added (an offset would skip or repeat them). Returns the rows and the next cursor."""
    if page.after is not None:
        rows = rows.filter(id__lt=page.after)
    found = list(rows.order_by("-id")[: page.limit + 1])
    more = len(found) > page.limit
    found = found[: page.limit]
    return found, (found[-1].pk if more and found else None)


class PersonOut(Schema):
    id: int
    local_id: str
    given_name: str
    family_name: str
    date_of_birth: dt.date | None


def person_out(person: Person) -> PersonOut:
    return PersonOut(
        id=person.pk,
        local_id=person.local_id,
        given_name=person.given_name,
        family_name=person.family_name,
        date_of_birth=person.date_of_birth,
    )
