"""Signing secrets and signatures of outbound webhooks (docs/webhooks.md has the receiver's side).

    Manifest-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.".encode() + body)>

During a rotation's overlap a second `v1` is signed with the previous secret, as Stripe does:
a receiver that still holds the old secret keeps verifying until it takes the new one.
Secrets are stored encrypted (Fernet); the key comes from WEBHOOKS["SECRET_ENCRYPTION_KEYS"],
or is derived from SECRET_KEY when none is set.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as random_secrets

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings

SIGNATURE_HEADER = "Manifest-Signature"
SECRET_PREFIX = "whsec_"
_DERIVATION_LABEL = b"manifest.webhooks.secret-encryption:"


def secret_new() -> str:
    """A new signing secret: `whsec_` and 32 random bytes, url-safe base64."""
    return SECRET_PREFIX + random_secrets.token_urlsafe(32)


def _derived_key() -> bytes:
    digest = hashlib.sha256(_DERIVATION_LABEL + settings.SECRET_KEY.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def _fernet() -> MultiFernet:
    keys = settings.WEBHOOKS.get("SECRET_ENCRYPTION_KEYS") or [_derived_key()]
    return MultiFernet([Fernet(key) for key in keys])


def secret_encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def secret_decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """hex HMAC-SHA256 keyed by the whole secret (prefix included) over `<t>.` + body."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secrets: list[str], timestamp: int, body: bytes) -> str:
    """`t=…,v1=…` with one v1 per secret, the current one first."""
    return ",".join([f"t={timestamp}", *(f"v1={signature(secret, timestamp, body)}" for secret in secrets)])
