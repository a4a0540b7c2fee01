"""Email copies of notifications, sent by the task worker after the change that caused them
has committed.

`services.notify_users` queues `notification_emails` in the change's own transaction (a
transactional outbox): a change that rolls back queues nothing, a committed one cannot lose
its emails to a web process that stops just after the commit, and no request waits for the
mail server (sending took 1.5 ms of a closure proposal's 22 ms of Python with the console
backend, issue 10; an SMTP server takes longer, and may not answer at all). A mail server
that is down or refuses a message is logged and the in-app notification stays, unread, for
the person to find. Nothing here raises.

What goes in an email is deliberately little: the notification's message (procedure text
written in the policy pack, or a task's title) and the case reference, never the person's
name or details. Email leaves the council's systems; the record stays behind sign-in.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from itertools import chain
from traceback import format_exception
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from casework.tasks.models import Notification

logger = logging.getLogger(__name__)

SUBJECT_MAX = 78  # one line in most mail clients (RFC 5322's recommended line length)


@dataclass(frozen=True)
class EmailCopy:
    notification_id: int
    message: EmailMultiAlternatives


def _link(note: Notification) -> str:
    """An absolute link for the email, if the site's address is configured; a relative one
    is useless in a mail client."""
    base = str(getattr(settings, "CASEWORK_BASE_URL", "")).rstrip("/")
    if not base:
        return ""
    path = reverse("case-detail", args=[note.case_id]) if note.case_id else reverse("notifications")
    return f"{base}{path}"


def notification_email(note: Notification) -> EmailMultiAlternatives:
    """The email copy of one notification: a plain-text body and an HTML alternative."""
    service = settings.CASEWORK_SERVICE_NAME
    reference = note.case.reference if note.case else ""
    context = {
        "note": note,
        "service_name": service,
        "reference": reference,
        "link": _link(note),
        "recipient_name": note.recipient.display_name,
    }
    headline = " ".join(note.message.split())
    subject = f"{service}: {reference} – {headline}" if reference else f"{service}: {headline}"
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1].rstrip() + "…"
    email = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("tasks/email/notification.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[note.recipient.email],
    )
    html = render_to_string("tasks/email/notification.html", context)
    email.attach_alternative(html, "text/html")
    return email


# How many other queued email tasks one run takes with it (see notification_emails). Enough
# to empty the queue a busy minute leaves; few enough that one run's SQL stays small.
QUEUED_ALONGSIDE_MAX = 200


def _queued_alongside() -> dict[str, list[int]]:
    """Claim the other `notification_emails` tasks already queued, as the worker claims the
    one it runs (status RUNNING, in a transaction, skipping rows another worker holds), and
    return their notification ids by task id. Each was queued in its change's transaction,
    so a queued task is committed and so are its notifications: sending them now cannot
    miss one or send one that is rolled back."""
    queued = (
        DBTaskResult.objects.ready()
        .filter(task_path=notification_emails.module_path, backend_name=notification_emails.backend)
        .select_for_update(skip_locked=True)
    )
    with exclusive_transaction(queued.db):
        claimed = {
            str(pk): _notification_ids(args_kwargs)
            for pk, args_kwargs in queued.values_list("pk", "args_kwargs")[:QUEUED_ALONGSIDE_MAX]
        }
        if claimed:
            DBTaskResult.objects.filter(pk__in=claimed).update(
                status=TaskResultStatus.RUNNING, started_at=timezone.now()
            )
    return claimed


def _notification_ids(args_kwargs: dict[str, Any]) -> list[int]:
    args, kwargs = args_kwargs.get("args") or [], args_kwargs.get("kwargs") or {}
    return [int(pk) for pk in (args[0] if args else kwargs.get("notification_ids", []))]


def _finish_alongside(claimed: dict[str, list[int]], sent: set[int]) -> None:
    """Record each claimed task as its own run would have: successful, returning how many
    of its notifications were emailed. One UPDATE per distinct count (usually one)."""
    by_count: dict[int, list[str]] = defaultdict(list)
    for task_id, ids in claimed.items():
        by_count[len(sent.intersection(ids))].append(task_id)
    finished_at = timezone.now()
    for count, task_ids in by_count.items():
        DBTaskResult.objects.filter(pk__in=task_ids).update(
            status=TaskResultStatus.SUCCESSFUL,
            finished_at=finished_at,
            return_value=count,
            exception_class_path="",
            traceback="",
        )


def _fail_alongside(claimed: dict[str, list[int]], error: BaseException) -> None:
    """The run failed (the database, not the mail server: those failures are logged and
    not raised): the claimed tasks failed with it, as the worker records the one it ran.
    Never left RUNNING, where nobody would see them."""
    DBTaskResult.objects.filter(pk__in=claimed).update(
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        return_value=None,
        exception_class_path=f"{type(error).__module__}.{type(error).__qualname__}",
        traceback="".join(format_exception(error)),
    )


@task()
def notification_emails(notification_ids: list[int]) -> int:
    """The worker's side of the outbox (X-03): email the recipients of these notifications
    who have an address and have not been emailed yet; record when each went. Returns how
    many of these were sent.

    Each change queues its own task, but the run the worker picks also takes every other
    email task already queued (up to QUEUED_ALONGSIDE_MAX) and sends them in the same pass,
    on one connection to the mail server. Under load that is one claim, one read and one
    update for dozens of emails instead of for each: the worker's bookkeeping per task
    cost about 5 ms of processor, a third of a proposal's (issue 10, decision 0019)."""
    claimed = _queued_alongside()
    try:
        sent = _send([*notification_ids, *chain.from_iterable(claimed.values())])
    except BaseException as error:
        _fail_alongside(claimed, error)
        raise
    _finish_alongside(claimed, sent)
    if claimed:
        logger.info(
            "Sent %d notification email(s) for %d queued task(s).", len(sent), len(claimed) + 1
        )
    return len(sent.intersection(notification_ids))


def _send(notification_ids: list[int]) -> set[int]:
    """Email these notifications' recipients who have an address and have not been
    emailed yet, on one connection; mark each sent one. Returns the ids sent."""
    notes = (
        (
            Notification.objects.filter(pk__in=notification_ids, emailed_at__isnull=True)
            .exclude(recipient__email="")
            .select_related("recipient", "case")
            .order_by("pk")
        )
        if notification_ids
        else []
    )
    copies = [EmailCopy(note.pk, notification_email(note)) for note in notes]
    if not copies:
        return set()
    connection = get_connection()
    try:
        connection.open()
    except Exception:
        logger.exception(
            "Could not reach the mail server: %d notification email(s) not sent "
            "(notifications %s); they are still shown in the app.",
            len(copies),
            ", ".join(str(c.notification_id) for c in copies),
        )
        return set()
    sent: list[int] = []
    try:
        for copy in copies:
            try:
                connection.send_messages([copy.message])
            except Exception:
                logger.exception(
                    "Could not email notification %s; it is still shown in the app.",
                    copy.notification_id,
                )
            else:
                sent.append(copy.notification_id)
    finally:
        connection.close()
    Notification.objects.filter(pk__in=sent).update(emailed_at=timezone.now())
    return set(sent)
