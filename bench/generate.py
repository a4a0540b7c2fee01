"""Build a synthetic council-sized authority on PostgreSQL, fast (issue 10 item 1).

    uv run python -m bench.generate --scale 1.0      # 1M cases, 2M people, 20M audit events
    uv run python -m bench.generate --scale small    # 0.002: a CI-sized smoke set

The database (`casework_bench` at scale 1, `casework_bench_<scale>` otherwise) is created
through the `casework_ci` role, migrated with `manage.py migrate`, then given an authority,
its policy packs, 40 teams and a few hundred staff through the ORM, and the bulk rows with
COPY. A finished database is reused unless `--fresh` is given.

Bulk rows are written with their ids chosen here, with the tables' secondary indexes and
foreign keys dropped during the COPY and recreated (and so validated) afterwards: the same
checks the rows would have met one by one, done once per table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg

from bench.common import BENCH_PASSWORD, ROOT, db_name, db_url, parse_scale, say

COMPLETE = "casework-bench complete"
SEED_DAY = dt.date(2026, 11, 25)
CENSUS_START = dt.date(2025, 4, 1)
CENSUS_END = dt.date(2026, 3, 31)
EVENTS_PER_CASE = 20
STAMP = "2026-01-05 09:30:00+00"


def admin_connect() -> psycopg.Connection[Any]:
    return psycopg.connect(db_url("postgres"), autocommit=True)


def database_state(name: str) -> str | None:
    """None if the database does not exist, else its comment ('' if unfinished)."""
    with admin_connect() as conn:
        row = conn.execute(
            "SELECT coalesce(shobj_description(oid, 'pg_database'), '') "
            "FROM pg_database WHERE datname = %s",
            [name],
        ).fetchone()
    return None if row is None else str(row[0])


def create_database(name: str) -> None:
    with admin_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def django_env(name: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": db_url(name),
        "DEBUG": "true",
        "CASEWORK_TWO_FACTOR_REQUIRED": "false",
    }


def migrate(name: str) -> None:
    subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=django_env(name),
        check=True,
    )


def setup_django(name: str) -> None:
    os.environ.update(django_env(name))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# ---------------------------------------------------------------------------------------------
# The organisation, through the ORM (small, and it must be exactly what the app expects).
# ---------------------------------------------------------------------------------------------

EXTRA_TEAMS: tuple[tuple[str, str, str], ...] = (
    # (code, copies the function of, name)
    *((f"ai-{n}", "ai", f"Assessment and Intervention {n}") for n in range(2, 6)),
    *((f"sgcp-{n}", "sgcp", f"Safeguarding and Care Planning {n}") for n in range(2, 6)),
    *((f"lac-{n}", "lac", f"Looked After Children {n}") for n in range(2, 4)),
    *((f"eh-{n}", "eh", f"Early Help {n}") for n in range(2, 4)),
    ("cwd-2", "cwd", "Children with Disabilities 2"),
    ("irt-2", "irt", "Integrated Referral Team 2"),
    ("eoc-2", "eoc", "Edge of Care 2"),
    ("swis-2", "swis", "Social Workers in Schools 2"),
    ("adults-east", "adults-north", "Adults' Locality Team East"),
    ("adults-west", "adults-north", "Adults' Locality Team West"),
    ("adults-central", "adults-north", "Adults' Locality Team Central"),
    ("adults-hospital", "adults-north", "Adults' Hospital Team"),
    ("adults-mh", "adults-north", "Adults' Mental Health Team"),
    ("adults-north-2", "adults-north", "Adults' Locality Team North 2"),
    ("adults-south-2", "adults-south", "Adults' Locality Team South 2"),
)
WORKERS_PER_TEAM = 10


@dataclass
class Org:
    authority_id: int
    # service area -> [(team id, [worker ids])] for teams that hold cases
    holding: dict[str, list[tuple[int, list[int]]]] = field(default_factory=dict)
    # Children's teams whose cases the CIN census counts (not early help's)
    social_care: list[tuple[int, list[int]]] = field(default_factory=list)
    staff: int = 0
    teams: int = 0


def build_org() -> Org:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from casework.accounts.models import User
    from casework.organisation.demo import TEAMS, bind_policy_packs, build_authority
    from casework.organisation.models import Membership, Role, Team, TeamFunction

    started = SEED_DAY - dt.timedelta(days=730)
    password = make_password(BENCH_PASSWORD)
    specs = {t.code: t for t in TEAMS}
    with transaction.atomic():
        authority = build_authority(SEED_DAY)
        bind_policy_packs(authority)
        org = Org(authority_id=authority.pk)
        rows = [(t.code, t, t.name) for t in TEAMS] + [
            (code, specs[base], name) for code, base, name in EXTRA_TEAMS
        ]
        for code, spec, name in rows:
            team = Team.objects.create(
                authority=authority,
                code=code,
                name=name,
                service_area=spec.area,
                function=spec.function,
                holds_cases=spec.holds_cases,
            )
            org.teams += 1
            members: list[tuple[str, str, str]] = []
            for member in spec.staff:
                if member.role == Role.SOCIAL_WORKER and spec.holds_cases:
                    continue
                members.append((member.suffix, member.role, member.job_title))
            workers: list[int] = []
            if spec.holds_cases:
                members.append(("manager", Role.TEAM_MANAGER, "Team Manager"))
                members = list(dict.fromkeys(members))
                for n in range(1, WORKERS_PER_TEAM + 1):
                    suffix = "worker" if n == 1 else f"worker{n}"
                    members.append((suffix, Role.SOCIAL_WORKER, "Social Worker"))
            for suffix, role, title in members:
                username = f"bench-{code}-{suffix}"
                if User.objects.filter(username=username).exists():
                    continue
                user = User.objects.create(
                    username=username,
                    email=f"{username}@bench.example",
                    password=password,
                    first_name=suffix.title(),
                    last_name=code.upper(),
                    job_title=title,
                )
                Membership.objects.create(user=user, team=team, role=role, started_on=started)
                org.staff += 1
                if role == Role.SOCIAL_WORKER:
                    workers.append(user.pk)
            if spec.holds_cases:
                org.holding.setdefault(spec.area, []).append((team.pk, workers))
                if spec.area == "children" and spec.function != TeamFunction.EARLY_HELP:
                    org.social_care.append((team.pk, workers))
    return org


# ---------------------------------------------------------------------------------------------
# Bulk rows, with COPY.
# ---------------------------------------------------------------------------------------------


def _columns(model: Any) -> list[str]:
    return [f.column for f in model._meta.concrete_fields]


def _text(value: object) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


class Copier:
    """COPY rows into a table, with its secondary indexes and foreign keys off meanwhile."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.saved: list[str] = []

    def strip(self, table: str) -> None:
        with self.conn.cursor() as cur:
            cur.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i WHERE i.indrelid = %s::regclass AND NOT i.indisprimary "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                [table],
            )
            for index, definition in cur.fetchall():
                self.saved.append(definition)
                cur.execute(f"DROP INDEX {index}")
            cur.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'f'",
                [table],
            )
            for name, definition in cur.fetchall():
                self.saved.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
                cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')

    def copy(
        self, model: Any, columns: list[str], rows: Iterator[tuple[object, ...]], label: str
    ) -> int:
        table = model._meta.db_table
        expected = set(_columns(model))
        if set(columns) != expected:
            raise SystemExit(
                f"{table}: the generator's columns differ from the model's: "
                f"missing {sorted(expected - set(columns))}, "
                f"extra {sorted(set(columns) - expected)}"
            )
        self.strip(table)
        started = time.monotonic()
        count = 0
        buffer: list[str] = []
        with self.conn.cursor() as cur:
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    buffer.append("\t".join(map(_text, row)))
                    count += 1
                    if len(buffer) >= 20000:
                        buffer.append("")
                        copy.write("\n".join(buffer))
                        buffer.clear()
                        if count % 1_000_000 < 20000:
                            say(f"    {label}: {count:,} rows")
                if buffer:
                    buffer.append("")
                    copy.write("\n".join(buffer))
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        self.conn.commit()
        seconds = time.monotonic() - started
        say(f"  {label}: {count:,} rows in {seconds:.1f}s ({count / max(seconds, 1e-9):,.0f}/s)")
        return count

    def restore(self) -> None:
        started = time.monotonic()
        with self.conn.cursor() as cur:
            cur.execute("SET maintenance_work_mem = '512MB'")
            for statement in self.saved:
                cur.execute(statement)
        self.conn.commit()
        say(f"  indexes and foreign keys rebuilt in {time.monotonic() - started:.1f}s")


def first_names() -> tuple[list[str], list[str], list[str]]:
    from faker.providers.person.en_GB import Provider

    return (
        list(Provider.first_names_female),
        list(Provider.first_names_male),
        list(Provider.last_names),
    )


@dataclass
class Plan:
    scale: float
    cases: int
    people: int
    census: int

    @classmethod
    def at(cls, scale: float) -> Plan:
        cases = max(200, round(1_000_000 * scale))
        return cls(scale, cases, 2 * cases, max(40, round(30_000 * scale)))


def generate_bulk(conn: psycopg.Connection[Any], org: Org, plan: Plan) -> dict[str, int]:
    from casework.audit.models import AuditEvent
    from casework.cases.models import Allocation, Case, CaseNote, Referral, Visit
    from casework.cases.models import Plan as CasePlan
    from casework.people.matching import sound_keys
    from casework.people.models import Person, PersonNameKey
    from casework.tasks.models import Task

    female, male, family = first_names()
    children_teams = org.holding["children"]
    adult_teams = org.holding["adults"]
    n_cases, n_people = plan.cases, plan.people
    counts: dict[str, int] = {}
    copier = Copier(conn)
    day0 = SEED_DAY.toordinal()
    key_cache: dict[tuple[str, str], list[str]] = {}

    def is_child_case(i: int) -> bool:
        return i % 10 < 7

    def is_census(i: int) -> bool:
        # The first `census` children's cases: a referral in the census year, still open.
        return is_child_case(i) and i * 7 // 10 < plan.census

    def name_of(p: int) -> tuple[str, str]:
        given = (female if p % 2 else male)[(p * 7919) % len(male)]
        return given, family[(p * 104729 // 7) % len(family)]

    def case_shape(i: int) -> tuple[dt.date, dt.date | None, int, int, str]:
        """opened_on, closed_on, team id, worker id, service area for case i."""
        child = is_child_case(i)
        # Census cases are held by social care teams: early help's are not in the census, and
        # the export is measured on the full 30,000 children.
        teams = org.social_care if is_census(i) else children_teams if child else adult_teams
        team_id, workers = teams[(i // 10) % len(teams)]
        worker = workers[(i // 7) % len(workers)]
        if is_census(i):
            opened = CENSUS_START + dt.timedelta(days=i % 360)
            closed = None
        elif i % 10 in (1, 4, 8):
            # Open now: children's opened after the census year, so the census stays its size.
            opened = dt.date.fromordinal(day0 - 1 - (i * 31) % 230)
            closed = None
        else:
            # Closed, children's before the census year started.
            opened = dt.date.fromordinal(day0 - 700 - (i * 37) % 3000)
            closed = opened + dt.timedelta(days=20 + (i * 13) % 400)
            if child and closed >= CENSUS_START:
                closed = CENSUS_START - dt.timedelta(days=1 + i % 30)
                opened = min(opened, closed - dt.timedelta(days=5))
        return opened, closed, team_id, worker, "children" if child else "adults"

    def people() -> Iterator[tuple[object, ...]]:
        for p in range(1, n_people + 1):
            given, fam = name_of(p)
            i = p - 1
            if i < n_cases and is_child_case(i):
                born = dt.date.fromordinal(day0 - 400 - (p * 53) % 5800)
                disabilities = '["NONE"]'
            else:
                born = dt.date.fromordinal(day0 - 6900 - (p * 97) % 25000)
                disabilities = "[]"
            yield (
                p, f"B{p:08d}", given, fam, "", born, None, None, "F" if p % 2 else "M",
                "WBRI" if p % 5 else "ABAN", True, "", "", disabilities, STAMP,
            )  # fmt: skip

    def name_keys() -> Iterator[tuple[object, ...]]:
        key_id = 0
        for p in range(1, n_people + 1):
            names = name_of(p)
            keys = key_cache.get(names)
            if keys is None:
                keys = key_cache[names] = sorted(sound_keys(*names))
            for key in keys:
                key_id += 1
                yield key_id, p, key

    def cases() -> Iterator[tuple[object, ...]]:
        for i in range(n_cases):
            opened, closed, team, worker, area = case_shape(i)
            yield (
                i + 1, f"BC{i + 1:08d}", area, i + 1, team, worker,
                "open" if closed is None else "closed", opened, closed,
                "" if closed is None else ("RC8" if area == "children" else "other"),
                None, "[]", None, STAMP,
            )  # fmt: skip

    def allocations() -> Iterator[tuple[object, ...]]:
        for i in range(n_cases):
            opened, closed, team, worker, _ = case_shape(i)
            yield i + 1, i + 1, team, worker, opened, closed, "Allocated at referral"

    def referrals() -> Iterator[tuple[object, ...]]:
        for i in range(n_cases):
            opened, _, _, worker, area = case_shape(i)
            need = f"N{1 + i % 8}" if area == "children" else ""
            yield (
                i + 1, i + 1, "referral", opened, ("1A", "2A", "3A", "5A")[i % 4], need,
                "Concerns raised about the person's wellbeing.", False, worker,
            )  # fmt: skip

    def visits_per(i: int) -> int:
        return 0 if is_census(i) else 1 + i % 5

    def notes_per(i: int) -> int:
        return i % 5

    def span(i: int) -> tuple[int, int]:
        opened, closed, *_ = case_shape(i)
        end = (closed or SEED_DAY - dt.timedelta(days=1)).toordinal()
        return opened.toordinal(), max(end - opened.toordinal(), 0)

    def visits() -> Iterator[tuple[object, ...]]:
        vid = 0
        for i in range(n_cases):
            start, length = span(i)
            worker = case_shape(i)[3]
            for k in range(visits_per(i)):
                vid += 1
                day = dt.date.fromordinal(start + (length * (k + 1)) // 6)
                yield (
                    vid, i + 1, day, worker, True, k % 2 == 0, True, True,
                    "Visited at home; the person was seen and spoken with.",
                )  # fmt: skip

    def notes() -> Iterator[tuple[object, ...]]:
        nid = 0
        for i in range(n_cases):
            start, length = span(i)
            worker = case_shape(i)[3]
            for k in range(notes_per(i)):
                nid += 1
                day = dt.date.fromordinal(start + (length * (k + 1)) // 5)
                yield (
                    nid, i + 1, "general", day, worker, "Telephone call with the family",
                    "Discussed progress against the plan and agreed next steps.", STAMP,
                )  # fmt: skip

    def plans() -> Iterator[tuple[object, ...]]:
        pid = 0
        for i in range(n_cases):
            if i % 2 or is_census(i):
                continue
            opened, closed, _, _, area = case_shape(i)
            pid += 1
            kind = "cin" if area == "children" else "adult_care_support"
            yield (
                pid, i + 1, kind, opened + dt.timedelta(days=min(10, (closed - opened).days)
                if closed else 0), closed, "", "", "", "Support plan agreed with the family.", "",
            )  # fmt: skip

    def tasks() -> Iterator[tuple[object, ...]]:
        tid = 0
        for i in range(n_cases):
            opened, closed, team, worker, _ = case_shape(i)
            if closed is not None or i % 3:
                continue
            tid += 1
            due = opened + dt.timedelta(days=20)
            yield (
                tid, f"bench-visit-due-{i + 1}", i + 1, "Visit due", "social_worker", team,
                worker, due, "", "", "", "open", STAMP, None, None,
            )  # fmt: skip

    with conn.cursor() as cur:
        cur.execute(f"SELECT coalesce(max(id), 0) FROM {AuditEvent._meta.db_table}")  # noqa: S608
        first_event = int(cur.fetchone()[0])  # type: ignore[index]

    def events() -> Iterator[tuple[object, ...]]:
        eid = first_event
        vid = nid = 0
        for i in range(n_cases):
            case_id = i + 1
            opened, closed, _, worker, _ = case_shape(i)
            start, length = span(i)
            eid += 1
            yield (
                eid, STAMP, opened, worker, "case.opened", "case", "case", case_id, case_id,
                case_id, "Case opened after a referral", "", "{}",
            )  # fmt: skip
            written = 1
            for k in range(visits_per(i)):
                vid += 1
                eid += 1
                written += 1
                day = dt.date.fromordinal(start + (length * (k + 1)) // 6)
                yield (
                    eid, STAMP, day, worker, "visit.recorded", "visit", "visit", vid, case_id,
                    case_id, "Home visit: seen", "", "{}",
                )  # fmt: skip
            for k in range(notes_per(i)):
                nid += 1
                eid += 1
                written += 1
                day = dt.date.fromordinal(start + (length * (k + 1)) // 5)
                yield (
                    eid, STAMP, day, worker, "note.recorded", "note", "casenote", nid, case_id,
                    case_id, "Case note: telephone call with the family", "", "{}",
                )  # fmt: skip
            for k in range(EVENTS_PER_CASE - written):
                eid += 1
                day = dt.date.fromordinal(start + (length * k) // EVENTS_PER_CASE)
                yield (
                    eid, STAMP, day, worker, "case.updated", "case", "case", case_id, case_id,
                    case_id, "Case details updated", "", '{"risk_flags": [[], []]}',
                )  # fmt: skip

    person_cols = [
        "id", "local_id", "given_name", "family_name", "other_names", "date_of_birth",
        "expected_date_of_birth", "date_of_death", "sex", "ethnicity", "ethnicity_asked",
        "nhs_number", "upn", "disabilities", "created_at",
    ]  # fmt: skip
    case_cols = [
        "id", "reference", "service_area", "subject_id", "responsible_team_id",
        "allocated_worker_id", "status", "opened_on", "closed_on", "closure_reason",
        "is_complex", "risk_flags", "complexity_decided_by_id", "created_at",
    ]  # fmt: skip
    steps: list[tuple[Any, list[str], Callable[[], Iterator[tuple[object, ...]]], str]] = [
        (Person, person_cols, people, "people"),
        (PersonNameKey, ["id", "person_id", "key"], name_keys, "person search keys"),
        (Case, case_cols, cases, "cases"),
        (
            Allocation,
            ["id", "case_id", "team_id", "worker_id", "started_on", "ended_on", "reason"],
            allocations,
            "allocations",
        ),
        (
            Referral,
            [
                "id",
                "case_id",
                "kind",
                "received_on",
                "source",
                "primary_need",
                "reason",
                "no_further_action",
                "recorded_by_id",
            ],
            referrals,
            "referrals",
        ),  # fmt: skip
        (
            Visit,
            [
                "id",
                "case_id",
                "visited_on",
                "visited_by_id",
                "subject_seen",
                "seen_alone",
                "home_visited",
                "face_to_face",
                "notes",
            ],
            visits,
            "visits",
        ),  # fmt: skip
        (
            CaseNote,
            ["id", "case_id", "kind", "occurred_on", "author_id", "title", "body", "recorded_at"],
            notes,
            "case notes",
        ),
        (
            CasePlan,
            [
                "id",
                "case_id",
                "kind",
                "started_on",
                "ended_on",
                "initial_category",
                "latest_category",
                "legal_status",
                "summary",
                "outcome",
            ],
            plans,
            "plans",
        ),  # fmt: skip
        (
            Task,
            [
                "id",
                "key",
                "case_id",
                "title",
                "role",
                "team_id",
                "assignee_id",
                "due_on",
                "due_rule",
                "requirement",
                "escalate_to",
                "status",
                "created_at",
                "completed_at",
                "completed_by_id",
            ],
            tasks,
            "tasks",
        ),  # fmt: skip
        (
            AuditEvent,
            [
                "id",
                "occurred_at",
                "event_date",
                "actor_id",
                "verb",
                "category",
                "object_type",
                "object_id",
                "case_id",
                "person_id",
                "summary",
                "reason",
                "changes",
            ],
            events,
            "chronology (audit) events",
        ),  # fmt: skip
    ]
    for model, columns, rows, label in steps:
        counts[label] = copier.copy(model, columns, rows(), label)
    copier.restore()
    conn.commit()
    # VACUUM as well as ANALYZE: it marks the freshly copied pages all-visible, as
    # autovacuum would in a live database, so index-only scans work from the first request.
    # (VACUUM cannot run in a transaction.)
    conn.autocommit = True
    started = time.monotonic()
    conn.execute("VACUUM (ANALYZE)")
    conn.autocommit = False
    say(f"  VACUUM (ANALYZE) in {time.monotonic() - started:.1f}s")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="1.0", help="1.0 = 1M cases; 'small' = 0.002")
    parser.add_argument("--fresh", action="store_true", help="rebuild even if it exists")
    args = parser.parse_args(argv)
    scale = parse_scale(args.scale)
    name = db_name(scale)
    plan = Plan.at(scale)
    state = database_state(name)
    if state == COMPLETE and not args.fresh:
        say(f"Reusing {name} (scale {scale:g}); --fresh rebuilds it. Migrating it...")
        # The code may have moved on since the data was built (a new index, say).
        migrate(name)
        return 0
    started = time.monotonic()
    say(
        f"Building {name} at scale {scale:g}: {plan.cases:,} cases, {plan.people:,} people, "
        f"{plan.cases * EVENTS_PER_CASE:,} audit events, {plan.census:,} census children"
    )
    create_database(name)
    migrate(name)
    say(f"  created and migrated in {time.monotonic() - started:.1f}s")
    setup_django(name)
    org = build_org()
    say(f"  authority, policy packs, {org.teams} teams, {org.staff} staff")
    with psycopg.connect(db_url(name)) as conn:
        conn.execute("SET synchronous_commit = off")
        counts = generate_bulk(conn, org, plan)
    with admin_connect() as conn:
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{COMPLETE}'")
    total = time.monotonic() - started
    summary = {"database": name, "scale": scale, "seconds": round(total, 1), "rows": counts}
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(summary, indent=2))
    say(f"Built {name} in {total:.1f}s ({sum(counts.values()):,} bulk rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
