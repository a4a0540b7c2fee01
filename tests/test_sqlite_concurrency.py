"""SQLite, the zero-setup database, makes a second writer wait instead of failing with
"database is locked": WAL journal, IMMEDIATE transactions and a busy timeout."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django.db.backends.sqlite3.base import DatabaseWrapper

pytestmark = pytest.mark.skipif(
    connections["default"].vendor != "sqlite", reason="SQLite-specific settings"
)


@pytest.fixture(autouse=True)
def _own_connections(django_db_blocker: Any) -> Iterator[None]:
    """These tests open their own file databases, not the test database."""
    with django_db_blocker.unblock():
        yield


def _connect(path: Path, alias: str) -> DatabaseWrapper:
    settings_dict = {**connections["default"].settings_dict, "NAME": str(path)}
    wrapper = DatabaseWrapper(settings_dict, alias=alias)
    wrapper.ensure_connection()
    return wrapper


def test_file_database_uses_wal_and_immediate_transactions(tmp_path: Path) -> None:
    db = _connect(tmp_path / "wal.sqlite3", "wal-check")
    with db.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5000
    assert db.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    db.close()


def test_a_second_writer_waits_for_the_first_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "writers.sqlite3"
    setup = _connect(path, "setup")
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)")
    setup.close()

    first_has_lock = threading.Event()
    errors: list[BaseException] = []

    def first_writer() -> None:
        db = _connect(path, "first")
        try:
            with db.cursor() as cursor:
                cursor.execute("BEGIN IMMEDIATE")
                cursor.execute("INSERT INTO note (body) VALUES ('first')")
                first_has_lock.set()
                time.sleep(0.5)
                cursor.execute("COMMIT")
        except BaseException as error:  # noqa: BLE001 - reported to the main thread
            errors.append(error)
        finally:
            db.close()

    thread = threading.Thread(target=first_writer)
    thread.start()
    assert first_has_lock.wait(5)
    second = _connect(path, "second")
    started = time.monotonic()
    with second.cursor() as cursor:
        cursor.execute("BEGIN IMMEDIATE")
        waited = time.monotonic() - started
        cursor.execute("INSERT INTO note (body) VALUES ('second')")
        cursor.execute("COMMIT")
        cursor.execute("SELECT body FROM note ORDER BY id")
        bodies = [row[0] for row in cursor.fetchall()]
    second.close()
    thread.join()
    assert not errors
    assert bodies == ["first", "second"]
    assert waited > 0.2  # it really waited for the first writer rather than racing past
