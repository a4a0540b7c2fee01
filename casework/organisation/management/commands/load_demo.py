"""`manage.py load_demo`: load the synthetic Northmoor demo authority, once.

Safe to run again: if any authority exists it changes nothing and prints the sign-ins.
"""

from __future__ import annotations

import os
import secrets
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.management.base import BaseCommand

from casework.accounts.models import User
from casework.organisation.demo import (
    AUTHORITY_NAME,
    DEMO_USERNAMES,
    TRY_MANAGER,
    TRY_WORKER,
    LoadSummary,
    SignIn,
    case_to_try_closing,
    demo_already_loaded,
    load_demo,
    sign_ins,
)

# Names of where a password is found, not passwords (hence the S105 exemptions).
PASSWORD_FILE = "demo-password"  # noqa: S105
PASSWORD_ENV = "DEMO_PASSWORD"  # noqa: S105
UNKNOWN_PASSWORD = "the password set when the demo was first loaded"  # noqa: S105


def password_file() -> Path:
    return Path(settings.VAR_DIR) / PASSWORD_FILE


def _read_password_file() -> str | None:
    path = password_file()
    if not path.exists():
        return None
    return path.read_text(encoding="utf-8").strip() or None


def password_for_new_load(option: str | None) -> str:
    """--password, else $DEMO_PASSWORD, else the one saved in var/demo-password, else a new
    random one saved there (readable by the owner only) for later runs."""
    chosen = option or os.environ.get(PASSWORD_ENV) or _read_password_file()
    if chosen:
        return chosen
    generated = secrets.token_urlsafe(12)
    path = password_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(generated + "\n")
    os.chmod(path, 0o600)
    return generated


def password_of_existing_load(option: str | None) -> str | None:
    """The demo users' password if one we know (option, environment, saved file) matches
    it; None when we cannot tell. Checking never writes to the database."""
    encoded = (
        User.objects.filter(username__in=DEMO_USERNAMES).values_list("password", flat=True).first()
    )
    if not encoded:
        return None
    for candidate in (option, os.environ.get(PASSWORD_ENV), _read_password_file()):
        if candidate and check_password(candidate, encoded):
            return candidate
    return None


class Command(BaseCommand):
    help = (
        "Load a synthetic demo authority (Northmoor Borough Council) with staff and about "
        "300 cases. Does nothing if an authority already exists, except print the sign-ins."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--password",
            help=f"Password for every demo user. Default: ${PASSWORD_ENV}, else a random one "
            f"saved in var/{PASSWORD_FILE} and reused by later runs.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        option: str | None = options.get("password")
        if demo_already_loaded():
            self.stdout.write("An authority already exists, so nothing was loaded or changed.")
            self._print_sign_ins(password_of_existing_load(option))
            return
        password = password_for_new_load(option)
        summary = load_demo(password)
        if summary is None:  # another process loaded it between the check and the load
            self.stdout.write("An authority already exists, so nothing was loaded or changed.")
            self._print_sign_ins(password_of_existing_load(option))
            return
        self._print_summary(summary)
        self._print_sign_ins(password)

    def _print_summary(self, summary: LoadSummary) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded the demo authority {AUTHORITY_NAME} in {summary.seconds:.1f} s."
            )
        )
        self.stdout.write(
            f"{summary.people:,} people, {summary.cases:,} cases, {summary.visits:,} visits, "
            f"{summary.audit_events:,} audit events."
        )

    def _print_sign_ins(self, password: str | None) -> None:
        rows = sign_ins()
        if not rows:
            self.stdout.write("There are no demo users in this database.")
            return
        port = os.environ.get("PORT", "8000")
        self.stdout.write("")
        self.stdout.write(f"Sign in at http://127.0.0.1:{port}/ as any of these users.")
        self.stdout.write(f"Password: {password or UNKNOWN_PASSWORD}")
        self.stdout.write("")
        self.stdout.write(_table(rows))
        case = case_to_try_closing()
        if case is not None:
            self.stdout.write("")
            self.stdout.write(
                f"Try a closure: sign in as {TRY_WORKER}, open case {case.reference} (its manager "
                f"advised closing it) and propose closure; then sign in as {TRY_MANAGER} to "
                'decide, audit and authorise it (README, "Try a closure").'
            )


def _table(rows: list[SignIn]) -> str:
    header = SignIn("Username", "Name", "Role", "Team")
    cells = [header, *rows]
    widths = [max(len(getattr(row, f)) for row in cells) for f in ("username", "name", "role")]
    lines = []
    for row in cells:
        lines.append(
            f"{row.username:<{widths[0]}}  {row.name:<{widths[1]}}  "
            f"{row.role:<{widths[2]}}  {row.team}"
        )
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)
