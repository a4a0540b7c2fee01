"""Every service that writes the audit log runs in one transaction (the architecture's one
write path: check, change, audit and schedule together). A missing `@transaction.atomic` is
invisible to tests that wrap each test in a transaction, and only shows against a live
server, so it is checked here directly."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVICE_MODULES = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts)
    for path in (ROOT / "casework").glob("*/services.py")
) + ["casework.transfers.pathways", "casework.transfers.rereferral"]


# Calls that mean a function writes: the audit log directly, or through a workflow's own
# audit helper, or a state transition.
WRITES = ("audit_record(", "_audit(", "transition(", "closure_propose(")


def _writers() -> list[tuple[str, str]]:
    found = []
    for module_name in SERVICE_MODULES:
        module = importlib.import_module(module_name)
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or function.__module__ != module_name:
                continue
            if (module_name, name) == ("casework.audit.services", "audit_record"):
                continue  # the recorder itself: it insists on being inside a transaction
            source = inspect.getsource(inspect.unwrap(function))
            if any(call in source for call in WRITES):
                found.append((module_name, name))
    return found


def test_there_are_services_to_check() -> None:
    assert len(_writers()) > 50


@pytest.mark.parametrize(("module_name", "name"), _writers())
def test_a_service_that_audits_is_atomic(module_name: str, name: str) -> None:
    function = getattr(importlib.import_module(module_name), name)
    assert hasattr(function, "__wrapped__"), (
        f"{module_name}.{name} writes the audit log but is not decorated with @transaction.atomic"
    )
