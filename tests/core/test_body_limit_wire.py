"""Bodies over the limit are refused before they are read (issue 13, item 9), over a real
socket against the ASGI server: the client never finishes sending, and the 413 still comes.

Without the refusal at the edge, Django's ASGI handler waits for the whole body before any
middleware runs: these requests would get no answer at all (the socket's timeout below is
only a guard that turns that hang into a failure, nothing here measures time).
"""

from __future__ import annotations

import json
import socket

import pytest

LIMIT = 64 * 1024
GUARD_SECONDS = 15


@pytest.fixture
def small_limit(settings):
    # The server runs in this process: it reads the same settings.
    settings.MAX_REQUEST_BODY_BYTES = LIMIT


def _connect(address: str) -> socket.socket:
    host, port = address.split(":")
    connection = socket.create_connection((host, int(port)), timeout=GUARD_SECONDS)
    return connection


def _read_response(connection: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one response; reads until the server closes the connection."""
    data = b""
    while chunk := connection.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, value in (line.split(":", 1) for line in header_lines)}
    return int(status_line.split()[1]), headers, body


def _request_head(address: str, extra: str) -> bytes:
    return (
        f"POST /api/v1/auth/login HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n{extra}\r\n"
    ).encode()


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_sent(asgi_server, small_limit):
    connection = _connect(asgi_server)
    # Given a request that announces 100 MB and sends none of it
    connection.sendall(_request_head(asgi_server, f"Content-Length: {100 * 1024 * 1024}\r\n"))

    # then the server answers 413 in the envelope and closes the connection
    status, headers, body = _read_response(connection)
    connection.close()

    assert status == 413
    assert headers["connection"] == "close"
    assert headers["x-request-id"]
    payload = json.loads(body)
    assert payload["error_code"] == "VALIDATION_CONSTRAINT_VIOLATION"
    assert payload["details"] == {"limit_bytes": LIMIT}
    assert payload["request_id"] == headers["x-request-id"]


def test_a_chunked_body_is_refused_once_past_the_limit_without_waiting_for_its_end(asgi_server, small_limit):
    connection = _connect(asgi_server)
    connection.sendall(_request_head(asgi_server, "Transfer-Encoding: chunked\r\n"))
    # Given a chunked body one byte past the limit that is never finished (no last chunk).
    # (The client then waits: a server that closes with bytes still unread in its socket
    # resets the connection, and a client still sending may lose the answer to that reset.)
    chunk = b"x" * 8192
    for _ in range(LIMIT // len(chunk)):
        connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    connection.sendall(b"1\r\nx\r\n")

    # then the 413 comes anyway, and the connection is closed: nothing more is read
    status, headers, body = _read_response(connection)
    connection.close()

    assert status == 413
    assert headers["connection"] == "close"
    payload = json.loads(body)
    assert payload["error_code"] == "VALIDATION_CONSTRAINT_VIOLATION"
    assert payload["details"] == {"limit_bytes": LIMIT}


def test_a_body_within_the_limit_is_read_and_handled(asgi_server, small_limit):
    connection = _connect(asgi_server)
    body = json.dumps({"email": "nobody@example.test", "password": "wrong-password"}).encode()
    connection.sendall(_request_head(asgi_server, f"Content-Length: {len(body)}\r\nConnection: close\r\n") + body)

    status, _, response = _read_response(connection)
    connection.close()

    # The sign-in itself answers (a wrong password), not the size limit.
    assert status == 401, response
    assert json.loads(response)["error_code"] == "AUTH_TOKEN_INVALID"


def test_a_chunked_body_within_the_limit_reaches_the_view(asgi_server, small_limit):
    connection = _connect(asgi_server)
    body = b"{}"
    connection.sendall(_request_head(asgi_server, "Transfer-Encoding: chunked\r\nConnection: close\r\n"))
    connection.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))

    status, _, response = _read_response(connection)
    connection.close()

    # The view's own validation answers, not the size limit.
    assert status == 400, response
    assert json.loads(response)["error_code"] == "VALIDATION_FIELD_REQUIRED"


def test_a_small_chunked_json_body_is_read_like_one_with_a_length(asgi_server, small_limit):
    # given a sign-in sent chunked (no Content-Length), as streaming clients send bodies
    body = json.dumps({"email": "nobody@example.test", "password": "not-the-password"}).encode()
    chunks = b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (body[:10], body[10:])) + b"0\r\n\r\n"
    connection = _connect(asgi_server)

    # when it is sent whole
    connection.sendall(_request_head(asgi_server, "Transfer-Encoding: chunked\r\nConnection: close\r\n") + chunks)
    status, _, answer = _read_response(connection)
    connection.close()

    # then the credentials were read and refused (401), not taken for an empty body (400)
    assert status == 401, answer
