"""A shop's credentials at rest: one JSON object, Fernet-encrypted with INTEGRATIONS["CREDENTIAL_KEYS"]
(apps/core/sealing.py: the first key encrypts, each decrypts; rotation re-encrypts).

Credentials leave this module only towards an adapter. They are never logged, never in an error
message and never in an API answer: `credential_summary` is what may be shown (field names, and
the last four characters of the non-secret identifiers)."""

from __future__ import annotations

import json

from django.conf import settings

from apps.core.sealing import Sealer

_sealer = Sealer(
    label="manifest.integrations.credentials:", keys=lambda: settings.INTEGRATIONS.get("CREDENTIAL_KEYS") or []
)

# Identifiers a platform shows in its own console: their tail may be shown to tell shops apart.
SHOWABLE = frozenset({"app_key", "partner_id", "api_key", "shop_cipher"})


def credentials_seal(credentials: dict) -> str:
    return _sealer.seal(json.dumps(credentials, sort_keys=True, separators=(",", ":")))


def credentials_open(token: str) -> dict:
    return json.loads(_sealer.open(token))


def credentials_rotate(token: str) -> str:
    return _sealer.rotate(token)


def credential_summary(credentials: dict) -> dict[str, str]:
    """What the API and the back-office show: each field's name, the secrets fully masked."""
    summary = {}
    for name, value in sorted(credentials.items()):
        text = str(value)
        summary[name] = f"…{text[-4:]}" if name in SHOWABLE and len(text) > 8 else "••••"
    return summary
