"""SMS gateways by name, built from settings.SMS_GATEWAYS; the default is settings.SMS_GATEWAY.

    SMS_GATEWAYS = {"sandbox": {"BACKEND": "apps.notifications.providers.sms.sandbox.SandboxSmsGateway", ...}}

One instance per gateway and process, so its HTTP connection pool is reused; rebuilt when
either setting changes (override_settings, pytest-django's `settings` fixture).
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from apps.core.errors import NotFound
from apps.notifications.providers.sms.base import (
    DeliveryReport,
    ReportRejected,
    ReportStatus,
    SentMessage,
    SentStatus,
    SmsGateway,
    SmsRejected,
    SmsUnavailable,
)

__all__ = [
    "DeliveryReport",
    "ReportRejected",
    "ReportStatus",
    "SentMessage",
    "SentStatus",
    "SmsGateway",
    "SmsRejected",
    "SmsUnavailable",
    "UnknownSmsGateway",
    "sms_gateway",
]

_gateways: dict[str, SmsGateway] = {}
_gateways_lock = threading.Lock()


class UnknownSmsGateway(NotFound):
    def __init__(self, name: str):
        super().__init__("Unknown SMS gateway.", details={"gateway": name})


def sms_gateway(name: str | None = None) -> SmsGateway:
    """The gateway `name` (default settings.SMS_GATEWAY); UnknownSmsGateway when not configured."""
    name = name or getattr(settings, "SMS_GATEWAY", "")
    with _gateways_lock:
        gateway = _gateways.get(name)
        if gateway is None:
            gateway = _gateways[name] = _build(name)
        return gateway


def _build(name: str) -> SmsGateway:
    options = dict(getattr(settings, "SMS_GATEWAYS", {}).get(name) or {})
    if not options:
        raise UnknownSmsGateway(name)
    backend_path = options.pop("BACKEND", None)
    if not backend_path:
        raise ImproperlyConfigured(f"SMS_GATEWAYS[{name!r}] has no BACKEND.")
    backend = import_string(backend_path)
    if not (isinstance(backend, type) and issubclass(backend, SmsGateway)):
        raise ImproperlyConfigured(f"{backend_path} is not an SmsGateway.")
    return backend.from_options(name=name, options=options)


# Connected here rather than in apps.py: the cache exists only once this module is imported,
# and then the receiver is connected too (the app need not be installed for it).
@receiver(setting_changed)
def _forget_gateways(*, setting: str, **kwargs) -> None:
    if setting in {"SMS_GATEWAYS", "SMS_GATEWAY"}:
        with _gateways_lock:
            _gateways.clear()
