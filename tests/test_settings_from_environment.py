"""Settings come from the environment, and production refuses to start without a secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _import_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    return subprocess.run(  # noqa: S603 - fixed arguments, our own interpreter
        [sys.executable, "-c", "import config.settings as s; print(s.DEBUG, s.ALLOWED_HOSTS)"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_without_secret_key_stops_with_a_clear_message() -> None:
    result = _import_settings()
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_settings_come_from_the_environment() -> None:
    result = _import_settings(SECRET_KEY="x" * 50, ALLOWED_HOSTS="casework.example.org")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False ['casework.example.org']"


def test_debug_runs_without_a_secret_for_local_development() -> None:
    result = _import_settings(DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("True")
