"""The error envelope of DESIGN.md §5, for every error the platform answers.

    {"error_code", "message", "details", "timestamp", "request_id"}

Services raise DomainError subclasses carrying their code; DRF exceptions, Django's
404/500 handlers and the middleware all end up in `error_response`.
"""

from __future__ import annotations

import logging
import math
import sys
from enum import StrEnum

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import Http404, JsonResponse
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework import exceptions as drf
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.context import request_id_var

logger = logging.getLogger(__name__)


class ErrorCode(StrEnum):
    AUTH_TOKEN_INVALID = "AUTH_TOKEN_INVALID"
    AUTH_TOKEN_EXPIRED = "AUTH_TOKEN_EXPIRED"
    AUTH_2FA_REQUIRED = "AUTH_2FA_REQUIRED"
    AUTH_ACCOUNT_LOCKED = "AUTH_ACCOUNT_LOCKED"
    EMAIL_NOT_VERIFIED = "EMAIL_NOT_VERIFIED"  # 403: publishing, offering, inviting (apps/accounts/guards.py)
    RBAC_PERMISSION_DENIED = "RBAC_PERMISSION_DENIED"
    TENANT_ACCESS_DENIED = "TENANT_ACCESS_DENIED"
    FEATURE_DISABLED = "FEATURE_DISABLED"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    VALIDATION_FIELD_REQUIRED = "VALIDATION_FIELD_REQUIRED"
    VALIDATION_FIELD_INVALID = "VALIDATION_FIELD_INVALID"
    VALIDATION_CONSTRAINT_VIOLATION = "VALIDATION_CONSTRAINT_VIOLATION"
    RFQ_ALREADY_CLOSED = "RFQ_ALREADY_CLOSED"
    DOCUMENT_DATA_INCOMPLETE = "DOCUMENT_DATA_INCOMPLETE"  # 422: the shipment lacks what the document prints
    QUOTE_EXPIRED = "QUOTE_EXPIRED"  # 422: an instant quote past its valid_until cannot be booked
    ORDER_CANNOT_BE_CANCELLED = "ORDER_CANNOT_BE_CANCELLED"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    KYC_NOT_VERIFIED = "KYC_NOT_VERIFIED"
    INVALID_STATE_TRANSITION = "INVALID_STATE_TRANSITION"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    RATE_LIMIT_EXCEEDED = "RATE_LIMIT_EXCEEDED"
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    EXTERNAL_SERVICE_UNAVAILABLE = "EXTERNAL_SERVICE_UNAVAILABLE"


class DomainError(Exception):
    """An error a service raises on purpose; the API turns it into the envelope."""

    status_code = 422
    code = ErrorCode.VALIDATION_CONSTRAINT_VIOLATION
    # An error normally changes nothing. A refusal that must itself be recorded (a
    # failed sign-in counted towards lockout, a reused refresh token revoking its
    # session) sets this: what the service wrote before raising is committed.
    keeps_changes = False

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode | None = None,
        details: dict | None = None,
        status_code: int | None = None,
        headers: dict | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.details = details or {}
        self.headers = headers or {}
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code


class NotFound(DomainError):
    status_code = 404
    code = ErrorCode.NOT_FOUND


class ValidationFailed(DomainError):
    status_code = 400
    code = ErrorCode.VALIDATION_FIELD_INVALID


class PermissionDenied(DomainError):
    status_code = 403
    code = ErrorCode.RBAC_PERMISSION_DENIED


class TenantAccessDenied(DomainError):
    status_code = 403
    code = ErrorCode.TENANT_ACCESS_DENIED


class FeatureDisabled(DomainError):
    status_code = 403
    code = ErrorCode.FEATURE_DISABLED


class InvalidStateTransition(DomainError):
    code = ErrorCode.INVALID_STATE_TRANSITION


class RateLimited(DomainError):
    """Over a rate limit a service enforces itself (the same limit for REST and WebSocket
    callers): 429 with the seconds to wait in Retry-After."""

    status_code = 429
    code = ErrorCode.RATE_LIMIT_EXCEEDED

    def __init__(self, message: str, *, retry_after: float):
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(
            message, details={"retry_after": self.retry_after}, headers={"Retry-After": str(self.retry_after)}
        )


def envelope(code: str, message: str, details: dict | list | None = None) -> dict:
    return {
        "error_code": str(code),
        "message": message,
        "details": details or {},
        "timestamp": timezone.now().isoformat(),
        "request_id": request_id_var.get(),
    }


def error_response(status: int, code: str, message: str, details=None, headers: dict | None = None) -> JsonResponse:
    response = JsonResponse(envelope(code, message, details), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _roll_back_open_transactions() -> None:
    """A handled error must change nothing: mark every open transaction for rollback."""
    for connection in connections.all(initialized_only=True):
        if connection.in_atomic_block:
            connection.set_rollback(True)


def _validation_code(detail) -> ErrorCode:
    """VALIDATION_FIELD_REQUIRED when every problem is a missing field, else ..._INVALID."""
    codes = []

    def walk(node):
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        else:
            codes.append(getattr(node, "code", None))

    walk(detail)
    if codes and all(code in {"required", "null", "blank"} for code in codes):
        return ErrorCode.VALIDATION_FIELD_REQUIRED
    return ErrorCode.VALIDATION_FIELD_INVALID


_DRF_CODES = {
    drf.NotAuthenticated: (ErrorCode.AUTH_TOKEN_INVALID, "Authentication credentials were not provided."),
    drf.AuthenticationFailed: (ErrorCode.AUTH_TOKEN_INVALID, None),
    drf.PermissionDenied: (ErrorCode.RBAC_PERMISSION_DENIED, None),
    drf.NotFound: (ErrorCode.NOT_FOUND, "Not found."),
    drf.MethodNotAllowed: (ErrorCode.METHOD_NOT_ALLOWED, None),
    drf.Throttled: (ErrorCode.RATE_LIMIT_EXCEEDED, None),
    drf.UnsupportedMediaType: (ErrorCode.VALIDATION_FIELD_INVALID, None),
    drf.ParseError: (ErrorCode.VALIDATION_FIELD_INVALID, None),
    drf.NotAcceptable: (ErrorCode.VALIDATION_FIELD_INVALID, None),
}


def unavailable_response(exc: Exception) -> JsonResponse:
    logger.error("backing_service.unavailable", extra={"error": exc.__class__.__name__})
    return error_response(
        503,
        ErrorCode.EXTERNAL_SERVICE_UNAVAILABLE,
        "A service the platform depends on is unavailable. Try again shortly.",
        headers={"Retry-After": "5"},
    )


BACKING_SERVICE_ERRORS = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)


def api_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every API error in the envelope, and nothing committed
    (unless the error is a recorded refusal, see DomainError.keeps_changes)."""
    if not (isinstance(exc, DomainError) and exc.keeps_changes):
        _roll_back_open_transactions()
    if isinstance(exc, DomainError):
        return error_response(exc.status_code, exc.code, exc.message, exc.details, exc.headers)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        return error_response(413, ErrorCode.VALIDATION_CONSTRAINT_VIOLATION, "The request body is too large.")
    elif isinstance(exc, BACKING_SERVICE_ERRORS):
        return unavailable_response(exc)
    elif isinstance(exc, DatabaseError):
        logger.exception("api.database_error")
        return error_response(500, ErrorCode.INTERNAL_SERVER_ERROR, "An unexpected error occurred.")

    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("api.unhandled_error")
        return error_response(500, ErrorCode.INTERNAL_SERVER_ERROR, "An unexpected error occurred.")

    if isinstance(exc, drf.ValidationError):
        code = _validation_code(exc.detail)
        details = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        message = "The request has invalid or missing fields."
        return error_response(400, code, message, details)

    code, message = ErrorCode.VALIDATION_FIELD_INVALID, None
    for exc_class, (mapped_code, mapped_message) in _DRF_CODES.items():
        if isinstance(exc, exc_class):
            code, message = mapped_code, mapped_message
            break
    if isinstance(exc, drf.AuthenticationFailed) and getattr(exc, "detail", None) is not None:
        detail_code = getattr(exc.detail, "code", "") if not isinstance(exc.detail, dict) else ""
        if detail_code == "token_expired":
            code = ErrorCode.AUTH_TOKEN_EXPIRED
    headers = {}
    for header in ("Retry-After", "Allow", "WWW-Authenticate"):
        if header in response:
            headers[header] = response[header]
    detail = getattr(exc, "detail", "")
    return error_response(response.status_code, code, message or str(detail), {}, headers)


# --- Django-level handlers (urls.py): errors outside DRF views --------------------------


def handler404(request, exception=None):
    return error_response(404, ErrorCode.NOT_FOUND, f"No resource at {request.path}.")


def handler500(request):
    # Django calls this while handling the exception, so it is still at hand:
    # an outage of the database or Redis is a 503 with Retry-After, not a bug.
    exc = sys.exc_info()[1]
    if isinstance(exc, BACKING_SERVICE_ERRORS):
        return unavailable_response(exc)
    return error_response(500, ErrorCode.INTERNAL_SERVER_ERROR, "An unexpected error occurred.")


def handler403(request, exception=None):
    return error_response(403, ErrorCode.RBAC_PERMISSION_DENIED, "You do not have permission to do this.")


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: the envelope instead of Django's HTML page (the API itself is
    exempt; this answers unsafe requests to the plain Django views and the admin)."""
    return error_response(403, ErrorCode.RBAC_PERMISSION_DENIED, f"CSRF verification failed: {reason}".strip(": "))


def handler400(request, exception=None):
    return error_response(400, ErrorCode.VALIDATION_FIELD_INVALID, "The request could not be understood.")
