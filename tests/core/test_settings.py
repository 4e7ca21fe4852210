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
