"""JSON log lines that carry the request id, organization and user, and never a secret."""

from __future__ import annotations

import logging
import re

from pythonjsonlogger.json import JsonFormatter

from apps.core.context import client_var, current_scope, request_id_var

# Substrings of keys whose values are never written to a log line.
SECRET_KEY_PARTS = ("password", "token", "secret", "authorization", "cookie", "otp", "code_hash", "api_key")
REDACTED = "[redacted]"
# Query parameters whose values never reach a log line: a URL in an access log carries them
# (a WebSocket's deprecated ?token=, signed download links).
_URL_SECRET = re.compile(
    r"([?&;][^=&#\s\"']*(?:token|secret|password|signature|api_key|apikey|otp)[^=&#\s\"']*=)[^&#\s\"']*",
    re.IGNORECASE,
)


def redact_url_secrets(text: str) -> str:
    """The text with the value of every secret-looking query parameter replaced."""
    return _URL_SECRET.sub(rf"\1{REDACTED}", text)


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        scope = current_scope()
        record.request_id = request_id_var.get()
        record.organization_id = str(scope.organization_id) if scope.organization_id else None
        record.user_id = str(scope.user_id) if scope.user_id else None
        record.client_ip = client_var.get().ip_address  # apps.core.network.client_ip's answer
        return True


class RedactUrlSecretsFilter(logging.Filter):
    """On a handler: secrets in URLs are redacted from every record it writes, whoever logged it
    (uvicorn's "WebSocket /ws/v1/events/?token=..." lines, access logs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_url_secrets(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_url_secrets(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                key: redact_url_secrets(arg) if isinstance(arg, str) else arg for key, arg in record.args.items()
            }
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
