"""JSON log lines that carry the request id, organization and user, and never a secret."""

from __future__ import annotations

import logging

from pythonjsonlogger.json import JsonFormatter

from apps.core.context import current_scope, request_id_var

# Substrings of keys whose values are never written to a log line.
SECRET_KEY_PARTS = ("password", "token", "secret", "authorization", "cookie", "otp", "code_hash", "api_key")
REDACTED = "[redacted]"


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        scope = current_scope()
        record.request_id = request_id_var.get()
        record.organization_id = str(scope.organization_id) if scope.organization_id else None
        record.user_id = str(scope.user_id) if scope.user_id else None
        return True


def _redact(value):
    if isinstance(value, dict):
        return {
            key: REDACTED if any(part in str(key).lower() for part in SECRET_KEY_PARTS) else _redact(item)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_redact(item) for item in value]
    return value


class RedactingJsonFormatter(JsonFormatter):
    def process_log_record(self, log_data):
        return _redact(super().process_log_record(log_data))
