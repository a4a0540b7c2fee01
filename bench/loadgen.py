"""A small load generator: threads, each with its own keep-alive connection and session."""

from __future__ import annotations

import http.client
import re
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Client:
    """One browser-like session: cookies kept, one connection reused."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.conn = http.client.HTTPConnection(host, port, timeout=120)
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        sent = {"Host": f"{self.host}:{self.port}", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=sent)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
                if attempt == 2:
                    raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, data

    def sign_in(self, username: str, password: str) -> None:
        status, page = self.request("GET", "/sign-in/")
        match = _CSRF.search(page.decode())
        if status != 200 or not match:
            raise RuntimeError(f"sign-in page answered {status}")
        form = urlencode(
            {"csrfmiddlewaretoken": match.group(1), "username": username, "password": password}
        ).encode()
        status, _ = self.request(
            "POST",
            "/sign-in/",
            body=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"http://{self.host}:{self.port}/sign-in/",
            },
        )
        if status != 302:
            raise RuntimeError(f"signing in as {username} answered {status}")


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    threads: int = 0
    rate: float | None = None
    # Processor seconds each part of the machine used during the measurement (bench.cpu).
    cpu: dict[str, float] = field(default_factory=dict)

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def p50(self) -> float:
        return self.pct(0.50)

    @property
    def p95(self) -> float:
        return self.pct(0.95)

    def cpu_ms_per_request(self) -> dict[str, float]:
        done = len(self.latencies) + self.errors
        return {part: seconds / done * 1000 for part, seconds in self.cpu.items()} if done else {}

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def mean(self) -> float:
        return statistics.fmean(self.latencies) * 1000 if self.latencies else float("nan")


# (client, thread number, iteration) -> (method, path, body, headers, ok statuses)
Request = tuple[str, str, bytes | None, dict[str, str], tuple[int, ...]]
Maker = Callable[[int, int], Request | None]


def run(
    name: str,
    clients: list[Client],
    make: Maker,
    *,
    seconds: float,
    rate: float | None = None,
    max_requests: int | None = None,
) -> Result:
    """Each client in its own thread sends requests for `seconds` (closed loop, or paced to
    `rate` requests a second in total, latency then counted from when each was due).
    Latency counts only successful answers."""
    result = Result(name, threads=len(clients), rate=rate)
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    counter = iter(range(max_requests or 10**12))
    interval = len(clients) / rate if rate else 0.0

    def worker(n: int, client: Client) -> None:
        i = 0
        next_at = time.monotonic() + (interval * n / len(clients) if rate else 0)
        while True:
            due = 0.0
            if rate:
                due = next_at
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                next_at += interval
            if time.monotonic() >= stop_at:
                return
            with lock:
                if next(counter, None) is None:
                    return
            made = make(n, i)
            if made is None:
                return
            method, path, body, headers, ok = made
            i += 1
            started = time.monotonic()
            try:
                status, _ = client.request(method, path, body, headers)
            except OSError:
                status = 0
            # Paced: from the moment the request was due, so that a server falling behind
            # shows as waiting (a late request is sent at once, not skipped). Timing from the
            # send alone would hide the queue ("coordinated omission").
            elapsed = time.monotonic() - (due if rate else started)
            with lock:
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if status in ok:
                    result.latencies.append(elapsed)
                else:
                    result.errors += 1

    threads = [threading.Thread(target=worker, args=(n, c)) for n, c in enumerate(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.monotonic() - started
    return result
