"""Render docs/performance.md (or var/bench/report-*.md) from one run's figures."""

from __future__ import annotations

from typing import Any

from bench.loadgen import Result

# name -> (target text, p95 limit ms or None, minimum throughput or None, judged paced?)
# Latency targets are judged on the run paced at 50 requests a second (the team case list's
# stated rate); the closure's "p95 and 100 a second" and the dashboards' "warm" on the
# closed-loop run.
TARGETS: dict[str, tuple[str, float | None, float | None, bool]] = {
    "team case list /team/cases/?after=<cursor>": ("p95 <= 150 ms at 50 req/s", 150, 45, True),
    "team work dashboard /team/": ("<= 1 s warm (p95)", 1000, None, False),
    "case page /cases/<id>/": ("p95 <= 250 ms", 250, None, True),
    "person search": ("p95 <= 300 ms", 300, None, True),
    "closure proposal (API POST)": ("p95 <= 300 ms and >= 100/s", 300, 100, False),
    "manager dashboard /oversight/": ("<= 1 s warm (p95)", 1000, None, False),
}


def _judged(result: Result) -> bool:
    target = TARGETS.get(result.name)
    return target is not None and target[3] == (result.rate is not None)


def _met(result: Result) -> str:
    target = TARGETS.get(result.name)
    if target is None or not _judged(result):
        return "-"
    _, p95, rate, _ = target
    ok = bool(result.latencies) and (p95 is None or result.p95 <= p95)
    ok = ok and (rate is None or result.throughput >= rate)
    return "met" if ok else "**not met**"


def _processor_table(results: list[Result]) -> list[str]:
    """Processor time per request by part of the machine, for the closed-loop runs (bench.cpu):
    steadier than throughput on a shared machine, and it shows what each part costs."""
    measured = [r for r in results if r.cpu and r.rate is None]
    if not measured:
        return []
    parts = list(measured[0].cpu)
    lines = [
        "### Where the processor time went",
        "",
        "Processor milliseconds per request during each closed-loop run, from `/proc` "
        "(`bench/cpu.py`). Two cores give 2,000 ms a second, so 2,000 / total is about the "
        "most requests a second this machine could serve of that kind with everything on it; "
        "a web server on its own machine would not pay the load generator's share.",
        "",
        "| what | " + " | ".join(parts) + " | total |",
        "| --- | " + " | ".join("---:" for _ in parts) + " | ---: |",
    ]
    for r in measured:
        per = r.cpu_ms_per_request()
        lines.append(
            f"| {r.name} | "
            + " | ".join(f"{per[p]:.1f}" for p in parts)
            + f" | {sum(per.values()):.1f} |"
        )
    return [*lines, ""]


def render(
    *,
    scale: float,
    name: str,
    info: dict[str, str],
    results: list[Result],
    pages: list[Any],
    pg: dict[str, float],
    cin: dict[str, Any],
    sqlite: dict[str, Any],
    legacy: dict[str, Any],
    outbox: dict[str, Any],
    threads: int,
    server_workers: int,
    seconds: float,
    generated: dict[str, Any],
    analysis: str = "",
) -> str:
    floor = next(r for r in results if r.name.startswith("floor"))
    replay = {p.name: sorted(p.replay_ms) for p in pages}
    lines = [
        "# Performance at council scale",
        "",
        "Measured by `make bench` (`bench/run.py`); issue 10 items 1, 2, 3 and 5. Every figure",
        "below comes from one run, on one machine, with the floors measured in the same run.",
        "",
        f"**Scale {scale:g}** (database `{name}`): "
        + ", ".join(f"{v:,} {k}" for k, v in generated.get("rows", {}).items())
        + (f"; generated in {generated['seconds']:.0f} s." if "seconds" in generated else "."),
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()) + ".",
        "",
        f"Load: {threads} client threads (each signed in through the form once), gunicorn with "
        f"{server_workers} sync workers, DEBUG off, {seconds:g} s per measurement after one warm "
        "request per thread, the load generator on the same 2 cores. Pages with a latency "
        "target run twice: **paced** at 50 requests a second (the rate the issue sets for the "
        "team case list), latency counted from when each request was due, so a server falling "
        "behind shows as waiting; and **closed loop** (each thread sends its next request when "
        "the last answers), whose throughput is the most this machine serves and whose latency "
        "is mostly queueing (p50 is about threads / throughput).",
        "",
        *([ANALYSIS_START, analysis.strip("\n"), ANALYSIS_END, ""] if analysis else []),
        "## Pages",
        "",
        "| what | load | p50 ms | p95 ms | req/s | ok / errors | p95 / floor view | SQL replay"
        " p50 ms (queries) | target | met? |",
        "| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | --- | --- |",
    ]
    for r in results:
        sql = replay.get(r.name, [])
        n_queries = next((len(p.statements) for p in pages if p.name == r.name), 0)
        sql_text = f"{sql[len(sql) // 2]:.1f} ({n_queries})" if sql else "-"
        ratio = r.p95 / floor.p95 if floor.p95 and r is not floor else float("nan")
        target = TARGETS[r.name][0] if _judged(r) else ("floor" if r is floor else "-")
        load = f"paced {r.rate:g}/s" if r.rate else f"closed loop, {r.threads} clients"
        lines.append(
            f"| {r.name} | {load} | {r.p50:.1f} | {r.p95:.1f} | {r.throughput:.1f} | "
            f"{len(r.latencies)} / {r.errors} | "
            f"{'-' if r is floor else f'{ratio:.1f}x'} | {sql_text} | {target} | {_met(r)} |"
        )
    lines += [
        f"| floor: `pgbench -S` | closed loop, {threads} clients | {pg['p50']:.2f} | "
        f"{pg['p95']:.2f} | {pg['tps']:.0f} | - | - | - | floor | - |",
        "",
        "The closure transition is measured through the API (`POST /api/v1/cases/{id}/closure`,"
        " a worker's token, a fresh Idempotency-Key): the proposal, the first transition of the"
        " closure state machine, with its gates, case view, audit event and tasks.",
        "",
        "The task worker (`manage.py db_worker`) ran beside the server throughout, as in"
        " production, on the same cores: it sends the email copies each proposal queues."
        f" {outbox['queued']:,} were queued during the run ({outbox['failed']} failed);"
        + (
            f" the queue was empty {outbox['drained_after_s']:g} s after the load ended."
            if not outbox["waiting"]
            else f" {outbox['waiting']:,} were still waiting"
            f" {outbox['drained_after_s']:g} s after the load ended."
        ),
        "",
        *_processor_table(results),
        "## Whole jobs",
        "",
        "| job | result | target | met? |",
        "| --- | --- | --- | --- |",
        f"| CIN census export (`manage.py cin_census`) | {cin['children']:,} children in "
        f"{cin['seconds']:.1f} s, peak {cin['peak_mb']:.0f} MB (exit {cin['exit']}) | "
        f"<= 30 s and <= 500 MB for 30,000 children | "
        + (
            "met"
            if cin["exit"] == 0 and cin["seconds"] <= 30 and cin["peak_mb"] <= 500
            else "**not met**"
        )
        + (" (scaled-down set)" if cin["children"] < 30000 else "")
        + " |",
        _bulk_import_row(legacy),
        f"| SQLite, {sqlite['writers']} concurrent writer processes for {sqlite['seconds']} s "
        f"(visits and notes through `casework.cases.services`) | {sqlite['writes']:,} writes, "
        f"{sqlite['writes_per_second']}/s; 'database is locked': {sqlite['locked_errors']}; "
        f"other errors: {sqlite['other_errors']}; slowest write {sqlite['slowest_write_ms']} ms |"
        f" zero 'database is locked' | "
        + ("met" if sqlite["locked_errors"] == 0 else "**not met**")
        + " |",
        "",
        "## What the captured SQL shows",
        "",
        "Each page's SQL was captured once in-process (Django's CaptureQueriesContext) and "
        "scanned for a deep OFFSET or a COUNT(*) on a large table; statements over 5 ms are "
        "shown with their EXPLAIN ANALYZE.",
        "",
        f"In all: **{_found(pages, 'deep OFFSET')} deep OFFSETs and "
        f"{_found(pages, 'UNFILTERED COUNT(*)')} unfiltered COUNT(*)s** on a large table. The "
        "COUNT(*)s listed below count what a WHERE selects (a team's unallocated cases, a "
        "dashboard's period).",
        "",
    ]
    for page in pages:
        lines.append(f"- **{page.name}**: {len(page.statements)} queries.")
        for finding in page.findings:
            head, _, plan = finding.partition("\n")
            lines.append(f"  - {head}")
            if plan:
                lines += ["", "    ```", *plan.splitlines(), "    ```", ""]
    lines += [
        "",
        "## How to reproduce",
        "",
        "PostgreSQL 15 on 127.0.0.1:5432 with the `casework_ci` role (CREATEDB), then:",
        "",
        "```sh",
        "make bench SCALE=small   # CI smoke: scale 0.002, a few minutes",
        "make bench SCALE=0.1     # 100,000 cases",
        "make bench               # scale 1.0: 1M cases, 2M people, 20M audit events;"
        " rewrites this file",
        "uv run python -m bench.generate --scale 1.0 --fresh   # rebuild the data only",
        "uv run python -m bench.sqlite_writers --writers 20 --seconds 60",
        "```",
        "",
        "Data is generated once per scale into `casework_bench` (scale 1) or "
        "`casework_bench_<scale>`, and reused; closure proposals consume open cases, so a "
        "database serves many runs but not endless ones (rebuild with `--fresh`).",
        "",
    ]
    return "\n".join(lines)


# The hand-written reading of the figures, kept from the last docs/performance.md when a run
# rewrites it (the figures change every run; what was found and changed does not).
ANALYSIS_START = "<!-- analysis: kept by make bench; edit by hand -->"
ANALYSIS_END = "<!-- /analysis -->"


def kept_analysis(previous: str) -> str:
    if ANALYSIS_START not in previous or ANALYSIS_END not in previous:
        return ""
    return previous.split(ANALYSIS_START, 1)[1].split(ANALYSIS_END, 1)[0]


def _found(pages: list[Any], kind: str) -> int:
    return sum(1 for page in pages for finding in page.findings if finding.startswith(kind))


def _bulk_import_row(legacy: dict[str, Any]) -> str:
    target = ">= 2,000 cases/s"
    if legacy.get("status") != "measured":
        status = legacy.get("status")
        return f"| bulk import (`manage.py import_legacy`) | {status} | {target} | - |"
    met = legacy["cases_per_second"] >= 2000 and legacy["again_same_checksum"]
    return (
        f"| bulk import (`manage.py import_legacy`, generated CSVs) | {legacy['cases']:,} cases"
        f" ({legacy['rows']:,} rows: people, relationships, referrals, plans, visits, notes) in"
        f" {legacy['seconds']:.1f} s: **{legacy['cases_per_second']:,.0f} cases/s** inside the"
        f" import, {legacy['command_cases_per_second']:,.0f} cases/s for the whole command"
        f" (start-up included). The same files again: {legacy['again_rows_written']} rows"
        f" written, checksum {'unchanged' if legacy['again_same_checksum'] else 'CHANGED'}"
        f" | {target}; twice = same counts and checksums | "
        + ("met" if met else "**not met**")
        + " |"
    )
