"""Reads that PostgreSQL must plan for the values of each run.

Casework's connections prepare a statement the fifth time they send it (config/settings.py,
decision 0018), and PostgreSQL may then give a prepared statement a *generic* plan, made
without its values, if that looks no dearer than the plans made for them. For nearly every
statement that is right and saves planning each run: a case by its key, a closure's steps,
an insert. It is wrong where the values decide which plan is good. A keyset page ("cases
opened before this date, newest first") or a search by a name's sound code (a rare name has
ten people, a common one fifty thousand) needs the values to choose between reading an
index in order and gathering rows to sort. A generic plan took the team case list's later
pages from 0.3 ms to 105 ms (issue 10, run 6).

`planned_for_each_run()` sends the statements inside it unprepared, so PostgreSQL plans each
for its values. On SQLite it does nothing. With prepared statements turned off
(`DATABASE_PREPARED_STATEMENTS=false`, client-side binding) nothing is prepared anyway; the
driver's threshold is still set and put back, which changes nothing. Use it around the
evaluation of such a read: the queryset must be run inside.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections


@contextmanager
def planned_for_each_run(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Statements sent inside are planned for their values, never prepared. Also a
    decorator."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    driver = connection.connection
    # psycopg 3's own switch: with no threshold nothing is prepared, and a statement this
    # connection has already prepared is sent afresh instead of run by name.
    before = getattr(driver, "prepare_threshold", None)
    if before is None:
        yield
        return
    driver.prepare_threshold = None
    try:
        yield
    finally:
        driver.prepare_threshold = before
