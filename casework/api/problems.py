"""The API's error document (RFC 9457 fields) and the error responses every operation
declares, shared by the API's modules."""

from __future__ import annotations

from ninja import Schema
from pydantic import Field


class Problem(Schema):
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] = Field(default_factory=list)


ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}
