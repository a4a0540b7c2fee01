"""Web protections (issue 9 item 5): a strict Content Security Policy on every page, CSRF on
every form, production settings that pass `check --deploy`, uploads checked by content and
size with clean names, and stored files sent only by access-checked views with headers that
stop a browser running them. The browser proof of the policy is in tests/browser/."""

from __future__ import annotations

import os
import re
import secrets
import string
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from casework.accounts.models import User
from casework.api.services import api_token_create
from casework.audit.models import AuditEvent
from casework.cases.models import Case, Document
from casework.cases.services import document_upload
from casework.core.errors import InvalidInput
from casework.frontend.security import file_response

BASE_DIR = Path(settings.BASE_DIR)

STRICT_DIRECTIVES = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
]


def _directives(policy: str) -> list[str]:
    return [d.strip() for d in policy.split(";") if d.strip()]


@pytest.fixture
def media(settings: SettingsWrapper, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- Content Security Policy -------------------------------------------------------------------


def test_every_page_has_the_strict_policy(open_case: Case, worker: User) -> None:
    """Pages, signed in or not, refusals and redirects included, carry the strict policy: no
    'unsafe-inline', no 'unsafe-eval', nothing from another site."""
    client = _signed_in(worker)
    answers = [
        Client().get(reverse("login")),
        Client().get(reverse("my-cases")),  # the sign-in redirect, from a middleware
        client.get(reverse("my-cases")),
        client.get(reverse("case-detail", kwargs={"case_id": open_case.pk})),
        client.get(reverse("case-detail", kwargs={"case_id": open_case.pk + 999})),  # 404
        client.get(reverse("oversight-dashboard")),  # a 403 for a worker
    ]
    for answer in answers:
        policy = answer["Content-Security-Policy"]
        assert _directives(policy) == STRICT_DIRECTIVES, (answer.status_code, policy)
        assert "unsafe" not in policy


def test_the_api_docs_page_alone_allows_data_images() -> None:
    docs = Client().get("/api/v1/docs")["Content-Security-Policy"]
    assert "img-src 'self' data:" in _directives(docs)
    assert "script-src 'self'" in _directives(docs)
    assert "unsafe" not in docs


def test_everything_that_is_not_a_page_is_sandboxed(open_case: Case, worker: User) -> None:
    """JSON from the API (errors included) and the API's description run nothing."""
    token = {"Authorization": f"Bearer {api_token_create(actor=worker, name='t')[1]}"}
    for answer in (
        Client().get(f"/api/v1/cases/{open_case.pk}", headers=token),
        Client().get("/api/v1/cases/99999", headers=token),
        Client().get("/api/v1/cases"),  # 401
        Client().get("/api/v1/openapi.json"),
    ):
        assert _directives(answer["Content-Security-Policy"]) == [
            "default-src 'none'",
            "frame-ancestors 'none'",
            "sandbox",
        ]


def test_violations_are_reported_where_the_council_says(
    settings: SettingsWrapper, worker: User
) -> None:
    settings.CASEWORK_CSP_REPORT_URI = "https://csp.example-council.gov.uk/report"
    page = _signed_in(worker).get(reverse("my-cases"))
    assert "report-uri https://csp.example-council.gov.uk/report" in page["Content-Security-Policy"]
    assert "report-to csp" in page["Content-Security-Policy"]
    assert page["Reporting-Endpoints"] == 'csp="https://csp.example-council.gov.uk/report"'


TEMPLATE_DIRS = sorted(BASE_DIR.glob("casework/*/templates"))
INLINE = re.compile(
    r"""\sstyle=|<style[\s>]|<script(?![^>]*\ssrc=)[^>]*>|\son[a-z]+=|javascript:"""
)
# Not served to a browser: WeasyPrint's PDF templates (they have an @page rule) and the HTML
# emails (mail clients ignore external stylesheets, and no page's policy applies to an email).


def _is_page(template: Path) -> bool:
    return "/email/" not in template.as_posix() and "@page" not in template.read_text()


def test_no_template_has_inline_script_style_or_event_handlers() -> None:
    """Templates for pages have no inline style, `<style>`, inline `<script>`, `on...=`
    handler or javascript: URL, which the policy would refuse."""
    found = []
    for folder in TEMPLATE_DIRS:
        for template in folder.rglob("*.html"):
            if not _is_page(template):
                continue
            text = template.read_text()
            # `<script type="application/json">` (json_script) is data, not code.
            text = re.sub(r"<script[^>]*application/json[^>]*>", "", text)
            found += [f"{template.relative_to(BASE_DIR)}: {m}" for m in INLINE.findall(text)]
    assert not found, found


# --- CSRF ----------------------------------------------------------------------------------------


def _routes(
    patterns: list[URLPattern | URLResolver] | None = None, prefix: str = ""
) -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def test_no_view_is_exempt_from_csrf_but_the_token_api() -> None:
    """Every view that takes a POST is CSRF-protected. The API is exempt because it signs
    callers in only with a bearer token (never the session cookie, see test_api.py), so a
    forged cross-site request carries no credentials."""
    exempt = [
        route
        for route, pattern in _routes()
        if getattr(pattern.callback, "csrf_exempt", False) and not route.startswith("api/v1/")
    ]
    assert exempt == []
    from casework.api.api import TokenAuth, api

    assert [type(a) for a in api.auth] == [TokenAuth]  # type: ignore[union-attr]


def test_forms_refuse_a_post_without_the_csrf_token(open_case: Case, worker: User) -> None:
    """A signed-in user's browser posting without the form's token (a forged request from
    another site) gets 403 and nothing is written; with the token the same post works."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(worker)
    case = {"case_id": open_case.pk}
    note = reverse("case-record", kwargs=case) + "?what=note"
    posts = {
        note: {"kind": "general", "title": "Forged", "body": "Forged", "occurred_on": "2026-01-01"},
        reverse("case-documents", kwargs=case): {"kind": "other", "title": "Forged"},
        reverse("closure-propose", kwargs=case): {"reason": "no-longer-in-need", "note": "x"},
        reverse("transfer-request", kwargs=case): {"to_team": "1", "rationale": "x"},
        reverse("api-tokens"): {"name": "forged"},
        reverse("notifications-read"): {},
        reverse("exports"): {"kind": "cin"},
        reverse("logout"): {},
    }
    before = AuditEvent.objects.count()
    for url, data in posts.items():
        answer = client.post(url, data)
        assert answer.status_code == 403, url
    assert AuditEvent.objects.count() == before
    assert Client(enforce_csrf_checks=True).post(reverse("login"), {}).status_code == 403
    # The same note with the token from the form's page is saved.
    client.get(note)
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    saved = client.post(
        note,
        {
            "csrfmiddlewaretoken": token,
            "occurred_on": timezone.localdate().isoformat(),
            "kind": "general",
            "title": "Real",
            "body": "A real note.",
        },
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]


FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)


def test_every_post_form_in_the_templates_carries_the_csrf_token() -> None:
    missing = []
    for folder in TEMPLATE_DIRS:
        for template in folder.rglob("*.html"):
            for form in FORM.findall(template.read_text()):
                opening = form[: form.index(">")].lower()
                if 'method="post"' in opening and "{% csrf_token %}" not in form:
                    missing.append(f"{template.relative_to(BASE_DIR)}: {opening}")
    assert not missing, missing


# --- Production settings -------------------------------------------------------------------------


def _production_environment(**extra: str) -> dict[str, str]:
    alphabet = string.ascii_letters + string.digits + string.punctuation.replace("$", "")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "SECURE_", "SESSION_", "CSRF_"))
        and k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}
    }
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "".join(secrets.choice(alphabet) for _ in range(60)),
        "ALLOWED_HOSTS": "casework.example-council.gov.uk",
        **extra,
    }


@pytest.mark.parametrize("preload", ["", "true"])
def test_check_deploy_is_clean_for_the_production_settings(preload: str) -> None:
    """`manage.py check --deploy` finds nothing to warn about in production (DEBUG unset), with
    HSTS preload left to the domain's owner (the default) or turned on."""
    extra = {"SECURE_HSTS_PRELOAD": preload} if preload else {}
    done = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=_production_environment(**extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout
    if preload:
        assert "(0 silenced)" in done.stdout


# --- Uploads ------------------------------------------------------------------------------------


def _upload(case: Case, actor: User, name: str, content: bytes, claimed: str) -> Document:
    return document_upload(
        actor=actor,
        case=case,
        kind="other",
        title="A document",
        upload=SimpleUploadedFile(name, content, content_type=claimed),
    )


@pytest.mark.usefixtures("media")
@pytest.mark.parametrize(
    ("uploaded", "content", "claimed", "kept_as"),
    [
        ("letter.txt", b"Dear family", "text/plain", "letter.txt"),
        ("....", b"Dear family", "text/plain", "document.txt"),
        (". .", b"Dear family", "text/plain", "document.txt"),
        ("...txt", b"Dear family", "text/plain", "document.txt"),
        (".bashrc", b"Dear family", "text/plain", "bashrc.txt"),
        ("CON", b"Dear family", "text/plain", "document-CON.txt"),
        ("com1.txt", b"Dear family", "text/plain", "document-com1.txt"),
        ("aux.tar.gz", b"Dear family", "text/plain", "document-aux.tar.gz.txt"),
        ("notes. . .", b"Dear family", "text/plain", "notes.txt"),
        ("-rf.txt", b"Dear family", "text/plain", "rf.txt"),
        ("page.html", b"<script>alert(1)</script>", "text/plain", "page.html.txt"),
        ("C:\\Users\\sam\\report.pdf", b"%PDF-1.7 x", "application/pdf", "report.pdf"),
        ("../../etc/passwd", b"root:x:0:0", "text/plain", "passwd.txt"),
        ("photo.JPEG", b"\xff\xd8\xff\xe0 jpeg", "image/jpeg", "photo.JPEG"),
        ("photo.png", b"\xff\xd8\xff\xe0 jpeg", "image/png", "photo.png.jpg"),
        ("scan", b"%PDF-1.4 x", "application/octet-stream", "scan.pdf"),
        ("e\u0301te\u0301\u202e.txt", b"Dear family", "text/plain", "\u00e9t\u00e9.txt"),
        ("x" * 300 + ".pdf", b"%PDF-1.4 x", "application/pdf", "x" * 196 + ".pdf"),
    ],
)
def test_an_upload_is_kept_under_a_clean_name_with_the_extension_of_its_real_type(
    open_case: Case, worker: User, uploaded: str, content: bytes, claimed: str, kept_as: str
) -> None:
    document = _upload(open_case, worker, uploaded, content, claimed)
    assert document.original_name == kept_as
    assert len(document.original_name) <= 200
    # Stored under a name Casework chose, whatever was uploaded.
    assert Path(document.file.name).name.startswith(open_case.reference)


@pytest.mark.usefixtures("media")
@pytest.mark.parametrize(
    ("content", "claimed", "message"),
    [
        (b"plain text\x00with a NUL", "text/plain", "characters that are not text"),
        (b"an escape \x1b[2J", "text/plain", "characters that are not text"),
        (b"A" * 5000 + b"\x00", "text/plain", "characters that are not text"),
        (b"caf\xe9 in Latin-1", "text/plain", "saved as UTF-8"),
        (b"A" * 5000 + b"\xc3", "text/plain", "saved as UTF-8"),
        (b"MZ\x90\x00", "application/octet-stream", "must be a PDF, PNG, JPEG"),
        (b"<svg onload=alert(1)>", "image/svg+xml", "must be a PDF, PNG, JPEG"),
        (b"<html><script>", "text/html", "must be a PDF, PNG, JPEG"),
        (b"", "text/plain", "is empty"),
    ],
)
def test_an_upload_that_is_not_what_it_claims_is_refused_and_nothing_kept(
    open_case: Case, worker: User, content: bytes, claimed: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        _upload(open_case, worker, "file.txt", content, claimed)
    assert not open_case.documents.exists()


@pytest.mark.usefixtures("media")
def test_text_is_read_whole_so_a_character_split_across_chunks_is_fine(
    open_case: Case, worker: User
) -> None:
    """UTF-8 is checked through the whole file, across read chunks: an accented letter that
    straddles the first 2 KB (where the type is sniffed) is still text."""
    text = ("a" * 2047 + "é" + "b" * 70_000 + "ü").encode()
    assert _upload(open_case, worker, "long.txt", text, "text/plain").content_type == "text/plain"


@pytest.mark.usefixtures("media")
def test_a_file_over_the_size_limit_is_refused(
    open_case: Case, worker: User, settings: SettingsWrapper
) -> None:
    settings.DOCUMENT_MAX_BYTES = 1024 * 1024
    with pytest.raises(InvalidInput, match="smaller than 1 MB"):
        _upload(open_case, worker, "big.pdf", b"%PDF-" + b"0" * (1024 * 1024), "application/pdf")


@pytest.mark.usefixtures("media")
def test_a_pdf_with_javascript_is_kept_but_only_ever_downloaded_under_the_sandbox(
    open_case: Case, worker: User
) -> None:
    """A PDF may carry JavaScript (forms do): it is kept as sent, and downloaded with a
    policy under which nothing runs."""
    pdf = b"%PDF-1.4\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>"
    document = _upload(open_case, worker, "form.pdf", pdf, "application/pdf")
    answer = _signed_in(worker).get(
        reverse("case-documents", kwargs={"case_id": open_case.pk}), {"document": document.pk}
    )
    assert answer["Content-Type"] == "application/pdf"
    _assert_file_headers(answer, attachment=True)


# --- Stored files ----------------------------------------------------------------------------


def _assert_file_headers(answer: object, *, attachment: bool) -> None:
    from django.http.response import HttpResponseBase

    assert isinstance(answer, HttpResponseBase)
    disposition = answer["Content-Disposition"]
    assert disposition.startswith("attachment;" if attachment else "inline;"), disposition
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert _directives(answer["Content-Security-Policy"]) == [
        "default-src 'none'",
        "frame-ancestors 'none'",
        "sandbox",
    ]
    assert "no-store" in answer["Cache-Control"]
    assert answer["Cross-Origin-Resource-Policy"] == "same-origin"


@pytest.mark.usefixtures("media")
def test_a_document_is_downloaded_with_the_file_headers_from_the_screens_and_the_api(
    open_case: Case, worker: User
) -> None:
    document = _upload(open_case, worker, "page.html", b"<script>x</script>", "text/plain")
    screens = _signed_in(worker).get(
        reverse("case-documents", kwargs={"case_id": open_case.pk}), {"document": document.pk}
    )
    token = {"Authorization": f"Bearer {api_token_create(actor=worker, name='t')[1]}"}
    api = Client().get(
        f"/api/v1/cases/{open_case.pk}/documents/{document.pk}/content", headers=token
    )
    for answer in (screens, api):
        assert answer.status_code == 200
        assert answer["Content-Type"].startswith("text/plain")
        assert 'filename="page.html.txt"' in answer["Content-Disposition"]
        _assert_file_headers(answer, attachment=True)


def test_the_file_helper_sends_bytes_or_a_file_as_a_download_or_inline() -> None:
    import io

    _assert_file_headers(
        file_response(b"%PDF-", filename="a.pdf", content_type="application/pdf"),
        attachment=True,
    )
    letter = file_response(b"%PDF-", filename="a.pdf", content_type="application/pdf", inline=True)
    _assert_file_headers(letter, attachment=False)
    streamed = file_response(io.BytesIO(b"a,b\n"), filename="x.csv", content_type="text/csv")
    _assert_file_headers(streamed, attachment=True)
    # A name outside ASCII is sent both ways browsers read it.
    named = file_response(b"x", filename="café.txt", content_type="text/plain")
    assert "filename*=utf-8''caf%C3%A9.txt" in named["Content-Disposition"]


@pytest.mark.usefixtures("media")
def test_media_is_never_served_by_url(open_case: Case, worker: User) -> None:
    """Stored files have no URL of their own: the document's storage path, under MEDIA_URL
    or /static/, is a 404 even to its own uploader, and MEDIA_ROOT is not a static folder."""
    document = _upload(open_case, worker, "letter.txt", b"Dear family", "text/plain")
    client = _signed_in(worker)
    for url in (
        f"{settings.MEDIA_URL}{document.file.name}",
        f"/media/{document.file.name}",
        f"{settings.STATIC_URL}{document.file.name}",
        f"{settings.STATIC_URL}../media/{document.file.name}",
    ):
        assert client.get(url).status_code == 404, url
    media_root = Path(settings.MEDIA_ROOT).resolve()
    static_roots = [Path(settings.STATIC_ROOT).resolve()] + [
        Path(d).resolve() for d in getattr(settings, "STATICFILES_DIRS", [])
    ]
    for root in static_roots:
        assert not media_root.is_relative_to(root)
        assert not root.is_relative_to(media_root)
    assert not getattr(settings, "WHITENOISE_ROOT", None)
    media_routes = [r for r, _ in _routes() if settings.MEDIA_URL.strip("/") in r]
    assert media_routes == []
