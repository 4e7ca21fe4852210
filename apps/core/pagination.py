"""The list envelopes of DESIGN.md §5: pages {"data": [...], "meta": {"total", "page", "limit",
"totalPages"}}, and cursors for append-only streams {"data": [...], "meta": {"next", ...}}."""

import math

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response


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


class PagePagination(PageNumberPagination):
    page_size = 20
    page_query_param = "page"
    page_size_query_param = "limit"
    max_page_size = 100

    def get_page_size(self, request):
        return requested_limit(request, default=self.page_size, maximum=self.max_page_size)

    def get_schema_operation_parameters(self, view):
        return limit_schema_parameters(super().get_schema_operation_parameters(view), maximum=self.max_page_size)

    def get_page_number(self, request, paginator):
        # A page that is not a number is a bad request, not a page that does not exist: Django
        # would answer 404 for "abc" and "-1" alike. A number past the last page stays 404.
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if raw in self.last_page_strings:
            return paginator.num_pages
        if not (raw.isascii() and raw.isdigit() and int(raw) >= 1):
            raise ValidationError({self.page_query_param: ["A whole number from 1, or last."]})
        return raw

    def get_paginated_response(self, data):
        total = self.page.paginator.count
        limit = self.get_page_size(self.request)
        return Response(
            {
                "data": data,
                "meta": {
                    "total": total,
                    "page": self.page.number,
                    "limit": limit,
                    "totalPages": math.ceil(total / limit) if limit else 0,
                },
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["data", "meta"],
            "properties": {
                "data": schema,
                "meta": {
                    "type": "object",
                    "required": ["total", "page", "limit", "totalPages"],
                    "properties": {
                        "total": {"type": "integer"},
                        "page": {"type": "integer"},
                        "limit": {"type": "integer"},
                        "totalPages": {"type": "integer"},
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
