"""Idempotency-Key for creating and money-moving POSTs (DESIGN.md §5).

The same key with the same request replays the first response; the same key with
a different request answers 422 IDEMPOTENCY_KEY_REUSED. The record is written in
the request's transaction, so a request that failed leaves no record and may be
retried with its key; a concurrent duplicate waits on the unique index until the
first commits, then replays it.
"""

from __future__ import annotations

import hashlib
import json
from functools import wraps

from django.core.files.uploadedfile import UploadedFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils.datastructures import MultiValueDict
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from apps.core.context import current_organization_id
from apps.core.errors import DomainError, ErrorCode, ValidationFailed
from apps.core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255  # the column's length; the schema states it, the decorator enforces it
KEY_SCHEMA = {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH}
# For the OpenAPI schema of every view that takes the header.
IDEMPOTENCY_HEADER = OpenApiParameter(
    HEADER,
    KEY_SCHEMA,
    OpenApiParameter.HEADER,
    required=False,
    description="Retries with the same key and body replay the first response.",
)


def _fingerprint_value(value) -> str:
    """A body value JSON has no form for; an uploaded file by its name and content (its name
    alone would let another file under the same key replay the first answer)."""
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return f"file {value.name} {value.size} sha256:{digest.hexdigest()}"
    return str(value)


def _fingerprint(request) -> str:
    data = request.data
    if isinstance(data, MultiValueDict):  # a form: every value of a field (several files), not the last
        data = dict(data.lists())
    body = json.dumps(data, sort_keys=True, cls=DjangoJSONEncoder, default=_fingerprint_value)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _claim(request, key: str, fingerprint: str) -> tuple[IdempotencyRecord, bool]:
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                user=request.user,
                organization_id=current_organization_id(),
                key=key,
                method=request.method,
                path=request.path[:500],
                request_fingerprint=fingerprint,
            )
        return record, True
    except IntegrityError:
        return IdempotencyRecord.objects.get(user=request.user, key=key), False


# For money-moving POSTs, where the header is required.
IDEMPOTENCY_HEADER_REQUIRED = OpenApiParameter(
    HEADER,
    KEY_SCHEMA,
    OpenApiParameter.HEADER,
    required=True,
    description="Required: a retry with the same key and body replays the first response and moves nothing again.",
)


def idempotent(view_method=None, *, required: bool = False):
    """Decorate a POST handler of an APIView to honour the Idempotency-Key header.

    `@idempotent(required=True)` (money-moving POSTs): a request without the header is
    400 VALIDATION_FIELD_REQUIRED and changes nothing."""
    if view_method is None:
        return lambda method: idempotent(method, required=required)

    @wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None and required:
            raise ValidationFailed(
                f"This request moves money: send an {HEADER} header, and the same one when you retry.",
                code=ErrorCode.VALIDATION_FIELD_REQUIRED,
                details={HEADER: ["Required."]},
            )
        if key is None:
            return view_method(self, request, *args, **kwargs)
        if not 1 <= len(key) <= MAX_KEY_LENGTH:
            message = f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters."
            raise ValidationFailed(message, details={HEADER: [message]})
        fingerprint = _fingerprint(request)
        record, created = _claim(request, key, fingerprint)
        if not created:
            if record.request_fingerprint != fingerprint:
                raise DomainError(
                    f"This {HEADER} was already used for a different request.", code=ErrorCode.IDEMPOTENCY_KEY_REUSED
                )
            return Response(record.response_body, status=record.response_status, headers={REPLAY_HEADER: "true"})
        response = view_method(self, request, *args, **kwargs)
        record.response_status = response.status_code
        record.response_body = json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))
        record.save(update_fields=["response_status", "response_body"])
        return response

    return wrapper
