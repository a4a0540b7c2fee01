"""Never lose work (issue 6): a form posted after the session timed out comes back, filled
in, after signing in again; never a password; never a forged post; never submitted for the
user."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from casework.accounts.models import User
from casework.cases.models import Case

PASSWORD = "a-test-password-123"  # noqa: S105 - the fixtures' test password


def _expired_session_post(client: Client, url: str, data: dict[str, str]) -> str:
    """Sign in, load the page (for the CSRF cookie), let the session expire, post."""
    client.get(url)
    token = client.cookies["csrftoken"].value
    client.session.flush()  # what an expired session looks like to the server
    client.cookies.pop("sessionid", None)
    response = client.post(url, {**data, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    return str(response["Location"])


def test_work_typed_before_a_time_out_is_put_back_after_signing_in(
    open_case: Case, worker: User
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(worker)
    url = reverse("case-documents", kwargs={"case_id": open_case.pk})
    login_url = _expired_session_post(
        client, url, {"title": "Notes from the strategy meeting", "kind": "minutes"}
    )
    sign_in = client.get(login_url)
    token = client.cookies["csrftoken"].value
    assert sign_in.status_code == 200
    back = client.post(
        login_url,
        {"username": worker.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert back["Location"] == url
    page = client.get(url).content.decode()
    assert "What you typed has been put back in the form" in page
    assert '"Notes from the strategy meeting"' in page  # the JSON the script fills in from
    assert not open_case.documents.exists()  # nothing was submitted on the user's behalf
    # Shown once: reloading the page does not bring it back again.
    assert "What you typed" not in client.get(url).content.decode()


def test_a_forged_post_and_passwords_are_never_kept(open_case: Case, worker: User) -> None:
    url = reverse("case-documents", kwargs={"case_id": open_case.pk})
    forged = Client(enforce_csrf_checks=True)
    forged.post(url, {"title": "Injected text", "csrfmiddlewaretoken": "x" * 64})
    forged.force_login(worker)
    assert "Injected text" not in forged.get(url).content.decode()

    client = Client(enforce_csrf_checks=True)
    client.force_login(worker)
    _expired_session_post(client, url, {"title": "Kept", "new_password": "secret-pass-1"})
    client.force_login(worker)
    page = client.get(url).content.decode()
    assert "Kept" in page
    assert "secret-pass-1" not in page
