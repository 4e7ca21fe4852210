"""Signing secrets and signatures of outbound webhooks (docs/webhooks.md has the receiver's side).

    Manifest-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.".encode() + body)>

During a rotation's overlap a second `v1` is signed with the previous secret, as Stripe does:
a receiver that still holds the old secret keeps verifying until it takes the new one.
Secrets are stored encrypted (Fernet); the key comes from WEBHOOKS["SECRET_ENCRYPTION_KEYS"],
or is derived from SECRET_KEY when none is set.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as random_secrets

from django.conf import settings

from apps.core.sealing import Sealer

SIGNATURE_HEADER = "Manifest-Signature"
SECRET_PREFIX = "whsec_"


def secret_new() -> str:
    """A new signing secret: `whsec_` and 32 random bytes, url-safe base64."""
    return SECRET_PREFIX + random_secrets.token_urlsafe(32)


_sealer = Sealer(
    label="manifest.webhooks.secret-encryption:", keys=lambda: settings.WEBHOOKS.get("SECRET_ENCRYPTION_KEYS") or []
)


def secret_encrypt(secret: str) -> str:
    return _sealer.seal(secret)


def secret_decrypt(token: str) -> str:
    return _sealer.open(token)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """hex HMAC-SHA256 keyed by the whole secret (prefix included) over `<t>.` + body."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secrets: list[str], timestamp: int, body: bytes) -> str:
    """`t=…,v1=…` with one v1 per secret, the current one first."""
    return ",".join([f"t={timestamp}", *(f"v1={signature(secret, timestamp, body)}" for secret in secrets)])
