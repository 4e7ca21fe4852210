"""The OpenAPI schema says what the API answers, errors and lists included (DESIGN.md §5).

drf-spectacular documents the success answer each view declares. Two conventions of the
platform live outside the views, so the schema class adds them to every operation:

- errors: every error is the envelope of apps.core.errors, and which statuses an operation
  can answer follows from what it takes (middleware and exception handler, not the view);
- lists: every list answers {"data": [...], "meta": {...}} (apps.core.pagination), also
  from plain APIViews, which name no paginator.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.settings import api_settings

from apps.core.api.fields import StrictCharField
from apps.core.errors import ErrorCode


class ErrorEnvelopeSerializer(serializers.Serializer):
    """The error envelope of every 4xx/5xx answer."""

    error_code = serializers.ChoiceField(choices=[(code.value, code.value) for code in ErrorCode])
    message = StrictCharField(help_text="For people; may change. Programs read error_code.")
    details = serializers.JSONField(help_text="Per field messages, or what else the error carries.")
    timestamp = serializers.DateTimeField()
    request_id = StrictCharField(help_text="The X-Request-ID of the request, also in the logs.")


# What each status means on this platform; the codes are those apps.core.errors answers with it.
ERROR_DESCRIPTIONS = {
    "400": "VALIDATION_FIELD_REQUIRED or VALIDATION_FIELD_INVALID: the request is malformed or a field is "
    "missing or invalid (also a malformed X-Organization-ID).",
    "401": "AUTH_TOKEN_INVALID, AUTH_TOKEN_EXPIRED, AUTH_2FA_REQUIRED or AUTH_ACCOUNT_LOCKED: no valid "
    "credentials (a bearer token that is sent is checked on every operation).",
    "403": "RBAC_PERMISSION_DENIED, TENANT_ACCESS_DENIED or FEATURE_DISABLED.",
    "404": "NOT_FOUND: nothing the caller may see has that id.",
    "413": "VALIDATION_CONSTRAINT_VIOLATION: the request body is over the size limit.",
    "415": "VALIDATION_FIELD_INVALID: the body is not of a media type the operation takes.",
    "422": "A rule of the domain refuses the request (INVALID_STATE_TRANSITION, IDEMPOTENCY_KEY_REUSED, ...).",
    "429": "RATE_LIMIT_EXCEEDED or QUOTA_EXCEEDED; Retry-After says when to try again.",
    "503": "EXTERNAL_SERVICE_UNAVAILABLE: a service the platform depends on is out of reach; Retry-After.",
}
# Any operation: the middleware checks a sent bearer token and X-Organization-ID, the
# throttles and the backing services apply everywhere.
EVERY_OPERATION = ("400", "401", "403", "429", "503")
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class ManifestAutoSchema(AutoSchema):
    def _get_paginator(self):
        # Plain APIViews answer lists through apps.core.pagination.paginated_response: the
        # default paginator describes them unless a view names its own.
        pagination_class = getattr(self.view, "pagination_class", None) or api_settings.DEFAULT_PAGINATION_CLASS
        return pagination_class() if pagination_class else None

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        error = {"application/json": {"schema": self.resolve_serializer(ErrorEnvelopeSerializer, direction).ref}}
        for status in self._error_statuses():
            documented = responses.setdefault(status, {"description": ERROR_DESCRIPTIONS[status]})
            if not documented.get("content"):
                documented["content"] = error
        return dict(sorted(responses.items()))

    def _error_statuses(self) -> list[str]:
        statuses = list(EVERY_OPERATION)
        if self.method in UNSAFE_METHODS:
            statuses += ["404", "422"]  # a row named in the path or the body is not there; a rule refuses
            if self._get_request_body():
                statuses += ["413", "415"]
        elif "{" in self.path or self._get_pagination_parameters():
            statuses.append("404")  # no such row, or no such page of a list
        return sorted(statuses)


class DecimalFieldExtension(OpenApiSerializerFieldExtension):
    """A decimal (weights, temperatures, coordinates) as its field takes it.

    drf-spectacular's pattern, `^-?\\d{0,W}(?:\\.\\d{0,D})?$`, admits "", "-" and "." that the
    field refuses; here at least one digit, a sign only where negatives are allowed. A request
    may also give a JSON number (coordinates usually come so); answers are always strings.
    Money is not a DecimalField: apps.core.api.fields.MoneyAmountField, strings only."""

    target_class = serializers.DecimalField

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        sign = "-?" if field.min_value is None or field.min_value < 0 else ""
        whole = f"{{1,{field.max_whole_digits}}}" if field.max_whole_digits is not None else "+"
        fraction = f"(\\.[0-9]{{1,{field.decimal_places}}})?" if field.decimal_places else ""
        text = {"type": "string", "format": "decimal", "pattern": f"^{sign}[0-9]{whole}{fraction}$"}
        if direction == "response":
            return text
        number = {"type": "number"}
        if field.min_value is not None:
            number["minimum"] = float(field.min_value)
        if field.max_value is not None:
            number["maximum"] = float(field.max_value)
        return {"oneOf": [text, number]}


class TimeFieldExtension(OpenApiSerializerFieldExtension):
    """A time of day as DRF reads and writes it ("08:30", "08:30:00"): JSON Schema's `time`
    format demands an offset ("08:30:00Z") that a time of day (pick-up hours) has not, so
    the schema states the shape with a pattern instead."""

    target_class = serializers.TimeField

    def map_serializer_field(self, auto_schema, direction):
        return {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
            "example": "08:30:00",
        }
