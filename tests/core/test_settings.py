"""Production settings refuse to start unsafely."""

import os
import subprocess
import sys

import pytest

GOOD_SECRET = "x" * 64


def import_production(**env) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production", **env}
    environment.pop("DEBUG", None) if "DEBUG" not in env else None
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=environment, capture_output=True, text=True
    )


@pytest.mark.parametrize("debug", ["1", "true", "on"])
def test_production_refuses_debug(debug):
    result = import_production(DEBUG=debug, SECRET_KEY=GOOD_SECRET)

    assert result.returncode != 0
    assert "DEBUG must be off" in result.stderr


def test_production_refuses_the_default_secret_key():
    environment = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**environment, "DJANGO_SETTINGS_MODULE": "config.settings.production", "DEBUG": "false"},
        capture_output=True,
        text=True,
    )

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_starts_with_debug_off_and_a_real_secret():
    result = import_production(DEBUG="false", SECRET_KEY=GOOD_SECRET)

    assert result.returncode == 0, result.stderr


def _production_gateways(**env) -> subprocess.CompletedProcess:
    code = "import django; django.setup(); from django.conf import settings; print(sorted(settings.PAYMENT_GATEWAYS))"
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production", "DEBUG": "false"}
    environment.update(SECRET_KEY=GOOD_SECRET, **env)
    for name in ("PAYMENT_SANDBOX_SECRET", "PAYMENT_SANDBOX_API_KEY"):
        if name not in env:
            environment.pop(name, None)
    return subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True)


def test_production_leaves_the_sandbox_payment_provider_out():
    result = _production_gateways()

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_production_refuses_the_sandbox_provider_on_its_public_development_secrets():
    result = _production_gateways(PAYMENT_SANDBOX_ENABLED="true")

    assert result.returncode != 0
    assert "PAYMENT_SANDBOX_SECRET and PAYMENT_SANDBOX_API_KEY must be set" in result.stderr


def test_a_staging_deployment_may_enable_the_sandbox_with_secrets_of_its_own():
    result = _production_gateways(
        PAYMENT_SANDBOX_ENABLED="true", PAYMENT_SANDBOX_SECRET="s" * 32, PAYMENT_SANDBOX_API_KEY="k" * 32
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['sandbox']"


def _production_sms_gateways(**env) -> subprocess.CompletedProcess:
    code = "import django; django.setup(); from django.conf import settings; print(sorted(settings.SMS_GATEWAYS))"
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production", "DEBUG": "false"}
    environment.update(SECRET_KEY=GOOD_SECRET, **env)
    if "SMS_SANDBOX_SECRET" not in env:
        environment.pop("SMS_SANDBOX_SECRET", None)
    return subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True)


def test_production_leaves_the_sms_sandbox_out():
    result = _production_sms_gateways()

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_production_refuses_the_sms_sandbox_on_its_public_development_secret():
    result = _production_sms_gateways(SMS_SANDBOX_ENABLED="true")

    assert result.returncode != 0
    assert "SMS_SANDBOX_SECRET must be set" in result.stderr
