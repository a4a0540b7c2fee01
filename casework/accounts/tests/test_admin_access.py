"""Configuration (teams, staff, memberships, pack bindings, closure days) is in the Django
admin, for administrators only (issue 6, item 7)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from casework.accounts.models import User

CONFIGURATION_PAGES = [
    "admin:organisation_team_changelist",
    "admin:organisation_membership_changelist",
    "admin:organisation_authority_changelist",
    "admin:accounts_user_changelist",
    "admin:policy_packbinding_changelist",
]


@pytest.mark.parametrize("page", CONFIGURATION_PAGES)
def test_an_administrator_configures_and_staff_cannot(
    page: str, manager: User, worker: User
) -> None:
    admin = User.objects.create_superuser("config-admin", password="an-admin-password-123")
    client = Client()
    client.force_login(admin)
    assert client.get(reverse(page)).status_code == 200
    for person in (worker, manager):
        staff = Client()
        staff.force_login(person)
        refused = staff.get(reverse(page))
        assert refused.status_code == 302
        assert refused["Location"].startswith(reverse("admin:login"))
