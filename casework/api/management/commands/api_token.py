"""Make an API token for a user and print it once: `manage.py api_token <username> <name>`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from casework.accounts.models import User
from casework.api.services import api_token_create
from casework.core.errors import InvalidInput


class Command(BaseCommand):
    help = "Make an API token for a user; it is shown once and stored only as a hash."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("name", help="What the token is for, e.g. 'Data team export'.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"There is no active user '{options['username']}'.")
        try:
            token, plain = api_token_create(actor=user, name=options["name"])
        except InvalidInput as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Token '{token.name}' for {user.username} (keep it secret; shown once):")
        self.stdout.write(plain)
