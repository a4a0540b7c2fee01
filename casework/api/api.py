"""Casework's JSON API, version 1 (`/api/v1/`), over the same selectors and services as the
screens: a case the caller cannot see is a 404, every rule is the service's, every change is
audited. Errors are problem documents (RFC 9457 fields) with a plain-English `detail`.

Each area has its own router module (cases, recording, people, closure, transfers,
documents, tasks and reports); this module makes the API, its sign-in and its errors.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer

from casework.accounts.models import User
from casework.api import cases, closure, documents, people, recording, reports, tasks, transfers
from casework.api.models import ApiToken
from casework.api.services import live_token
from casework.core.errors import Conflict, InvalidInput, NotFound, NotPermitted

PROBLEM_JSON = "application/problem+json"
LAST_USED_PRECISION = dt.timedelta(minutes=5)


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`: a live token of an active user."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        found = live_token(request, token)
        if found is None:
            return None
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at > LAST_USED_PRECISION:
            # A write per request would make every read a write (and serialise a busy
            # client's reads on SQLite); "last used" to within minutes is what an admin needs.
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        return found.user


class CaseworkApi(NinjaAPI):
    """Ninja describes every response as `application/json`; error answers are problem
    documents, so the description says `application/problem+json` for them, as they are."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        for operations in schema["paths"].values():
            for operation in operations.values():
                for status, answer in operation.get("responses", {}).items():
                    content = answer.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        answer["content"] = {PROBLEM_JSON: content["application/json"]}
        _say_text_holds_no_nul(schema)
        return schema


NO_NUL = "^[^\\u0000]*$"


def _say_text_holds_no_nul(node: Any) -> None:
    """Every free-text string of the API refuses NUL (see `CaseworkParser`); the description
    says so, as a pattern, so that clients and the fuzzer know it."""
    if isinstance(node, dict):
        if node.get("type") == "string" and not {"pattern", "enum", "format", "const"} & set(node):
            node["pattern"] = NO_NUL
        for value in node.values():
            _say_text_holds_no_nul(value)
    elif isinstance(node, list):
        for value in node:
            _say_text_holds_no_nul(value)


class UnreadableInput(ValueError):
    """Input refused before any view runs, with the sentence to show the client."""


NOT_AN_OBJECT = "The request body must be a JSON object ({...}): check it and send again."
NUL_CHARACTER = (
    "The request contains a NUL character (\\u0000), which no record can hold: remove it "
    "and send again."
)


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


class CaseworkParser(Parser):
    """What every request must be before a view sees it.

    - A body is a JSON object. Ninja would let `[1]` or `"x"` stand for an empty object when
      every field has a default (the fuzzer found it marking notifications read).
    - No text holds a NUL character: PostgreSQL text cannot store one (the fuzzer found a
      server error adding a person), and the screens' forms refuse it too (Django's
      `ProhibitNullCharactersValidator`)."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        body = super().parse_body(request)
        if not isinstance(body, dict):
            raise UnreadableInput(NOT_AN_OBJECT)
        if _holds_nul(body):
            raise UnreadableInput(NUL_CHARACTER)
        return body

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        parsed = super().parse_querydict(data, list_fields, request)
        if _holds_nul(parsed):
            raise HttpError(400, NUL_CHARACTER)
        return parsed


api = CaseworkApi(
    title="Casework API",
    version="1",
    description="Case management for social care: the same rules and access as the screens.",
    auth=TokenAuth(),
    parser=CaseworkParser(),
    urls_namespace="api-v1",
)
AREAS = (cases, recording, people, closure, transfers, documents, tasks, reports)
for area in AREAS:
    api.add_router("", area.router)


def _problem(
    request: HttpRequest, status: int, title: str, detail: str, **extra: Any
) -> HttpResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = PROBLEM_JSON
    return response


@api.exception_handler(NotFound)
def _not_found(request: HttpRequest, error: NotFound) -> HttpResponse:
    return _problem(request, 404, "Not found", str(error))


@api.exception_handler(NotPermitted)
def _not_permitted(request: HttpRequest, error: NotPermitted) -> HttpResponse:
    return _problem(request, 403, "Not permitted", str(error))


@api.exception_handler(Conflict)
def _conflict(request: HttpRequest, error: Conflict) -> HttpResponse:
    return _problem(request, 409, "Conflict", str(error))


@api.exception_handler(InvalidInput)
def _invalid(request: HttpRequest, error: InvalidInput) -> HttpResponse:
    errors = [{"field": p.field or "", "message": p.message} for p in error.problems]
    return _problem(
        request, 400, "Invalid input", " ".join(p.message for p in error.problems), errors=errors
    )


@api.exception_handler(ValidationError)
def _unreadable(request: HttpRequest, error: ValidationError) -> HttpResponse:
    errors = [
        {"field": ".".join(str(p) for p in e.get("loc", [])), "message": str(e.get("msg", ""))}
        for e in error.errors
    ]
    return _problem(
        request,
        422,
        "Unreadable request",
        "The request does not match the API's schema.",
        errors=errors,
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    """Ninja's own refusals (an unreadable body, for example) as problem documents."""
    detail = str(error)
    if isinstance(error.__cause__, UnreadableInput):
        detail = str(error.__cause__)
    elif "parse" in detail.lower():
        detail = "The request body is not valid JSON: check it and send again."
    return _problem(request, error.status_code, "Request refused", detail)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return _problem(
        request,
        401,
        "Not signed in",
        "Send a live API token as 'Authorization: Bearer <token>'. Make one on the "
        "'Your API tokens' page.",
    )
