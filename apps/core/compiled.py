"""A hot query whose SQL Django compiles once per process instead of on every call.

Django compiles a queryset to SQL each time it runs it; for a query with joins and a
dozen columns that is ~0.3 ms of Python, more than PostgreSQL takes to answer it. The
query a request runs before anything else (the bearer token's user, session and
memberships: apps.tenancy.selectors.caller_with_memberships) is the same SQL on every
request but for its values. `CompiledRows` builds it once, with placeholder values, keeps
the SQL and the parameter list, and on each call swaps the placeholders for the call's
values and runs the statement on the same connection, in the same transaction and under
the same row-level security as the queryset would (it *is* the queryset's SQL). Columns
come back converted as the queryset would convert them (`from_db_value` of each field),
and `instance` turns a slice of a row back into a model instance (`Model.from_db`).

Only for a `values_list` queryset of plain columns (no annotations, no expressions in the
select), whose placeholders are values of their own type that appear nowhere else in the
query (unique UUIDs or datetimes); anything else keeps the ORM.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet


class CompiledRows:
    def __init__(self, build: Callable[..., QuerySet], *, placeholders: Mapping[str, Any], using: str = "default"):
        """`build(**placeholders)` returns the `values_list` queryset; `placeholders` name a
        stand-in value for each parameter (a value the query holds nowhere else)."""
        self._build = build
        self._placeholders = dict(placeholders)
        self._using = using
        self._lock = threading.Lock()

    @functools.cached_property
    def _compiled(self):
        queryset = self._build(**self._placeholders)
        if queryset._fields is None or queryset.query.annotations:
            raise TypeError("CompiledRows takes a values_list queryset of plain columns")
        sql, params = queryset.query.sql_with_params()
        positions = {name: [] for name in self._placeholders}
        for index, param in enumerate(params):
            for name, stand_in in self._placeholders.items():
                if type(param) is type(stand_in) and param == stand_in:
                    positions[name].append(index)
        missing = [name for name, found in positions.items() if not found]
        if missing:
            raise ValueError(f"placeholders not found in the compiled query: {missing}")
        model = queryset.model
        fields = [_field(model, name) for name in queryset._fields]
        connection = connections[self._using]
        converters = [
            (index, field.get_db_converters(connection))
            for index, field in enumerate(fields)
            if field.get_db_converters(connection)
        ]
        return sql, list(params), positions, converters

    def rows(self, **values) -> list[tuple]:
        """The queryset's rows for these values of its placeholders."""
        with self._lock:  # compiled once, by whichever thread comes first
            sql, params, positions, converters = self._compiled
        params = list(params)
        for name, value in values.items():
            for index in positions[name]:
                params[index] = value
        connection = connections[self._using]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not converters:
            return rows
        converted = []
        for row in rows:
            row = list(row)
            for index, functions in converters:
                for convert in functions:
                    row[index] = convert(row[index], None, connection)
            converted.append(tuple(row))
        return converted


def instance(model: type[Model], field_names: list[str], values, *, using: str = "default") -> Model:
    """A model instance from its columns' values (the others deferred), as the ORM builds one."""
    return model.from_db(using, field_names, values)


def _field(model: type[Model], path: str):
    *relations, name = path.split("__")
    for relation in relations:
        model = model._meta.get_field(relation).related_model
    return model._meta.get_field(name)
