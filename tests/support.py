"""Helpers shared by tests that wait for real parts (a worker, a server)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx


def wait_until(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def web_process(**environment: str) -> Iterator[str]:
    """A real uvicorn process of the project with the test settings (plus `environment`);
    yields its base URL once /health answers, and stops it afterwards."""
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", **environment}
    command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--port", str(port)]
    # Its output (warnings and errors only) goes where the test's goes: pytest shows it with
    # a failure, and a server's traceback is often the failure's cause.
    server = subprocess.Popen([*command, "--lifespan", "off", "--log-level", "warning"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        up = wait_until(lambda: _answers(f"{base}/health"), timeout=30)
        assert up, f"server at {base} did not start"
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a socket still open keeps uvicorn's graceful stop waiting
            server.kill()
            server.wait(timeout=10)


@contextmanager
def web_processes(count: int, **environment: str) -> Iterator[list[str]]:
    with ExitStack() as stack:
        yield [stack.enter_context(web_process(**environment)) for _ in range(count)]


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=1)
        return True
    except httpx.TransportError:
        return False


def admin_client(user):
    """A client with the user's admin session; staff also passed TOTP (django-otp's session key)."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    if user.is_staff:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client
