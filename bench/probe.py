"""One page, in-process, against a bench database: every statement with its time, and the
plan of the slowest. For finding why a page is slow before and after a change.

    uv run python -m bench.probe --scale 1.0 --user bench-ai-worker /people/search/?q=smith
"""

from __future__ import annotations

import argparse
import os
import time

from bench import generate
from bench.common import db_name, parse_scale, say


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path")
    parser.add_argument("--scale", default="1.0")
    parser.add_argument("--user", default="bench-ai-worker")
    parser.add_argument("--explain", type=int, default=2, help="plans of the N slowest")
    parser.add_argument("--repeat", type=int, default=2, help="the last run is reported")
    args = parser.parse_args(argv)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    generate.setup_django(db_name(parse_scale(args.scale)))
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from casework.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username=args.user))
    for _ in range(args.repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.monotonic()
            response = client.get(args.path)
            elapsed = (time.monotonic() - started) * 1000
    queries = captured.captured_queries
    sql_ms = sum(float(q["time"]) for q in queries) * 1000
    say(f"{response.status_code} in {elapsed:.0f} ms; {len(queries)} queries, {sql_ms:.0f} ms SQL")
    for n, q in enumerate(queries):
        say(f"  {n:3} {float(q['time']) * 1000:8.1f} ms  {q['sql'][:160]}")
    slowest = sorted(queries, key=lambda q: -float(q["time"]))[: args.explain]
    with connection.cursor() as cursor:
        for q in slowest:
            if float(q["time"]) < 0.005:
                continue
            say(f"\n{float(q['time']) * 1000:.1f} ms: {q['sql']}\n")
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"].replace("%", "%%"))
            for (line,) in cursor.fetchall():
                say("    " + line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
