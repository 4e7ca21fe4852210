"""Request body limits at the ASGI edge: a body over the limit is refused with 413 before it
is read, not after.

Django reads the body (into memory or a temporary file) before its middleware can judge
it, so `BodySizeLimitMiddleware` alone would answer 413 only after receiving all of it (an
11 MB limit would not stop a 10 GB upload from being read). `RequestBodyLimit` wraps the
Django application at the ASGI edge (config/asgi.py):

- a `Content-Length` over the limit is answered at once, nothing read;
- a body without one (`Transfer-Encoding: chunked`) is counted as it arrives: once past the
  limit, Django is told the client went away (it stops reading and answers nothing) and the
  413 is sent instead.

Both answers close the connection (`Connection: close`), so the server reads no more of the
body. The Django middleware stays for servers without this wrapper (WSGI, the test client).
"""

from __future__ import annotations

import json
import uuid

from django.conf import settings

from apps.core.context import request_id_var
from apps.core.errors import ErrorCode, envelope


def body_limit_for(content_type: str) -> int:
    """The largest body accepted with this Content-Type, in bytes: MAX_UPLOAD_BODY_BYTES for
    file uploads (multipart; each file's own size is checked by its view), else
    MAX_REQUEST_BODY_BYTES."""
    is_upload = content_type.lower().startswith("multipart/form-data")
    return settings.MAX_UPLOAD_BODY_BYTES if is_upload else settings.MAX_REQUEST_BODY_BYTES


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


async def _send_too_large(scope, send, message: str, limit: int) -> None:
    # Answered before RequestIdMiddleware runs: its request id rules, here (imported late:
    # that module imports this one).
    from apps.core.middleware import _VALID_REQUEST_ID

    incoming = _header(scope, b"x-request-id") or ""
    request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
    token = request_id_var.set(request_id)
    try:
        error = envelope(ErrorCode.VALIDATION_CONSTRAINT_VIOLATION, message, {"limit_bytes": limit})
    finally:
        request_id_var.reset(token)
    body = json.dumps(error).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
                # The rest of the body is never read: the connection cannot carry another request.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestBodyLimit:
    """ASGI middleware: 413 VALIDATION_CONSTRAINT_VIOLATION for an HTTP request body over
    `body_limit_for(its Content-Type)`, on the declared length before reading, or on the
    bytes received so far for a body of unknown length."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = body_limit_for(_header(scope, b"content-type") or "")
        declared = _header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            message = f"The request body is {int(declared)} bytes; the limit is {limit} bytes."
            return await _send_too_large(scope, send, message, limit)

        received = 0
        over_limit = False
        response_started = False

        async def counting_receive():
            nonlocal received, over_limit
            if over_limit:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Django stops reading on a disconnect and answers nothing; the 413 is ours.
                    over_limit = True
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message):
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        await self.app(scope, counting_receive, tracking_send)
        if over_limit and not response_started:
            await _send_too_large(scope, send, f"The request body is over the limit of {limit} bytes.", limit)


class ChunkedBodyLength:
    """ASGI middleware: a chunked request body (no `Content-Length`) is read whole first and
    handed on with its length, so that a WSGI application reads it.

    Behind the WSGI bridge of config/asgi.py, Django reads `CONTENT_LENGTH` bytes of the body
    and no more: without the header a chunked sign-in would look empty. Placed inside
    `RequestBodyLimit`, which counts what this reads: a body past the limit ends in a
    disconnect here (the application is not called) and a 413 there.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or "chunked" not in (_header(scope, b"transfer-encoding") or "").lower():
            return await self.app(scope, receive, send)
        parts = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away, or the body is over the limit: nothing to answer here
            parts.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(parts)
        headers = [(key, value) for key, value in scope["headers"] if key.lower() != b"transfer-encoding"]
        headers.append((b"content-length", str(len(body)).encode()))
        delivered = False

        async def replay():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app({**scope, "headers": headers}, replay, send)
