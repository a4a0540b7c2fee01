"""SQLite writers take turns (casework/core/sqlite): a second writer waits for the first
instead of failing with "database is locked", and gives up with that error only after the
queue timeout. Issue 10 item 5; the 20-writer load is in bench/sqlite_writers.py."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError

from casework.core.sqlite import base
from config.settings import SQLITE_OPTIONS


def _wrapper(path: Path) -> base.DatabaseWrapper:
    settings: dict[str, Any] = {
        "ENGINE": "casework.core.sqlite",
        "NAME": str(path),
        "OPTIONS": dict(SQLITE_OPTIONS),
        "TIME_ZONE": None,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "AUTOCOMMIT": True,
        "ATOMIC_REQUESTS": False,
        "USER": "",
        "PASSWORD": "",
        "HOST": "",
        "PORT": "",
        "TEST": {},
    }
    wrapper = base.DatabaseWrapper(settings, alias=f"turns-{path.name}")
    wrapper.ensure_connection()
    return wrapper


@pytest.fixture(autouse=True)
def own_connections(django_db_blocker: Any) -> Any:
    """These tests open their own connections to their own file, not the test database."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "turns.sqlite3"
    setup = _wrapper(path)
    setup.cursor().execute("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)")
    setup.close()
    return path


def _hold_write(path: Path, seconds: float, started: threading.Event, end: str) -> None:
    holder = _wrapper(path)
    holder._start_transaction_under_autocommit()
    holder.cursor().execute("INSERT INTO note (body) VALUES ('first')")
    started.set()
    time.sleep(seconds)
    holder.commit() if end == "commit" else holder.rollback()
    holder.close()


@pytest.mark.parametrize("end", ["commit", "rollback"])
def test_a_second_writer_waits_its_turn_instead_of_failing(database: Path, end: str) -> None:
    started = threading.Event()
    first = threading.Thread(target=_hold_write, args=(database, 0.4, started, end))
    first.start()
    assert started.wait(5)
    second = _wrapper(database)
    waited_from = time.monotonic()
    second._start_transaction_under_autocommit()
    waited = time.monotonic() - waited_from
    second.cursor().execute("INSERT INTO note (body) VALUES ('second')")
    second.commit()
    first.join()
    assert waited >= 0.2  # it queued behind the first writer...
    rows = [r[0] for r in second.cursor().execute("SELECT body FROM note ORDER BY id")]
    second.close()
    # ...and both writes (or only the second, after a rollback) are in.
    assert rows == (["first", "second"] if end == "commit" else ["second"])


def test_a_writer_gives_up_with_a_plain_error_after_the_queue_timeout(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(base, "WRITE_QUEUE_TIMEOUT", 0.2)
    started = threading.Event()
    first = threading.Thread(target=_hold_write, args=(database, 1.0, started, "commit"))
    first.start()
    assert started.wait(5)
    second = _wrapper(database)
    with pytest.raises(OperationalError, match="database is locked"):
        second._start_transaction_under_autocommit()
    # Having given up, it holds nothing: the next try after the first writer succeeds.
    first.join()
    second._start_transaction_under_autocommit()
    second.cursor().execute("INSERT INTO note (body) VALUES ('later')")
    second.commit()
    second.close()


def test_closing_a_connection_mid_transaction_hands_the_turn_on(database: Path) -> None:
    first = _wrapper(database)
    first._start_transaction_under_autocommit()
    first.close()
    second = _wrapper(database)
    started = time.monotonic()
    second._start_transaction_under_autocommit()
    assert time.monotonic() - started < 1
    second.rollback()
    second.close()


def test_destroying_a_test_database_removes_its_write_lock_file(database: Path) -> None:
    """Each test run's database has its own name (var/test-<pid>.sqlite3), so a lock file left
    beside it would stay for good: one more in var/ for every run."""
    writer = _wrapper(database)
    writer._start_transaction_under_autocommit()
    writer.cursor().execute("INSERT INTO note (body) VALUES ('written')")
    writer._commit()
    writer.close()
    lock = Path(base.write_lock_path(str(database)))
    assert lock.exists()
    writer.creation._destroy_test_db(str(database), verbosity=0)  # type: ignore[attr-defined]
    assert not database.exists()
    assert not lock.exists()
