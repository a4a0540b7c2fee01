"""Browser tests drive a real Chromium through Playwright against a live Django server.

Playwright cannot download its own browser on every machine, so Debian's chromium is used
when present (make test installs it); otherwise Playwright's own build. A missing browser
fails loudly: the tests are never skipped silently.

Every browser test also proves the Content Security Policy holds (issue 9 item 5): every
context records the `securitypolicyviolation` events and the console's CSP errors of every
page and frame, and checks that every page the server sent carried a policy; a test in which
anything was refused, or a page came without a policy, fails, even if what it checked passed.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Response

# pytest-django's live_server runs Django in a thread beside Playwright's event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _debian_chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    executable = _debian_chromium()
    args = {**browser_type_launch_args, "args": CHROMIUM_FLAGS}
    if executable:
        args["executable_path"] = executable
    return args


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


# --- The Content Security Policy holds on every page of every test ----------------------------

# Runs in every document and frame before the page's own scripts (Playwright injects it
# through the DevTools protocol, which the page's policy does not govern).
_RECORD_VIOLATIONS = """
(() => {
  const seen = (window.__cwCspViolations = []);
  document.addEventListener("securitypolicyviolation", (event) => {
    const found = {
      directive: event.effectiveDirective || event.violatedDirective,
      blocked: event.blockedURI,
      source: event.sourceFile,
      line: event.lineNumber,
      sample: event.sample,
      page: event.documentURI,
      disposition: event.disposition,
    };
    seen.push(found);
    if (window.__cwCspViolation) window.__cwCspViolation(JSON.stringify(found));
  });
})();
"""


@dataclass
class CspWatch:
    """What the browser refused, and pages that came without a policy, during one test."""

    violations: list[str] = field(default_factory=list)
    unprotected: list[str] = field(default_factory=list)
    contexts: list[BrowserContext] = field(default_factory=list)

    def attach(self, context: BrowserContext) -> None:
        self.contexts.append(context)
        context.expose_binding(
            "__cwCspViolation",
            lambda _source, found: self._violation(json.dumps(json.loads(found), sort_keys=True)),
        )
        context.add_init_script(script=_RECORD_VIOLATIONS)
        context.on("console", self._console)
        context.on("response", self._response)

    def _violation(self, found: str) -> None:
        if found not in self.violations:
            self.violations.append(found)

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self._violation(f"console: {message.text}")

    def _response(self, response: Response) -> None:
        request = response.request
        if request.resource_type not in ("document", "xhr", "fetch"):
            return
        if not request.url.startswith(("http://", "https://")):
            return  # the browser's own pages (its PDF viewer) are not Casework's
        content_type = response.headers.get("content-type", "")
        if not content_type.startswith("text/html"):
            return
        policy = response.headers.get("content-security-policy", "")
        if "default-src 'self'" not in policy or "script-src 'self'" not in policy:
            self.unprotected.append(f"{response.status} {request.url}: {policy or 'no policy'}")

    def collect(self) -> None:
        """Read what each open page recorded, in case a report is still on its way."""
        for context in self.contexts:
            for page in context.pages:
                if page.is_closed():
                    continue
                for frame in page.frames:
                    try:
                        found = frame.evaluate("() => window.__cwCspViolations || []")
                    except Exception:  # noqa: S112 - a frame navigating away has nothing to say
                        continue
                    for violation in found:
                        self._violation(json.dumps(violation, sort_keys=True))

    def forget(self) -> None:
        """Clear what was recorded (for a test that provokes a violation on purpose)."""
        self.collect()
        self.violations.clear()
        for context in self.contexts:
            for page in context.pages:
                for frame in page.frames:
                    try:
                        frame.evaluate("() => { window.__cwCspViolations = []; }")
                    except Exception:  # noqa: S112 - nothing to clear in a frame going away
                        continue

    def problems(self) -> list[str]:
        self.collect()
        return [f"CSP violation: {v}" for v in self.violations] + [
            f"Page without the strict policy: {u}" for u in self.unprotected
        ]


@pytest.fixture(autouse=True)
def csp_watch() -> CspWatch:
    return CspWatch()


@pytest.fixture
def new_context(
    new_context: Callable[..., BrowserContext], csp_watch: CspWatch
) -> Callable[..., BrowserContext]:
    """pytest-playwright's contexts (and so `context` and `page`), each watched for CSP."""

    def make(**kwargs: Any) -> BrowserContext:
        assert not kwargs.get("bypass_csp"), "browser tests must run under the real policy"
        context = new_context(**kwargs)
        csp_watch.attach(context)
        return context

    return make


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    result = yield
    watch = getattr(item, "funcargs", {}).get("csp_watch")
    if isinstance(watch, CspWatch):
        problems = watch.problems()
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)
    return result
