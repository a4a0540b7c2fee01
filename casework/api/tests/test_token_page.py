"""Each person makes and revokes their own API tokens (issue 7, item 2): the token is shown
once and never stored; someone else's token cannot be revoked."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

from casework.accounts.models import User
from casework.api.models import ApiToken
from casework.api.services import token_digest


def test_a_worker_makes_a_token_sees_it_once_and_revokes_it(worker: User) -> None:
    client = Client()
    client.force_login(worker)
    made = client.post(reverse("api-tokens"), {"name": "Weekly export"})
    assert made.status_code == 200
    assert made["Cache-Control"] == "no-store"
    shown = re.search(r'<code class="cw-token">([^<]+)</code>', made.content.decode())
    assert shown is not None
    plain = shown.group(1)
    token = ApiToken.objects.get(user=worker)
    assert token.digest == token_digest(plain)
    assert plain not in str(token.__dict__)  # only the fingerprint is kept
    api = Client()
    assert api.get("/api/v1/tasks", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    assert plain not in client.get(reverse("api-tokens")).content.decode()  # shown once
    client.post(reverse("api-token-revoke", args=[token.pk]))
    assert api.get("/api/v1/tasks", headers={"Authorization": f"Bearer {plain}"}).status_code == 401
    refused = client.post(reverse("api-tokens"), {"name": ""})
    assert refused.status_code == 400
    assert b"Say what the token is for." in refused.content


def test_someone_elses_token_cannot_be_revoked(worker: User, manager: User) -> None:
    client = Client()
    client.force_login(worker)
    client.post(reverse("api-tokens"), {"name": "Mine"})
    token = ApiToken.objects.get(user=worker)
    other = Client()
    other.force_login(manager)
    assert other.post(reverse("api-token-revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
