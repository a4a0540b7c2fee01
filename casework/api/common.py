"""What the API's modules share: ISO dates, the person summary every answer uses, keyset pages."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Generic, TypeVar

from django.db.models import Model, QuerySet
from ninja import P, PathEx, Schema
from ninja.schema import DjangoGetter
from pydantic import (
    BeforeValidator,
    Field,
    ModelWrapValidatorHandler,
    Strict,
    StringConstraints,
    ValidationInfo,
    model_validator,
)

from casework.core.planning import planned_for_each_run
from casework.people.models import Person

# A pack id (reason, form, step, gate, checklist, heading): the pack schema's own slug.
SLUG = r"^[a-z0-9][a-z0-9_-]{0,59}$"
NOTE = 5000
LONG_TEXT = 20000

PackId = PathEx[str, P(pattern=SLUG, description="An id from the bound procedure (pack).")]
FieldId = Annotated[str, StringConstraints(pattern=SLUG)]
AnswerValue = (
    bool
    | Annotated[int, Field(ge=0, le=1_000_000)]
    | Annotated[str, StringConstraints(max_length=LONG_TEXT)]
    | None
)


class Out(Schema):
    """An answer the API builds field by field (`ClosureOut(id=..., steps=[StepOut(...)])`).
    Ninja's `Schema` reads every input through an attribute wrapper so that a model
    instance can be answered directly; for keywords, and for the nested answers already
    built from them, that wrapper only re-read each field in Python: a closure's task list
    went through it 40 times, a tenth of a proposal's time (issue 10). Those go straight
    to pydantic's own validation; anything else (an ORM object) is still read as ninja
    reads it."""

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(
        cls, values: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo
    ) -> Any:
        if isinstance(values, dict | cls):
            return handler(values)
        return handler(DjangoGetter(values, cls, info.context))


def file_answer(description: str, *content_types: str) -> dict[str, Any]:
    """`openapi_extra` for an operation that answers with a file rather than JSON: the
    description names its media types, so clients (and the fuzzer) know what comes back."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {
        "responses": {
            # An int, as Ninja's own keys are: a "200" string would sit beside Ninja's 200 and
            # the description would carry two "200" keys (which breaks Swagger UI).
            200: {"description": description, "content": dict.fromkeys(content_types, binary)}
        }
    }


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

JsonInt = Annotated[int, Strict()]
"""A whole number in a JSON body. Pydantic would take `true` as 1 and `false` as 0, so
`{"person_id": true}` would open a case for person 1: here only a number is a number."""
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
    with planned_for_each_run():  # where the cursor is decides the plan
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


class QuestionOut(Schema):
    id: str
    label: str
    type: str = Field(
        description="text, people, agencies: a string; yes_no: true or false; yes_no_na: "
        'true, false or "na"; date: "YYYY-MM-DD"; number, score: a whole number from 0; '
        "choice: one of `options`. Any answer may be null (not answered)."
    )
    hint: str
    required: bool = Field(description="Must be answered to submit, when shown.")
    shown: bool = Field(description="Applies given the case and the answers so far.")
    options: list[str]
    prefilled_from: str = Field(
        description="Where the current answer was filled in from the record, until changed."
    )
