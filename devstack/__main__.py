"""`python -m devstack run|test|exec`: the two commands of the README, and a helper.

run   set up (services, database role, migrations, demo data), then serve web,
      worker, beat, the payment and carrier tracking sandboxes, the mail catcher, the
      SMS and web-push sandboxes and the e-commerce platform sandboxes (with demo shops)
      until one Ctrl-C stops everything.
test  the same set-up, then pytest with the arguments given after `test`.
exec  the same environment, then any command (used by bench and by hand).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

from devstack.services import ROOT, _secret, ensure_environment, vapid_key_pair
from sandboxes.carrier_tracking import SEEDED_NUMBERS

PYTHON = sys.executable


def _manage(*args: str, settings: str = "config.settings.dev") -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings}
    subprocess.run([PYTHON, str(ROOT / "manage.py"), *args], check=True, env=env, cwd=ROOT)


def _prepare(settings: str) -> dict[str, str]:
    started = ensure_environment()
    _manage("setup_database", settings=settings)
    return started


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# Each port `make run` listens on: the variable that moves it, and its default.
PORTS = {
    "PORT": "8000",
    "PAYMENT_SANDBOX_PORT": "8010",
    "CARRIER_SANDBOX_PORT": "8011",
    "SMS_SANDBOX_PORT": "8012",
    "PUSH_SANDBOX_PORT": "8013",
    "PLATFORM_SANDBOX_PORT": "8014",
    "MAIL_CATCHER_SMTP_PORT": "8025",
    "MAIL_CATCHER_HTTP_PORT": "8026",
}


def _notification_environment(ports: dict[str, int]) -> dict[str, str]:
    """What web, worker and beat need to send e-mail to the catcher, SMS and web push to the sandboxes."""
    vapid_private_key, vapid_public_key = vapid_key_pair()
    return {
        # Every e-mail goes to the mail catcher, whatever EMAIL_* say elsewhere: nothing leaves the machine.
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(ports["MAIL_CATCHER_SMTP_PORT"]),
        "EMAIL_USE_TLS": "false",
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "SMS_GATEWAY": "sandbox",
        "SMS_SANDBOX_URL": f"http://127.0.0.1:{ports['SMS_SANDBOX_PORT']}",
        "SMS_SANDBOX_API_KEY": os.environ.get("SMS_SANDBOX_API_KEY") or _secret("sms_sandbox_api_key"),
        "SMS_SANDBOX_SECRET": os.environ.get("SMS_SANDBOX_SECRET") or _secret("sms_sandbox_secret"),
        "SMS_STATUS_CALLBACK_URL": (
            f"http://127.0.0.1:{ports['PORT']}/api/v1/notifications/providers/sms/sandbox/reports"
        ),
        "WEB_PUSH_VAPID_PRIVATE_KEY": vapid_private_key,
        "WEB_PUSH_VAPID_PUBLIC_KEY": vapid_public_key,
        # The sandbox push service speaks plain http on loopback; real push services are https.
        "WEB_PUSH_ALLOW_HTTP_ENDPOINTS": "true",
    }


def _platform_environment(ports: dict[str, int]) -> dict[str, str]:
    """What web, worker and beat need to reach the four e-commerce platforms in the platform
    sandbox (one port, a prefix each: sandboxes/platforms/server.py), and the address the
    sandbox's webhooks come back to."""
    sandbox = f"http://127.0.0.1:{ports['PLATFORM_SANDBOX_PORT']}"
    return {
        "SHOPIFY_API_URL": f"{sandbox}/shopify/{{shop}}",
        "SHOPEE_API_URL": f"{sandbox}/shopee",
        "LAZADA_API_URL": f"{sandbox}/lazada/rest",
        "LAZADA_AUTH_URL": f"{sandbox}/lazada/auth",
        "TIKTOK_SHOP_API_URL": f"{sandbox}/tiktok_shop",
        "TIKTOK_SHOP_AUTH_URL": f"{sandbox}/tiktok_shop/auth",
        "INTEGRATIONS_WEBHOOK_BASE_URL": f"http://127.0.0.1:{ports['PORT']}",
    }


def run() -> int:
    ports = {variable: int(os.environ.get(variable, default)) for variable, default in PORTS.items()}
    port = ports["PORT"]
    payments_port, carriers_port = ports["PAYMENT_SANDBOX_PORT"], ports["CARRIER_SANDBOX_PORT"]
    for variable, value in ports.items():
        if not _port_is_free(value):
            print(
                f"Port {value} is already in use on 127.0.0.1. "
                f"Stop what uses it, or choose another port: {variable}={value + 1} make run",
                file=sys.stderr,
            )
            return 1
    started = _prepare("config.settings.dev")
    _manage("migrate", "--no-input")
    banner = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), "seed_demo"],
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev"},
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout

    payments = {
        "PAYMENT_SANDBOX_URL": f"http://127.0.0.1:{payments_port}",
        "PAYMENT_SANDBOX_API_KEY": os.environ.get("PAYMENT_SANDBOX_API_KEY") or _secret("payment_sandbox_api_key"),
        "PAYMENT_SANDBOX_SECRET": os.environ.get("PAYMENT_SANDBOX_SECRET") or _secret("payment_sandbox_secret"),
        "PAYMENT_WEBHOOK_URL": f"http://127.0.0.1:{port}/api/v1/payments/webhooks/sandbox",
    }
    carriers = {
        "CARRIER_SANDBOX_URL": f"http://127.0.0.1:{carriers_port}",
        "CARRIER_SANDBOX_API_KEY": os.environ.get("CARRIER_SANDBOX_API_KEY") or _secret("carrier_sandbox_api_key"),
    }
    notifications = _notification_environment(ports)
    platforms = _platform_environment(ports)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        **payments,
        **carriers,
        **notifications,
        **platforms,
    }
    commands = {
        # uvicorn with the project's options: WebSocket pings, no proxy headers (config/server.py).
        "web": [PYTHON, "-m", "config.server", "--host", "127.0.0.1", "--port", str(port)],
        "worker": [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--loglevel",
            "INFO",
            "--queues",
            "default,sync,documents,notifications",
            "--concurrency",
            "2",
        ],
        "beat": [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "--loglevel",
            "INFO",
            "--scheduler",
            "django_celery_beat.schedulers:DatabaseScheduler",
        ],
        "payment-sandbox": [
            PYTHON,
            "-m",
            "sandboxes.payment_gateway",
            "--host",
            "127.0.0.1",
            "--port",
            str(payments_port),
            # The key and the secret come from PAYMENT_SANDBOX_* in env, not argv, which `ps` shows.
            "--webhook-url",
            payments["PAYMENT_WEBHOOK_URL"],
        ],
        # The demo truck's device: positions over HTTP with the key the demo seeder left.
        "demo-truck": [
            PYTHON,
            str(ROOT / "manage.py"),
            "tracking_demo_truck",
            "--api",
            f"http://127.0.0.1:{port}",
            "--journey-file",
            str(ROOT / "var" / "demo" / "tracking_truck.json"),
        ],
        # The key comes from CARRIER_SANDBOX_API_KEY in env, not argv.
        "carrier-sandbox": [
            PYTHON,
            "-m",
            "sandboxes.carrier_tracking",
            "--host",
            "127.0.0.1",
            "--port",
            str(carriers_port),
        ],
        "mail-catcher": [
            PYTHON,
            "-m",
            "sandboxes.mail_catcher",
            "--host",
            "127.0.0.1",
            "--smtp-port",
            str(ports["MAIL_CATCHER_SMTP_PORT"]),
            "--http-port",
            str(ports["MAIL_CATCHER_HTTP_PORT"]),
        ],
        # The key and the secret come from SMS_SANDBOX_* in env, not argv.
        "sms-sandbox": [
            PYTHON,
            "-m",
            "sandboxes.sms_gateway",
            "--host",
            "127.0.0.1",
            "--port",
            str(ports["SMS_SANDBOX_PORT"]),
        ],
        "push-sandbox": [
            PYTHON,
            "-m",
            "sandboxes.push_service",
            "--host",
            "127.0.0.1",
            "--port",
            str(ports["PUSH_SANDBOX_PORT"]),
        ],
        # Shopify, Shopee, Lazada and TikTok Shop with the demo shops the demo seeder connected
        # (sandboxes/platforms/demo.py): new orders every 20 s.
        "platform-sandbox": [
            PYTHON,
            "-m",
            "sandboxes.platforms",
            "--host",
            "127.0.0.1",
            "--port",
            str(ports["PLATFORM_SANDBOX_PORT"]),
            "--demo",
        ],
    }
    processes = {
        name: subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True) for name, command in commands.items()
    }
    base = f"http://127.0.0.1:{port}"
    print(
        "\nManifest is up.\n"
        f"  API        {base}/api/v1/\n"
        f"  API docs   {base}/api/docs/\n"
        f"  Admin      {base}/admin/\n"
        f"  Health     {base}/health/detailed\n"
        f"  WebSocket  ws://127.0.0.1:{port}/ws/v1/events/ (first message: "
        '{"type": "authenticate", "token": "<access token>"})\n'
        f"  Payments   {payments['PAYMENT_SANDBOX_URL']} (sandbox gateway)\n"
        f"  Carriers   {carriers['CARRIER_SANDBOX_URL']} (sandbox carrier tracking; numbers "
        f"{', '.join(SEEDED_NUMBERS)})\n"
        f"  Mail       http://127.0.0.1:{ports['MAIL_CATCHER_HTTP_PORT']}/ (mail catcher: every e-mail sent, "
        f"SMTP on 127.0.0.1:{ports['MAIL_CATCHER_SMTP_PORT']})\n"
        f"  SMS        {notifications['SMS_SANDBOX_URL']}/_sandbox/messages (sandbox SMS gateway: every SMS sent)\n"
        f"  Web push   http://127.0.0.1:{ports['PUSH_SANDBOX_PORT']}/_sandbox/messages (sandbox push service)\n"
        f"  Platforms  http://127.0.0.1:{ports['PLATFORM_SANDBOX_PORT']} (sandbox Shopify, Shopee, Lazada and "
        "TikTok Shop: a demo shop each, a new order every 20 s)\n"
        f"  Database   {started['postgres']}, Redis {started['redis']}\n"
        f"{banner}\n"
        "Ctrl-C stops the web server, the worker, beat, the sandboxes and the embedded services.\n",
        flush=True,
    )

    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, process in processes.items():
            if process.poll() is not None:
                print(f"{name} exited with {process.returncode}; stopping the rest.", file=sys.stderr)
                stopping, exit_code = True, 1
        time.sleep(0.3)
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes.values():
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    print("Stopped.")
    return exit_code


def test(pytest_args: list[str]) -> int:
    _prepare("config.settings.test")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "TEST_RUN_ID": str(os.getpid())}
    return subprocess.run([PYTHON, "-m", "pytest", *pytest_args], env=env, cwd=ROOT).returncode


def exec_(command: list[str]) -> int:
    _prepare(os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.dev"))
    return subprocess.run(command, cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "exec"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    if command == "run":
        return run()
    if command == "test":
        return test(rest)
    return exec_(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
