"""Every view of a case or person record, and every download, goes on the access log (X-02).

Logged here rather than in each view, so that a new page or API operation is logged without
anyone remembering to: any successful GET (or HEAD) of a URL that names a case or a person,
by a signed-in person or an API token, and the URLs in `ALSO_LOGGED` that hand over records
without naming one (export files). The entry is written before the response leaves, so if it
cannot be written the person sees an error, never the record unlogged.

Not logged: refusals and missing records (404: nothing was seen), redirects, lists of cases
(a list shows names, not records; who opened which record is what a manager asks).
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import OuterRef, Subquery
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone

from casework.access.log import record_access
from casework.access.models import EmergencyAccess
from casework.access.policy import need_to_know_remembered
from casework.audit.models import AccessAction, AccessChannel
from casework.cases.models import Case

READS = ("GET", "HEAD")
# URL names (web and API) that hand over records without naming a case or a person.
ALSO_LOGGED = {
    "export-file": (AccessAction.EXPORTED, "Export file"),
    "cases_csv": (AccessAction.EXPORTED, "CSV export of cases"),
}
# Clearer words than a URL name for the records looked at most.
LABELS = {
    "case-detail": "Case record",
    "get_case": "Case record",
    "get_person": "Person record",
    "case-access-log": "Who has seen this record",
}


# Set by a view that has read the case and the user's emergency access already (the case
# page): (case id, subject id, emergency access id or None), saving the log its own read.
_CASE_SEEN = "_casework_case_seen"


def note_case_seen(request: HttpRequest, case: Case, emergency: EmergencyAccess | None) -> None:
    """For the log entry of this request: the case the view showed, and the emergency
    access (if any) under which it was seen."""
    setattr(request, _CASE_SEEN, (case.pk, case.subject_id, emergency.pk if emergency else None))


def _label(url_name: str) -> str:
    return LABELS.get(url_name) or url_name.replace("-", " ").replace("_", " ").capitalize()


def _is_file(response: HttpResponse) -> bool:
    return isinstance(response, FileResponse | StreamingHttpResponse) or response.has_header(
        "Content-Disposition"
    )


def _id(value: object) -> int | None:
    # Django's int converter gives ints; the API's path parameters arrive as strings.
    try:
        return int(str(value))
    except ValueError:
        return None


class AccessLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method in READS and 200 <= response.status_code < 300:
            self._log(request, response)
        return response

    def _log(self, request: HttpRequest, response: HttpResponse) -> None:
        match = request.resolver_match
        user = getattr(request, "user", None)
        if match is None or user is None or not user.is_authenticated:
            return
        url_name = match.url_name or ""
        case_id = _id(match.kwargs.get("case_id", ""))
        person_id = _id(match.kwargs.get("person_id", ""))
        if case_id is None and person_id is None and url_name not in ALSO_LOGGED:
            return
        action, label = ALSO_LOGGED.get(url_name, (AccessAction.VIEWED, _label(url_name)))
        if action == AccessAction.VIEWED and _is_file(response):
            action = AccessAction.DOWNLOADED
        emergency_id = None
        seen = getattr(request, _CASE_SEEN, None)
        if case_id is not None and seen is not None and seen[0] == case_id:
            person_id, emergency_id = seen[1], seen[2]
        elif case_id is not None:
            # One query: the case's subject, and the emergency access (if any) that let
            # this person see it.
            found = (
                Case.objects.filter(pk=case_id)
                .annotate(
                    emergency=Subquery(
                        EmergencyAccess.objects.active(timezone.now())
                        .filter(user=user, case=OuterRef("pk"))
                        .values("pk")[:1]
                    )
                )
                .values_list("subject_id", "emergency")
                .first()
            )
            if found is None:
                return
            person_id, emergency_id = found
        record_access(
            actor=user,
            action=action,
            channel=AccessChannel.API if match.namespace == "api-v1" else AccessChannel.WEB,
            summary=label,
            case=None if case_id is None else Case(pk=case_id),
            person_id=person_id,
            url_name=url_name,
            path=request.path,
            emergency_access_id=emergency_id,
        )


class NeedToKnowPerRequestMiddleware:
    """Each user's need to know is read once a request, not once a question (a case page
    asks three or four times), until the request writes: `need_to_know_remembered`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with need_to_know_remembered():
            return self.get_response(request)
