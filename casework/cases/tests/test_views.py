"""The case page and caseload: what a worker sees, in a constant number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from casework.accounts.models import User
from casework.cases.models import Case
from casework.cases.services import note_add, plan_start, visit_record
from casework.organisation.models import Authority, Team
from casework.people.models import Person
from casework.people.services import (
    person_create,
    person_move_in,
    professional_contact_add,
    relationship_add,
)
from casework.policy.services import pack_bind

TODAY = timezone.localdate()


def _page_queries(client: Client, case: Case) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("case-detail", kwargs={"case_id": case.pk}))
    assert response.status_code == 200
    return len(queries)


def _add_family_member(worker: User, child: Person, n: int, address_holder: Person) -> None:
    relative = person_create(
        actor=worker,
        given_name=f"Relative{n}",
        family_name="Example",
        date_of_birth=dt.date(1990, 1, 1) + dt.timedelta(days=n),
    )
    residence = address_holder.residences.get(ended_on__isnull=True)
    person_move_in(
        actor=worker,
        person=relative,
        line_1="",
        town="",
        postcode="",
        started_on=TODAY - dt.timedelta(days=100),
        address=residence.address,
    )
    relationship_add(
        actor=worker,
        person=relative,
        relative=child,
        kind="parent",
        has_parental_responsibility=True,
    )


def test_case_page_queries_do_not_grow_with_visits_events_or_family(
    open_case: Case, worker: User
) -> None:
    """The case page's query count is the same for a thin and a thick record."""
    child = open_case.subject
    person_move_in(
        actor=worker,
        person=child,
        line_1="1 Test Street",
        town="Testford",
        postcode="TE1 1ST",
        started_on=TODAY - dt.timedelta(days=200),
    )
    _add_family_member(worker, child, 0, child)
    visit_record(actor=worker, case=open_case, visited_on=TODAY, subject_seen=True)
    client = Client()
    client.force_login(worker)
    _page_queries(client, open_case)  # warm: which pack is bound is read once, then kept
    thin = _page_queries(client, open_case)

    for n in range(1, 6):
        _add_family_member(worker, child, n, child)
        professional_contact_add(
            actor=worker,
            person=child,
            role="school",
            organisation=f"School {n}",
            started_on=TODAY,
        )
    plan_start(actor=worker, case=open_case, kind="cin", started_on=TODAY)
    for n in range(30):
        visit_record(
            actor=worker,
            case=open_case,
            visited_on=TODAY - dt.timedelta(days=n),
            subject_seen=True,
            seen_alone=n % 2 == 0,
            home_visited=True,
        )
        note_add(
            actor=worker,
            case=open_case,
            title=f"Note {n}",
            body="Seen at school",
            occurred_on=TODAY,
        )
    thick = _page_queries(client, open_case)
    assert thick == thin


def test_x06_the_case_page_reads_each_of_the_cases_records_once(
    open_case: Case, worker: User, authority: Authority
) -> None:
    """The closure readiness panel evaluates the procedure against the case view, which
    needs the same plans, visits, documents and allocations the page shows: it is built
    from the page's own reads (issue 10: the case page was 41 queries at council scale, 18
    of them the panel reading the case again)."""
    pack_bind(
        actor=None,
        authority=authority,
        service_area="children",
        purpose="closure",
        pack_id="003-ending-interventions",
    )
    visit_record(actor=worker, case=open_case, visited_on=TODAY, subject_seen=True)
    plan_start(actor=worker, case=open_case, kind="cin", started_on=TODAY)
    client = Client()
    client.force_login(worker)
    authority.calendar()  # as any earlier request would have: the calendar is then kept
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("case-detail", kwargs={"case_id": open_case.pk}))
    assert response.status_code == 200
    assert response.context["readiness"].closing_gates  # the panel evaluated the procedure
    for table in (
        "cases_plan",
        "cases_visit",
        "cases_document",
        "cases_allocation",
        "people_professionalcontact",
    ):
        reads = [q["sql"] for q in queries.captured_queries if f'FROM "{table}"' in q["sql"]]
        assert len(reads) == 1, (table, reads)
    # The authority's calendar is kept between requests (casework.organisation.models).
    assert not [q for q in queries.captured_queries if "organisation_closureday" in q["sql"]]


def test_case_page_shows_household_visits_and_chronology(open_case: Case, worker: User) -> None:
    child = open_case.subject
    person_move_in(
        actor=worker,
        person=child,
        line_1="1 Test Street",
        town="Testford",
        postcode="TE1 1ST",
        started_on=TODAY - dt.timedelta(days=200),
    )
    _add_family_member(worker, child, 0, child)
    visit_record(
        actor=worker,
        case=open_case,
        visited_on=TODAY,
        subject_seen=True,
        seen_alone=True,
        home_visited=True,
    )
    client = Client()
    client.force_login(worker)
    html = client.get(reverse("case-detail", kwargs={"case_id": open_case.pk})).content.decode()
    assert "Relative0 Example" in html
    assert "Parent (parental responsibility)" in html
    assert "1 Test Street" in html
    assert "Visit: seen, seen alone, home visited" in html
    assert open_case.reference in html


def test_my_cases_lists_allocated_and_team_cases_with_keyset_pages(
    open_case: Case, worker: User, make_staff: Callable[..., User]
) -> None:
    client = Client()
    client.force_login(worker)
    html = client.get(reverse("my-cases")).content.decode()
    assert open_case.reference in html
    assert "Alex Example" in html


def test_team_cases_page_by_keyset_without_repeats_or_gaps(worker: User, team_ai: Team) -> None:
    """Lists paginate by keyset: following 'Older cases' visits every case exactly once."""
    from casework.cases.selectors import team_open_cases

    _open_cases_in(team_ai, worker, 7, allocated=False)
    seen: list[int] = []
    after = None
    while True:
        rows, after = team_open_cases(worker, after=after, limit=3)
        seen.extend(case.pk for case in rows)
        if after is None:
            break
    expected = list(
        Case.objects.filter(responsible_team=team_ai)
        .order_by("-opened_on", "-id")
        .values_list("pk", flat=True)
    )
    assert seen == expected
    assert len(seen) == 7


def test_j2_the_genogram_draws_the_family_with_a_text_alternative(
    open_case: Case, worker: User
) -> None:
    """J2: the case page draws the child with their parents a generation above, as SVG with
    a title naming everyone, so a screen reader hears who is in the family."""
    child = open_case.subject
    person_move_in(
        actor=worker,
        person=child,
        line_1="1 Test Street",
        town="Testford",
        postcode="TE1 1ST",
        started_on=TODAY - dt.timedelta(days=200),
    )
    _add_family_member(worker, child, 1, child)
    client = Client()
    client.force_login(worker)
    html = client.get(reverse("case-detail", kwargs={"case_id": open_case.pk})).content.decode()
    assert 'class="cw-genogram" role="img"' in html
    assert f"Genogram of {child.full_name}: Relative1 Example, parent" in html
    assert html.count("<tspan") == 4  # two people, each with a name and a relationship


def test_j2_chronology_filters_by_category_and_shows_the_whole_record_on_request(
    open_case: Case, worker: User
) -> None:
    for n in range(3):
        visit_record(
            actor=worker,
            case=open_case,
            visited_on=TODAY - dt.timedelta(days=n),
            subject_seen=True,
        )
    note_add(actor=worker, case=open_case, title="A note", body="Text", occurred_on=TODAY)
    client = Client()
    client.force_login(worker)
    url = reverse("case-detail", kwargs={"case_id": open_case.pk})
    visits_only = client.get(url, {"category": "visit"}).content.decode()
    chronology = visits_only.split('id="chronology"')[1]
    assert chronology.count('class="cw-chronology__item"') == 3
    assert "A note" not in chronology
    # An unknown category is ignored rather than an error.
    assert client.get(url, {"category": "nonsense"}).status_code == 200


def test_documents_upload_and_download_only_for_those_who_may_see_the_case(
    open_case: Case, worker: User, outsider: User, settings: SettingsWrapper, tmp_path: Path
) -> None:
    """A worker uploads a text file and downloads it back unchanged; the wrong type is
    refused in plain English with nothing saved; someone with no need to know gets a 404."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    client = Client()
    client.force_login(worker)
    url = reverse("case-documents", kwargs={"case_id": open_case.pk})
    refused = client.post(
        url,
        {
            "kind": "letter",
            "title": "A program",
            "upload": SimpleUploadedFile("x.exe", b"MZ\x90\x00binary", "application/octet-stream"),
        },
    )
    assert refused.status_code == 400
    assert b"The file must be a PDF, PNG, JPEG or plain text file." in refused.content
    assert not open_case.documents.exists()
    client.post(
        url,
        {
            "kind": "letter",
            "title": "Letter to the family",
            "upload": SimpleUploadedFile("letter.txt", b"Dear family", "text/plain"),
        },
    )
    document = open_case.documents.get()
    download = client.get(url, {"document": document.pk})
    assert b"".join(download.streaming_content) == b"Dear family"  # type: ignore[attr-defined]
    assert 'attachment; filename="letter.txt"' in download["Content-Disposition"]
    other = Client()
    other.force_login(outsider)
    assert other.get(url, {"document": document.pk}).status_code == 404


def _open_cases_in(team: Team, worker: User, count: int, *, allocated: bool) -> list[Case]:
    from casework.cases.services import case_open

    opened = []
    for n in range(count):
        person = person_create(actor=worker, given_name=f"Child{n}", family_name="Listed")
        opened.append(
            case_open(
                actor=worker,
                subject=person,
                team=team,
                received_on=TODAY - dt.timedelta(days=n // 3),
                source="1A",
                reason="Concern",
                allocated_worker=worker if allocated else None,
            )
        )
    return opened


def _follow_older_links(client: Client, url: str) -> list[str]:
    """Every case reference on `url` and on each 'Older cases' page after it."""
    import re

    seen: list[str] = []
    while url:
        html = client.get(url).content.decode()
        seen += re.findall(r'href="/cases/\d+/">([^<]+)</a>', html)
        older = re.search(r'href="(\?after=[^"]+)" rel="next"', html)
        url = reverse("team-cases") + older.group(1).replace("&amp;", "&") if older else ""
    return seen


def test_team_cases_page_lists_every_open_case_of_my_teams_once_by_keyset(
    worker: User, outsider: User, team_ai: Team, team_sgcp: Team
) -> None:
    """Issue 10: the team case list pages through every open case of the user's teams, 25 a
    page by keyset, newest first, each exactly once; other teams' cases are not on it;
    `?unallocated=1` keeps the cases waiting for a worker."""
    allocated = _open_cases_in(team_ai, worker, 30, allocated=True)
    waiting = _open_cases_in(team_ai, worker, 4, allocated=False)
    elsewhere = _open_cases_in(team_sgcp, outsider, 2, allocated=True)
    client = Client()
    client.force_login(worker)

    seen = _follow_older_links(client, reverse("team-cases"))
    expected = list(
        Case.objects.filter(responsible_team=team_ai, status="open")
        .order_by("-opened_on", "-id")
        .values_list("reference", flat=True)
    )
    assert seen == expected
    assert len(seen) == len(allocated) + len(waiting)
    assert not {c.reference for c in elsewhere} & set(seen)

    only_waiting = _follow_older_links(client, reverse("team-cases") + "?unallocated=1")
    assert sorted(only_waiting) == sorted(c.reference for c in waiting)


def test_the_home_page_shows_the_newest_team_cases_and_links_to_the_rest(
    worker: User, team_ai: Team
) -> None:
    """My cases shows the team's ten newest open cases and links to the team case list; an
    old "Older cases" link from the home page lands on the team case list's same page."""
    _open_cases_in(team_ai, worker, 12, allocated=False)
    client = Client()
    client.force_login(worker)
    html = client.get(reverse("my-cases")).content.decode()
    team_part = html.split("My teams' open cases", 1)[1]
    assert team_part.count('href="/cases/') == 10
    assert f'href="{reverse("team-cases")}"' in team_part
    old_link = client.get(reverse("my-cases") + "?after=2026-01-01.5")
    assert old_link.status_code == 302
    assert old_link["Location"] == reverse("team-cases") + "?after=2026-01-01.5"


def test_the_team_case_list_ignores_a_malformed_cursor(worker: User, open_case: Case) -> None:
    client = Client()
    client.force_login(worker)
    response = client.get(reverse("team-cases") + "?after=nonsense")
    assert response.status_code == 200
    assert open_case.reference in response.content.decode()
