"""Finding a person and recording a referral through the screens (J1, J5): search first,
add only if not found, open the case, and go straight to the last summary for a family that
comes back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework.accounts.models import User
from casework.cases.models import Case, CaseStatus
from casework.cases.services import case_close_imported, case_open
from casework.organisation.models import Team, TeamFunction
from casework.people.models import Person
from casework.people.services import person_create

TODAY = timezone.localdate()


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _referral(team: Team, **extra: str) -> dict[str, str]:
    return {
        "team": str(team.pk),
        "kind": "referral",
        "received_on": TODAY.isoformat(),
        "source": "3A",
        "reason": "School reports bruising",
        **extra,
    }


def test_j5_front_door_adds_a_new_child_and_opens_a_case(
    make_team: Callable[..., Team], make_staff: Callable[..., User]
) -> None:
    """J5: nobody matches, so the front-door worker adds the child, records the referral
    and lands on the new case; a missing reason is a plain error and nothing is opened."""
    irt = make_team("irt", TeamFunction.FRONT_DOOR)
    duty = make_staff("duty", irt)
    client = _client(duty)
    found = client.get(reverse("person-search"), {"q": "Robin Example 01/02/2016"})
    assert b"0 people found" in found.content
    assert b"Add a new person" in found.content
    added = client.post(
        reverse("person-new"),
        {
            "given_name": "Robin",
            "family_name": "Example",
            "date_of_birth": "2016-02-01",
            "sex": "U",
        },
    )
    person = Person.objects.get(given_name="Robin")
    assert added["Location"] == f"{reverse('referral-new')}?person={person.pk}"
    url = f"{reverse('referral-new')}?person={person.pk}"
    refused = client.post(url, _referral(irt, reason=""))
    assert refused.status_code == 200
    assert b"Enter what is reported." in refused.content
    assert not Case.objects.exists()
    opened = client.post(url, _referral(irt, allocate_to_me="on"))
    case = Case.objects.get(subject=person)
    assert opened["Location"] == reverse("case-detail", kwargs={"case_id": case.pk})
    assert (case.responsible_team, case.allocated_worker) == (irt, duty)


def returning_child(
    make_team: Callable[..., Team], make_staff: Callable[..., User]
) -> tuple[Team, User, Person, Case]:
    """A front door with a duty worker, and Katherine Smith (born 4 April 2014), whose case
    A&I closed a month ago: the front door has no need to know about her."""
    irt = make_team("irt", TeamFunction.FRONT_DOOR)
    ai = make_team("ai", TeamFunction.ASSESSMENT_INTERVENTION)
    duty = make_staff("duty", irt)
    ai_worker = make_staff("aiworker", ai)
    child = person_create(
        actor=ai_worker,
        given_name="Katherine",
        family_name="Smith",
        date_of_birth=dt.date(2014, 4, 4),
    )
    earlier = case_open(
        actor=ai_worker,
        subject=child,
        team=ai,
        received_on=TODAY - dt.timedelta(days=200),
        source="6",
        reason="Concern",
    )
    case_close_imported(
        actor=None,
        case=earlier,
        closed_on=TODAY - dt.timedelta(days=30),
        reason_code="RC7",
        note="Closed",
    )
    return irt, duty, child, earlier


def test_r003_07_a_returning_child_is_found_loosely_and_goes_to_the_last_summary(
    make_team: Callable[..., Team], make_staff: Callable[..., User]
) -> None:
    """R003-07, J5: the front door finds a child closed by another team by a misspelt name
    and date of birth (identity only: no need to know), records the referral, and is taken to
    the last closure summary beside it."""
    irt, duty, child, earlier = returning_child(make_team, make_staff)
    client = _client(duty)
    found = client.get(reverse("person-search"), {"q": "Catherine Smyth 04/04/2014"})
    assert b"Katherine Smith" in found.content
    assert b"Known to the council" in found.content
    assert earlier.reference.encode() not in found.content  # no need to know: identity only
    opened = client.post(f"{reverse('referral-new')}?person={child.pk}", _referral(irt))
    case = Case.objects.get(subject=child, status=CaseStatus.OPEN)
    assert opened["Location"] == reverse("re-referral", kwargs={"case_id": case.pk})


def test_x02_a_worker_outside_intake_searches_only_their_need_to_know(
    open_case: Case, worker: User, outsider: User
) -> None:
    """X-02: a social worker in a team that does not take referrals finds only people they
    may see, and cannot reach the referral form for anyone else."""
    name = open_case.subject.full_name
    assert name.encode() in _client(worker).get(reverse("person-search"), {"q": name}).content
    other = _client(outsider)
    assert b"0 people found" in other.get(reverse("person-search"), {"q": name}).content
    blocked = other.get(f"{reverse('referral-new')}?person={open_case.subject_id}")
    assert blocked.status_code == 404


def test_an_open_case_is_pointed_to_rather_than_duplicated(
    open_case: Case, worker: User, team_ai: Team
) -> None:
    client = _client(worker)
    url = f"{reverse('referral-new')}?person={open_case.subject_id}"
    page = client.get(url)
    assert b"already has an open case" in page.content
    refused = client.post(url, _referral(team_ai))
    assert b"Record the new contact on that case instead." in refused.content
    assert Case.objects.filter(subject=open_case.subject).count() == 1


def test_search_as_you_type_gets_only_the_results(open_case: Case, worker: User) -> None:
    """An htmx request (typing in the box) gets the results alone, not a whole page; the
    same address without htmx is the whole page, so it works without JavaScript."""
    client = _client(worker)
    url = reverse("person-search")
    name = open_case.subject.full_name
    partial = client.get(url, {"q": name}, headers={"HX-Request": "true"}).content.decode()
    assert "1 person found" in partial
    assert "<html" not in partial
    whole = client.get(url, {"q": name}).content.decode()
    assert "<html" in whole
    assert "1 person found" in whole
