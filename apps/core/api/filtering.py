"""Query-string filters (django-filter) applied the same way by every list endpoint."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.core.errors import ValidationFailed


def filter_queryset(filterset_class, request, queryset: QuerySet) -> QuerySet:
    """`queryset` narrowed by the request's query string; 400 naming each invalid filter."""
    filtered = filterset_class(request.query_params, queryset=queryset, request=request._request)
    if not filtered.is_valid():
        raise ValidationFailed("Some filters are invalid.", details=filtered.errors)
    return filtered.qs
