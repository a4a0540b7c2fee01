"""Regenerate the README's screenshots from the demo authority: `make screenshots`.

Loads the demo into a throwaway SQLite database, serves it on a free local port, signs in as
the demo users the README names and saves each page to docs/screenshots/. Nothing outside
var/ and docs/screenshots/ is touched. Needs the dev dependencies and a Chromium (as for the
browser tests).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
PASSWORD = "screenshot-demo-password"  # noqa: S105 - a throwaway demo database
WIDTH = 1100


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603


def _wait_for(url: str) -> None:
    for _ in range(100):
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - our own local server
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"The demo server did not start at {url}")


def _sign_in(page: Page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def _shoot(page: Page, name: str, *, height: int = 900, full: bool = False) -> None:
    page.set_viewport_size({"width": WIDTH, "height": height})
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=full)
    print(f"saved docs/screenshots/{name}.png")


def take(base: str, page: Page) -> None:
    _sign_in(page, base, "ai-worker")
    _shoot(page, "my-cases")
    page.locator("table a").first.click()
    page.wait_for_load_state()
    _shoot(page, "case-page", height=1700)
    household = page.locator("#household").bounding_box()
    contacts = page.locator("#contacts").bounding_box()
    if household and contacts:
        page.screenshot(
            path=str(OUT / "genogram.png"),
            full_page=True,
            clip={
                "x": 60,
                "y": household["y"] - 10,
                "width": 1000,
                "height": contacts["y"] - household["y"],
            },
        )
        print("saved docs/screenshots/genogram.png")

    _sign_in(page, base, "ai-manager")
    page.goto(f"{base}/closures/queue/")
    _shoot(page, "managers-queue", full=True)

    _sign_in(page, base, "irt-worker")
    page.goto(f"{base}/people/search/?q=smyth")
    _shoot(page, "find-a-person", height=800)

    _sign_in(page, base, "lac-manager")
    page.goto(f"{base}/transfers/queue/")
    page.locator("#to-decide ~ table a").first.click()
    page.wait_for_load_state()
    _shoot(page, "transfer-decision", full=True)
    page.goto(page.url.replace("decision/", ""))
    _shoot(page, "transfer-task-list", full=True)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="casework-screenshots-", dir=ROOT / "var"))
    port = _free_port()
    env = {
        **os.environ,
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{work / 'demo.sqlite3'}",
        "DEMO_PASSWORD": PASSWORD,
        "PORT": str(port),
    }
    server = None
    try:
        _manage(env, "migrate", "--verbosity", "0")
        _manage(env, "load_demo")
        server = subprocess.Popen(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/health/")
        chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
        with sync_playwright() as playwright:
            launch: dict[str, object] = {"args": ["--headless", "--no-sandbox"]}
            if os.access(chromium, os.X_OK):
                launch["executable_path"] = chromium
            browser = playwright.chromium.launch(**launch)  # type: ignore[arg-type]
            take(base, browser.new_page())
            browser.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
