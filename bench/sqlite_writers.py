"""SQLite under load (issue 10 item 5): concurrent writers through the real services.

    uv run python -m bench.sqlite_writers --writers 20 --seconds 60

Builds a fresh file database (var/bench/sqlite-writers.sqlite3) with the app's own settings
(`SQLITE_OPTIONS`: WAL, IMMEDIATE transactions, a busy timeout), opens some cases, then runs
`--writers` processes for `--seconds`, each recording visits and case notes through
`casework.cases.services` (access checks, validation, the audit event: the whole write path).
Counts "database is locked" errors, which must be zero, and writes per second.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, VAR, say

DB = VAR / "sqlite-writers.sqlite3"
CASES = 40


def _django(db: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ["DEBUG"] = "true"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def build(db: Path) -> list[tuple[str, int]]:
    """A migrated database with one team's worker and CASES open cases; (username, case)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "DEBUG": "true"}
    subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    _django(db)
    from bench.generate import build_org
    from casework.accounts.models import User
    from casework.cases.services import case_open
    from casework.organisation.models import Team
    from casework.people.models import Person

    build_org()
    pairs = []
    for n in range(CASES):
        code = ("ai", "sgcp")[n % 2]
        k = (n // 2) % 10 + 1
        worker = User.objects.get(username=f"bench-{code}-worker{k if k > 1 else ''}")
        person = Person.objects.create(
            local_id=f"SQ{n:05d}",
            given_name="Sam",
            family_name=f"Writer{n}",
            date_of_birth=dt.date(2015, 1, 1),
        )
        case = case_open(
            actor=worker,
            subject=person,
            team=Team.objects.get(code=code),
            received_on=dt.date(2026, 1, 5),
            source="1A",
            reason="Benchmark",
            primary_need="N1",
            allocated_worker=worker,
        )
        pairs.append((worker.username, case.pk))
    return pairs


def writer(db: str, pairs: list[tuple[str, int]], seconds: float, out: Any) -> None:
    _django(Path(db))
    from django.db import OperationalError

    from casework.accounts.models import User
    from casework.cases.models import Case
    from casework.cases.services import note_add, visit_record

    users = {u.username: u for u in User.objects.filter(username__in={p[0] for p in pairs})}
    done = locked = other = 0
    slowest = 0.0
    day = dt.date(2026, 2, 2)
    stop = time.monotonic() + seconds
    i = os.getpid()
    while time.monotonic() < stop:
        username, case_id = pairs[i % len(pairs)]
        i += 1
        started = time.monotonic()
        try:
            case = Case.objects.get(pk=case_id)
            if i % 2:
                visit_record(
                    actor=users[username], case=case, visited_on=day, subject_seen=True, notes="x"
                )
            else:
                note_add(actor=users[username], case=case, title="Call", body="x", occurred_on=day)
            done += 1
        except OperationalError as error:
            if "locked" in str(error):
                locked += 1
            else:
                other += 1
        except Exception:  # noqa: BLE001 - counted and reported, not hidden
            other += 1
        slowest = max(slowest, time.monotonic() - started)
    out.put({"writes": done, "locked": locked, "other": other, "slowest": slowest})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Concurrent writers on SQLite")
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    say(f"SQLite writers: {args.writers} processes for {args.seconds:g}s on {DB}")
    pairs = build(DB)
    queue: multiprocessing.Queue[dict[str, Any]] = multiprocessing.get_context("spawn").Queue()
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=writer, args=(str(DB), pairs, args.seconds, queue))
        for _ in range(args.writers)
    ]
    started = time.monotonic()
    for p in procs:
        p.start()
    parts = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.monotonic() - started
    summary = {
        "writers": args.writers,
        "seconds": round(elapsed, 1),
        "writes": sum(p["writes"] for p in parts),
        "locked_errors": sum(p["locked"] for p in parts),
        "other_errors": sum(p["other"] for p in parts),
        "slowest_write_ms": round(max(p["slowest"] for p in parts) * 1000, 1),
    }
    summary["writes_per_second"] = round(summary["writes"] / args.seconds, 1)
    say(
        f"  {summary['writes']} service writes ({summary['writes_per_second']}/s), "
        f"'database is locked': {summary['locked_errors']}, other errors: "
        f"{summary['other_errors']}, slowest write {summary['slowest_write_ms']} ms"
    )
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    return 0 if summary["locked_errors"] == 0 and summary["other_errors"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
