"""Reports and exports through the API, for managers and councils' data teams. Everything is
scoped like the screens: a report only counts the cases its caller may see.

The statutory returns (CIN census, SSDA903, adult Client Level Data) follow with issue 8."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Query, Router, Schema

from casework.api.cases import CaseFilters, filtered_cases
from casework.api.common import file_answer
from casework.api.problems import ERRORS
from casework.frontend.pages import signed_in_user as _user
from casework.tasks.selectors import overdue_by_worker

router = Router(tags=["reports"])


class OverdueOut(Schema):
    worker: str
    overdue: int
    oldest_due: dt.date


@router.get("/reports/overdue-by-worker", response={200: list[OverdueOut], **ERRORS})
def overdue(request: HttpRequest) -> list[OverdueOut]:
    """For a manager's teams (a senior manager's whole service area): open tasks past their
    due date, counted by the case's allocated worker, most overdue first. Empty for someone
    who manages no team."""
    return [
        OverdueOut(worker=row.worker_name, overdue=row.overdue, oldest_due=row.oldest_due)
        for row in overdue_by_worker(_user(request))
    ]


CSV_COLUMNS = [
    "reference",
    "service_area",
    "status",
    "team",
    "allocated_worker",
    "person_local_id",
    "opened_on",
    "closed_on",
    "closure_reason",
]


class _Echo:
    """A file that hands back what is written, so `csv` can feed a streaming response."""

    def write(self, value: str) -> str:
        return value


@router.get(
    "/exports/cases.csv",
    response={200: None, **ERRORS},
    openapi_extra=file_answer("One row per case, with a header row.", "text/csv"),
)
def cases_csv(request: HttpRequest, filters: Query[CaseFilters]) -> StreamingHttpResponse:
    """The cases the caller may see as CSV, oldest first, filtered like `GET /cases`
    (`after` and `limit` are ignored: the export is whole). Streamed, so a council-sized
    export does not sit in memory."""
    rows = filtered_cases(_user(request), filters)
    values = rows.order_by("id").values_list(
        "reference",
        "service_area",
        "status",
        "responsible_team__code",
        "allocated_worker__username",
        "subject__local_id",
        "opened_on",
        "closed_on",
        "closure_reason",
    )

    def lines() -> Iterator[str]:
        writer = csv.writer(_Echo())
        yield writer.writerow(CSV_COLUMNS)
        for row in values.iterator(chunk_size=2000):
            yield writer.writerow(["" if v is None else v for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="cases.csv"'
    return response
