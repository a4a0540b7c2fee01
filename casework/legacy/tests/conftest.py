"""Fixtures for the legacy import tests: the teams and staff the example set names (the demo
authority's codes and usernames), and a way to run the command and read its reports."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from casework.accounts.models import User
from casework.organisation.models import Role, ServiceArea, Team, TeamFunction

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples" / "legacy"


@dataclass
class Staff:
    ai: Team
    sgcp: Team
    adults: Team
    ai_worker: User
    ai_worker2: User
    ai_manager: User
    sgcp_worker: User
    adults_worker: User


@pytest.fixture
def staff(
    make_team: Callable[..., Team],
    make_staff: Callable[..., User],
    team_ai: Team,
    team_sgcp: Team,
) -> Staff:
    adults = make_team("adults-north", TeamFunction.ADULTS_LOCALITY, ServiceArea.ADULTS)
    return Staff(
        ai=team_ai,
        sgcp=team_sgcp,
        adults=adults,
        ai_worker=make_staff("ai-worker", team_ai),
        ai_worker2=make_staff("ai-worker2", team_ai),
        ai_manager=make_staff("ai-manager", team_ai, Role.TEAM_MANAGER),
        sgcp_worker=make_staff("sgcp-worker", team_sgcp),
        adults_worker=make_staff("adults-north-worker", adults),
    )


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """A copy of docs/examples/legacy that a test may change."""
    folder = tmp_path / "files"
    shutil.copytree(EXAMPLES, folder)
    return folder


@dataclass
class Run:
    reconciliation: dict[str, Any]
    rejects: list[dict[str, Any]]
    stdout: str
    report: Path
    error: str = ""

    def file(self, name: str) -> dict[str, Any]:
        files: dict[str, Any] = self.reconciliation["files"]
        return dict(files[name])

    @property
    def checksums(self) -> dict[str, str]:
        kinds = self.reconciliation["kinds"]
        return {kind: kinds[kind]["checksum"] for kind in kinds} | {
            "all": self.reconciliation["checksum"]
        }

    @property
    def in_casework(self) -> dict[str, int]:
        kinds = self.reconciliation["kinds"]
        return {kind: kinds[kind]["mapped"] for kind in kinds}


@pytest.fixture
def run_import(tmp_path: Path) -> Callable[..., Run]:
    """Run `manage.py import_legacy` on a folder; returns what its reports say. Reports go to
    a new folder per run. With `fails=True` the command must end in an error (its message is
    `Run.error`)."""
    runs = [0]

    def run(folder: Path, *, fails: bool = False, **options: Any) -> Run:
        runs[0] += 1
        report = tmp_path / f"report-{runs[0]}"
        out = io.StringIO()
        error = ""
        try:
            call_command(
                "import_legacy",
                str(folder),
                report_dir=str(report),
                stdout=out,
                stderr=io.StringIO(),
                **options,
            )
        except CommandError as stopped:
            if not fails:
                rejects = report / "rejects.json"
                found = json.loads(rejects.read_text())["rejects"] if rejects.exists() else []
                raise AssertionError(f"{stopped}\n{found[:10]}") from stopped
            error = str(stopped)
        else:
            assert not fails, "the import was expected to end in an error"
        result = read_reports(report, out.getvalue())
        result.error = error
        return result

    return run


def read_reports(report: Path, stdout: str = "") -> Run:
    return Run(
        json.loads((report / "reconciliation.json").read_text()),
        json.loads((report / "rejects.json").read_text())["rejects"],
        stdout,
        report,
    )
