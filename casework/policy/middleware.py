"""Each request reads the policy packs as they were when it began (see
`casework.policy.loader.pack_files_held`)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from casework.policy.loader import pack_files_held


class PackFilesPerRequestMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with pack_files_held():
            return self.get_response(request)
