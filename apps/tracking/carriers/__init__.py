"""Carriers' tracking adapters by carrier code, built from settings.TRACKING_CARRIERS.

    TRACKING_CARRIERS = {"sandbox": {"BACKEND": "apps.tracking.carriers.sandbox.SandboxCarrier", "URL": ...}}

One instance per carrier and process, so its HTTP connection pool is reused; rebuilt when
the setting changes (override_settings, pytest-django's `settings` fixture).
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from apps.tracking.carriers.base import CarrierRejected, CarrierTracking

__all__ = ["CarrierTracking", "UnknownCarrier", "carrier_codes", "carrier_for"]

_carriers: dict[str, CarrierTracking] = {}
_carriers_lock = threading.Lock()


class UnknownCarrier(CarrierRejected):
    """No TRACKING_CARRIERS entry for the code (a carrier taken out of the settings): the
    poller counts it as a permanent failure."""

    def __init__(self, code: str):
        super().__init__(f"no carrier {code!r} is configured")
        self.code = code


def carrier_codes() -> list[str]:
    """The codes of the configured carriers, sorted."""
    return sorted(getattr(settings, "TRACKING_CARRIERS", {}))


def carrier_for(code: str) -> CarrierTracking:
    """The adapter of carrier `code`; UnknownCarrier when TRACKING_CARRIERS has no such entry."""
    with _carriers_lock:
        carrier = _carriers.get(code)
        if carrier is None:
            carrier = _carriers[code] = _build(code)
        return carrier


def _build(code: str) -> CarrierTracking:
    options = dict(getattr(settings, "TRACKING_CARRIERS", {}).get(code) or {})
    if not options:
        raise UnknownCarrier(code)
    backend_path = options.pop("BACKEND", None)
    if not backend_path:
        raise ImproperlyConfigured(f"TRACKING_CARRIERS[{code!r}] has no BACKEND.")
    backend = import_string(backend_path)
    if not (isinstance(backend, type) and issubclass(backend, CarrierTracking)):
        raise ImproperlyConfigured(f"{backend_path} is not a CarrierTracking.")
    return backend.from_options(code=code, options=options)


# Connected here rather than in apps.py: the cache exists only once this module is imported.
@receiver(setting_changed)
def _forget_carriers(*, setting: str, **kwargs) -> None:
    if setting == "TRACKING_CARRIERS":
        with _carriers_lock:
            _carriers.clear()
