"""The second factor: a time-based code from an authenticator app (django-otp's TOTP device).

Anyone may set one up; once they have, signing in asks for a code after the password. With
`CASEWORK_TWO_FACTOR_REQUIRED` on, managers (a current membership in a manager role) and
administrators (`is_staff` or `is_superuser`) must have one: until they have set it up and
entered a code, they can reach nothing else (`TwoFactorMiddleware`).
"""

from __future__ import annotations

import time
from base64 import b32encode
from typing import Any, Literal

import qrcode
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.utils.safestring import SafeString, mark_safe
from django_otp import user_has_device
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex
from qrcode.image.svg import SvgPathImage

from casework.accounts.models import User
from casework.organisation.models import MANAGER_ROLES, Membership

DEVICE_NAME = "Authenticator app"
STATE_KEY = "casework_two_factor"
PENDING_KEY = "casework_two_factor_new_key"

State = Literal["none", "verify", "set-up"]
NONE: State = "none"
VERIFY: State = "verify"
SET_UP: State = "set-up"


def two_factor_required(user: User) -> bool:
    """Must this user have a second factor? Managers and administrators, when required."""
    if not settings.CASEWORK_TWO_FACTOR_REQUIRED:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return Membership.objects.current().filter(user=user, role__in=list(MANAGER_ROLES)).exists()


def has_device(user: User) -> bool:
    return bool(user_has_device(user, confirmed=True))


def device_for(user: User) -> Any:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()


def state_for(user: User) -> State:
    """What an unverified session of this user must do first."""
    if has_device(user):
        return VERIFY
    if two_factor_required(user):
        return SET_UP
    return NONE


def state_remember(session: SessionBase, user: User) -> State:
    """Work out the state and keep it in the session, with the setting it was worked out
    under, so that most requests need no query (see `TwoFactorMiddleware`)."""
    state = state_for(user)
    session[STATE_KEY] = [state, bool(settings.CASEWORK_TWO_FACTOR_REQUIRED)]
    return state


def remembered_state(session: SessionBase) -> State | None:
    kept = session.get(STATE_KEY)
    if (
        isinstance(kept, list)
        and len(kept) == 2
        and kept[1] == bool(settings.CASEWORK_TWO_FACTOR_REQUIRED)
        and kept[0] in (NONE, VERIFY, SET_UP)
    ):
        state: State = kept[0]
        return state
    return None


def new_device(user: User, session: SessionBase) -> Any:
    """An unsaved device for setting up, with a secret kept in the session until the user
    confirms it with a first code (so reloading the page shows the same QR code)."""
    key = session.get(PENDING_KEY)
    if not isinstance(key, str) or len(key) != 40:
        key = random_hex(20)
        session[PENDING_KEY] = key
    return TOTPDevice(user=user, key=key, name=DEVICE_NAME, confirmed=False)


def device_confirm(*, user: User, device: Any, code: str) -> bool:
    """Save `device` as `user`'s only device if `code` is what it shows now; other devices
    are replaced (setting up again is how a lost or new phone is reset)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not totp.verify(int(code), device.tolerance):
        return False
    device.last_t = totp.t()
    device.drift = totp.drift
    device.confirmed = True
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        device.save()
    return True


def devices_remove(*, user: User) -> int:
    deleted, _ = TOTPDevice.objects.filter(user=user).delete()
    return int(deleted)


def secret_for_typing(device: Any) -> str:
    """The secret in base 32, in groups of four, for typing into an app by hand."""
    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_svg(device: Any) -> SafeString:
    """The device's set-up address as an inline SVG QR code: one <path>, no script, no style
    attribute and no data: URL, so a strict Content Security Policy allows it."""
    image = qrcode.make(device.config_url, image_factory=SvgPathImage, box_size=10, border=4)
    svg = image.get_image()
    svg.set("role", "img")
    svg.set("aria-label", "QR code to scan with your authenticator app")
    svg.set("focusable", "false")
    markup: str = image.to_string(encoding="unicode")
    # Safe: qrcode draws the set-up address as path geometry; no text from it (or from anyone)
    # is written into the markup, only the fixed attributes set above.
    return mark_safe(markup)  # noqa: S308  # nosec B308 B703
