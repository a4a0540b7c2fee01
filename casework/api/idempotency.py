"""`Idempotency-Key` for every API action (POST, PUT, PATCH, DELETE), in one place.

A client that times out cannot tell whether its request acted. Sent with a key, a retry gets
the first answer (marked `Idempotent-Replayed: true`) and nothing acts twice. The action and
the record of its answer commit in one transaction, so two copies racing in at once cannot
both act: the loser's insert of the answer fails on the unique key, its whole transaction
(action included) rolls back, and it replays the winner's answer.

Only successful answers are kept: a refusal changed nothing, so a retry may try again (after,
say, the missing step has been done). Reusing a key for a different request is refused, as
the IETF draft on the header advises (422). A key is remembered for `KEEP_FOR` (a day); an
expired key's answer is deleted when the key comes again, and issue 9 prunes the rest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from casework.api.models import IdempotentRequest
from casework.api.services import live_token
from casework.core.compiled import CompiledRead, first

ACTIONS = {"POST", "PUT", "PATCH", "DELETE"}
HEADER = "Idempotency-Key"
MAX_KEY = 100
KEEP_FOR = dt.timedelta(days=1)


# Read before every API action that sends a key: compiled once (casework.core.compiled).
_EARLIER = CompiledRead(
    lambda user_id, key: first(IdempotentRequest.objects.filter(user_id=user_id, key=key))
)


def _problem(status: int, title: str, detail: str) -> HttpResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return HttpResponse(json.dumps(body), status=status, content_type="application/problem+json")


def _caller_id(request: HttpRequest) -> int | None:
    """The token holder, found the same way the API's sign-in finds them; no token (or a
    dead one) means the API will answer 401, so there is nothing to remember."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    found = live_token(request, token.strip())
    return found.user_id if found is not None else None


def _fingerprint(request: HttpRequest) -> str:
    """What makes two requests the same request: method, path and body. An upload is hashed
    field by field and file by file, in chunks, from where Django has already spooled it
    (never read whole into memory): two different files of the same size differ."""
    digest = hashlib.sha256(f"{request.method} {request.get_full_path()}\n".encode())
    content_type = request.content_type or ""
    if content_type.startswith("multipart/"):
        for name, values in sorted(request.POST.lists()):
            digest.update(f"field {name}={values!r}\n".encode())
        for name, files in sorted(request.FILES.lists()):
            for upload in files:
                digest.update(f"file {name} {upload.name} {upload.size}\n".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(request.body)
    return digest.hexdigest()


def _replay(earlier: IdempotentRequest) -> HttpResponse:
    response = HttpResponse(
        earlier.content, status=earlier.status, content_type=earlier.content_type
    )
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotencyKeyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER, "")
        if not (request.path_info.startswith("/api/") and request.method in ACTIONS and key):
            return self.get_response(request)
        if len(key) > MAX_KEY:
            return _problem(
                400, "Invalid input", f"An {HEADER} must be at most {MAX_KEY} characters."
            )
        caller = _caller_id(request)
        if caller is None:
            return self.get_response(request)
        fingerprint = _fingerprint(request)
        # A key is remembered for KEEP_FOR: after that it is free again (and the answer,
        # which may hold personal data, is not replayed to someone who may have lost access).
        earlier = _EARLIER.one(caller, key)
        if earlier is not None and earlier.created_at < timezone.now() - KEEP_FOR:
            # Read, then deleted only when old: a DELETE on every request was a write
            # before every action (and, inside a request, made it read its need to know again).
            earlier.delete()
            earlier = None
        if earlier is not None:
            return self._answer_again(earlier, fingerprint)
        try:
            with transaction.atomic():
                response = self.get_response(request)
                if response.status_code >= 500:
                    transaction.set_rollback(True)
                elif 200 <= response.status_code < 300 and not response.streaming:
                    IdempotentRequest.objects.create(
                        user_id=caller,
                        key=key,
                        fingerprint=fingerprint,
                        path=request.path[:300],
                        status=response.status_code,
                        content=response.content.decode("utf-8", errors="replace"),
                        content_type=response.get("Content-Type", "application/json")[:100],
                    )
        except IntegrityError:
            # The same key raced in from a retry, and won: its answer stands and this copy's
            # action was rolled back with the failed insert.
            return self._answer_again(
                IdempotentRequest.objects.get(user_id=caller, key=key), fingerprint
            )
        return response

    @staticmethod
    def _answer_again(earlier: IdempotentRequest, fingerprint: str) -> HttpResponse:
        if earlier.fingerprint != fingerprint:
            return _problem(
                422,
                "Idempotency key reused",
                f"That {HEADER} was used for a different request: send a new key for a new "
                "request, or the same request to get its first answer again.",
            )
        return _replay(earlier)
