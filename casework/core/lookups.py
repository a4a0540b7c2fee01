"""`field__in_list=[...]`: `__in` for long lists of ids.

Django writes `IN (%s, %s, ...)` with a placeholder per value, and psycopg binds each one:
for the thousand candidates of a person search that took 15 ms of CPU a query (measured in
issue 10). On PostgreSQL the list goes as one array parameter instead (`= ANY(%s)`); other
databases get Django's own `IN`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Field, ForeignObject
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In


def _any_of(lookup: In[Any], compiler: Any, connection: Any) -> tuple[str, list[Any]]:
    if not lookup.rhs_is_direct_value():  # a subquery: Django's own IN (SELECT ...)
        sql, params = lookup.as_sql(compiler, connection)
        return sql, list(params)
    lhs, lhs_params = lookup.process_lhs(compiler, connection)
    values = [value for value in lookup.rhs if value is not None]
    if not values:
        # As Django does for an empty `__in`: a condition that matches nothing.
        return "1 = 0", []
    return f"{lhs} = ANY(%s)", [*lhs_params, values]


# Not `In[Any]`: the subscript needs django-stubs-ext's runtime patch.
@Field.register_lookup
class InList(In):  # type: ignore[type-arg]
    lookup_name = "in_list"

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        return _any_of(self, compiler, connection)


@ForeignObject.register_lookup
class RelatedInList(RelatedIn):
    lookup_name = "in_list"

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        return _any_of(self, compiler, connection)
