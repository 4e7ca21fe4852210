"""Log lines are JSON with the request context, and never carry secrets."""

import io
import json
import logging

from apps.core.context import request_id_var
from apps.core.logs import RedactingJsonFormatter, RequestContextFilter


def render(message, **extra) -> dict:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingJsonFormatter("%(levelname)s %(name)s %(message)s"))
    handler.addFilter(RequestContextFilter())
    logger = logging.getLogger("tests.logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(message, extra=extra)
    finally:
        logger.removeHandler(handler)
    return json.loads(stream.getvalue())


def test_log_line_is_json_with_the_request_id():
    token = request_id_var.set("req-42")
    try:
        line = render("order.created", order_id="o-1")
    finally:
        request_id_var.reset(token)

    assert line["message"] == "order.created"
    assert line["request_id"] == "req-42"
    assert line["order_id"] == "o-1"


def test_passwords_and_tokens_are_redacted_even_when_nested():
    line = render("auth.attempt", password="hunter2", payload={"refresh_token": "abc", "email": "a@b.c"})

    assert line["password"] == "[redacted]"
    assert line["payload"]["refresh_token"] == "[redacted]"
    assert line["payload"]["email"] == "a@b.c"
    assert "hunter2" not in json.dumps(line)
