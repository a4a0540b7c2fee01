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
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from casework.core.compiled import CompiledRead
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


# The worker reads these for every change that notifies: compiled once for each number of
# notifications (casework.core.compiled).
_UNSENT = CompiledRead(
    lambda *ids: (
        Notification.objects.filter(pk__in=ids, emailed_at__isnull=True)
        .exclude(recipient__email="")
        .select_related("recipient", "case")
        .order_by("pk")
    )
)


@task()
def notification_emails(notification_ids: list[int]) -> int:
    """The worker's side of the outbox (X-03): email the recipients of these notifications
    who have an address and have not been emailed yet; record when each went. Returns how
    many were sent."""
    notes = _UNSENT(*notification_ids) if notification_ids else []
    copies = [EmailCopy(note.pk, notification_email(note)) for note in notes]
    if not copies:
        return 0
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
        return 0
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
    return len(sent)
