"""The Content Security Policy in a real browser (issue 9 item 5). Every browser test already
fails on any CSP violation (tests/browser/conftest.py); these check the watch itself, the API's
browsable docs under their own looser policy, and a stored file under the sandbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from playwright.sync_api import Page, Route, expect

from casework.accounts.models import User
from casework.cases.models import Case
from casework.cases.services import case_open, document_upload, plan_start
from casework.organisation.models import Team, TeamFunction
from casework.people.services import person_create
from casework.transfers.pathways import pathway_request
from tests.browser.conftest import CspWatch
from tests.browser.test_closure_journeys import PASSWORD
from tests.browser.test_closure_main_paths import open_site, sign_in

STRICT = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def test_the_watch_fails_a_test_when_the_browser_refuses_something(
    page: Page, live_server: object, csp_watch: CspWatch
) -> None:
    """A page with an inline script and an inline style under the strict policy: the watch
    records both refusals (so a real one anywhere in the suite fails its test)."""
    url = f"{live_server}/a-page-that-breaks-the-policy/"

    def serve(route: Route) -> None:
        route.fulfill(
            status=200,
            content_type="text/html",
            headers={"Content-Security-Policy": STRICT},
            body="<!DOCTYPE html><title>x</title><p style='color:red'>x</p>"
            "<script>document.title = 'ran'</script>",
        )

    page.route(url, serve)
    page.goto(url)
    expect(page).to_have_title("x")
    problems = csp_watch.problems()
    assert any("script-src" in p for p in problems), problems
    assert any("style-src" in p for p in problems), problems
    # Proven; forget them so that this test itself passes.
    csp_watch.forget()


def test_the_api_docs_render_under_their_own_policy(page: Page, live_server: object) -> None:
    """Swagger UI draws the API's operations, opens one and its "Try it out" form, with no
    violation of its page's policy, which allows data: images there and nowhere else (and
    no inline style or script, even there)."""

    response = page.goto(f"{live_server}/api/v1/docs")
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'; style-src 'self'; img-src 'self' data:;" in policy
    operation = page.locator(".opblock-summary").first
    expect(operation).to_be_visible()
    operation.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    page.get_by_role("button", name="Try it out").first.click()
    expect(page.get_by_role("button", name="Execute").first).to_be_visible()
    page.get_by_role("button", name="Execute").first.click()
    expect(page.locator(".responses-wrapper .live-responses-table").first).to_be_visible()


def test_a_document_downloads_under_the_sandbox(
    page: Page, live_server: object, open_case: Case, worker: User
) -> None:
    """A text document that looks like a page is downloaded, never shown: attachment, a
    .txt name, nosniff and the sandbox policy."""
    document_upload(
        actor=worker,
        case=open_case,
        kind="other",
        title="A note that looks like a page",
        upload=SimpleUploadedFile(
            "page.html", b"<script>alert(1)</script>", content_type="text/plain"
        ),
    )
    document = open_case.documents.get()
    open_site(page, live_server)
    sign_in(page, "worker")
    with page.expect_download() as download:
        page.evaluate(
            "url => { const a = document.createElement('a'); a.href = url; a.click(); }",
            f"/cases/{open_case.pk}/documents/?document={document.pk}",
        )
    assert download.value.suggested_filename == "page.html.txt"


def test_the_django_admin_works_under_the_strict_policy(
    page: Page, live_server: object, team_ai: Team, worker: User
) -> None:
    """An administrator's pages (list, search, a change form with its widgets, the user
    page) run under the same strict policy with nothing refused."""
    User.objects.create_superuser("boss", "boss@example.org", PASSWORD)
    open_site(page, live_server)
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    for path in (
        "/admin/",
        "/admin/organisation/team/",
        f"/admin/organisation/team/{team_ai.pk}/change/",
        "/admin/organisation/membership/add/",
        f"/admin/accounts/user/{worker.pk}/change/",
    ):
        page.goto(f"{live_server}{path}")
        expect(page.locator("#content")).to_be_visible()


def test_the_placement_letter_opens_in_the_browser_under_the_sandbox(
    page: Page,
    live_server: object,
    bind_004: Callable[..., None],
    make_team: Callable[..., Team],
    make_staff: Callable[..., User],
) -> None:
    """The one file Casework shows rather than downloads (a PDF it made itself) still opens
    in the browser's PDF viewer under `sandbox`, which stops anything in it running."""
    bind_004()
    lac = make_team("lac", TeamFunction.LOOKED_AFTER)
    worker = make_staff("lacworker", lac)
    child = person_create(
        actor=worker, given_name="Alex", family_name="Example", date_of_birth=dt.date(2015, 5, 5)
    )
    today = timezone.localdate()
    case = case_open(
        actor=worker,
        subject=child,
        team=lac,
        received_on=today - dt.timedelta(days=90),
        source="6",
        reason="Accommodated",
        allocated_worker=worker,
    )
    plan_start(
        actor=worker, case=case, kind="lac", legal_status="C2", started_on=today - dt.timedelta(60)
    )
    pathway_request(
        actor=worker,
        case=case,
        pathway_id="transfer-out-looked-after",
        answers={
            "host_authority": "Northshire County Council",
            "placed_on": (today - dt.timedelta(days=7)).isoformat(),
            "placement_type": "Foster care",
            "placement_address": "1 Example Lane, Northtown",
            "host_contact": "Children in care team",
        },
    )
    open_site(page, live_server)
    sign_in(page, "lacworker")
    url = f"{live_server}/cases/{case.pk}/pathway/placement-notification.pdf"
    sent = page.request.get(url)  # as the server sent it, with this browser's session
    assert sent.headers["content-type"] == "application/pdf"
    assert sent.headers["content-disposition"].startswith("inline;")
    assert "sandbox" in sent.headers["content-security-policy"]
    response = page.goto(url)
    assert response is not None
    assert response.status == 200
    # Chromium shows a PDF in its viewer, an extension page framed inside the document (and
    # hands the viewer only the policy's frame-ancestors: nothing of the PDF runs anyway).
    for _ in range(50):
        if any(frame.url.startswith("chrome-extension://") for frame in page.frames):
            break
        page.wait_for_timeout(100)
    assert any(frame.url.startswith("chrome-extension://") for frame in page.frames), [
        frame.url for frame in page.frames
    ]
