"""Generate a valid set of legacy import files of any size, for tests and for measuring the
import rate (not committed: a 20,000-case set is about 15 MB).

    uv run python -m casework.legacy.tests.generate OUT_DIR --cases 20000 \\
        --team ai:children:ai-worker,ai-worker2 --team adults-north:adults:adults-north-worker

Each case has its own subject (a child, or an adult for an adults' team) and, for a third of
them, a parent with a relationship; one or two referrals, a plan for about half, three visits
and two notes. About 40% of cases are closed. Deterministic for a given seed and date.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from casework.core.identifiers import make_upn

GIVEN = (
    "Amelia",
    "Oliver",
    "Isla",
    "Noah",
    "Ava",
    "Leo",
    "Mia",
    "Arlo",
    "Freya",
    "Theo",
    "Aisha",
    "Mohammed",
    "Zara",
    "Yusuf",
    "Chloe",
    "Jacob",
    "Ruby",
    "Harry",
    "Lily",
    "Kai",
)
FAMILY = (
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Khan",
    "Okafor",
    "Nowak",
    "Evans",
    "Thomas",
    "Roberts",
    "Walker",
    "Wright",
    "Hughes",
    "Hart",
    "Ellis",
)
SOURCES = ("1A", "2A", "3A", "3B", "4", "5A", "6", "8")
NEEDS = ("N1", "N2", "N3", "N4", "N5", "N6", "N8")
CHILD_REASONS = ("RC1", "RC3", "RC4", "RC5", "RC7", "RC8", "RC9")
ADULT_REASONS = (
    "NFA - Support ended - other reason",
    "NFA - Moved to another LA",
    "NFA - Support declined",
)


@dataclass(frozen=True)
class TeamSpec:
    code: str
    area: str  # children or adults
    workers: tuple[str, ...]


def parse_team(text: str) -> TeamSpec:
    code, area, workers = text.split(":")
    return TeamSpec(code, area, tuple(workers.split(",")))


def _nhs_numbers() -> Iterator[str]:
    """Valid NHS numbers in the 999 range (never issued), in order."""
    for stem in range(999_000_000, 1_000_000_000):
        digits = f"{stem:09d}"
        total = sum(int(d) * (10 - i) for i, d in enumerate(digits))
        check = (11 - total % 11) % 11
        if check != 10:
            yield digits + str(check)


def generate(
    folder: Path,
    cases: int,
    teams: list[TeamSpec],
    *,
    seed: int = 14,
    today: dt.date | None = None,
    prefix: str = "",
    identifiers: bool = True,
) -> dict[str, int]:
    """Write the seven files into `folder`; returns the number of rows per file. `prefix`
    starts every legacy ID (for a second set into the same source); without `identifiers`
    nobody has an NHS number or UPN (for a database whose people may already have the
    generator's, such as another generated set: the import refuses a second person with
    the same number)."""
    from casework.legacy.spec import FILES  # needs Django set up: see main()

    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    today = today or dt.date.today()  # noqa: DTZ011 - a date for test data only
    folder.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[list[object]]] = {spec.name: [] for spec in FILES}
    people, links, case_rows = rows["people.csv"], rows["relationships.csv"], rows["cases.csv"]
    referrals, plans, visits, notes = (
        rows["referrals.csv"],
        rows["plans.csv"],
        rows["visits.csv"],
        rows["notes.csv"],
    )
    person_n = 0
    nhs = _nhs_numbers()
    upn_serials: dict[int, int] = {}

    def ago(low: int, high: int) -> dt.date:
        return today - dt.timedelta(days=rng.randint(low, high))

    def between(start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(days=rng.randint(0, max(0, (end - start).days)))

    for n in range(cases):
        team = teams[n % len(teams)]
        child = team.area == "children"
        person_n += 1
        pid = f"{prefix}P{person_n}"
        born = ago(365 * 2, 365 * 16) if child else ago(365 * 20, 365 * 95)
        upn = ""
        if child and identifiers:
            year = born.year + 5
            upn_serials[year] = upn_serials.get(year, 0) + 1
            serial = upn_serials[year]
            upn = make_upn("931", f"{2000 + serial // 1000:04d}", year, serial % 1000)
        sex = rng.choice("MF")
        people.append(
            [
                pid,
                "",
                rng.choice(GIVEN),
                rng.choice(FAMILY),
                "",
                born.isoformat(),
                "",
                "",
                sex,
                rng.choice(("WBRI", "WOTH", "MWBC", "AIND", "BAFR", "CHNE", "NOBT")),
                "yes",
                next(nhs) if identifiers else "",
                upn,
                "NONE" if child else "",
            ]
        )
        if rng.random() < 0.34:
            person_n += 1
            parent = f"{prefix}P{person_n}"
            people.append(
                [
                    parent,
                    "",
                    rng.choice(GIVEN),
                    rng.choice(FAMILY),
                    "",
                    (born - dt.timedelta(days=rng.randint(365 * 18, 365 * 40))).isoformat(),
                    "",
                    "",
                    rng.choice("MF"),
                    "WBRI",
                    "no",
                    next(nhs) if identifiers else "",
                    "",
                    "",
                ]
            )
            links.append([f"{prefix}R{n}", parent, pid, "parent", "yes", born.isoformat(), ""])
        opened = between(
            max(born, today - dt.timedelta(days=365 * 6)), today - dt.timedelta(days=60)
        )
        closed = (
            between(opened + dt.timedelta(days=30), today - dt.timedelta(days=1))
            if rng.random() < 0.4
            else None
        )
        worker = rng.choice(team.workers)
        cid = f"{prefix}C{n}"
        reason = ""
        if closed:
            reason = rng.choice(CHILD_REASONS if child else ADULT_REASONS)
        case_rows.append(
            [
                cid,
                pid,
                team.code,
                worker,
                opened.isoformat(),
                closed.isoformat() if closed else "",
                reason,
                "high_risk" if n % 17 == 0 else "",
            ]
        )
        last = closed or today - dt.timedelta(days=1)
        referrals.append(
            [
                f"{prefix}F{n}",
                cid,
                "referral",
                opened.isoformat(),
                rng.choice(SOURCES),
                rng.choice(NEEDS) if child else "",
                "Concerns raised about care at home.",
                "no",
                worker,
            ]
        )
        if rng.random() < 0.3:
            referrals.append(
                [
                    f"{prefix}F{n}b",
                    cid,
                    "contact",
                    between(opened, last).isoformat(),
                    rng.choice(SOURCES),
                    "",
                    "Further information shared by a partner agency.",
                    "no",
                    worker,
                ]
            )
        if rng.random() < 0.5:
            start = between(opened, opened + dt.timedelta(days=20))
            end = between(start, last) if closed else None
            kind = rng.choice(("cin", "cp")) if child else "adult_care_support"
            plans.append(
                [
                    f"{prefix}PL{n}",
                    cid,
                    kind,
                    start.isoformat(),
                    end.isoformat() if end else "",
                    "NEG" if kind == "cp" else "",
                    "",
                    "",
                    "Plan agreed with the family.",
                    "",
                ]
            )
        for v in range(3):
            seen = rng.random() < 0.9
            visits.append(
                [
                    f"{prefix}V{n}.{v}",
                    cid,
                    between(opened, last).isoformat(),
                    worker,
                    "yes" if seen else "no",
                    "yes" if seen and rng.random() < 0.5 else "no",
                    "yes",
                    "yes",
                    "Visit as planned." if v == 0 else "",
                ]
            )
        for k in range(2):
            notes.append(
                [
                    f"{prefix}N{n}.{k}",
                    cid,
                    "general",
                    between(opened, last).isoformat(),
                    worker,
                    "Case note",
                    "Spoke with the family about the plan and next steps.",
                ]
            )
    for spec in FILES:
        with (folder / spec.name).open("w", encoding="utf-8", newline="") as handle:
            out = csv.writer(handle)
            out.writerow([c.name for c in spec.columns])
            out.writerows(rows[spec.name])
    return {name: len(found) for name, found in rows.items()}


def main() -> None:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "true")
    django.setup()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--prefix", default="", help="Put this before every legacy ID.")
    parser.add_argument(
        "--without-identifiers",
        action="store_true",
        help="No NHS numbers or UPNs (for a database that may hold the generator's already).",
    )
    parser.add_argument(
        "--team",
        action="append",
        type=parse_team,
        help="CODE:children|adults:USERNAME,USERNAME (repeat; default the demo's ai team)",
    )
    args = parser.parse_args()
    teams = args.team or [parse_team("ai:children:ai-worker,ai-worker2")]
    counts = generate(
        args.folder,
        args.cases,
        teams,
        seed=args.seed,
        prefix=args.prefix,
        identifiers=not args.without_identifiers,
    )
    print(", ".join(f"{name}: {n:,}" for name, n in counts.items()))  # noqa: T201


if __name__ == "__main__":
    main()
