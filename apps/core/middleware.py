"""Request-wide middleware: request ids, body size limits, backing-service outages."""

from __future__ import annotations

import re
import uuid

from apps.core.body_limit import body_limit_for
from apps.core.context import request_id_var
from apps.core.errors import ErrorCode, error_response

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIdMiddleware:
    """Take the caller's X-Request-ID when it is sane, else make one; echo it and log with it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            return response
        finally:
            request_id_var.reset(token)


class BodySizeLimitMiddleware:
    """Refuse bodies over MAX_REQUEST_BODY_BYTES (MAX_UPLOAD_BODY_BYTES for multipart uploads)
    with 413 before anything reads them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "CONTENT_LENGTH" not in request.META and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            # A chunked body has no declared length, and DRF reads a request without one as
            # empty. Under ASGI the body is already received whole, within the limit that
            # apps.core.body_limit enforced at the edge while it arrived: give it its length.
            request.META["CONTENT_LENGTH"] = str(len(request.body))
        declared = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(declared)
        except ValueError:
            return error_response(400, ErrorCode.VALIDATION_FIELD_INVALID, "Content-Length is not a number.")
        limit = body_limit_for(request.META.get("CONTENT_TYPE", ""))
        if length > limit:
            return error_response(
                413,
                ErrorCode.VALIDATION_CONSTRAINT_VIOLATION,
                f"The request body is {length} bytes; the limit is {limit} bytes.",
                {"limit_bytes": limit},
            )
        return self.get_response(request)
