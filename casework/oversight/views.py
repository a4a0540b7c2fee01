"""The managers' dashboard (issue 8, J7): charts of caseloads, overdue work, closure and
transfer timeliness, re-referrals, workers per child and overrides for the teams the user
oversees, with a table beside each chart and each chart's figures as CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.http import (
    Http404,
    HttpRequest,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from casework.frontend.pages import refused
from casework.frontend.pages import signed_in_user as _user
from casework.oversight.charts import Chart
from casework.oversight.forms import DashboardFilter
from casework.oversight.selectors import (
    CHARTS,
    dashboard_charts,
    dashboard_scope,
    teams_overseen_by,
)

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@require_GET
def dashboard(request: HttpRequest) -> HttpResponseBase:
    user = _user(request)
    teams = teams_overseen_by(user)
    if not teams:
        return refused(
            request,
            "The dashboards are for team managers and senior managers. Ask your manager if "
            "you need figures for your team.",
        )
    today = timezone.localdate()
    form = DashboardFilter(request.GET, teams=teams, today=today)
    wants_csv = request.GET.get("format") == "csv"
    if wants_csv and request.GET.get("chart") not in CHARTS:
        raise Http404("There is no chart with that name.")
    if not form.is_valid():
        return render(request, "oversight/dashboard.html", {"form": form, "charts": []}, status=400)
    chosen = form.chosen_teams()
    scope = dashboard_scope(
        user,
        chosen,
        start=form.cleaned_data["start"],
        end=form.cleaned_data["end"],
        today=today,
    )
    if wants_csv:
        return _csv(
            CHARTS[request.GET["chart"]](scope), scope.start.isoformat(), scope.end.isoformat()
        )
    query = request.GET.copy()
    query.pop("format", None)
    query.pop("chart", None)
    return render(
        request,
        "oversight/dashboard.html",
        {
            "form": form,
            "charts": dashboard_charts(scope),
            "scope": scope,
            "team_label": chosen[0].name if len(chosen) == 1 else "all your teams",
            "filters": query.urlencode(),
        },
    )


class _Echo:
    """A file that hands back what is written, so `csv` can feed a streaming response."""

    def write(self, value: str) -> str:
        return value


def _safe(cell: str) -> str:
    return f"'{cell}" if cell.startswith(_FORMULA_STARTS) else cell


def _csv(chart: Chart, start: str, end: str) -> StreamingHttpResponse:
    """The chart's table as CSV: the same rows the page shows, with a header row."""

    def lines() -> Iterator[str]:
        writer = csv.writer(_Echo())
        for row in chart.csv_rows():
            yield writer.writerow([_safe(cell) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{chart.id}-{start}-to-{end}.csv"'
    return response
