"""Django's SQLite backend, with writers taking turns fairly.

SQLite lets one writer at a time hold the database. A second writer that finds it busy
sleeps and tries again (the busy timeout), with sleeps growing to 100 ms; under steady load
from many processes the lock is almost never free at the moment a sleeper wakes, so an
unlucky writer can lose every try for the whole timeout and fail with "database is locked"
(measured: 5-14 failures a minute with 20 writers, bench/sqlite_writers.py). A council
running Casework on SQLite would lose that work.

So every transaction (Casework writes only inside `transaction.atomic`, and each one starts
with BEGIN IMMEDIATE) first takes an exclusive `flock` on a file beside the database, and
gives it back when the transaction ends. A waiter tries again every 2 ms at most, so it is
back within 2 ms of the lock coming free (SQLite's own back-off reaches 100 ms), and waits
up to `WRITE_QUEUE_TIMEOUT` seconds before failing with the error SQLite would give. It
polls rather than blocking in the kernel because a blocking `flock` cannot time out outside
a process's main thread. In-memory databases (unit tests) have one connection and skip it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base, creation

WRITE_QUEUE_TIMEOUT = 30.0


def write_lock_path(database_name: str) -> str:
    return f"{database_name}.write-lock"


class DatabaseCreation(creation.DatabaseCreation):
    def _destroy_test_db(self, test_database_name: str, verbosity: int) -> None:
        """The test database goes, and so does the lock file beside it: each test run's
        database has its own name, so the lock files piled up in var/, one per run."""
        super()._destroy_test_db(test_database_name, verbosity)  # type: ignore[misc]  # private, not in the stubs
        if test_database_name and not self.is_in_memory_db(test_database_name):
            with contextlib.suppress(FileNotFoundError):  # a run that never wrote
                os.remove(write_lock_path(test_database_name))


class DatabaseWrapper(base.DatabaseWrapper):
    creation_class = DatabaseCreation

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._write_lock_fd: int | None = None

    def _lock_path(self) -> str | None:
        if self.is_in_memory_db():
            return None
        return write_lock_path(self.settings_dict["NAME"])

    def _take_write_turn(self) -> None:
        path = self._lock_path()
        if path is None or self._write_lock_fd is not None:
            return
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + WRITE_QUEUE_TIMEOUT
        pause = 0.0005
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise OperationalError(
                            "database is locked: another write has held the database for "
                            f"{WRITE_QUEUE_TIMEOUT:g} s"
                        ) from None
                    # Short pauses: the lock is free only between two transactions.
                    time.sleep(pause)
                    pause = min(pause * 2, 0.002)
        except BaseException:
            os.close(fd)
            raise
        self._write_lock_fd = fd

    def _give_up_write_turn(self) -> None:
        fd, self._write_lock_fd = self._write_lock_fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the flock

    def _start_transaction_under_autocommit(self) -> None:
        self._take_write_turn()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # private, not in the stubs
        except BaseException:
            self._give_up_write_turn()
            raise

    def _commit(self) -> Any:
        try:
            return super()._commit()  # type: ignore[misc]  # private, not in the stubs
        finally:
            self._give_up_write_turn()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[misc]  # private, not in the stubs
        finally:
            self._give_up_write_turn()

    def _close(self) -> Any:
        try:
            return super()._close()  # type: ignore[misc]  # private, not in the stubs
        finally:
            self._give_up_write_turn()
