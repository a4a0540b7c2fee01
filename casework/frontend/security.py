"""Web protections (issue 9 item 5): the Content Security Policy, and how stored files leave
the server.

Every HTML page gets a strict policy: scripts, styles, images, fonts and connections from this
site only, no inline script or style (base.html and the templates carry none: styles live in
`casework.css` and the apps' own stylesheets, SVG drawings use presentation attributes), no
plugins, no `<base>`, forms only to this site, and no framing. GOV.UK Frontend needs nothing
more: its stylesheet refers only to its own images under /static/, and its JavaScript is an
ES module loaded from /static/ that sets no `style` attribute. htmx is told not to add its
indicator `<style>` and never to evaluate code (base.html's htmx-config).

One page is looser: the API's browsable documentation (Swagger UI, /api/v1/docs), whose
stylesheet draws its icons as `data:` SVG images, so that page alone allows `data:` images.
Nothing else: its scripts are this site's (Ninja ships them, no CDN: see config/settings.py),
React sets styles through the DOM, which the policy allows, and the page shows the API's
description, never case data.

Everything that is not HTML (the API's JSON, CSV, PDFs, uploaded documents, exports) gets
`default-src 'none'; sandbox`: if a browser were ever tricked into rendering a file as a page,
it could run nothing, load nothing and reach nothing of this origin. Chromium's PDF viewer
shows a PDF under that policy unchanged, so the placement letter still opens in the browser.

Stored files are only ever sent by access-checked views, through `file_response`, which also
says `nosniff`, keeps them out of every cache, and stops other sites embedding them. The
middleware applies the same to any response that carries a file (Content-Disposition), so a
view that forgets the helper is still covered. MEDIA_ROOT has no URL (see config/settings.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, overload

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

CSP = "Content-Security-Policy"

# The policy of every HTML page. Order is kept as written, for readable headers.
STRICT_POLICY: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

# Swagger UI (the API's browsable docs) draws its icons as data: images.
API_DOCS_POLICY: dict[str, str] = {**STRICT_POLICY, "img-src": "'self' data:"}
API_DOCS_VIEW = "api-v1:openapi-view"

# Anything that is not a page: JSON, CSV, PDFs, uploaded documents.
FILE_POLICY: dict[str, str] = {
    "default-src": "'none'",
    "frame-ancestors": "'none'",
    "sandbox": "",
}


def policy_header(directives: dict[str, str]) -> str:
    """The header value for `directives`, with the report address when one is configured
    (CASEWORK_CSP_REPORT_URI)."""
    parts = [f"{name} {value}".strip() for name, value in directives.items()]
    report_uri = getattr(settings, "CASEWORK_CSP_REPORT_URI", "")
    if report_uri:
        parts += [f"report-uri {report_uri}", "report-to csp"]
    return "; ".join(parts)


def _is_html(response: HttpResponseBase) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip().lower() == "text/html"


def protect_file(response: HttpResponseBase) -> HttpResponseBase:
    """The headers every stored or generated file is sent with."""
    response[CSP] = policy_header(FILE_POLICY)
    response["X-Content-Type-Options"] = "nosniff"
    # Case records must not stay in a shared or browser cache after the user moves on.
    response["Cache-Control"] = "private, no-store"
    # Only this site's own pages may load it, even as an image or a script.
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@overload
def file_response(
    content: bytes, *, filename: str, content_type: str, inline: bool = False
) -> HttpResponse: ...


@overload
def file_response(
    content: IO[bytes], *, filename: str, content_type: str, inline: bool = False
) -> FileResponse: ...


def file_response(
    content: bytes | IO[bytes],
    *,
    filename: str,
    content_type: str,
    inline: bool = False,
) -> HttpResponse | FileResponse:
    """A file for an access-checked view to send: a download (`Content-Disposition:
    attachment`), or shown in the browser when `inline` (our own PDFs only, never an upload),
    with the type Casework determined (never the uploader's claim), `nosniff` and the sandbox
    policy. `content` is the bytes, or an open file, which is streamed and closed."""
    response: HttpResponse | FileResponse
    if isinstance(content, bytes):
        response = HttpResponse(content, content_type=content_type)
        disposition = content_disposition_header(not inline, filename)
        if disposition:
            response["Content-Disposition"] = disposition
    else:
        response = FileResponse(
            content, as_attachment=not inline, filename=filename, content_type=content_type
        )
    protect_file(response)
    return response


class ContentSecurityPolicyMiddleware:
    """Sets the policy on every response that has none: strict for pages, the API docs'
    own for that page, and the sandbox for everything else. A response carrying a file gets
    the file headers too. It runs just inside WhiteNoise (config/settings.py), so it also
    sees the responses other middleware give without reaching a view."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if "Content-Disposition" in response and CSP not in response:
            protect_file(response)
        if CSP not in response:
            policy = _policy_for(request, response)
            if policy is not None:
                response[CSP] = policy
        report_uri = getattr(settings, "CASEWORK_CSP_REPORT_URI", "")
        if report_uri and CSP in response and "Reporting-Endpoints" not in response:
            response["Reporting-Endpoints"] = f'csp="{report_uri}"'
        return response


def _policy_for(request: HttpRequest, response: HttpResponseBase) -> str | None:
    if not _is_html(response):
        return policy_header(FILE_POLICY)
    if settings.DEBUG and response.status_code in (404, 500):
        # Django's technical error pages (DEBUG only, never in production) are styled and
        # scripted inline; a policy would only make them unreadable to the developer.
        return None
    match = getattr(request, "resolver_match", None)
    docs = match is not None and match.view_name == API_DOCS_VIEW
    return policy_header(API_DOCS_POLICY if docs else STRICT_POLICY)
