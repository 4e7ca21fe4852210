"""The server's own log lines never carry an access token: a real server process, started
both as `make run` and the Docker image do (config.server) and as bare uvicorn."""

import asyncio
import json
import os
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import pytest
import websockets
from django.conf import settings

from apps.accounts.services import session_start
from tests.factories import OrganizationFactory, member
from tests.support import _answers, free_port, wait_until

LAUNCHERS = {
    "config.server": ["-m", "config.server", "--host", "127.0.0.1", "--port"],
    "bare uvicorn": ["-m", "uvicorn", "config.asgi:application", "--lifespan", "off", "--port"],
}


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_a_token_in_a_websocket_url_is_redacted_from_the_server_log(committed, django_db_setup, tmp_path, launcher):
    organization = OrganizationFactory()
    token = session_start(user=member(organization)).access
    port = free_port()
    log_path = tmp_path / "server.log"
    database_url = urlunsplit(urlsplit(settings.APP_DATABASE_URL)._replace(path=f"/{django_db_setup}"))
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "LOG_LEVEL": "INFO",
        "APP_DATABASE_URL": database_url,  # this test's database, where the user was committed
        "DB_POOL": "false",
    }
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [sys.executable, *LAUNCHERS[launcher], str(port)], env=environment, stdout=log, stderr=log
        )
        try:
            assert wait_until(lambda: _answers(f"http://127.0.0.1:{port}/health"), timeout=30), "no server"

            async def connect():
                url = f"ws://127.0.0.1:{port}/ws/v1/events/?token={token}"  # the deprecated way
                async with websockets.connect(url, origin=f"http://127.0.0.1:{port}") as ws:
                    return json.loads(await ws.recv())

            connected = asyncio.run(connect())
        finally:
            server.terminate()
            server.wait(timeout=10)
    text = log_path.read_text()

    assert connected["type"] == "connected"  # ?token= still works, for clients not yet moved
    assert "/ws/v1/events/?token=[redacted]" in text  # the line is there, without the secret
    assert token not in text
    assert token.split(".")[2] not in text  # not even the signature part
