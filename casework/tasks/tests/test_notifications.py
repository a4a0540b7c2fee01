"""Notifications: in the app (a count for the header and a list), and by email with a
plain-text and an HTML body, queued with the change that caused them and sent by the task
worker once it has committed."""

from __future__ import annotations

import datetime as dt
import logging
import socket
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from pytest_django.fixtures import Settings

from casework.accounts.models import User
from casework.cases.models import Case
from casework.organisation.models import Role
from casework.tasks import delivery
from casework.tasks.context_processors import notifications
from casework.tasks.delivery import notification_emails
from casework.tasks.models import Notification, Task
from casework.tasks.services import (
    notifications_mark_read,
    notify_role,
    notify_users,
    task_schedule,
)


def _email(user: User) -> User:
    user.email = f"{user.username}@council.example"
    user.save(update_fields=["email"])
    return user


def _notify(case: Case, key: str = "k1", role: str = Role.TEAM_MANAGER) -> list[Notification]:
    return notify_role(
        key=key,
        case=case,
        role=role,
        event="closure.proposed",
        message="A closure has been proposed & needs your decision.",
        requirement="R000-01",
    )


def _worker(max_tasks: int | None = None) -> None:
    """The production worker (`manage.py db_worker`): runs what is queued (or `max_tasks` of
    it), then exits."""
    call_command(
        "db_worker",
        batch=True,
        max_tasks=max_tasks,
        startup_delay=False,
        reload=False,
        verbosity=0,
        stdout=StringIO(),
    )


# Committed for real: the worker runs in its own transactions, as in production.
@pytest.mark.django_db(transaction=True)
def test_x03_email_is_queued_with_the_change_and_sent_by_the_worker_with_text_and_html_bodies(
    open_case: Case,
    manager: User,
    worker: User,
    mailoutbox: list[mail.EmailMessage],
    settings: Settings,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """X-03: an existing caller of notify_role (a service, inside its transaction) gets an
    email copy queued in that transaction and sent by the task worker: nothing is emailed
    while the change is open, and the request that made it never waits for the mail
    server. The email has a plain-text body and an HTML alternative, names the case by
    reference (never the person) and links to it when the site's address is set; the
    notification records when it was emailed. Someone with no email address is told in
    the app only."""
    settings.CASEWORK_BASE_URL = "https://casework.example-council.gov.uk/"
    _email(manager)
    with transaction.atomic():
        notes = _notify(open_case)
        task_schedule(
            key="decide", case=open_case, title="Decide", role=Role.TEAM_MANAGER, due_on=None
        )
        [queued] = DBTaskResult.objects.all()  # in the change's own transaction
        assert queued.task_path == "casework.tasks.delivery.notification_emails"
        assert mailoutbox == []
    assert mailoutbox == []  # committed, and waiting for the worker
    _worker()
    [email] = mailoutbox
    assert email.to == [manager.email]
    assert email.subject == (
        f"Casework: {open_case.reference} – A closure has been proposed & needs your decision."
    )
    assert "A closure has been proposed & needs your decision." in email.body
    assert f"Case: {open_case.reference}" in email.body
    url = f"https://casework.example-council.gov.uk/cases/{open_case.pk}/"
    assert url in email.body
    assert isinstance(email, mail.EmailMultiAlternatives)
    [(html, mimetype)] = email.alternatives
    assert mimetype == "text/html"
    assert "proposed &amp; needs your decision" in str(html)
    assert f'href="{url}"' in str(html)
    assert open_case.subject.family_name not in email.body + str(html)
    assert [n.recipient for n in notes] == [manager]
    assert Notification.objects.get(recipient=manager).emailed_at is not None

    # A social worker without an address: in the app, no email.
    _notify(open_case, key="k2", role=Role.SOCIAL_WORKER)
    _worker()
    assert Notification.objects.filter(recipient=worker, emailed_at__isnull=True).exists()
    assert len(mailoutbox) == 1


# Committed for real: the worker runs in its own transactions, as in production.
@pytest.mark.django_db(transaction=True)
def test_x03_a_change_that_rolls_back_emails_nobody(
    open_case: Case,
    manager: User,
    mailoutbox: list[mail.EmailMessage],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """X-03: if the service's transaction rolls back after notifying, there is neither a
    notification nor an email, nor one queued."""
    _email(manager)

    class Refused(Exception):
        pass

    def refused_change() -> None:
        with transaction.atomic():
            _notify(open_case)
            raise Refused

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(Refused):
            refused_change()
    assert callbacks == []
    assert not DBTaskResult.objects.exists()
    _worker()
    assert mailoutbox == []
    assert not Notification.objects.exists()


# Committed for real: the worker runs in its own transactions, as in production.
@pytest.mark.django_db(transaction=True)
def test_x03_one_run_of_the_worker_sends_every_email_already_queued_and_records_each_task(
    open_case: Case,
    manager: User,
    worker: User,
    mailoutbox: list[mail.EmailMessage],
) -> None:
    """X-03 at load (issue 10): three changes queue three email tasks; the one task the
    worker picks sends all three changes' emails in one pass, and each queued task ends
    as its own run would have, successful and returning how many of its notifications
    were emailed (none for a recipient without an address). A task queued to run later
    is left for later."""
    _email(manager)
    _notify(open_case, key="k1")
    _notify(open_case, key="k2")
    _notify(open_case, key="k3", role=Role.SOCIAL_WORKER)  # the worker has no address
    later = notification_emails.using(run_after=timezone.now() + dt.timedelta(hours=1)).enqueue(
        [Notification.objects.get(key="k1").pk]
    )
    _worker(max_tasks=1)
    assert [e.to for e in mailoutbox] == [[manager.email], [manager.email]]
    assert not Notification.objects.filter(recipient=manager, emailed_at__isnull=True).exists()
    runs = DBTaskResult.objects.exclude(pk=later.id).order_by("enqueued_at")
    assert [(r.status, r.return_value) for r in runs] == [
        ("SUCCESSFUL", 1),
        ("SUCCESSFUL", 1),
        ("SUCCESSFUL", 0),
    ]
    assert DBTaskResult.objects.get(pk=later.id).status == "READY"
    assert all(r.finished_at and r.started_at for r in runs)


# Committed for real: the worker runs in its own transactions, as in production.
@pytest.mark.django_db(transaction=True)
def test_x03_if_a_run_fails_every_task_it_took_with_it_is_recorded_as_failed(
    open_case: Case,
    manager: User,
    mailoutbox: list[mail.EmailMessage],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """X-03 at load (issue 10): when a run fails outright (here, an email that cannot be
    written), the tasks it took along are not left looking as if they were still running:
    they fail with it, with the error, for the Task Results page and the log, as the run
    itself does."""
    _email(manager)
    _notify(open_case, key="k1")
    _notify(open_case, key="k2")

    def broken(note: Notification) -> mail.EmailMultiAlternatives:
        raise RuntimeError("template missing")

    monkeypatch.setattr(delivery, "notification_email", broken)
    _worker()
    assert mailoutbox == []
    runs = DBTaskResult.objects.all()
    assert {r.status for r in runs} == {"FAILED"}
    assert all("template missing" in r.traceback for r in runs)
    assert all(r.exception_class_path == "builtins.RuntimeError" for r in runs)
    assert not Notification.objects.filter(emailed_at__isnull=False).exists()


def _closed_port() -> int:
    """A local port nothing listens on, so a real SMTP connection to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# Committed for real: the worker runs in its own transactions, as in production.
@pytest.mark.django_db(transaction=True)
def test_x03_an_email_that_fails_is_logged_and_the_change_and_notification_stay(
    open_case: Case,
    manager: User,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """X-03: with the mail server unreachable (Django's real SMTP backend, refused), the
    change the notification follows is kept, the notification is in the app, unread and
    not marked emailed, and the worker logs the failure; nothing is raised."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = _closed_port()
    settings.EMAIL_TIMEOUT = 2
    _email(manager)
    with transaction.atomic():
        task_schedule(
            key="decide", case=open_case, title="Decide", role=Role.TEAM_MANAGER, due_on=None
        )
        _notify(open_case)
    with caplog.at_level(logging.ERROR, logger="casework.tasks.delivery"):
        _worker()
    assert Task.objects.filter(key="decide").exists()
    note = Notification.objects.get(recipient=manager)
    assert (note.read_at, note.emailed_at) == (None, None)
    assert "Could not reach the mail server" in caplog.text
    # The task itself ended well: the failure is the mail server's, told in the log.
    assert DBTaskResult.objects.get().return_value == 0


def test_x03_each_person_is_told_once_per_key_and_only_new_notices_are_emailed(
    open_case: Case,
    worker: User,
    manager: User,
    django_assert_num_queries: Any,
) -> None:
    """X-03: telling people under a key some of them already have (a sweep run again, a
    step redone) leaves their notification as it was, adds one for the others, queues an
    email for the new ones only, and answers with everyone's, in the order asked. The
    first telling is one statement for all of them, and one more to queue the email."""
    _email(manager)
    _email(worker)
    with django_assert_num_queries(2):
        [first] = notify_users(
            key="k", users=[manager, manager], case=open_case, event="e", message="First"
        )
    assert first.pk is not None
    assert first.created_at is not None
    assert Notification.objects.get(pk=first.pk).message == "First"
    told = notify_users(
        key="k", users=[worker, manager], case=open_case, event="e", message="Second"
    )
    assert [(n.recipient, n.message) for n in told] == [(worker, "Second"), (manager, "First")]
    assert told[1].pk == first.pk
    assert Notification.objects.filter(key="k").count() == 2
    queued = [r.args_kwargs["args"][0] for r in DBTaskResult.objects.order_by("enqueued_at")]
    assert queued == [[first.pk], [told[0].pk]]
    assert notify_users(key="k", users=[], case=open_case, event="e", message="None") == []


def test_x03_without_insert_returning_each_person_is_still_told_once(
    open_case: Case, worker: User, manager: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """X-03: on a database that cannot return the rows an insert made (SQLite before 3.35,
    which Django 5.2 still supports), notifications are written one by one, with the same
    answer: everyone's, in the order asked, the new ones queued for email."""
    monkeypatch.setattr(
        type(connection.features), "can_return_rows_from_bulk_insert", False, raising=False
    )
    _email(manager)
    [first] = notify_users(key="k", users=[manager], case=open_case, event="e", message="First")
    told = notify_users(
        key="k", users=[worker, manager], case=open_case, event="e", message="Second"
    )
    assert [(n.recipient, n.message) for n in told] == [(worker, "Second"), (manager, "First")]
    assert told[1].pk == first.pk
    assert told[0].pk == Notification.objects.get(key="k", recipient=worker).pk
    queued = [r.args_kwargs["args"][0] for r in DBTaskResult.objects.order_by("enqueued_at")]
    assert queued == [[first.pk], [told[0].pk]]


def test_the_unread_count_for_the_header_is_one_lazy_query(
    open_case: Case,
    worker: User,
    manager: User,
    settings: Settings,
    django_assert_num_queries: Any,
) -> None:
    """The header's count is the user's unread notifications only; it costs nothing on a
    page that does not show it and one query however often a page shows it; anonymous
    visitors get none."""
    for n in range(3):
        Notification.objects.create(key=f"w{n}", recipient=worker, event="x", message=f"N{n}")
    Notification.objects.create(key="m", recipient=manager, event="x", message="Manager's")
    request = RequestFactory().get("/")
    request.user = worker
    with django_assert_num_queries(0):
        context = notifications(request)
    count = context["unread_notification_count"]
    with django_assert_num_queries(1):
        assert (count(), count()) == (3, 3)
    Notification.objects.filter(key="w0").update(read_at=open_case.created_at)
    request.user = worker
    assert notifications(request)["unread_notification_count"]() == 2
    request.user = AnonymousUser()
    assert notifications(request) == {}

    # Installed as a context processor, on a real request (where the user is lazy).
    processors = settings.TEMPLATES[0]["OPTIONS"]["context_processors"]
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "OPTIONS": {
                **settings.TEMPLATES[0]["OPTIONS"],
                "context_processors": [
                    *processors,
                    "casework.tasks.context_processors.notifications",
                ],
            },
        }
    ]
    client = Client()
    client.force_login(worker)
    response = client.get(reverse("notifications"))
    assert response.context["unread_notification_count"]() == 2


def test_the_notifications_page_lists_mine_newest_first_and_marks_them_read(
    open_case: Case, worker: User, manager: User, django_assert_max_num_queries: Any
) -> None:
    """The list: the user's own notifications, read and unread, newest first, with the
    unread count; marking one read comes back to the list; a `next` that points off the
    site is ignored (no open redirect); older ones are a keyset page away."""
    notes = [
        Notification.objects.create(
            key=f"w{n}", recipient=worker, case=open_case, event="x", message=f"Note {n}"
        )
        for n in range(55)
    ]
    Notification.objects.create(key="m", recipient=manager, event="x", message="Manager's")
    client = Client()
    client.force_login(worker)
    with django_assert_max_num_queries(10):
        page = client.get(reverse("notifications"))
    html = page.content.decode()
    assert "You have 55 unread notifications." in html
    assert html.index("Note 54") < html.index("Note 10")
    # Each message is followed by a line break in the list ("Note 4" is also in "Note 45").
    assert "Note 5\n" in html
    assert "Note 4\n" not in html
    assert "Manager&#x27;s" not in html
    assert f'href="?before={notes[5].pk}"' in html
    older = client.get(reverse("notifications"), {"before": notes[5].pk}).content.decode()
    assert "Note 4\n" in older
    assert "Note 5\n" not in older

    back = client.post(
        reverse("notifications-read"),
        {"notification": notes[54].pk, "next": reverse("notifications")},
    )
    assert back["Location"] == reverse("notifications")
    assert "You have 54 unread notifications." in client.get(back["Location"]).content.decode()
    away = client.post(reverse("notifications-read"), {"next": "https://evil.example/"})
    assert away["Location"] == reverse("my-cases")
    assert not Notification.objects.filter(recipient=worker, read_at__isnull=True).exists()


def test_marking_read_ignores_numbers_that_cannot_be_ids(worker: User) -> None:
    """An id beyond 64 bits (or below 1) marks nothing, instead of crashing the database
    driver (the API fuzzer sent one)."""
    note = Notification.objects.create(key="k", recipient=worker, event="x", message="N")
    assert notifications_mark_read(actor=worker, ids=[2**70, -(2**70), 0]) == 0
    assert notifications_mark_read(actor=worker, ids=[note.pk, 2**64]) == 1
