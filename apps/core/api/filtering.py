"""Query-string filters (django-filter) applied the same way by every list endpoint."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import serializers

from apps.core.errors import ValidationFailed

EMPTY = "Give a value, or leave the parameter out."


def _refuse_empty(request, names) -> None:
    """A parameter given without a value (`?status=`) is refused: the schema documents a value
    (an enum, a UUID), and django-filter and DRF's form rules would take it as absent."""
    empty = sorted(name for name in names if name in request.query_params and request.query_params[name] == "")
    if empty:
        raise ValidationFailed("Some filters are invalid.", details={name: [EMPTY] for name in empty})


def filter_queryset(filterset_class, request, queryset: QuerySet) -> QuerySet:
    """`queryset` narrowed by the request's query string; 400 naming each invalid filter."""
    _refuse_empty(request, filterset_class.base_filters)
    filtered = filterset_class(request.query_params, queryset=queryset, request=request._request)
    if not filtered.is_valid():
        raise ValidationFailed("Some filters are invalid.", details=filtered.errors)
    return filtered.qs


def query_params(serializer_class, request) -> dict:
    """The query string validated by `serializer_class` as a JSON body would be (its fields
    are the operation's documented parameters: `@extend_schema(parameters=[serializer_class])`);
    400 naming each invalid parameter, an empty one included."""
    serializer = serializer_class()
    _refuse_empty(request, serializer.fields)
    data = {
        name: request.query_params.getlist(name)
        if isinstance(field, serializers.ListField | serializers.MultipleChoiceField)
        else request.query_params[name]
        for name, field in serializer.fields.items()
        if name in request.query_params
    }
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise ValidationFailed("Some parameters are invalid.", details=serializer.errors)
    return serializer.validated_data
