"""`field__in_list=[...]`: `__in` for long lists of ids.

Django writes `IN (%s, %s, ...)` with a placeholder per value, and psycopg binds each one:
for the thousand candidates of a person search that took 15 ms of CPU a query (measured in
issue 10). On PostgreSQL the list goes as one array parameter instead (`= ANY(%s)`); other
databases get Django's own `IN`.

For thousands of ids, pass them as `Ids(...)`: see that class for why.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from typing import Any

from django.db.models import Field, ForeignObject, IntegerField
from django.db.models.fields import AutoFieldMixin
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In


class Ids:
    """Integer ids for `field__in_list`, as one value rather than a list.

    Before a lookup sees a list, Django walks it value by value: each value is resolved as a
    possible expression, and against a foreign key each is checked for being a model of the
    wrong kind. For a person search's two thousand candidates that was over a millisecond a
    query, and a search asks several (measured in issue 10). Django passes a value that is
    neither a list nor iterable through whole, so this one is not. Its ids are checked once,
    in C, as they are packed as 64-bit signed integers: anything else raises TypeError or
    OverflowError here, where the caller made it."""

    __slots__ = ("packed",)

    def __init__(self, ids: Iterable[int]) -> None:
        self.packed = array("q", ids)

    def __repr__(self) -> str:
        return f"Ids({len(self.packed)} ids)"


def _plain_ids(lookup: In[Any]) -> list[int] | None:
    """The values as they are, if they are plain ints compared with an integer key: Django
    prepares each value of an `__in` one by one (and, for a foreign key, first asks whether
    it is a model instance), which for a search's two thousand candidates cost more than
    running the query. None where Django's preparation is needed."""
    values = lookup.rhs
    if not isinstance(values, list | tuple | set | frozenset):
        return None
    field = lookup.lhs.output_field
    if isinstance(field, ForeignObject):
        field = field.target_field
    if not isinstance(field, IntegerField | AutoFieldMixin):
        return None
    if not all(type(value) is int for value in values):  # bool is an int: prepared normally
        return None
    return list(values)


_BIGINT = range(-(2**63), 2**63)


def _any_of(lookup: In[Any], compiler: Any, connection: Any) -> tuple[str, list[Any]]:
    if not lookup.rhs_is_direct_value():  # a subquery: Django's own IN (SELECT ...)
        sql, params = lookup.as_sql(compiler, connection)
        return sql, list(params)
    lhs, lhs_params = lookup.process_lhs(compiler, connection)
    if isinstance(lookup.rhs, Ids):  # checked as they were packed
        if not lookup.rhs.packed:
            return "1 = 0", []
        return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, _array_text(lookup.rhs.packed)]
    values = [value for value in lookup.rhs if value is not None]
    if not values:
        # As Django does for an empty `__in`: a condition that matches nothing.
        return "1 = 0", []
    if all(type(value) is int and value in _BIGINT for value in values):
        # Written as PostgreSQL's array text ourselves: psycopg quotes a list of ints one
        # element at a time in Python, which for two thousand ids cost a millisecond.
        return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, _array_text(values)]
    return f"{lhs} = ANY(%s)", [*lhs_params, values]


def _array_text(ids: Iterable[int]) -> str:
    return "{" + ",".join(map(str, ids)) + "}"


class _OfIds:
    """What `__in_list` changes of Django's `In`, on a field or through a foreign key."""

    lhs: Any
    rhs: Any

    def get_prep_lookup(self) -> Any:
        if isinstance(self.rhs, Ids):
            return self.rhs
        plain = _plain_ids(self)  # type: ignore[arg-type]
        return plain if plain is not None else super().get_prep_lookup()  # type: ignore[misc]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        if isinstance(self.rhs, Ids):
            # Databases without the array form: the same lookup over the plain ids (which
            # are prepared as plain ints are), for Django's own `IN`.
            listed = type(self)(self.lhs, self.rhs.packed.tolist())  # type: ignore[call-arg]
            return listed.as_sql(compiler, connection)
        return super().as_sql(compiler, connection)  # type: ignore[misc, no-any-return]

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        return _any_of(self, compiler, connection)  # type: ignore[arg-type]


# Not `In[Any]`: the subscript needs django-stubs-ext's runtime patch.
@Field.register_lookup
class InList(_OfIds, In):  # type: ignore[type-arg]
    lookup_name = "in_list"


@ForeignObject.register_lookup
class RelatedInList(_OfIds, RelatedIn):
    lookup_name = "in_list"
