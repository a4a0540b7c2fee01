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
from casework.organisation.models import Team
from casework.people.models import Person
from casework.people.services import (
    person_create,
    person_move_in,
    professional_contact_add,
    relationship_add,
)

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
    # A malformed cursor is ignored rather than a server error.
    assert client.get(reverse("my-cases") + "?after=nonsense").status_code == 200


def test_team_cases_page_by_keyset_without_repeats_or_gaps(worker: User, team_ai: Team) -> None:
    """Lists paginate by keyset: following 'Older cases' visits every case exactly once."""
    from casework.cases.selectors import team_open_cases
    from casework.cases.services import case_open

    for n in range(7):
        person = person_create(actor=worker, given_name=f"Child{n}", family_name="Paged")
        case_open(
            actor=worker,
            subject=person,
            team=team_ai,
            received_on=TODAY - dt.timedelta(days=n // 2),
            source="1A",
            reason="Concern",
        )
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
