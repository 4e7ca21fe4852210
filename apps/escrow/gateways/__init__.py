"""Payment gateways by provider name, built from settings.PAYMENT_GATEWAYS.

    PAYMENT_GATEWAYS = {"sandbox": {"BACKEND": "apps.escrow.gateways.sandbox.SandboxGateway", "URL": ...}}

One instance per provider and process, so its HTTP connection pool is reused; rebuilt
when the setting changes (override_settings, pytest-django's `settings` fixture).
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from apps.core.errors import NotFound
from apps.escrow.gateways.base import PaymentGateway

__all__ = ["PaymentGateway", "UnknownProvider", "gateway_for"]

_gateways: dict[str, PaymentGateway] = {}
_gateways_lock = threading.Lock()


class UnknownProvider(NotFound):
    def __init__(self, provider: str):
        super().__init__("Unknown payment provider.", details={"provider": provider})


def gateway_for(provider: str) -> PaymentGateway:
    """The gateway of `provider`; UnknownProvider when PAYMENT_GATEWAYS has no such entry."""
    with _gateways_lock:
        gateway = _gateways.get(provider)
        if gateway is None:
            gateway = _gateways[provider] = _build(provider)
        return gateway


def _build(provider: str) -> PaymentGateway:
    options = dict(getattr(settings, "PAYMENT_GATEWAYS", {}).get(provider) or {})
    if not options:
        raise UnknownProvider(provider)
    backend_path = options.pop("BACKEND", None)
    if not backend_path:
        raise ImproperlyConfigured(f"PAYMENT_GATEWAYS[{provider!r}] has no BACKEND.")
    backend = import_string(backend_path)
    if not (isinstance(backend, type) and issubclass(backend, PaymentGateway)):
        raise ImproperlyConfigured(f"{backend_path} is not a PaymentGateway.")
    return backend.from_options(name=provider, options=options)


# Connected here rather than in apps.py: the cache exists only once this module is
# imported, and then the receiver is connected too.
@receiver(setting_changed)
def _forget_gateways(*, setting: str, **kwargs) -> None:
    if setting == "PAYMENT_GATEWAYS":
        with _gateways_lock:
            _gateways.clear()
