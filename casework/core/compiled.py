"""Reads whose SQL never changes but for the values they are asked about, compiled once.

The ORM writes a query's SQL afresh every time it runs. For the small fixed reads a closure
proposal makes (a case's plans, assessments, meetings, ...), writing the SQL took three
times as long as the database took to answer (issue 10: 200 of 270 microseconds a read, on
a request that makes a dozen). A `CompiledRead` asks the ORM once per database for the SQL
of its queryset, with a marker where each value goes, and from then on sends that SQL with
the values in the markers' places. Rows become results exactly as the ORM's own iterables
make them: its converters (SQLite's dates, JSON), `select_related`, annotations, `values()`
and `values_list()`, or `exists()`.

The values are ids, strings (a key, a role) and dates (today), each compared as it is
(`field=value`, `field__in=[...]`, `field__lte=value`): a value the ORM changes on the
way (`__iexact`, `__contains`) is refused at the first call. The queryset must depend on
nothing else: a setting or the clock read while building it would be frozen at the first
call. Under test (`CASEWORK_CHECK_COMPILED_READS`) every call is checked against a fresh
compilation, so a builder that reads anything else fails there rather than in production.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.query import (  # type: ignore[attr-defined]
    FlatValuesListIterable,
    ModelIterable,
    ValuesIterable,
    ValuesListIterable,
    get_related_populators,
)

_T = TypeVar("_T")

# Stand-ins for the values while the ORM writes the SQL, one per place and type: never a
# real id (negative), key (control characters) or date (the first days of year 1).
_MARKERS: dict[type, tuple[Any, ...]] = {
    int: tuple(-(7_919_000_000_000_000 + n) for n in range(12)),
    str: tuple(f"\x1fcompiled read value {n}\x1f" for n in range(12)),
    dt.date: tuple(dt.date(1, 1, n + 1) for n in range(12)),
}
Value = int | str | dt.date


def first(queryset: QuerySet[Any, _T]) -> QuerySet[Any, _T]:
    """What `queryset.first()` reads, as a queryset for a compiled read's `one()`: the
    first row in the queryset's ordering, else by key."""
    return (queryset if queryset.ordered else queryset.order_by("pk"))[:1]


def _plain(value: Any) -> Value:
    """The value as the ORM would send it: an int, a str (a `TextChoices` member is its
    text) or a date; nothing else (a bool, a datetime) is taken."""
    if isinstance(value, int) and not isinstance(value, bool) and value in _SIXTY_FOUR_BITS:
        return int(value)
    if isinstance(value, str):
        return str.__str__(value)
    if type(value) is dt.date:
        return value
    raise TypeError(
        f"A compiled read takes ids (64-bit), strings and dates, not {value!r}: ask the ORM."
    )


_SIXTY_FOUR_BITS = range(-(2**63), 2**63)


def _as_sent(marker: Any, param: Any) -> Callable[[Any], Any] | None:
    """How a value takes `marker`'s place if `param` is the marker as the ORM sent it: as
    it is, or a date as SQLite's backend writes one (ISO text). None: not this marker."""
    if type(param) is type(marker) and param == marker:
        return lambda value: value
    if isinstance(marker, dt.date) and type(param) is str and param == marker.isoformat():
        return lambda value: value.isoformat()
    return None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, int, Callable[[Any], Any]], ...]  # param position, value, as sent
    converters: list[tuple[int, tuple[list[Any], Any]]]
    make: Callable[[str, list[Any]], list[Any]]


class CompiledRead(Generic[_T]):
    """`build(*values)` returns the queryset; calling the read with values returns its
    results as a list (`exists()` instead, for a read made with `exists=True`)."""

    def __init__(self, build: Callable[..., QuerySet[Any, _T]], *, exists: bool = False) -> None:
        self._build = build
        self._exists = exists
        self._compiled: dict[tuple[str, tuple[type, ...]], _Compiled] = {}

    def __call__(self, *values: Value, using: str = DEFAULT_DB_ALIAS) -> list[_T]:
        if self._exists:
            raise TypeError("An exists() read answers with exists(), not a list.")
        return self._run(values, using)

    def one(self, *values: Value, using: str = DEFAULT_DB_ALIAS) -> _T | None:
        """The first result or None: for a read of one row by key, or built with `first`."""
        rows = self(*values, using=using)
        return rows[0] if rows else None

    def exists(self, *values: Value, using: str = DEFAULT_DB_ALIAS) -> bool:
        if not self._exists:
            raise TypeError("Only a read compiled with exists=True answers exists().")
        return bool(self._run(values, using))

    def _run(self, asked: tuple[Value, ...], using: str) -> list[Any]:
        values = tuple(map(_plain, asked))
        types = tuple(type(value) for value in values)
        compiled = self._compiled.get((using, types))
        if compiled is None:
            compiled = self._compiled[using, types] = self._compile(types, using)
        params = list(compiled.params)
        for position, which, as_sent in compiled.slots:
            params[position] = as_sent(values[which])
        if not compiled.sql:
            return []
        if getattr(settings, "CASEWORK_CHECK_COMPILED_READS", False):
            self._check(compiled, values, params, using)
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows: Iterable[Any] = cursor.fetchall()
        if compiled.converters:
            rows = _convert(rows, compiled.converters, connection)
        return compiled.make(using, list(rows))

    def _query(self, values: tuple[Any, ...], using: str) -> tuple[QuerySet[Any, _T], Any]:
        queryset = self._build(*values).using(using)
        return queryset, (queryset.query.exists() if self._exists else queryset.query)

    def _compile(self, types: tuple[type, ...], using: str) -> _Compiled:
        if any(types[:n].count(kind) >= len(_MARKERS[kind]) for n, kind in enumerate(types)):
            raise ValueError("A compiled read takes at most twelve values of each type.")
        markers = tuple(_MARKERS[kind][types[:n].count(kind)] for n, kind in enumerate(types))
        queryset, query = self._query(markers, using)
        if queryset._prefetch_related_lookups or queryset._known_related_objects:  # type: ignore[attr-defined]
            raise ValueError(
                "A compiled read cannot prefetch or take related objects from a manager: "
                "filter by the id instead (Plan.objects.filter(case_id=...))."
            )
        compiler = query.get_compiler(using=using)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:  # e.g. `__in` no values: the ORM answers without asking
            return _Compiled("", (), (), [], lambda using, rows: [])
        slots = []
        for position, param in enumerate(params):
            for which, marker in enumerate(markers):
                as_sent = _as_sent(marker, param)
                if as_sent is not None:
                    slots.append((position, which, as_sent))
        if {which for _, which, _ in slots} != set(range(len(markers))) or any(
            str(marker) in sql for marker in markers
        ):
            raise ValueError("Each value must reach the query as a parameter of its own.")
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        converters = list(compiler.get_converters(fields).items())
        make = (lambda using, rows: rows) if self._exists else _maker(queryset, compiler, using)
        return _Compiled(sql, tuple(params), tuple(slots), converters, make)

    def _check(
        self, compiled: _Compiled, values: tuple[Value, ...], params: list[Any], using: str
    ) -> None:
        """What the ORM writes for these values now must be what is about to be sent."""
        fresh_sql, fresh_params = self._query(values, using)[1].get_compiler(using=using).as_sql()
        if (fresh_sql, list(fresh_params)) != (compiled.sql, params):
            raise AssertionError(
                "A compiled read's query changed with something other than its values: "
                f"compiled {compiled.sql} {params}, now {fresh_sql} {list(fresh_params)}."
            )


def _convert(
    rows: Iterable[Any], converters: list[tuple[int, tuple[list[Any], Any]]], connection: Any
) -> Iterator[list[Any]]:
    """The ORM's own `SQLCompiler.apply_converters`, with the calling thread's connection."""
    for row in map(list, rows):
        for position, (functions, expression) in converters:
            value = row[position]
            for function in functions:
                value = function(value, expression, connection)
            row[position] = value
        yield row


def _maker(
    queryset: QuerySet[Any, Any], compiler: Any, using: str
) -> Callable[[str, list[Any]], list[Any]]:
    """How the queryset's own iterable (Django's `ModelIterable` and the others) turns rows
    into results, set up once."""
    iterable = queryset._iterable_class
    query = queryset.query
    if iterable is ModelIterable:
        select, klass_info = compiler.select, compiler.klass_info
        annotations = compiler.annotation_col_map or {}
        model: type[Model] = klass_info["model"]
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        attnames = [column[0].target.attname for column in select[start:end]]
        # Each holds where its model's columns are in a row, nothing of any one row.
        populators = get_related_populators(klass_info, select, using)

        def instances(using: str, rows: list[Any]) -> list[Any]:
            made = []
            for row in rows:
                instance = model.from_db(using, attnames, row[start:end])
                for populator in populators:
                    populator.populate(row, instance)
                for name, position in annotations.items():
                    setattr(instance, name, row[position])
                made.append(instance)
            return made

        return instances
    if iterable is ValuesIterable:
        names = [*query.extra_select, *query.values_select, *query.annotation_select]
        return lambda using, rows: [dict(zip(names, row, strict=False)) for row in rows]
    if iterable is FlatValuesListIterable:
        return lambda using, rows: [row[0] for row in rows]
    if iterable is ValuesListIterable and list(queryset._fields) == [  # type: ignore[attr-defined]
        *query.extra_select,
        *query.values_select,
        *query.annotation_select,
    ]:
        return lambda using, rows: [tuple(row) for row in rows]
    raise ValueError(f"A compiled read cannot make {iterable.__name__} results.")
