"""Shared by the bench scripts: where the benchmark database lives and how to reach it."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
PG_SERVER = os.environ.get("BENCH_PG", "postgres://casework_ci:casework_ci@127.0.0.1:5432")
# Every bench user signs in with this; the database is synthetic and thrown away.
BENCH_PASSWORD = "bench-password-not-secret"  # noqa: S105
SMALL_SCALE = 0.002


def parse_scale(text: str) -> float:
    if text == "small":
        return SMALL_SCALE
    value = float(text)
    if not 0 < value <= 10:
        raise SystemExit(f"--scale must be between 0 and 10, or 'small' (got {text})")
    return value


def db_name(scale: float) -> str:
    """One database per scale, so a small run never disturbs a big one."""
    if scale == 1.0:
        return "casework_bench"
    return "casework_bench_" + re.sub(r"[^0-9]", "_", f"{scale:g}")


def db_url(name: str) -> str:
    return f"{PG_SERVER}/{name}"


def say(message: str) -> None:
    print(message, flush=True, file=sys.stdout)
