"""The dashboard page and its CSV downloads: who may see them, what they show, and a number
of queries that does not grow with the number of cases."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from casework.accounts.models import User
from casework.oversight.selectors import CHARTS, dashboard_scope, default_period
from casework.oversight.tests.conftest import TODAY, Build, People
from casework.tasks.models import Task

URL = reverse("oversight-dashboard")
DAY = dt.timedelta(days=1)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def body(response: HttpResponseBase) -> str:
    if isinstance(response, StreamingHttpResponse):
        chunks = [bytes(c) for c in response.streaming_content]  # type: ignore[union-attr]
        return b"".join(chunks).decode()
    assert isinstance(response, HttpResponse)
    return response.content.decode()


def populate(build: Build, people: People, n: int) -> None:
    """`n` of everything every chart counts, in both children's teams: open cases with a
    history of workers, overdue and late tasks, closures with step deadlines, agreed gates
    and overridden checks, children who came back, and completed transfers with a routing
    override."""
    w1, w2 = people.ai_worker, people.ai_worker2
    for _ in range(n):
        for team, worker in ((build.ai, w1), (build.sgcp, people.sgcp_worker)):
            child = build.child()
            build.case(team, opened_on=TODAY - 200 * DAY, closed_on=TODAY - 60 * DAY, subject=child)
            case = build.case(
                team,
                opened_on=TODAY - 30 * DAY,
                workers=[(worker, TODAY - 30 * DAY), (None, TODAY - 20 * DAY)],
                subject=child,
            )
            build.task(case, due_on=TODAY - 5 * DAY, assignee=worker)
            build.task(case, due_on=TODAY - 9 * DAY, done_on=TODAY - 2 * DAY, assignee=worker)
            build.task(case, due_on=TODAY - 3 * DAY, role="team_manager")
            closed = build.case(
                team,
                opened_on=TODAY - 100 * DAY,
                workers=[(worker, TODAY - 100 * DAY)],
                closed_on=TODAY - 4 * DAY,
            )
            closure = build.closure(
                closed,
                proposed_on=TODAY - 40 * DAY,
                closed_on=TODAY - 4 * DAY,
                steps=[(TODAY - 20 * DAY, TODAY - 21 * DAY), (TODAY - 10 * DAY, TODAY - 8 * DAY)],
            )
            build.gate_agreed(closure, people.senior, TODAY - 30 * DAY)
            build.check_overridden(closure, people.ai_manager, TODAY - 20 * DAY)
        moving = build.case(
            build.sgcp, opened_on=TODAY - 80 * DAY, workers=[(people.sgcp_worker, TODAY - 80 * DAY)]
        )
        build.transfer(
            moving,
            to_team=build.ai,
            requested_on=TODAY - 30 * DAY,
            discussed_on=TODAY - 25 * DAY,
            completed_on=TODAY - 15 * DAY,
            override_reason="Siblings are already with A&I",
        )
        back = build.case(build.ai, opened_on=TODAY - 40 * DAY, workers=[(w2, TODAY - 40 * DAY)])
        build.transfer(
            back,
            to_team=build.sgcp,
            requested_on=TODAY - 35 * DAY,
            completed_on=TODAY - 7 * DAY,
        )


def test_x02_staff_who_manage_no_team_get_the_plain_403_page(people: People) -> None:
    """X-02: a social worker and business support (who sees every case to audit it, but
    manages no one) are told the dashboards are for managers."""
    for user in (people.ai_worker, people.support):
        response = client_for(user).get(URL)
        assert response.status_code == 403
        assert "The dashboards are for team managers and senior managers" in body(response)


def test_each_chart_is_a_section_with_an_accessible_svg_a_table_and_a_csv_link(
    people: People, build: Build
) -> None:
    """Every chart has a heading, an SVG image with a name, <title> and <desc>, the same
    figures in a table beside it, and a download of those figures with the page's filters."""
    populate(build, people, 1)
    response = client_for(people.ai_manager).get(URL)
    html = body(response)
    assert response.status_code == 200
    start, end = default_period(TODAY)
    assert f"Figures for Team AI from {start:%-d %B %Y} to {end:%-d %B %Y}." in html
    for chart_id in CHARTS:
        assert f'<section class="cw-dashboard-chart" id="{chart_id}"' in html
        assert f'<title id="{chart_id}-title">' in html, chart_id
        assert f'aria-describedby="{chart_id}-desc"' in html
        assert f"format=csv&amp;chart={chart_id}" in html
    assert html.count('role="img"') == len(CHARTS)
    assert html.count("<table") == len(CHARTS)
    assert html.count("Download CSV") == len(CHARTS)
    assert "R004-12" in html


def test_each_csv_streams_the_rows_of_its_table(people: People, build: Build) -> None:
    """The download is the table: the same header and rows, for the same team and period."""
    populate(build, people, 1)
    start, end = TODAY - 60 * DAY, TODAY - DAY
    teams = [build.ai]
    scope = dashboard_scope(people.senior, teams, start=start, end=end)
    client = client_for(people.senior)
    for chart_id, chart in CHARTS.items():
        response = client.get(
            URL,
            {
                "team": str(build.ai.pk),
                "start": start.isoformat(),
                "end": end.isoformat(),
                "format": "csv",
                "chart": chart_id,
            },
        )
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"] == (
            f'attachment; filename="{chart_id}-{start.isoformat()}-to-{end.isoformat()}.csv"'
        )
        got = list(csv.reader(io.StringIO(body(response))))
        assert got == chart(scope).csv_rows(), chart_id
        assert len(got) > 1, chart_id


def test_a_csv_cell_a_spreadsheet_would_run_as_a_formula_is_neutralised(
    people: People, build: Build
) -> None:
    people.ai_worker.first_name = "=HYPERLINK(1)"
    people.ai_worker.save()
    populate(build, people, 1)
    response = client_for(people.ai_manager).get(URL, {"format": "csv", "chart": "caseload"})
    assert "'=HYPERLINK(1) Tester" in body(response)


def test_an_unknown_chart_is_not_found(people: People) -> None:
    response = client_for(people.ai_manager).get(URL, {"format": "csv", "chart": "nope"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2026-05-01", "end": "2026-04-01"}, "The first day must be on or before"),
        ({"end": (TODAY + DAY).isoformat()}, "The last day of the period cannot be in the future"),
        ({"start": "2026-02-30"}, "Enter the first day of the period as a real date."),
        ({"start": ""}, "Enter the first day of the period."),
        ({"start": "2010-01-01", "end": "2026-01-01"}, "Choose a period of 5 years or less."),
        ({"team": "999999"}, "Choose one of your teams, or all your teams."),
    ],
)
def test_a_filter_that_cannot_be_used_says_why(
    people: People, query: dict[str, str], message: str
) -> None:
    response = client_for(people.ai_manager).get(URL, query)
    html = body(response)
    assert response.status_code == 400
    assert "There is a problem" in html
    assert message in html
    assert "<title>Error: Dashboards" in html
    assert 'role="img"' not in html


def test_a_team_manager_cannot_choose_another_team(people: People, build: Build) -> None:
    """X-02: the team list holds only the user's own teams; another team's id is refused."""
    response = client_for(people.ai_manager).get(URL, {"team": build.sgcp.pk})
    assert response.status_code == 400
    assert "Team SGCP" not in body(response)


def test_a_senior_manager_can_narrow_the_service_area_to_one_team(
    people: People, build: Build
) -> None:
    populate(build, people, 1)
    client = client_for(people.senior)
    everything = body(client.get(URL))
    assert "Figures for all your teams" in everything
    assert "Sgcpworker Tester" in everything
    assert "Aiworker Tester" in everything
    sgcp = body(client.get(URL, {"team": build.sgcp.pk}))
    assert "Figures for Team SGCP" in sgcp
    assert "Sgcpworker Tester" in sgcp
    assert "Aiworker Tester" not in sgcp


def test_empty_charts_explain_themselves_and_draw_nothing(people: People) -> None:
    html = body(client_for(people.adults_manager).get(URL))
    assert "Your teams held no open cases on" in html
    assert "No case in your teams closed in the period." in html
    assert "No transfer to or from your teams completed in the period." in html
    assert 'role="img"' not in html
    assert "Download CSV" not in html


def _queries(client: Client, query: dict[str, str]) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL, query)
        body(response)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("who", ["ai_manager", "senior"])
def test_the_page_and_each_chart_take_the_same_queries_for_n_and_3n_cases(
    people: People, build: Build, who: str
) -> None:
    """Principle 7 (constant queries per page), R004-12, X-03: the dashboard and each
    chart's CSV run the same number of queries with N cases as with 3N (with their
    allocations, tasks, closures, agreements, transfers and returning children)."""
    client = client_for(getattr(people, who))
    wanted: list[dict[str, str]] = [{}] + [
        {"format": "csv", "chart": chart_id} for chart_id in CHARTS
    ]

    populate(build, people, 2)
    html = body(client.get(URL))
    assert html.count('role="img"') == len(CHARTS)  # every chart has something to count
    before = [_queries(client, q) for q in wanted]
    tasks_before = Task.objects.count()

    populate(build, people, 4)
    assert Task.objects.count() == 3 * tasks_before
    after = [_queries(client, q) for q in wanted]

    assert after == before
    page, *charts = before
    # One query per chart or a few more, not one per row.
    assert page <= 30, page
    assert max(charts) <= 12, charts


def test_a_period_before_1900_is_a_plain_error_not_a_server_error(people: People) -> None:
    response = client_for(people.ai_manager).get(URL, {"start": "0004-01-01", "end": "0004-12-31"})
    assert response.status_code == 400  # the form with its error summary
    assert "The first day must be in 1900 or later." in body(response)
