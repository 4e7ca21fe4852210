"""The list envelopes of DESIGN.md §5: pages {"data": [...], "meta": {"total", "totalIsExact",
"page", "limit", "totalPages", "next"}}, and cursors for append-only streams {"data": [...],
"meta": {"next", ...}}.

Every list answers through `PagePagination` (docs/decisions/0005-list-counts.md):

- `meta.total` counts at most `settings.LIST_COUNT_LIMIT` rows (`SELECT count(*) FROM (SELECT
  ... LIMIT n + 1)`): under the limit it is exact (`totalIsExact: true`); beyond it `total` is
  the limit and `totalIsExact` is false, so a list of 100,000 rows never reads them all to
  say how many there are. `totalPages` follows from `total`; pages past it are still served
  while they have rows.
- `?page=` works as it always did; `?cursor=` (the `meta.next` of the page before) continues
  after the last row of that page with a keyset condition (`WHERE (created_at, id) < (...)`),
  so a deep page reads only its own rows and rows added meanwhile never repeat. The cursor is
  signed: a forged, truncated or foreign one is a 400 (VALIDATION_FIELD_INVALID).
"""

from __future__ import annotations

import datetime
import math
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.core import signing
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import BooleanField, F, Func, Q, QuerySet, Value
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import BasePagination, CursorPagination
from rest_framework.response import Response

DEFAULT_LIST_COUNT_LIMIT = 10_000
CURSOR_SALT = "apps.core.pagination.cursor"
BAD_CURSOR = "Not a cursor of this list: use meta.next of a page of it."


def requested_limit(request, *, default: int, maximum: int) -> int:
    """`?limit=` as the schema states it: an integer from 1 to `maximum`, or 400. A silent
    default for `limit=null` or a silent cut of `limit=1000` would answer another question."""
    raw = request.query_params.get("limit")
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= maximum):
        raise ValidationError({"limit": [f"An integer from 1 to {maximum}."]})
    return int(raw)


def limit_schema_parameters(parameters: list[dict], *, maximum: int) -> list[dict]:
    """The paginator's documented parameters, with the bounds of `limit` stated."""
    for parameter in parameters:
        if parameter["name"] == "limit":
            parameter["schema"] = {**parameter["schema"], "minimum": 1, "maximum": maximum}
    return parameters


def list_count_limit() -> int:
    """How many rows a list counts at most (settings.LIST_COUNT_LIMIT)."""
    return getattr(settings, "LIST_COUNT_LIMIT", DEFAULT_LIST_COUNT_LIMIT)


def capped_count_queryset(queryset: QuerySet, limit: int) -> QuerySet:
    """The rows `capped_count` counts: the keys of at most `limit + 1` rows, unordered (an
    ORDER BY would make PostgreSQL sort every row to keep the first ones)."""
    return queryset.order_by().values("pk")[: limit + 1]


def capped_count(rows, limit: int | None) -> tuple[int, bool]:
    """(total, exact): the number of rows, or `limit` and False when there are more.
    `limit=None` counts them all. A list (already in memory) is counted exactly."""
    if not isinstance(rows, QuerySet):
        return len(rows), True
    if limit is None:
        return rows.count(), True
    counted = capped_count_queryset(rows, limit).count()
    if counted > limit:
        return limit, False
    return counted, True


# --- Keyset cursors ---------------------------------------------------------------------------


class RowComparison(Func):
    """`(a, b, ...) < (x, y, ...)` (or `>`): PostgreSQL's row comparison, an index condition on an
    index over (a, b, ...), where the equivalent OR of ANDs would be a filter."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, columns, values, operator: str):
        if operator not in ("<", ">"):
            raise ValueError(operator)
        self.operator = operator
        super().__init__(*columns, *values)

    def as_sql(self, compiler, connection, **extra_context):
        parts, params = [], []
        for expression in self.get_source_expressions():
            sql, expression_params = compiler.compile(expression)
            parts.append(sql)
            params.extend(expression_params)
        half = len(parts) // 2
        return f"({', '.join(parts[:half])}) {self.operator} ({', '.join(parts[half:])})", params


def keyset_ordering(rows) -> list[tuple[str, bool]] | None:
    """The list's order as [(field name, descending)], if a cursor can follow it: a queryset
    ordered by its model's own non-null columns, ending with the primary key (a total order).
    None otherwise (a list in memory, an ordering by expression, relation or nullable column)."""
    if not isinstance(rows, QuerySet):
        return None
    query = rows.query
    model = rows.model
    ordering = query.order_by or (model._meta.ordering if query.default_ordering else ())
    fields: list[tuple[str, bool]] = []
    for item in ordering:
        if not isinstance(item, str) or "__" in item or item.lstrip("-") == "?":
            return None
        name = item.lstrip("-")
        try:
            field = model._meta.pk if name == "pk" else model._meta.get_field(name)
        except FieldDoesNotExist:
            return None
        if not field.concrete or field.null or (field.is_relation and not field.primary_key):
            return None
        fields.append((field.name, item.startswith("-")))
    if not fields or fields[-1][0] != model._meta.pk.name:
        return None
    return fields


def _json_value(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    return value


def encode_cursor(row, ordering: list[tuple[str, bool]]) -> str:
    """The signed, opaque token of `row`'s place in the list's order."""
    payload = {
        "o": [("-" if descending else "") + name for name, descending in ordering],
        "v": [_json_value(getattr(row, row._meta.get_field(name).attname)) for name, _ in ordering],
    }
    return signing.dumps(payload, salt=CURSOR_SALT, compress=True)


def decode_cursor(token: str, model, ordering: list[tuple[str, bool]]) -> list:
    """The ordering values of the row a cursor names; 400 unless it is a cursor of this ordering."""
    try:
        payload = signing.loads(token, salt=CURSOR_SALT)
    except signing.BadSignature:
        raise ValidationError({"cursor": [BAD_CURSOR]}) from None
    names = [("-" if descending else "") + name for name, descending in ordering]
    if not isinstance(payload, dict) or payload.get("o") != names or len(payload.get("v") or ()) != len(names):
        raise ValidationError({"cursor": [BAD_CURSOR]})
    try:
        values = [
            model._meta.get_field(name).to_python(value)
            for (name, _), value in zip(ordering, payload["v"], strict=True)
        ]
    except (DjangoValidationError, TypeError, ValueError):
        raise ValidationError({"cursor": [BAD_CURSOR]}) from None
    if any(value is None for value in values):
        raise ValidationError({"cursor": [BAD_CURSOR]})
    return values


def after_cursor(queryset: QuerySet, ordering: list[tuple[str, bool]], values: list) -> QuerySet:
    """The rows that come after `values` in `ordering`. One direction throughout: a row
    comparison, `(created_at, id) < (%s, %s)`. Mixed directions: the first column bounded
    (`created_at <= %s`, for the index) and the lexicographic OR of ANDs."""
    model = queryset.model
    typed = [
        Value(value, output_field=model._meta.get_field(name))
        for (name, _), value in zip(ordering, values, strict=True)
    ]
    directions = {descending for _, descending in ordering}
    if len(directions) == 1:
        operator = "<" if directions.pop() else ">"
        return queryset.filter(RowComparison([F(name) for name, _ in ordering], typed, operator))
    condition = Q()
    for index, (name, descending) in enumerate(ordering):
        step = Q(**{f"{name}__{'lt' if descending else 'gt'}": values[index]})
        for earlier in range(index):
            step &= Q(**{ordering[earlier][0]: values[earlier]})
        condition |= step
    first, descending = ordering[0]
    return queryset.filter(Q(**{f"{first}__{'lte' if descending else 'gte'}": values[0]}) & condition)


class PagePagination(BasePagination):
    """Pages by number (`?page=`, `?limit=`) or by cursor (`?cursor=`), with a capped count."""

    page_size = 20
    page_query_param = "page"
    page_size_query_param = "limit"
    cursor_query_param = "cursor"
    max_page_size = 100
    last_page_strings = ("last",)
    invalid_page_message = "Invalid page."

    def get_page_size(self, request):
        return requested_limit(request, default=self.page_size, maximum=self.max_page_size)

    def get_page_number(self, request) -> int | str:
        # A page that is not a number is a bad request, not a page that does not exist: Django
        # would answer 404 for "abc" and "-1" alike. A number past the last page stays 404.
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if raw in self.last_page_strings:
            return "last"
        if not (raw.isascii() and raw.isdigit() and int(raw) >= 1):
            raise ValidationError({self.page_query_param: ["A whole number from 1, or last."]})
        return int(raw)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = limit = self.get_page_size(request)
        token = request.query_params.get(self.cursor_query_param)
        self.ordering = ordering = keyset_ordering(queryset)
        if token is not None:
            if self.page_query_param in request.query_params:
                raise ValidationError({self.cursor_query_param: ["Give a cursor or a page, not both."]})
            if ordering is None:
                raise ValidationError({self.cursor_query_param: ["This list is not paged by cursor."]})
            values = decode_cursor(token, queryset.model, ordering)
            self.total, self.total_is_exact = capped_count(queryset, list_count_limit())
            self.number = None
            rows = list(after_cursor(queryset, ordering, values)[: limit + 1])
        else:
            number = self.get_page_number(request)
            if number == "last":
                # `last` asks where the list ends: that takes an exact count.
                self.total, self.total_is_exact = capped_count(queryset, None)
                number = self.total_pages()
                offset = (number - 1) * limit
                rows = list(queryset[offset : offset + limit + 1])
            else:
                offset = (number - 1) * limit
                rows = list(queryset[offset : offset + limit + 1])
                if not rows and number > 1:
                    raise NotFound(self.invalid_page_message)
                self.total, self.total_is_exact = self._total_around(queryset, rows, offset=offset, limit=limit)
            self.number = number
        self.page = rows[:limit]
        self.next_cursor = encode_cursor(self.page[-1], ordering) if len(rows) > limit and ordering else None
        return self.page

    @staticmethod
    def _total_around(queryset, rows: list, *, offset: int, limit: int) -> tuple[int, bool]:
        """(total, exact) of the list a page of `rows` was read from (at most `limit + 1`
        from `offset`): a page that holds the list's end counts it without a count query, the
        commonest case of all (a first page of a short list); a full page counts the rest."""
        if len(rows) <= limit and (rows or offset == 0):
            return offset + len(rows), True
        return capped_count(queryset, list_count_limit())

    def total_pages(self) -> int:
        # An empty list still has its first (empty) page, as Django's Paginator counts.
        return max(1, math.ceil(self.total / self.limit))

    def get_paginated_response(self, data):
        return Response(
            {
                "data": data,
                "meta": {
                    "total": self.total,
                    "totalIsExact": self.total_is_exact,
                    "page": self.number,
                    "limit": self.limit,
                    "totalPages": math.ceil(self.total / self.limit),
                    "next": self.next_cursor,
                },
            }
        )

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "A page number within the paginated result set.",
                "schema": {"type": "integer"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": "Number of results to return per page.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Continue after the page that answered this `meta.next` (not with `page`). "
                "Deep pages and exports: a cursor reads only its own rows, and rows added meanwhile "
                "are not repeated.",
                "schema": {"type": "string"},
            },
        ]

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["data", "meta"],
            "properties": {
                "data": schema,
                "meta": {
                    "type": "object",
                    "required": ["total", "totalIsExact", "page", "limit", "totalPages", "next"],
                    "properties": {
                        "total": {
                            "type": "integer",
                            "description": "The number of rows, counted up to a limit (LIST_COUNT_LIMIT, "
                            "10,000): beyond it, the limit, and totalIsExact is false.",
                        },
                        "totalIsExact": {
                            "type": "boolean",
                            "description": "False when the list has more rows than `total` says.",
                        },
                        "page": {
                            "type": "integer",
                            "nullable": True,
                            "description": "The page number; null on a page asked by cursor.",
                        },
                        "limit": {"type": "integer"},
                        "totalPages": {"type": "integer", "description": "Pages of `total` rows."},
                        "next": {
                            "type": "string",
                            "nullable": True,
                            "description": "The `?cursor=` of the rows after this page; null on the last page.",
                        },
                    },
                },
            },
        }


def paginated_response(view, queryset, serializer_class, *, context: dict | None = None) -> Response:
    """One page of `queryset` in the list envelope, serialized with `serializer_class`."""
    paginator = PagePagination()
    page = paginator.paginate_queryset(queryset, view.request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True, context=context or {}).data)


class StreamPagination(CursorPagination):
    """Append-only streams (ledger lines, tracking events, messages): a cursor, not pages,
    so a line appended while someone reads never shifts what the next page shows."""

    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200
    ordering = ("-created_at", "-id")

    def get_page_size(self, request):
        return requested_limit(request, default=self.page_size, maximum=self.max_page_size)

    def get_schema_operation_parameters(self, view):
        return limit_schema_parameters(super().get_schema_operation_parameters(view), maximum=self.max_page_size)

    def get_paginated_response(self, data):
        return Response(
            {
                "data": data,
                "meta": {"next": self.get_next_link(), "previous": self.get_previous_link(), "limit": self.page_size},
            }
        )

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["data", "meta"],
            "properties": {
                "data": schema,
                "meta": {
                    "type": "object",
                    "required": ["next", "previous", "limit"],
                    "properties": {"next": link, "previous": link, "limit": {"type": "integer"}},
                },
            },
        }


def stream_response(view, queryset, serializer_class, *, context: dict | None = None) -> Response:
    """One cursor page of an append-only `queryset` (newest first) in the stream envelope."""
    paginator = StreamPagination()
    page = paginator.paginate_queryset(queryset, view.request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True, context=context or {}).data)
