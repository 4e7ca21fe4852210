"""A mail catcher: an SMTP server on loopback that keeps what it receives, and pages to read it.

`make run` points Django's SMTP backend at it, so a newcomer sees every e-mail the platform
sends (the page at http://127.0.0.1:8026/), and tests read the same messages as JSON. Nothing
leaves the machine. State lives in memory (the last MAX_MESSAGES messages) for as long as the
process. Unlike the other sandboxes it needs one package beyond the standard library,
aiosmtpd (requirements/base.txt), for the SMTP side.

    python -m sandboxes.mail_catcher --smtp-port 8025 --http-port 8026

Two recipient domains answer like a real mail server that refuses (docs/notification-providers.md):
any address at `bounce.test` is refused at RCPT with 550 (permanent: a bounce), any address
at `tempfail.test` with 451 (transient: try again later).
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import re
import secrets
import signal
import threading
import time
from collections import deque
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller

logger = logging.getLogger("sandboxes.mail_catcher")

MAX_MESSAGES = 1000
# With MAX_MESSAGES kept, this bounds the catcher's memory (a real server's limit is similar).
MAX_MESSAGE_BYTES = 10 * 1024 * 1024
BOUNCE_DOMAIN = "bounce.test"
TEMPFAIL_DOMAIN = "tempfail.test"
# The pages are read by people; mail bodies are untrusted, so nothing in them may run.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_MESSAGE_PATH = re.compile(r"/messages/(?P<message_id>[0-9a-f]{24})")


def _domain(address: str) -> str:
    return address.rpartition("@")[2].strip().rstrip(">").lower()


class MessageStore:
    """The messages received so far, newest last; every access under one lock."""

    def __init__(self, max_messages: int = MAX_MESSAGES):
        self._messages: deque[dict] = deque(maxlen=max_messages)
        self._changed = threading.Condition()

    def add(self, *, mail_from: str, recipients: list[str], raw: bytes) -> dict:
        try:
            message = _parsed(mail_from=mail_from, recipients=recipients, raw=raw)
        except Exception:
            # A catcher keeps what it is given, however garbled: the raw source still shows it.
            logger.exception("could not parse a message from %s", mail_from)
            message = _unparsed(mail_from=mail_from, recipients=recipients, raw=raw)
        with self._changed:
            self._messages.append(message)
            self._changed.notify_all()
        return message

    def messages(self, to: str | None = None) -> list[dict]:
        """Copies of the messages kept, oldest first; `to`: only those with that recipient."""
        with self._changed:
            return [dict(message) for message in self._messages if _addressed_to(message, to)]

    def get(self, message_id: str) -> dict | None:
        with self._changed:
            return next((dict(message) for message in self._messages if message["id"] == message_id), None)

    def wait_for(self, to: str | None, count: int = 1, timeout: float = 5.0) -> list[dict]:
        """messages(to) once there are at least `count`; TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [dict(message) for message in self._messages if _addressed_to(message, to)]
                remaining = deadline - time.monotonic()
                if len(found) >= count:
                    return found
                if remaining <= 0:
                    raise TimeoutError(f"{len(found)} of {count} messages to {to or 'anyone'} after {timeout} s")
                self._changed.wait(remaining)

    def clear(self) -> None:
        with self._changed:
            self._messages.clear()


def _addressed_to(message: dict, to: str | None) -> bool:
    return to is None or to.lower() in (recipient.lower() for recipient in message["to"])


def _parsed(*, mail_from: str, recipients: list[str], raw: bytes) -> dict:
    parsed: EmailMessage = BytesParser(policy=policy.default).parsebytes(raw)
    headers: dict[str, str] = {}
    for name, value in parsed.items():
        # A header may repeat (Received); keep every value, one per line.
        headers[name] = f"{headers[name]}\n{value}" if name in headers else str(value)
    return {
        "id": secrets.token_hex(12),
        "from": mail_from,
        "to": list(recipients),
        "subject": str(parsed.get("Subject", "")),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "text": _body(parsed, "plain"),
        "html": _body(parsed, "html"),
        "attachments": [
            {
                "filename": part.get_filename() or "",
                "content_type": part.get_content_type(),
                "size": len(part.get_payload(decode=True) or b""),
            }
            for part in parsed.iter_attachments()
        ],
        "headers": headers,
        "raw": raw.decode("utf-8", errors="replace"),
    }


def _unparsed(*, mail_from: str, recipients: list[str], raw: bytes) -> dict:
    return {
        "id": secrets.token_hex(12),
        "from": mail_from,
        "to": list(recipients),
        "subject": "(unparseable message)",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "text": "",
        "html": "",
        "attachments": [],
        "headers": {},
        "raw": raw.decode("utf-8", errors="replace"),
    }


def _body(parsed: EmailMessage, subtype: str) -> str:
    part = parsed.get_body(preferencelist=(subtype,))
    if part is None:
        return ""
    try:
        return part.get_content()
    except (LookupError, ValueError):  # an unknown charset or a garbled transfer encoding
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


# --- SMTP ------------------------------------------------------------------------------


class _CatchingHandler:
    """aiosmtpd's handler: refuses the two magic domains, keeps everything else."""

    def __init__(self, store: MessageStore):
        self.store = store

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        domain = _domain(address)
        if domain == BOUNCE_DOMAIN:
            return f"550 5.1.1 <{address}>: recipient refused (the {BOUNCE_DOMAIN} domain bounces every address)"
        if domain == TEMPFAIL_DOMAIN:
            return f"451 4.3.0 <{address}>: try again later (the {TEMPFAIL_DOMAIN} domain always defers)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        message = self.store.add(mail_from=envelope.mail_from, recipients=list(envelope.rcpt_tos), raw=raw)
        logger.info("message %s from %s to %s: %s", message["id"], message["from"], message["to"], message["subject"])
        return "250 2.0.0 Message accepted"


class _SmtpController(Controller):
    """aiosmtpd's threaded controller, able to listen on a port the system picks (port 0)."""

    def _trigger_server(self):
        # The controller connects to its own port once to prove the server is up; with port
        # 0 it must first learn the port the system gave it.
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


# --- HTTP ------------------------------------------------------------------------------


def _page(title: str, body: str) -> bytes:
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}"
        "pre{white-space:pre-wrap;background:#f6f6f6;padding:1em}</style></head>"
        f"<body>{body}</body></html>\n"
    ).encode()


def _list_page(messages: list[dict]) -> bytes:
    rows = "".join(
        "<tr>"
        f"<td>{html.escape(message['date'])}</td>"
        f"<td>{html.escape(message['from'])}</td>"
        f"<td>{html.escape(', '.join(message['to']))}</td>"
        f"<td><a href='/messages/{message['id']}'>{html.escape(message['subject'] or '(no subject)')}</a></td>"
        "</tr>"
        for message in reversed(messages)
    )
    body = (
        f"<h1>Mail catcher</h1><p>{len(messages)} message(s), newest first. "
        "JSON: <a href='/api/messages'>/api/messages</a>.</p>"
        "<table><tr><th>Received</th><th>From</th><th>To</th><th>Subject</th></tr>"
        f"{rows}</table>"
    )
    return _page("Mail catcher", body)


def _message_page(message: dict) -> bytes:
    headers = "".join(
        f"<tr><th>{html.escape(name)}</th><td>{html.escape(value)}</td></tr>"
        for name, value in message["headers"].items()
    )
    attachments = "".join(
        f"<li>{html.escape(item['filename'] or '(unnamed)')} ({html.escape(item['content_type'])}, "
        f"{item['size']} bytes)</li>"
        for item in message["attachments"]
    )
    body = (
        "<p><a href='/'>All messages</a></p>"
        f"<h1>{html.escape(message['subject'] or '(no subject)')}</h1>"
        f"<p>Envelope from {html.escape(message['from'])} to {html.escape(', '.join(message['to']))}, "
        f"received {html.escape(message['date'])}.</p>"
        f"<h2>Headers</h2><table>{headers}</table>"
        f"<h2>Text</h2><pre>{html.escape(message['text'])}</pre>"
        # Shown as source, never rendered: a mail's HTML is whatever its sender wrote.
        f"<h2>HTML (source)</h2><pre>{html.escape(message['html'])}</pre>"
        + (f"<h2>Attachments</h2><ul>{attachments}</ul>" if attachments else "")
    )
    return _page(message["subject"] or "(no subject)", body)


class _Handler(BaseHTTPRequestHandler):
    server_version = "MailCatcher/1.0"
    server: _HttpServer

    def do_GET(self) -> None:
        store = self.server.store
        parts = urlsplit(self.path)
        if parts.path == "/":
            self._answer(200, _list_page(store.messages()), "text/html; charset=utf-8")
        elif parts.path == "/api/messages":
            to = parse_qs(parts.query).get("to", [None])[0]
            self._json(200, {"messages": store.messages(to)})
        elif parts.path == "/health":
            self._json(200, {"status": "ok"})
        elif (match := _MESSAGE_PATH.fullmatch(parts.path)) and (message := store.get(match["message_id"])):
            self._answer(200, _message_page(message), "text/html; charset=utf-8")
        else:
            self._json(404, {"error": "not found"})

    def do_DELETE(self) -> None:
        if urlsplit(self.path).path != "/api/messages":
            self._json(404, {"error": "not found"})
            return
        self.server.store.clear()
        self._answer(204, b"", "")

    def log_message(self, format: str, *args) -> None:
        logger.info("%s %s", self.address_string(), format % args)

    def _json(self, status: int, body: dict) -> None:
        self._answer(status, json.dumps(body, separators=(",", ":")).encode(), "application/json")

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            for name, value in PAGE_HEADERS.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, store: MessageStore):
        super().__init__(address, _Handler)
        self.store = store


class MailCatcher:
    """A running catcher: where it listens, what it caught, and stop()."""

    def __init__(self, *, store: MessageStore, smtp: _SmtpController, httpd: _HttpServer, thread: threading.Thread):
        self.store = store
        self._smtp = smtp
        self._httpd = httpd
        self._thread = thread
        self.smtp_host = smtp.hostname
        self.smtp_port = smtp.port
        host, port = httpd.server_address[:2]
        self.http_url = f"http://{host}:{port}"

    def messages(self, to: str | None = None) -> list[dict]:
        return self.store.messages(to)

    def wait_for(self, to: str | None, count: int = 1, timeout: float = 5.0) -> list[dict]:
        return self.store.wait_for(to, count=count, timeout=timeout)

    def clear(self) -> None:
        self.store.clear()

    def stop(self) -> None:
        self._smtp.stop()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> MailCatcher:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def start_catcher(
    host: str = "127.0.0.1", smtp_port: int = 0, http_port: int = 0, *, max_messages: int = MAX_MESSAGES
) -> MailCatcher:
    """Serve SMTP and the pages from daemon threads; port 0 picks a free port."""
    store = MessageStore(max_messages)
    smtp = _SmtpController(_CatchingHandler(store), hostname=host, port=smtp_port, data_size_limit=MAX_MESSAGE_BYTES)
    smtp.start()
    try:
        httpd = _HttpServer((host, http_port), store)
    except OSError:
        smtp.stop()
        raise
    thread = threading.Thread(target=httpd.serve_forever, name="mail-catcher-http", daemon=True)
    thread.start()
    return MailCatcher(store=store, smtp=smtp, httpd=httpd, thread=thread)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.mail_catcher", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=8025)
    parser.add_argument("--http-port", type=int, default=8026)
    parser.add_argument("--max-messages", type=int, default=MAX_MESSAGES, help="how many messages are kept")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s mail-catcher %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd: a line per connection

    catcher = start_catcher(
        arguments.host, arguments.smtp_port, arguments.http_port, max_messages=arguments.max_messages
    )
    logger.info("SMTP on %s:%d, messages at %s/", catcher.smtp_host, catcher.smtp_port, catcher.http_url)
    stop_requested = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda signum, frame: stop_requested.set())
    while not stop_requested.wait(0.5):
        pass
    catcher.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
