"""Sign-in hardening (issue 9, item 4): repeated failed sign-ins lock signing in for that
username from that address (django-axes) for a cool-off; the user is told what happened and
what to do; an administrator can unlock; the API's tokens are not affected."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import time_machine
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from casework.accounts.models import User
from casework.api.services import api_token_create

PASSWORD = "a-test-password-123"  # noqa: S105 - the fixtures' test password
ROOT = Path(__file__).resolve().parents[3]


def _sign_in(client: Client, username: str, password: str, address: str = "127.0.0.1") -> str:
    response = client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )
    return f"{response.status_code} {response.content.decode()}"


def _lock(client: Client, username: str, address: str = "127.0.0.1") -> str:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        refused = _sign_in(client, username, "not-the-password", address)
        assert refused.startswith("200 ")
        assert "Enter a correct username and password" in refused
    return _sign_in(client, username, "not-the-password", address)


def test_sign_in_locks_after_the_set_number_of_failures_and_says_what_to_do(
    worker: User,
) -> None:
    """The Nth wrong password (CASEWORK_SIGN_IN_ATTEMPTS, 5 by default) shows a page saying
    signing in is locked, until when, and that an administrator can unlock it; while locked,
    even the right password does not sign in."""
    assert settings.AXES_FAILURE_LIMIT == 5
    client = Client()
    locked = _lock(client, worker.username)
    assert locked.startswith("429 ")
    assert "Signing in is locked for now" in locked
    assert "failed 5 times" in locked
    assert "(in 30 minutes)" in locked
    assert "ask an administrator to unlock your account" in locked
    assert _sign_in(client, worker.username, PASSWORD).startswith("429 ")
    assert "_auth_user_id" not in client.session


def test_the_lock_is_for_that_username_from_that_address_only(worker: User, manager: User) -> None:
    client = Client()
    assert _lock(client, worker.username).startswith("429 ")
    assert _sign_in(Client(), manager.username, PASSWORD).startswith("302 ")
    assert _sign_in(Client(), worker.username, PASSWORD, address="10.1.2.3").startswith("302 ")


def test_signing_in_works_again_after_the_cool_off(worker: User) -> None:
    """After CASEWORK_SIGN_IN_COOL_OFF_MINUTES (30 by default) the right password works."""
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        assert _lock(Client(), worker.username).startswith("429 ")
        traveller.shift(dt.timedelta(minutes=29))
        assert _sign_in(Client(), worker.username, PASSWORD).startswith("429 ")
        traveller.shift(dt.timedelta(minutes=2))
        assert _sign_in(Client(), worker.username, PASSWORD).startswith("302 ")


def test_an_administrator_unlocks_sign_in_from_the_admin(worker: User) -> None:
    assert _lock(Client(), worker.username).startswith("429 ")
    admin = User.objects.create_superuser("unlocking-admin", password=PASSWORD)
    client = Client()
    client.force_login(admin)
    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "unlock_sign_in", "_selected_action": [worker.pk]},
        follow=True,
    )
    assert "Sign-in unlocked for 1 staff" in response.content.decode()
    assert _sign_in(Client(), worker.username, PASSWORD).startswith("302 ")


def test_api_tokens_are_not_affected_by_a_sign_in_lock(worker: User) -> None:
    """The API signs callers in with tokens, never with passwords: a locked sign-in does not
    stop a token from working."""
    _, token = api_token_create(actor=worker, name="Data team")
    assert _lock(Client(), worker.username).startswith("429 ")
    api = Client().get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200


def test_behind_a_trusted_proxy_the_client_address_is_counted(worker: User) -> None:
    """With CASEWORK_TRUSTED_PROXIES=1 the address the proxy saw is counted, not the proxy's
    own: one person's failures do not lock everyone behind the same proxy."""
    with override_settings(CASEWORK_TRUSTED_PROXIES=1):
        client = Client(headers={"X-Forwarded-For": "203.0.113.9, 198.51.100.7"})
        assert _lock(client, worker.username).startswith("429 ")
        elsewhere = Client(headers={"X-Forwarded-For": "198.51.100.8"})
        assert _sign_in(elsewhere, worker.username, PASSWORD).startswith("302 ")


def test_the_number_of_attempts_and_the_cool_off_come_from_the_environment() -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CASEWORK_")}
    result = subprocess.run(  # noqa: S603 - fixed arguments, our own interpreter
        [
            sys.executable,
            "-c",
            "import config.settings as s; print(s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME)",
        ],
        cwd=ROOT,
        env={
            **clean,
            "DEBUG": "true",
            "CASEWORK_SIGN_IN_ATTEMPTS": "3",
            "CASEWORK_SIGN_IN_COOL_OFF_MINUTES": "15",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["3", "0.25"]
