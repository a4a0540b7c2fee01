"""Principle 7, "constant queries per page" (issue 10: query-count tests guard every list and
dashboard page).

Every screen and API operation that lists things or sums up many records is read with N rows
of what it shows and again with 3N (more cases, people, tasks, notifications, events,
transfers, closures, documents, exports, retention reviews, emergency accesses: whatever it
lists), counting the SQL with `CaptureQueriesContext`; the two counts must be equal. A page
that runs one more query per row fails with both counts and the queries that repeated.

Each guard is read once before it is counted (a first request warms caches and the API
token's "last used"), and the whole body is read inside the count, streamed CSV included.
A list guard also checks that the body grew with the rows, so that the rows really reached
the page being counted.

`test_every_list_and_summary_is_guarded` walks the URL resolver and the API's OpenAPI
description: a new GET screen or operation must be added to a guard here (`GUARDED_PAGES`,
`GUARDED_OPERATIONS`) or to the commented lists of what is out of scope (single records,
forms, files, lists sized by the procedure rather than the data).
"""

from __future__ import annotations

import collections
import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connection
from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from casework.access.services import restriction_name, restriction_place
from casework.accounts.models import User
from casework.api.services import api_token_create
from casework.cases.models import Case
from casework.cases.services import case_open
from casework.closure.models import Closure, ClosureState
from casework.organisation.models import Authority, Role, ServiceArea, Team, TeamFunction
from casework.oversight.selectors import CHARTS
from casework.oversight.tests.conftest import Build, People
from casework.oversight.tests.test_views import populate
from casework.people.services import person_create
from casework.policy.services import pack_bind
from tests import query_count_builders as add
from tests.query_count_builders import CLOSURE_PACK, TODAY, Staff

N = 4
DAY = dt.timedelta(days=1)
# A list guard's body grows by at least this much for each row added (a row is more than
# its ID), so that a page capped at the same rows both times is not mistaken for a list.
ROW_BYTES = 16

# --- What is guarded, and what is out of scope ------------------------------------------------

# Screens (URL names) guarded below, each with the test that guards it.
GUARDED_PAGES = {
    "my-cases": "test_caseload_lists",
    "team-work": "test_caseload_lists",
    "team-cases": "test_caseload_lists",
    "notifications": "test_caseload_lists",
    "person-search": "test_person_search",
    "case-detail": "test_case_page_and_the_case_lists",
    "case-documents": "test_case_page_and_the_case_lists",
    "case-access-log": "test_case_page_and_the_case_lists",
    "closure-queue": "test_closure_queue_and_a_closures_lists",
    "closure-further-actions": "test_closure_queue_and_a_closures_lists",
    "transfer-queue": "test_r004_10_transfer_queue_and_placement_register",
    "placement-register": "test_r004_10_transfer_queue_and_placement_register",
    "oversight-dashboard": "test_r004_12_dashboards_and_their_csv",
    "emergency-review": "test_x02_emergency_access_review_and_restriction",
    "case-restriction": "test_x02_emergency_access_review_and_restriction",
    "retention-queue": "test_x04_retention_queue",
    "retention-holds": "test_x04_legal_holds",
    "exports": "test_exports_and_api_tokens_pages",
    "api-tokens": "test_exports_and_api_tokens_pages",
}

# Screens with no list that grows with the data. Each is one record, a form, a file, or an
# action that only answers POST. A new screen must be added here or to GUARDED_PAGES.
OUT_OF_SCOPE_PAGES = {
    # Signing in and out, two-factor set-up: one person's own account.
    "login",
    "logout",
    "two-factor",
    "two-factor-setup",
    "two-factor-remove",
    "two-factor-verify",
    "health",
    # Forms that record one thing.
    "case-record",
    "person-new",
    "referral-new",
    "emergency-access",
    "retention-hold-new",
    # POST-only actions.
    "task-done",
    "notifications-read",
    "api-token-revoke",
    # One closure's steps, forms and checklists (sized by the procedure), and its PDF.
    "closure-tasks",
    "closure-propose",
    "closure-decide",
    "closure-withdraw",
    "closure-finish",
    "closure-step",
    "closure-form",
    "closure-form-check",
    "closure-form-autosave",
    "closure-checklist",
    "closure-agreement",
    "closure-authorise",
    "closure-sign",
    "closure-pdf",
    "closure-share",
    # One transfer or pathway request, its steps (sized by the procedure) and its letter.
    "transfer-tasks",
    "transfer-request",
    "transfer-discuss",
    "transfer-summary",
    "transfer-audit",
    "transfer-authorise",
    "transfer-decide",
    "transfer-complete",
    "transfer-withdraw",
    "pathway-start",
    "pathway-decide",
    "pathway-close",
    "placement-letter",
    "re-referral",
    # One export job (its problems are one JSON field, no query per problem) and its file.
    "export-detail",
    "export-file",
    # One retention review, and lifting one legal hold.
    "retention-review",
    "retention-hold-lift",
}

# API operations (GET, as in the OpenAPI description) guarded below.
GUARDED_OPERATIONS = {
    "/api/v1/cases": "test_caseload_lists",
    "/api/v1/exports/cases.csv": "test_caseload_lists",
    "/api/v1/tasks": "test_caseload_lists",
    "/api/v1/notifications": "test_caseload_lists",
    "/api/v1/reports/overdue-by-worker": "test_caseload_lists",
    "/api/v1/people": "test_person_search",
    "/api/v1/cases/{case_id}/chronology": "test_case_page_and_the_case_lists",
    "/api/v1/cases/{case_id}/closure-readiness": "test_case_page_and_the_case_lists",
    "/api/v1/cases/{case_id}/referrals": "test_case_page_and_the_case_lists",
    "/api/v1/cases/{case_id}/visits": "test_case_page_and_the_case_lists",
    "/api/v1/cases/{case_id}/notes": "test_case_page_and_the_case_lists",
    "/api/v1/cases/{case_id}/assessments": "test_case_page_and_the_case_lists",
    "/api/v1/cases/{case_id}/plans": "test_case_page_and_the_case_lists",
    "/api/v1/cases/{case_id}/meetings": "test_case_page_and_the_case_lists",
    "/api/v1/cases/{case_id}/supervisions": "test_case_page_and_the_case_lists",
    "/api/v1/cases/{case_id}/decisions": "test_case_page_and_the_case_lists",
    "/api/v1/cases/{case_id}/documents": "test_case_page_and_the_case_lists",
    "/api/v1/cases/{case_id}/transfers": "test_case_page_and_the_case_lists",
    "/api/v1/cases/{case_id}/pathway-requests": "test_case_page_and_the_case_lists",
    "/api/v1/cases/{case_id}/closure": "test_closure_queue_and_a_closures_lists",
    "/api/v1/cases/{case_id}/closure/further-actions": "test_closure_queue_and_a_closures_lists",
    "/api/v1/cases/{case_id}/closure/documents": "test_closure_queue_and_a_closures_lists",
    "/api/v1/transfers": "test_r004_10_transfer_queue_and_placement_register",
    "/api/v1/out-of-area-placements": "test_r004_10_transfer_queue_and_placement_register",
}

# API GET operations with no list that grows with the data.
OUT_OF_SCOPE_OPERATIONS = {
    # One record.
    "/api/v1/cases/{case_id}",
    "/api/v1/people/{person_id}",
    "/api/v1/cases/{case_id}/documents/{document_id}",
    "/api/v1/cases/{case_id}/transfer",  # the transfer in progress: steps from the procedure
    "/api/v1/cases/{case_id}/transfer/summary",
    "/api/v1/cases/{case_id}/transfer/audit",
    "/api/v1/cases/{case_id}/closure/forms/{form_id}",
    # Files.
    "/api/v1/cases/{case_id}/documents/{document_id}/content",
    "/api/v1/cases/{case_id}/closure/documents/{document_id}/pdf",
    "/api/v1/cases/{case_id}/pathway-requests/{request_id}/letter",
    # Lists sized by the bound procedure (its triggers, its pathways), not by the records.
    "/api/v1/cases/{case_id}/transfer/recommendations",
    "/api/v1/cases/{case_id}/pathways",
}

# --- Counting -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Guard:
    """One read to count: a screen (by URL name) or an API operation (by its path in the
    OpenAPI description), as someone, at `url`. `lists` says the body grows with the rows
    (a summary, such as a count or a chart, need not)."""

    label: str
    name: str
    url: str
    client: Client
    lists: bool = True


@dataclass
class Reading:
    queries: list[str]
    body: bytes
    status: int

    @property
    def count(self) -> int:
        return len(self.queries)


def _body(response: HttpResponseBase) -> bytes:
    if isinstance(response, StreamingHttpResponse):
        chunks = response.streaming_content
        return b"".join(bytes(chunk) for chunk in chunks)  # type: ignore[union-attr]
    assert isinstance(response, HttpResponse)
    return bytes(response.content)


def _read(guard: Guard) -> Reading:
    guard.client.get(guard.url)  # warm caches (pack files, the token's "last used")
    with CaptureQueriesContext(connection) as captured:
        response = guard.client.get(guard.url)
        body = _body(response)  # a streamed body runs its queries as it is read
    return Reading([q["sql"] for q in captured.captured_queries], body, response.status_code)


def _shape(sql: str) -> str:
    """The query with its values taken out, so that the same query for another row matches."""
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    sql = re.sub(r"\b\d+(?:\.\d+)?\b", "?", sql)
    return re.sub(r"\?(?:\s*,\s*\?)+", "?", sql)


def _repeated(small: Reading, large: Reading) -> str:
    """The queries the larger read ran more often than the smaller, most often first."""
    grew = collections.Counter(map(_shape, large.queries))
    grew.subtract(collections.Counter(map(_shape, small.queries)))
    worst = [(n, sql) for sql, n in grew.items() if n > 0]
    worst.sort(reverse=True)
    return "\n".join(f"  +{n} x {_brief(sql)}" for n, sql in worst[:5]) or "  (none repeated)"


def _brief(sql: str) -> str:
    """A long query's start (what it selects) and end (what it filters on)."""
    return sql if len(sql) <= 400 else f"{sql[:150]} ... {sql[-250:]}"


@dataclass
class Ledger:
    """The counts of one test's guards with N and with 3N rows."""

    small: dict[str, Reading] = field(default_factory=dict)
    large: dict[str, Reading] = field(default_factory=dict)

    def read(self, guards: list[Guard], into: dict[str, Reading]) -> None:
        for guard in guards:
            assert guard.name in GUARDED_PAGES or guard.name in GUARDED_OPERATIONS, guard.name
            reading = _read(guard)
            assert reading.status == 200, (guard.label, reading.status, reading.body[:600])
            into[guard.label] = reading

    def check(self, guards: list[Guard]) -> None:
        problems = []
        for guard in guards:
            small, large = self.small[guard.label], self.large[guard.label]
            if large.count != small.count:
                problems.append(
                    f"{guard.label}: {small.count} queries with N={N} rows, {large.count} "
                    f"with 3N={3 * N}. Repeated:\n{_repeated(small, large)}"
                )
            elif guard.lists and len(large.body) < len(small.body) + 2 * N * ROW_BYTES:
                problems.append(
                    f"{guard.label}: the body did not grow from N to 3N rows, so the rows "
                    "never reached it: the guard proves nothing. Check what the test adds."
                )
        counts = ", ".join(f"{g.label}={self.small[g.label].count}" for g in guards)
        assert not problems, "\n".join(problems) + f"\n(queries with N rows: {counts})"


def guard(guards: list[Guard], grow: Callable[[int], None]) -> Ledger:
    """Count each guard with N rows and with 3N (`grow(n)` adds n more of everything the
    guards list), and fail, naming both counts, if any differs."""
    ledger = Ledger()
    grow(N)
    ledger.read(guards, ledger.small)
    grow(2 * N)
    ledger.read(guards, ledger.large)
    for g in guards:  # shown with -s, and with a failure
        small, large = ledger.small[g.label], ledger.large[g.label]
        print(f"{g.label}: {small.count} queries with N rows, {large.count} with 3N")
    ledger.check(guards)
    return ledger


def web(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api(user: User) -> Client:
    _, token = api_token_create(actor=user, name="query counts")
    return Client(headers={"Authorization": f"Bearer {token}"})


def page(
    name: str, client: Client, *, label: str = "", lists: bool = True, **kwargs: object
) -> Guard:
    query = kwargs.pop("query", "")
    url = reverse(name, kwargs=kwargs or None) + (f"?{query}" if query else "")
    return Guard(label or f"GET {url}", name, url, client, lists)


def operation(
    path: str, client: Client, *, label: str = "", lists: bool = True, **ids: int
) -> Guard:
    url, _, query = path.partition("?")
    concrete = url.format(**ids) + (f"?{query}" if query else "")
    return Guard(label or f"GET {concrete}", url, concrete, client, lists)


# --- The world --------------------------------------------------------------------------------


@pytest.fixture
def staff(make_team: Callable[..., Team], make_staff: Callable[..., User]) -> Staff:
    ai = make_team("ai")
    sgcp = make_team("sgcp", TeamFunction.SAFEGUARDING_CARE_PLANNING)
    front_door = make_team("mash", TeamFunction.FRONT_DOOR)
    csm = make_team("csm", TeamFunction.OTHER, holds_cases=False)
    make_team("north", TeamFunction.ADULTS_LOCALITY, service_area=ServiceArea.ADULTS)
    return Staff(
        ai_worker=make_staff("aiworker", ai),
        ai_worker2=make_staff("aiworkertwo", ai),
        ai_manager=make_staff("aimanager", ai, Role.TEAM_MANAGER),
        sgcp_worker=make_staff("sgcpworker", sgcp),
        sgcp_manager=make_staff("sgcpmanager", sgcp, Role.TEAM_MANAGER),
        front_door_worker=make_staff("mashworker", front_door),
        senior=make_staff("servicemanager", csm, Role.SERVICE_MANAGER),
        support=make_staff("support", csm, Role.BUSINESS_SUPPORT),
    )


@pytest.fixture
def build(staff: Staff) -> Build:
    teams = {t.code: t for t in Team.objects.all()}
    return Build(teams["ai"], teams["sgcp"], teams["north"], staff.ai_manager)


@pytest.fixture
def bound(authority: Authority) -> None:
    """The demo's procedures: 003 closes children's cases, 004 transfers them, 002 closes
    adults'."""
    for area, purpose, pack_id in (
        ("children", "closure", CLOSURE_PACK),
        ("children", "transfer", add.TRANSFER_PACK),
        ("adults", "closure", "002-adults-closure"),
    ):
        pack_bind(
            actor=None, authority=authority, service_area=area, purpose=purpose, pack_id=pack_id
        )


@pytest.fixture
def media(settings: SettingsWrapper, tmp_path: Path) -> None:
    """Uploaded documents go to the test's own folder, removed with it."""
    settings.MEDIA_ROOT = tmp_path


def _child_case(staff: Staff, build: Build) -> Case:
    child = person_create(
        actor=staff.ai_worker,
        given_name="Alex",
        family_name="Example",
        date_of_birth=TODAY - 9 * 365 * DAY,
        sex="M",
        ethnicity="WBRI",
        ethnicity_asked=True,
    )
    return case_open(
        actor=staff.ai_worker,
        subject=child,
        team=build.ai,
        received_on=TODAY - 400 * DAY,
        source="2A",
        reason="School raised concerns about attendance.",
        primary_need="N1",
        allocated_worker=staff.ai_worker,
    )


# --- The guards -------------------------------------------------------------------------------


def test_case_page_and_the_case_lists(staff: Staff, build: Build, bound: None, media: None) -> None:
    """Principle 7: the case page (its visits, plans, documents, allocations, family,
    professionals and paged chronology, whole or by kind), its documents page, who has seen
    it (X-02), and each of the API's lists of a case's records run the same queries with 3N
    records as with N."""
    case = _child_case(staff, build)
    worker, manager = web(staff.ai_worker), web(staff.ai_manager)
    token = api(staff.ai_worker)
    guards = [
        page("case-detail", worker, label="case page (worker)", case_id=case.pk),
        page("case-detail", manager, label="case page (manager)", case_id=case.pk),
        page(
            "case-detail",
            worker,
            label="case page, whole chronology",
            case_id=case.pk,
            query="chronology=all",
        ),
        page(
            "case-detail",
            worker,
            label="case page, chronology of visits",
            case_id=case.pk,
            query="category=visit",
        ),
        page("case-documents", worker, label="case documents", case_id=case.pk),
        page("case-access-log", manager, label="X-02 who has seen this record", case_id=case.pk),
        *(
            # The largest page (100): the chronology holds more than a default page already.
            operation(f"/api/v1/cases/{{case_id}}/{what}?limit=100", token, case_id=case.pk)
            for what in (
                "chronology",
                "visits",
                "notes",
                "assessments",
                "plans",
                "meetings",
                "supervisions",
                "decisions",
                "referrals",
                "documents",
                "transfers",
                "pathway-requests",
            )
        ),
        operation("/api/v1/cases/{case_id}/closure-readiness", token, case_id=case.pk, lists=False),
    ]

    def grow(n: int) -> None:
        start = len(case.visits.all())
        add.add_case_records(case, staff, n, start)
        add.add_case_transfers(case, build, staff, n)

    guard(guards, grow)


def test_caseload_lists(staff: Staff, build: Build, bound: None) -> None:
    """Principle 7, J3, X-03: My cases (a worker's and a manager's, with tasks, notifications
    and overdue work by worker), the managers' team page, the team's open cases (all, and
    unallocated), the notifications page, and the
    API's cases, tasks, notifications, overdue report and streamed CSV export run the same
    queries with 3N cases, tasks and notifications as with N.

    The CSV is read in chunks of 2000 rows (`iterator(chunk_size=2000)`): its expected
    shape is queries <= a + b * ceil(rows / 2000), with b = 0 where the database streams
    from one cursor (SQLite, and PostgreSQL's server-side cursors, whose FETCHes are not
    separate queries). Both counts here are within the first chunk, so they must be equal."""
    worker, manager, senior = (web(u) for u in (staff.ai_worker, staff.ai_manager, staff.senior))
    worker_api, manager_api = api(staff.ai_worker), api(staff.ai_manager)
    guards = [
        page("my-cases", worker, label="my cases (worker)"),
        page("my-cases", manager, label="my cases (manager)"),
        page("my-cases", senior, label="my cases (service manager)", lists=False),
        page("team-work", manager, label="J3 team work", lists=False),
        page("team-work", senior, label="J3 team work (service manager)", lists=False),
        page("team-cases", worker, label="team cases (worker)"),
        page("team-cases", manager, query="unallocated=1", label="unallocated cases (manager)"),
        page("notifications", worker, label="notifications (worker)"),
        page("notifications", manager, label="notifications (manager)"),
        operation("/api/v1/cases", worker_api, label="API cases (worker)"),
        operation("/api/v1/cases", manager_api, label="API cases (manager)"),
        operation("/api/v1/cases?status=open&limit=100", manager_api, label="API open cases"),
        operation("/api/v1/exports/cases.csv", worker_api, label="API CSV export (worker)"),
        operation("/api/v1/exports/cases.csv", manager_api, label="API CSV export (manager)"),
        operation("/api/v1/tasks", worker_api, label="API tasks (worker)"),
        operation("/api/v1/tasks", manager_api, label="API tasks (manager)"),
        operation("/api/v1/notifications", worker_api, label="API notifications"),
        operation(
            "/api/v1/reports/overdue-by-worker", manager_api, label="API overdue", lists=False
        ),
    ]
    ledger = guard(guards, lambda n: add.add_caseload(build, staff, n))
    # The whole CSV was read inside the count: a header and a row per case the manager sees.
    csv_lines = ledger.large["API CSV export (manager)"].body.decode().splitlines()
    assert len(csv_lines) == 1 + Case.objects.filter(responsible_team=build.ai).count()


def test_person_search(staff: Staff, build: Build) -> None:
    """Principle 7: finding a person (the screen and the API) runs the same queries with 3N
    people of the same name as with N, for a worker (people they may see, with their case
    linked) and for the front door (everyone, most only as identities)."""
    guards = [
        page("person-search", web(u), label=f"person search ({u.username})", query="q=Sam+Smith")
        for u in (staff.ai_worker, staff.front_door_worker)
    ]
    # The API searches only the people the caller may see (the front door adds people with
    # `POST /referrals`, after searching on the screen).
    guards.append(operation("/api/v1/people?q=Sam+Smith", api(staff.ai_worker), label="API people"))
    guard(guards, lambda n: add.add_namesakes(build, staff, n))


def test_closure_queue_and_a_closures_lists(staff: Staff, build: Build, bound: None) -> None:
    """Principle 7, journey 7: the managers' closure queue (closures proposed, with further
    actions, agreed and authorised), the team page that counts them, and one closure's
    further actions and signed-summary versions (screen and API) run the same queries with
    3N as with N."""
    case = _child_case(staff, build)
    closure = Closure.objects.create(
        case=case,
        pack_id=CLOSURE_PACK,
        reason_id="no-longer-in-need",
        reason_label="No longer in need",
        national_code="RC7",
        state=ClosureState.FURTHER_ACTIONS,
        proposed_by=staff.ai_worker,
        proposed_on=TODAY - 5 * DAY,
        decided_by=staff.ai_manager,
        decided_on=TODAY - 4 * DAY,
    )
    manager, worker = web(staff.ai_manager), web(staff.ai_worker)
    token = api(staff.ai_worker)
    guards = [
        page("closure-queue", manager, label="closure queue"),
        page("team-work", manager, label="J3 team work (closures)", lists=False),
        page("closure-further-actions", worker, label="further actions", case_id=case.pk),
        operation("/api/v1/cases/{case_id}/closure", token, case_id=case.pk),
        operation("/api/v1/cases/{case_id}/closure/further-actions", token, case_id=case.pk),
        operation("/api/v1/cases/{case_id}/closure/documents", token, case_id=case.pk),
    ]

    def grow(n: int) -> None:
        add.add_closures(build, staff, n)
        add.add_closure_documents(closure, staff, n)

    guard(guards, grow)


def test_r004_10_transfer_queue_and_placement_register(
    staff: Staff, build: Build, bound: None
) -> None:
    """Principle 7, R004-10: the transfer queue (transfers offered, waiting to be
    authorised, pathway requests), the team page that counts them, and the duty fostering
    register (screen and API) run the same queries with 3N as with N."""
    manager, worker = web(staff.ai_manager), web(staff.ai_worker)
    manager_api = api(staff.ai_manager)
    guards = [
        page("transfer-queue", manager, label="transfer queue"),
        page("team-work", manager, label="J3 team work (transfers)", lists=False),
        page("placement-register", manager, label="R004-10 register (manager)"),
        page("placement-register", worker, label="R004-10 register (worker)"),
        operation("/api/v1/transfers", manager_api, label="API transfer queue"),
        operation("/api/v1/out-of-area-placements", manager_api, label="API R004-10 register"),
    ]

    def grow(n: int) -> None:
        add.add_transfers(build, staff, n)
        add.add_placements(build, staff, n)

    guard(guards, grow)


def test_r004_12_dashboards_and_their_csv(
    staff: Staff, build: Build, make_staff: Callable[..., User]
) -> None:
    """Principle 7, R004-12, X-03: the dashboards and each chart's CSV, for a team manager
    and a service manager, run the same queries with 3N cases (and their allocations,
    tasks, closures, transfers and returning children) as with N. The rows come from the
    dashboards' own builder (casework/oversight/tests)."""
    people = People(
        ai_manager=staff.ai_manager,
        ai_worker=staff.ai_worker,
        ai_worker2=staff.ai_worker2,
        sgcp_manager=staff.sgcp_manager,
        sgcp_worker=staff.sgcp_worker,
        senior=staff.senior,
        adults_manager=make_staff("northmanager", build.adults, Role.TEAM_MANAGER),
        support=staff.support,
    )
    # The charts count per worker and per period: the page grows with the workers, not the
    # cases, so these guards are summaries (`lists=False`).
    guards = []
    for user in (staff.ai_manager, staff.senior):
        client = web(user)
        guards.append(
            page("oversight-dashboard", client, label=f"dashboards ({user.username})", lists=False)
        )
        guards += [
            page(
                "oversight-dashboard",
                client,
                label=f"{chart} CSV ({user.username})",
                query=f"format=csv&chart={chart}",
                lists=False,
            )
            for chart in CHARTS
        ]
    guard(guards, lambda n: populate(build, people, n // 2 or 1))


def test_x02_emergency_access_review_and_restriction(staff: Staff, build: Build) -> None:
    """X-02: the managers' review of emergency accesses (waiting and done, with the pages
    opened under each) and a restricted record's list of named people run the same queries
    with 3N as with N."""
    case = _child_case(staff, build)
    restriction_place(actor=staff.ai_manager, case=case, reason="A parent works here")
    manager = web(staff.ai_manager)
    guards = [
        page("emergency-review", manager, label="X-02 emergency access review"),
        page("case-restriction", manager, label="X-02 restriction", case_id=case.pk),
    ]
    named = iter(range(1000))

    def grow(n: int) -> None:
        add.add_emergency_accesses(build, staff, n)
        for _ in range(n):
            user = User.objects.create_user(
                username=f"named{next(named)}", first_name="Named", last_name="Person"
            )
            restriction_name(actor=staff.ai_manager, case=case, user=user)

    guard(guards, grow)


def test_x04_retention_queue(staff: Staff, build: Build, bound: None) -> None:
    """X-04: the records retention queue (reviews due, which of them a legal hold of any
    scope covers, and recent decisions) runs the same queries with 3N as with N."""
    guard(
        [page("retention-queue", web(staff.senior), label="X-04 retention queue")],
        lambda n: add.add_retention(build, staff, n),
    )


def test_x04_legal_holds(staff: Staff, build: Build, bound: None) -> None:
    """X-04: the legal holds in force and lifted, of each scope (a person, a record class,
    a whole service area), run the same queries with 3N as with N."""
    guard(
        [page("retention-holds", web(staff.senior), label="X-04 legal holds")],
        lambda n: add.add_retention(build, staff, n),
    )


def test_exports_and_api_tokens_pages(staff: Staff, build: Build) -> None:
    """Principle 7: the exports page (its jobs, of each kind, running and done) and the API
    tokens page run the same queries with 3N jobs and tokens as with N."""
    person = build.child()
    guards = [
        page("exports", web(staff.senior), label="exports"),
        page("api-tokens", web(staff.ai_worker), label="API tokens"),
    ]

    def grow(n: int) -> None:
        add.add_exports(staff, person, n)
        add.add_api_tokens(staff.ai_worker, n)

    guard(guards, grow)


# --- Nothing new goes unguarded ----------------------------------------------------------------


def _url_names(patterns: list[URLPattern | URLResolver] | None = None) -> Iterator[str]:
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            # The API is read from its OpenAPI description below; the Django admin is for
            # administrators (staff status) and pages with Django's own paginator.
            if pattern.namespace not in ("api-v1", "admin"):
                yield from _url_names(pattern.url_patterns)
            continue
        assert pattern.name, f"{pattern.pattern}: name this URL so the guard can list it"
        yield pattern.name


def test_every_list_and_summary_is_guarded(db: None) -> None:
    """Issue 10: every screen and every GET operation of the API is either guarded here or
    listed as out of scope with the reason; a new one fails until someone decides which."""
    names = set(_url_names())
    unclassified = names - set(GUARDED_PAGES) - OUT_OF_SCOPE_PAGES
    assert not unclassified, (
        f"New screens {sorted(unclassified)}: if one lists or sums up records, add a guard to "
        "tests/test_query_counts.py and to GUARDED_PAGES; otherwise add it to "
        "OUT_OF_SCOPE_PAGES with the reason."
    )
    assert not (set(GUARDED_PAGES) | OUT_OF_SCOPE_PAGES) - names, "listed screens that are gone"
    assert not set(GUARDED_PAGES) & OUT_OF_SCOPE_PAGES

    schema = Client().get("/api/v1/openapi.json").json()
    gets = {path for path, operations in schema["paths"].items() if "get" in operations}
    unclassified = gets - set(GUARDED_OPERATIONS) - OUT_OF_SCOPE_OPERATIONS
    assert not unclassified, (
        f"New API operations {sorted(unclassified)}: if one lists or sums up records, add a "
        "guard to tests/test_query_counts.py and to GUARDED_OPERATIONS; otherwise add it to "
        "OUT_OF_SCOPE_OPERATIONS with the reason."
    )
    assert not (set(GUARDED_OPERATIONS) | OUT_OF_SCOPE_OPERATIONS) - gets, "listed operations gone"
    assert not set(GUARDED_OPERATIONS) & OUT_OF_SCOPE_OPERATIONS

    # Each guard's test exists in this module.
    for test in {*GUARDED_PAGES.values(), *GUARDED_OPERATIONS.values()}:
        assert callable(globals().get(test)), test
