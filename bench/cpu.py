"""Where the processor time of a measurement went: the web server, the database, the task
worker, the load generator, and the rest of the machine.

Throughput on a shared machine moves with its neighbours (the minimal-view floor moved
from 220 to 290 requests a second between runs minutes apart, issue 10), but the processor
time each request costs moves much less: it is the figure to compare two versions by, and
it says what a machine of a given size could do. Linux only (/proc); elsewhere nothing is
measured and the report leaves the column out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
PARTS = ("web", "database", "worker", "load generator", "rest of the machine")


@dataclass(frozen=True)
class Snapshot:
    by_process: dict[int, tuple[str, float]]  # pid -> (part, processor seconds so far)
    machine_busy: float  # seconds, all cores, from /proc/stat


def _ticks_to_seconds(ticks: int) -> float:
    return ticks / os.sysconf("SC_CLK_TCK")


def _stat_seconds(stat: str) -> float:
    """User plus system processor time from the text of /proc/<pid>/stat."""
    # After the command name: state is field 3, utime 14 and stime 15 (proc(5)).
    fields = stat[stat.rindex(")") + 2 :].split()
    return _ticks_to_seconds(int(fields[11]) + int(fields[12]))


def process_seconds(pid: int) -> float | None:
    """The processor time one process has used so far; None where there is no /proc."""
    try:
        return _stat_seconds((PROC / str(pid) / "stat").read_text())
    except OSError:
        return None


def _part(pid: int, stat: str) -> str | None:
    command = stat[stat.index("(") + 1 : stat.rindex(")")]
    if pid == os.getpid():
        return "load generator"
    if command.startswith("postgres"):
        return "database"
    try:
        cmdline = (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return None
    if b"gunicorn" in cmdline:
        return "web"
    if b"db_worker" in cmdline:
        return "worker"
    return None


def snapshot() -> Snapshot | None:
    """Every relevant process's processor time so far, and the machine's."""
    try:
        first = (PROC / "stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    # user nice system idle iowait irq softirq steal ...: busy is all but idle, iowait and
    # steal (time the hypervisor gave to someone else).
    user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in first[1:8])
    busy = _ticks_to_seconds(user + nice + system + irq + softirq)
    by_process: dict[int, tuple[str, float]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone while we looked
        part = _part(pid, stat)
        if part is None:
            continue
        by_process[pid] = (part, _stat_seconds(stat))
    return Snapshot(by_process, busy)


def spent(before: Snapshot | None, after: Snapshot | None) -> dict[str, float]:
    """Processor seconds each part used between two snapshots. A process that started in
    between counts from zero; one that ended in between is lost (and lands in 'rest of the
    machine', which is the machine's busy time less the parts)."""
    if before is None or after is None:
        return {}
    used = dict.fromkeys(PARTS, 0.0)
    for pid, (part, seconds) in after.by_process.items():
        earlier = before.by_process.get(pid)
        used[part] += seconds - (earlier[1] if earlier and earlier[0] == part else 0.0)
    known = sum(used.values())
    used["rest of the machine"] = max(0.0, after.machine_busy - before.machine_busy - known)
    return used
