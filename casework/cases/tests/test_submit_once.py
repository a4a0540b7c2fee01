"""Submitting twice does nothing twice (issue 6): the same form posted again, or twice at
the same moment, records one visit, one person, one case."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework.accounts.models import User
from casework.cases.models import Case, Visit
from casework.organisation.models import Team, TeamFunction
from casework.people.models import Person

TODAY = timezone.localdate().isoformat()


def _form_token(client: Client, url: str) -> str:
    html = client.get(url).content.decode()
    return html.split('name="once" value="')[1].split('"')[0]


def test_a_resubmitted_visit_is_recorded_once(open_case: Case, worker: User) -> None:
    client = Client()
    client.force_login(worker)
    url = f"{reverse('case-record', kwargs={'case_id': open_case.pk})}?what=visit"
    token = _form_token(client, url)
    data = {"visited_on": TODAY, "subject_seen": "on", "once": token}
    first = client.post(url, data, follow=True)
    assert b"Visit recorded" in first.content
    again = client.post(url, data, follow=True)
    assert b"That was already saved, so it has not been saved again." in again.content
    assert Visit.objects.filter(case=open_case).count() == 1


def test_a_form_shown_again_with_errors_keeps_its_unspent_token(
    open_case: Case, worker: User
) -> None:
    """A refused post wrote nothing, so correcting it and posting again is not a repeat."""
    client = Client()
    client.force_login(worker)
    url = f"{reverse('case-record', kwargs={'case_id': open_case.pk})}?what=visit"
    token = _form_token(client, url)
    refused = client.post(url, {"visited_on": "not a date", "once": token})
    assert f'name="once" value="{token}"'.encode() in refused.content
    client.post(url, {"visited_on": TODAY, "subject_seen": "on", "once": token})
    assert Visit.objects.filter(case=open_case).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_posts_of_the_same_form_at_once_add_one_person(
    make_team: Callable[..., Team], make_staff: Callable[..., User]
) -> None:
    irt = make_team("irt", TeamFunction.FRONT_DOOR)
    duty = make_staff("duty", irt)
    clients = [Client(), Client()]
    for client in clients:
        client.force_login(duty)
    token = _form_token(clients[0], reverse("person-new"))
    data = {
        "given_name": "Ash",
        "family_name": "Example",
        "date_of_birth": "2015-05-05",
        "sex": "U",
        "once": token,
    }
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def post(client: Client) -> None:
        try:
            barrier.wait(timeout=10)
            statuses.append(client.post(reverse("person-new"), data).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [302, 302]
    assert Person.objects.filter(given_name="Ash").count() == 1
