"""The platform's signing key and certificate: configured files, or a development pair made once.

Production sets DOCUMENT_SIGNING_KEY_FILE / DOCUMENT_SIGNING_CERT_FILE (and the CA chain in
DOCUMENT_SIGNING_CHAIN_FILES). Elsewhere, with DOCUMENT_SIGNING_DEVELOPMENT_CERTIFICATE on, the
first process that needs the pair generates it into var/signing/ under an exclusive file lock,
so parallel workers and test processes end up with one pair rather than racing to write two.
"""

from __future__ import annotations

import fcntl
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from apps.core.errors import DomainError, ErrorCode
from apps.documents.signing import generate_development_certificate

logger = logging.getLogger(__name__)

DEVELOPMENT_COMMON_NAME = "Manifest development document signing"


class SigningUnavailable(DomainError):
    status_code = 503
    code = ErrorCode.EXTERNAL_SERVICE_UNAVAILABLE


@dataclass(frozen=True)
class SigningMaterial:
    key_pem: bytes
    cert_pem: bytes
    chain_pem: tuple[bytes, ...]
    passphrase: bytes | None

    @property
    def trust_roots_pem(self) -> tuple[bytes, ...]:
        # A self-signed certificate is its own root; a CA-issued one chains to the configured CA.
        return (self.cert_pem, *self.chain_pem)


def _ensure_development_pair(key_file: Path, cert_file: Path) -> None:
    key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(key_file.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if key_file.exists() and cert_file.exists():
                return  # another process made it while this one waited
            key_pem, cert_pem = generate_development_certificate(DEVELOPMENT_COMMON_NAME)
            descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(key_pem)
            cert_file.write_bytes(cert_pem)
            logger.info("documents.development_certificate_created", extra={"path": str(cert_file)})
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def signing_material() -> SigningMaterial:
    """The key, the certificate and its chain; 503 when production has none configured."""
    key_file, cert_file = Path(settings.DOCUMENT_SIGNING_KEY_FILE), Path(settings.DOCUMENT_SIGNING_CERT_FILE)
    if not (key_file.exists() and cert_file.exists()):
        if not settings.DOCUMENT_SIGNING_DEVELOPMENT_CERTIFICATE:
            logger.error("documents.signing_certificate_missing", extra={"path": str(cert_file)})
            raise SigningUnavailable("Document signing is not configured.")
        _ensure_development_pair(key_file, cert_file)
    passphrase = settings.DOCUMENT_SIGNING_KEY_PASSPHRASE
    return SigningMaterial(
        key_pem=key_file.read_bytes(),
        cert_pem=cert_file.read_bytes(),
        chain_pem=tuple(Path(path).read_bytes() for path in settings.DOCUMENT_SIGNING_CHAIN_FILES),
        passphrase=passphrase.encode() if passphrase else None,
    )
