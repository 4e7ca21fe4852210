"""Secrets stored encrypted at rest (Fernet), with key rotation: what webhooks' signing secrets
and platform integrations' credentials share.

Each use names its keys: a list of Fernet keys (urlsafe base64 of 32 bytes) from settings. The
first encrypts, every one decrypts, so a rotation adds the new key first, re-encrypts the stored
values (`Sealer.rotate`), then drops the old key. With no keys configured, one key is derived
from SECRET_KEY and the use's label (changing SECRET_KEY then makes the stored values unreadable).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

__all__ = ["InvalidToken", "Sealer"]


class Sealer:
    """Encrypts and decrypts text with the keys `keys()` returns (read at each call, so that
    tests and a rotation see the current settings)."""

    def __init__(self, *, label: str, keys: Callable[[], list[str]]):
        self._label = label.encode()
        self._keys = keys

    def _derived_key(self) -> bytes:
        digest = hashlib.sha256(self._label + settings.SECRET_KEY.encode()).digest()
        return base64.urlsafe_b64encode(digest)

    def _fernet(self) -> MultiFernet:
        keys = self._keys() or [self._derived_key()]
        return MultiFernet([Fernet(key) for key in keys])

    def seal(self, text: str) -> str:
        return self._fernet().encrypt(text.encode()).decode()

    def open(self, token: str) -> str:
        """The text; InvalidToken when no configured key opens it."""
        return self._fernet().decrypt(token.encode()).decode()

    def rotate(self, token: str) -> str:
        """The same text encrypted with the first key (a no-op in meaning, a new token)."""
        return self._fernet().rotate(token.encode()).decode()
