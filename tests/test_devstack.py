"""`make run` with port 8000 taken says so, and honours PORT; the notification sandboxes it
starts answer on the ports given."""

import os
import smtplib
import socket
import subprocess
import sys
import time

import httpx
import pytest

from devstack import __main__ as devstack_main
from devstack import services as devstack_services
from devstack.__main__ import run
from tests.support import free_port


def test_run_refuses_a_taken_port_and_names_the_way_out(monkeypatch, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("PORT", str(port))

        assert run() == 1

    error = capsys.readouterr().err
    assert f"Port {port} is already in use" in error
    assert f"PORT={port + 1} make run" in error


# --- The notification sandboxes `make run` starts (docs/notification-providers.md) ------------

NOTIFICATION_PORTS = sorted(
    {"MAIL_CATCHER_SMTP_PORT", "MAIL_CATCHER_HTTP_PORT", "SMS_SANDBOX_PORT", "PUSH_SANDBOX_PORT"}
)


@pytest.mark.parametrize("variable", NOTIFICATION_PORTS)
def test_run_refuses_a_taken_notification_sandbox_port_and_names_its_variable(monkeypatch, capsys, variable):
    for other in devstack_main.PORTS:
        monkeypatch.setenv(other, str(free_port()))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv(variable, str(port))

        assert run() == 1

    assert f"{variable}={port + 1} make run" in capsys.readouterr().err


def wait_until_answering(url: str, process: subprocess.Popen, timeout: float = 15.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=1)
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def stop(process: subprocess.Popen) -> int:
    process.terminate()
    return process.wait(timeout=10)


def test_the_mail_catcher_as_make_run_starts_it_catches_mail_on_the_ports_given():
    smtp_port, http_port = free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandboxes.mail_catcher", "--smtp-port", str(smtp_port), "--http-port", str(http_port)],
        cwd=devstack_services.ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_until_answering(f"http://127.0.0.1:{http_port}/health", process).status_code == 200
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=5) as client:
            client.sendmail("no-reply@manifest.test", ["newcomer@example.test"], "Subject: Welcome\r\n\r\nHello")

        [message] = httpx.get(f"http://127.0.0.1:{http_port}/api/messages").json()["messages"]
        page = httpx.get(f"http://127.0.0.1:{http_port}/")
    finally:
        exit_code = stop(process)

    assert message["subject"] == "Welcome"
    assert "Welcome" in page.text
    assert exit_code == 0  # SIGTERM, as make run's Ctrl-C sends, stops it cleanly


@pytest.mark.parametrize("module", ["sandboxes.push_service", "sandboxes.sms_gateway"])
def test_the_sms_and_push_sandboxes_as_make_run_starts_them_answer_on_the_port_given(module):
    port = free_port()
    env = {**os.environ, "SMS_SANDBOX_API_KEY": "devstack-test-key", "SMS_SANDBOX_SECRET": "devstack-test-secret"}
    process = subprocess.Popen(
        [sys.executable, "-m", module, "--port", str(port)],
        cwd=devstack_services.ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        health = wait_until_answering(f"http://127.0.0.1:{port}/health", process)
    finally:
        exit_code = stop(process)

    assert health.json() == {"status": "ok"}
    assert exit_code == 0


def test_make_run_points_email_sms_and_push_at_the_sandboxes_with_a_vapid_pair_kept_once(monkeypatch, tmp_path):
    monkeypatch.setattr(devstack_services, "VAR", tmp_path)
    ports = {variable: int(default) for variable, default in devstack_main.PORTS.items()}
    ports.update(PORT=8100, MAIL_CATCHER_SMTP_PORT=9025, SMS_SANDBOX_PORT=9012)

    environment = devstack_main._notification_environment(ports)
    again = devstack_main._notification_environment(ports)

    assert environment["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (environment["EMAIL_HOST"], environment["EMAIL_PORT"]) == ("127.0.0.1", "9025")
    assert environment["SMS_SANDBOX_URL"] == "http://127.0.0.1:9012"
    assert environment["SMS_STATUS_CALLBACK_URL"] == (
        "http://127.0.0.1:8100/api/v1/notifications/providers/sms/sandbox/reports"
    )
    assert environment["WEB_PUSH_VAPID_PRIVATE_KEY"] == again["WEB_PUSH_VAPID_PRIVATE_KEY"]
    assert len(environment["WEB_PUSH_VAPID_PUBLIC_KEY"]) == 87  # base64url of a 65-byte point
    assert (tmp_path / "secrets" / "vapid_private_key").stat().st_mode & 0o777 == 0o600
