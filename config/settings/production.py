"""Production: refuses to start with DEBUG on, without a real secret key, or with the sandbox
payment provider on its public development secrets."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    DEBUG,
    DEFAULT_SECRET_KEY,
    DEVELOPMENT_SANDBOX_API_KEY,
    DEVELOPMENT_SANDBOX_SECRET,
    DEVELOPMENT_SMS_SANDBOX_SECRET,
    OUTBOUND_ALLOW_PRIVATE_NETWORKS,
    PAYMENT_GATEWAYS,
    SECRET_KEY,
    SMS_GATEWAYS,
    TRACKING_CARRIERS,
    WEB_PUSH,
    env_bool,
    env_int,
    env_list,
)

if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production (unset DEBUG or set DEBUG=false).")
if SECRET_KEY == DEFAULT_SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of at least 50 characters.")

# Hashed, compressed copies made by collectstatic (docker/Dockerfile), cached for ever.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}  # noqa: F405

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# /metrics and /health/detailed: only OPS_TOKEN or the networks named here, never loopback by
# default (behind a proxy on the same machine every request would come from loopback).
OPS_ALLOWED_NETWORKS = env_list("OPS_ALLOWED_NETWORKS", [])

# Webhooks and integrations call URLs users give: reaching the private network would let them
# probe it and its cloud metadata service (SSRF). Never on in production.
if OUTBOUND_ALLOW_PRIVATE_NETWORKS:
    raise ImproperlyConfigured("OUTBOUND_ALLOW_PRIVATE_NETWORKS must be off in production.")

# Documents are signed with the configured certificate only: never a generated one.
DOCUMENT_SIGNING_DEVELOPMENT_CERTIFICATE = env_bool("DOCUMENT_SIGNING_DEVELOPMENT_CERTIFICATE", False)

# The sandbox payment provider moves no real money, and its development secrets are in the
# repository: anyone could sign a "charge.succeeded" with them. Production leaves it out unless
# a staging deployment switches it on, and then only with secrets of its own.
if env_bool("PAYMENT_SANDBOX_ENABLED", False):
    _sandbox = PAYMENT_GATEWAYS["sandbox"]
    if _sandbox["SECRET"] == DEVELOPMENT_SANDBOX_SECRET or _sandbox["API_KEY"] == DEVELOPMENT_SANDBOX_API_KEY:
        raise ImproperlyConfigured(
            "PAYMENT_SANDBOX_SECRET and PAYMENT_SANDBOX_API_KEY must be set: the development ones are public."
        )
else:
    PAYMENT_GATEWAYS = {name: options for name, options in PAYMENT_GATEWAYS.items() if name != "sandbox"}

# The sandbox carrier invents its journeys: production polls only real carriers.
if not env_bool("CARRIER_SANDBOX_ENABLED", False):
    TRACKING_CARRIERS = {code: options for code, options in TRACKING_CARRIERS.items() if code != "sandbox"}

# The SMS sandbox sends nothing to phones, and its development key and secret are public:
# production leaves it out unless a staging deployment switches it on with secrets of its own.
# Without a gateway SMS is simply not a channel (apps.notifications.policy.configured_channels).
if env_bool("SMS_SANDBOX_ENABLED", False):
    if SMS_GATEWAYS["sandbox"]["SECRET"] == DEVELOPMENT_SMS_SANDBOX_SECRET:
        raise ImproperlyConfigured("SMS_SANDBOX_SECRET must be set: the development one is public.")
else:
    SMS_GATEWAYS = {name: options for name, options in SMS_GATEWAYS.items() if name != "sandbox"}
# Real push services are https: the local sandbox's http is for development only.
WEB_PUSH = {**WEB_PUSH, "ALLOW_HTTP_ENDPOINTS": False}
