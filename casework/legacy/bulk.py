"""Inserting many rows quickly, on PostgreSQL and SQLite alike, without model instances.

`bulk_create` spends most of its time building model instances and preparing every value
through the fields; at tens of thousands of rows a second that is most of the import. Here
rows are plain lists in a declared column order, IDs are allocated up front (so a case's
reference, `C` and its number, is written with the row rather than fixed by an UPDATE), and
the rows go in with COPY on PostgreSQL and one prepared INSERT run many times elsewhere.

Each table's other columns get their model default (or the batch's time for `auto_now_add`),
so a column added to a model later is filled, not forgotten; one without a default fails
loudly in the tests on both databases.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models

Convert = Callable[[Any], Any]


def allocate_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` new primary keys for `model`, reserved for this transaction's inserts."""
    if count == 0:
        return []
    table = model._meta.db_table
    pk = model._meta.pk
    assert pk is not None  # noqa: S101 - every concrete model has one
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk.column, count],
            )
            return [row[0] for row in cursor.fetchall()]
        if connection.vendor == "sqlite":
            # The write lock is held from BEGIN IMMEDIATE (the project's SQLite setting), so
            # nobody else can take these numbers before they are inserted. The table's
            # AUTOINCREMENT counter moves past them as they are.
            quoted, column = connection.ops.quote_name(table), connection.ops.quote_name(pk.column)
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            counter = cursor.fetchone()
            cursor.execute(f"SELECT MAX({column}) FROM {quoted}")  # noqa: S608  # nosec B608 - names from the model
            highest = cursor.fetchone()
            start = max(counter[0] if counter else 0, highest[0] or 0) + 1
            return list(range(start, start + count))
    raise NotImplementedError(f"Legacy import does not support {connection.vendor}.")


def _sqlite_datetime(value: dt.datetime | None) -> str | None:
    return None if value is None else connection.ops.adapt_datetimefield_value(value)


def _date(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _json(value: Any) -> str:
    return json.dumps(value)


class Table:
    """How to insert into one model's table: the columns the caller gives, in order, and
    the rest filled with defaults."""

    def __init__(self, model: type[models.Model], columns: Sequence[str], *, with_id: bool):
        self.model = model
        self.with_id = with_id
        fields = {f.attname: f for f in model._meta.concrete_fields}
        pk = model._meta.pk
        assert pk is not None  # noqa: S101 - every concrete model has one
        given = [pk.attname, *columns] if with_id else list(columns)
        unknown = set(given) - set(fields)
        if unknown:
            raise ValueError(f"{model.__name__} has no columns {sorted(unknown)}")
        self.given = given
        self.rest = [f for name, f in fields.items() if name not in given and name != pk.attname]
        self.fields = [fields[name] for name in given] + self.rest

    def _converters(self) -> list[tuple[int, Convert]]:
        sqlite = connection.vendor == "sqlite"
        found: list[tuple[int, Convert]] = []
        for i, f in enumerate(self.fields[: len(self.given)]):
            if isinstance(f, models.JSONField):
                found.append((i, _json))
            elif sqlite and isinstance(f, models.DateTimeField):
                found.append((i, _sqlite_datetime))
            elif sqlite and isinstance(f, models.DateField):
                found.append((i, _date))
        return found

    def _filled(self, now: dt.datetime) -> list[Any]:
        values: list[Any] = []
        for f in self.rest:
            if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False):
                value: Any = now
            elif f.has_default():
                value = f.get_default()
            elif f.null:
                value = None
            else:
                raise ValueError(f"{self.model.__name__}.{f.name} needs a value")
            if isinstance(f, models.JSONField):
                values.append(_json(value))
            elif connection.vendor == "sqlite" and isinstance(f, models.DateTimeField):
                values.append(_sqlite_datetime(value))
            elif connection.vendor == "sqlite" and isinstance(f, models.DateField):
                values.append(_date(value))
            else:
                values.append(value)
        return values

    def insert(self, rows: list[list[Any]], now: dt.datetime) -> None:
        """Insert `rows`, each a list of values for the given columns (the ID first when
        the table was set up `with_id`). The lists are changed in place."""
        if not rows:
            return
        filled = self._filled(now)
        converters = self._converters()
        for row in rows:
            for i, convert in converters:
                row[i] = convert(row[i])
            if filled:
                row.extend(filled)
        columns = [f.column for f in self.fields]
        table = self.model._meta.db_table
        if connection.vendor == "postgresql":
            self._copy(table, columns, rows)
        else:
            names = ", ".join(connection.ops.quote_name(c) for c in columns)
            marks = ", ".join(["%s"] * len(columns))
            into = f"{connection.ops.quote_name(table)} ({names})"
            with connection.cursor() as cursor:
                cursor.executemany(f"INSERT INTO {into} VALUES ({marks})", rows)  # noqa: S608  # nosec B608 - names from the model

    def _copy(self, table: str, columns: list[str], rows: list[list[Any]]) -> None:
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        )
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
