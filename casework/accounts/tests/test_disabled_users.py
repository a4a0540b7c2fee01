"""Sign-in hardening (issue 9, item 4): disabling someone ends every session they have at
once, however they are disabled (the admin, the shell, a service); so does changing their
password; and their API tokens stop working (X-02: no access without a current need)."""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from casework.accounts.models import SignedInSession, User
from casework.api.services import api_token_create

PASSWORD = "a-test-password-123"  # noqa: S105 - the fixtures' test password


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    assert client.get(reverse("my-cases")).status_code == 200
    return client


def _sent_to_sign_in(client: Client) -> bool:
    response = client.get(reverse("my-cases"))
    return response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_x02_disabling_a_user_ends_all_their_sessions_at_once(worker: User, manager: User) -> None:
    office, laptop = _signed_in(worker), _signed_in(worker)
    colleague = _signed_in(manager)
    keys = set(SignedInSession.objects.filter(user=worker).values_list("session_key", flat=True))
    assert len(keys) == 2

    worker.is_active = False
    worker.save()

    assert not Session.objects.filter(session_key__in=keys).exists()
    assert not SignedInSession.objects.filter(user=worker).exists()
    assert _sent_to_sign_in(office)
    assert _sent_to_sign_in(laptop)
    assert colleague.get(reverse("my-cases")).status_code == 200


def test_x02_disabling_in_the_admin_ends_their_sessions(worker: User) -> None:
    session = _signed_in(worker)
    admin = User.objects.create_superuser("disabling-admin", password=PASSWORD)
    admin_client = Client()
    admin_client.force_login(admin)
    change = reverse("admin:accounts_user_change", args=[worker.pk])
    saved = admin_client.post(
        change,
        {
            "username": worker.username,
            "first_name": worker.first_name,
            "last_name": worker.last_name,
            "email": "",
            "job_title": "",
            "is_staff": "",
            "is_superuser": "",
            # "is_active" left out: the box is unticked
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": worker.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": worker.date_joined.strftime("%H:%M:%S"),
        },
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    worker.refresh_from_db()
    assert not worker.is_active
    assert _sent_to_sign_in(session)
    assert admin_client.get(reverse("admin:index")).status_code == 200


def test_x02_a_password_change_ends_their_sessions(worker: User) -> None:
    session = _signed_in(worker)
    worker.set_password("a-brand-new-password-456")
    worker.save()
    assert not SignedInSession.objects.filter(user=worker).exists()
    assert _sent_to_sign_in(session)


def test_ordinary_saves_and_signing_in_elsewhere_leave_sessions_alone(worker: User) -> None:
    """Signing in updates last_login, and an edit to someone's name is not a reason to sign
    them out."""
    first = _signed_in(worker)
    second = Client()
    second.post(reverse("login"), {"username": worker.username, "password": PASSWORD})
    worker.first_name = "Renamed"
    worker.save()
    assert first.get(reverse("my-cases")).status_code == 200
    assert second.get(reverse("my-cases")).status_code == 200
    assert SignedInSession.objects.filter(user=worker).count() == 2


def test_signing_out_forgets_the_session(worker: User) -> None:
    client = _signed_in(worker)
    client.post(reverse("logout"))
    assert not SignedInSession.objects.filter(user=worker).exists()


def test_x02_a_disabled_users_api_tokens_are_refused(worker: User) -> None:
    _, token = api_token_create(actor=worker, name="Data team")
    headers = {"Authorization": f"Bearer {token}"}
    assert Client().get("/api/v1/cases", headers=headers).status_code == 200
    worker.is_active = False
    worker.save()
    assert Client().get("/api/v1/cases", headers=headers).status_code == 401
