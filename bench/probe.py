"""One page, in-process, against a bench database: every statement with its time, and the
plan of the slowest. For finding why a page is slow before and after a change.

    uv run python -m bench.probe --scale 1.0 --user bench-ai-worker /people/search/?q=smith

`--profile N` also prints the N functions that took the most time (cProfile, cumulative), for
seeing where a page's time goes outside the database.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

from bench.common import db_name, parse_scale, say
from bench.run import production_env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path")
    parser.add_argument("--scale", default="1.0")
    parser.add_argument("--user", default="bench-ai-worker")
    parser.add_argument("--explain", type=int, default=2, help="plans of the N slowest")
    parser.add_argument("--repeat", type=int, default=10, help="runs timed (median)")
    parser.add_argument("--profile", type=int, default=0, help="the N costliest functions")
    parser.add_argument(
        "--post",
        metavar="JSON",
        default="",
        help="POST this JSON body to PATH through the API (the user's token) instead of a GET, "
        "each time in a transaction that is rolled back; PATH may hold {case}, filled with "
        "an open case allocated to the user",
    )
    args = parser.parse_args(argv)
    # As the benchmark's server runs it (DEBUG off: templates without debug information).
    os.environ.update(production_env(db_name(parse_scale(args.scale))))
    os.environ["ALLOWED_HOSTS"] += ",testserver"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)  # as bench.run's server has
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from casework.accounts.models import User

    user = User.objects.get(username=args.user)
    client = Client()
    client.force_login(user)
    fetch = (lambda: client.get(args.path)) if not args.post else _poster(client, user, args)
    profiler = cProfile.Profile()
    times, cpu = [], []
    for _ in range(args.repeat):
        started, started_cpu = time.monotonic(), time.process_time()
        response = fetch()
        times.append((time.monotonic() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    with CaptureQueriesContext(connection) as captured:
        fetch()
    # The first run warms the caches. CPU time is this process's alone (Python: the ORM,
    # templates), steadier than elapsed time on a shared machine.
    elapsed = statistics.median(times[1:] or times)
    python_ms = statistics.median(cpu[1:] or cpu)
    if args.profile:
        # Profiled apart from the timed run: the profiler slows Python down several times.
        profiler.enable()
        fetch()
        profiler.disable()
    queries = captured.captured_queries
    sql_ms = sum(float(q["time"]) for q in queries) * 1000
    say(
        f"{response.status_code} in {elapsed:.1f} ms, {python_ms:.1f} ms of it Python CPU (median "
        f"of {len(times)}, no query capture); "
        f"{len(queries)} queries, {sql_ms:.0f} ms SQL"
    )
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
    if args.profile:
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.profile)
            say(out.getvalue())
    return 0


class _RolledBack(Exception):
    pass


def _poster(client: Any, user: Any, args: argparse.Namespace) -> Callable[[], Any]:
    """A POST through the API as `user`, rolled back each time so it can be repeated."""
    from django.db import transaction

    from casework.api.services import api_token_create
    from casework.cases.models import Case
    from casework.closure.models import Closure

    path = args.path
    if "{case}" in path:
        case = (
            Case.objects.filter(allocated_worker=user, status="open")
            .exclude(pk__in=Closure.objects.values("case_id"))
            .order_by("id")
            .values_list("id", flat=True)
            .first()
        )
        path = path.replace("{case}", str(case))
    with transaction.atomic():
        token = api_token_create(actor=user, name="probe")[1]

    def post() -> Any:
        answer = None
        try:
            with transaction.atomic():
                answer = client.post(
                    path,
                    data=args.post,
                    content_type="application/json",
                    headers={
                        "authorization": f"Bearer {token}",
                        "idempotency-key": str(uuid.uuid4()),
                    },
                )
                raise _RolledBack
        except _RolledBack:
            return answer

    return post


if __name__ == "__main__":
    raise SystemExit(main())
