"""Sign-in hardening (issue 9, item 4): a second factor (a code from an authenticator app)
that anyone may set up and that, with CASEWORK_TWO_FACTOR_REQUIRED on, managers and
administrators must use before they can reach anything, so that a stolen password alone does
not open the records of a whole team (X-02, need to know)."""

from __future__ import annotations

import datetime as dt
import re
from binascii import unhexlify
from typing import Any

import time_machine
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework.accounts import two_factor
from casework.accounts.models import User

PASSWORD = "a-test-password-123"  # noqa: S105 - the fixtures' test password
REQUIRED = override_settings(CASEWORK_TWO_FACTOR_REQUIRED=True)


def _code(key_hex: str) -> str:
    return f"{totp(unhexlify(key_hex), t0=0, step=30, digits=6, drift=0):06d}"


def _device(user: User) -> Any:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def _sign_in(client: Client, user: User) -> str:
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()
    return str(response["Location"])


def test_anyone_sets_up_an_authenticator_app_from_a_qr_code_without_inline_script_or_style(
    worker: User,
) -> None:
    """The set-up page shows the QR code as inline SVG (no script, no style attribute, no
    data: URL, for the Content Security Policy) and the secret as text; the first code
    confirms it and the session counts as verified."""
    client = Client()
    client.force_login(worker)
    page = client.get(reverse("two-factor-setup"))
    assert page.status_code == 200
    html = page.content.decode()
    key = client.session[two_factor.PENDING_KEY]
    device = TOTPDevice(user=worker, key=key)
    assert two_factor.secret_for_typing(device) in html
    assert re.search(r'<svg [^>]*role="img"', html)
    assert 'id="qr-path"' in html
    assert 'style="' not in html
    assert "data:" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # only scripts loaded from files
    client.get(reverse("two-factor-setup"))
    assert client.session[two_factor.PENDING_KEY] == key  # reloading keeps the same secret

    refused = client.post(reverse("two-factor-setup"), {"code": "000000"})
    if _code(key) != "000000":
        assert refused.status_code == 400
        assert "The code is not right" in refused.content.decode()
    done = client.post(reverse("two-factor-setup"), {"code": _code(key)})
    assert done.status_code == 302
    assert done["Location"] == reverse("two-factor")
    saved = TOTPDevice.objects.get(user=worker)
    assert saved.confirmed
    assert saved.key == key
    assert "Your authenticator app is set up" in client.get(done["Location"]).content.decode()
    assert client.get(reverse("my-cases")).status_code == 200


def test_signing_in_asks_for_the_code_after_the_password_and_refuses_a_wrong_one(
    worker: User,
) -> None:
    device = _device(worker)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client = Client()
        landing = _sign_in(client, worker)
        held = client.get(landing)
        assert held.status_code == 302
        assert held["Location"].startswith(reverse("two-factor-verify"))
        # Nothing else can be reached with the password alone.
        assert client.get(reverse("api-tokens"))["Location"].startswith(
            reverse("two-factor-verify")
        )
        ask = client.get(held["Location"])
        assert "Enter the code from your authenticator app" in ask.content.decode()

        right = _code(device.key)
        wrong = "000000" if right != "000000" else "111111"
        refused = client.post(reverse("two-factor-verify"), {"code": wrong, "next": landing})
        assert refused.status_code == 400
        assert "The code is not right" in refused.content.decode()
        assert client.get(landing).status_code == 302

        # Straight after a wrong code, the next try must wait (django-otp's throttling).
        too_soon = client.post(reverse("two-factor-verify"), {"code": right, "next": landing})
        assert "Wait 1 second" in too_soon.content.decode()

        traveller.shift(dt.timedelta(seconds=2))
        accepted = client.post(
            reverse("two-factor-verify"), {"code": _code(device.key), "next": landing}
        )
        assert accepted.status_code == 302
        assert accepted["Location"] == landing
        assert client.get(landing).status_code == 200


def test_a_code_is_checked_only_as_six_digits(worker: User) -> None:
    _device(worker)
    client = Client()
    client.force_login(worker)
    response = client.post(reverse("two-factor-verify"), {"code": "12ab"})
    assert response.status_code == 400
    assert "Enter the code as 6 digits" in response.content.decode()


@override_settings(AXES_FAILURE_LIMIT=3)
def test_wrong_codes_count_towards_the_sign_in_lockout(worker: User) -> None:
    """Guessing codes is a failed sign-in like guessing passwords: enough of them sign the
    user out and lock signing in."""
    device = _device(worker)
    wrong = "000000" if _code(device.key) != "000000" else "111111"
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client = Client()
        _sign_in(client, worker)
        for _ in range(2):
            traveller.shift(dt.timedelta(minutes=1))
            assert client.post(reverse("two-factor-verify"), {"code": wrong}).status_code == 400
        traveller.shift(dt.timedelta(minutes=1))
        locked = client.post(reverse("two-factor-verify"), {"code": wrong})
        assert locked.status_code == 429
        assert "Signing in is locked for now" in locked.content.decode()
        assert "_auth_user_id" not in client.session
        again = client.post(reverse("login"), {"username": worker.username, "password": PASSWORD})
        assert again.status_code == 429


@REQUIRED
def test_x02_a_manager_without_an_app_must_set_one_up_before_anything_else(
    manager: User,
) -> None:
    client = Client()
    landing = _sign_in(client, manager)
    for url in (landing, reverse("api-tokens"), reverse("two-factor-verify")):
        held = client.get(url)
        assert held.status_code == 302
        assert held["Location"].startswith(reverse("two-factor-setup"))
    page = client.get(reverse("two-factor-setup")).content.decode()
    assert "Managers and administrators must use a second step" in page
    key = client.session[two_factor.PENDING_KEY]
    done = client.post(reverse("two-factor-setup"), {"code": _code(key), "next": landing})
    assert done["Location"] == landing
    assert client.get(landing).status_code == 200


@REQUIRED
def test_a_held_user_can_still_sign_out(manager: User) -> None:
    client = Client()
    client.force_login(manager)
    signed_out = client.post(reverse("logout"))
    assert signed_out.status_code == 302
    assert signed_out["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


@REQUIRED
def test_x02_administrators_must_use_it_too(db: None) -> None:
    """Staff and superusers hold no case role but can change everyone's access in the admin."""
    for admin in (
        User.objects.create_user("staff-admin", password=PASSWORD, is_staff=True),
        User.objects.create_superuser("super-admin", password=PASSWORD),
    ):
        client = Client()
        client.force_login(admin)
        held = client.get(reverse("admin:index"))
        assert held["Location"].startswith(reverse("two-factor-setup"))


@REQUIRED
def test_a_social_worker_is_not_required_to_use_it(worker: User) -> None:
    client = Client()
    _sign_in(client, worker)
    assert client.get(reverse("my-cases")).status_code == 200
    assert "Status" in client.get(reverse("two-factor")).content.decode()


@REQUIRED
def test_a_manager_who_has_set_it_up_enters_a_code_at_sign_in(manager: User) -> None:
    device = _device(manager)
    client = Client()
    landing = _sign_in(client, manager)
    assert client.get(landing)["Location"].startswith(reverse("two-factor-verify"))
    # Replacing the app needs a code from the current one first.
    assert client.get(reverse("two-factor-setup"))["Location"].startswith(
        reverse("two-factor-verify")
    )
    accepted = client.post(reverse("two-factor-verify"), {"code": _code(device.key)})
    assert accepted.status_code == 302
    assert client.get(landing).status_code == 200


def test_removing_the_app_and_an_administrator_resetting_it(worker: User) -> None:
    device = _device(worker)
    client = Client()
    client.force_login(worker)
    client.post(reverse("two-factor-verify"), {"code": _code(device.key)})
    removed = client.post(reverse("two-factor-remove"), follow=True)
    assert "Your authenticator app has been removed" in removed.content.decode()
    assert not TOTPDevice.objects.filter(user=worker).exists()

    _device(worker)
    admin = User.objects.create_superuser("reset-admin", password=PASSWORD)
    admin_client = Client()
    admin_client.force_login(admin)
    response = admin_client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_two_factor", "_selected_action": [worker.pk]},
        follow=True,
    )
    assert "Two-factor authentication reset for 1 staff" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=worker).exists()
    # With the device gone, the worker signs in with the password alone.
    fresh = Client()
    assert fresh.get(_sign_in(fresh, worker)).status_code == 200


def test_setting_it_up_ends_the_users_other_sessions(worker: User) -> None:
    """A session signed in earlier with the password alone cannot carry on unchecked."""
    elsewhere = Client()
    elsewhere.force_login(worker)
    client = Client()
    client.force_login(worker)
    client.get(reverse("two-factor-setup"))
    key = client.session[two_factor.PENDING_KEY]
    client.post(reverse("two-factor-setup"), {"code": _code(key)})
    assert client.get(reverse("my-cases")).status_code == 200
    assert elsewhere.get(reverse("my-cases"))["Location"].startswith(reverse("login"))
