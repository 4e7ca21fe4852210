"""Real PDF signatures with pyHanko: sign (PAdES baseline B-B), verify, and a development certificate.

The platform signs with one certificate: in development the one `generate_development_certificate`
makes at set-up; in production one configured from a real CA. Verification trusts only the roots
it is given and never fetches anything (no OCSP/CRL requests from a web request).
"""

from __future__ import annotations

import datetime
import hashlib
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.general import SigningError
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

logger = logging.getLogger(__name__)

SIGNATURE_FIELD = "ManifestSignature"
DEVELOPMENT_CERTIFICATE_DAYS = 3 * 365


class DocumentSigningError(Exception):
    """The PDF or the key material could not be used to sign."""


@dataclass(frozen=True)
class VerificationResult:
    """What the verification of a signed PDF found.

    `valid` is the bottom line: the signature is cryptographically sound, the signed bytes are
    intact, the signer chains to a trusted root, and nothing was added after signing.
    """

    valid: bool
    intact: bool
    trusted: bool
    signer: str  # the signing certificate's subject common name ("" when unreadable)
    signed_at: datetime.datetime | None  # the time the signer claims (no timestamp authority yet)
    sha256: str  # of the PDF bytes that were verified
    message: str


def sign_pdf(
    pdf: bytes,
    *,
    signer_name: str,
    reason: str,
    key_pem: bytes,
    cert_pem: bytes,
    ca_chain_pem: Sequence[bytes] = (),
    key_passphrase: bytes | None = None,
) -> bytes:
    """The PDF with a PAdES signature over the whole file appended as an incremental update."""
    try:
        signing_key = load_private_key_from_pemder_data(key_pem, passphrase=key_passphrase)
        certificates = list(load_certs_from_pemder_data(cert_pem))
        chain = [certificate for pem in ca_chain_pem for certificate in load_certs_from_pemder_data(pem)]
    except (ValueError, TypeError) as error:
        raise DocumentSigningError(f"unreadable key or certificate: {error}") from error
    if len(certificates) != 1:
        raise DocumentSigningError(f"cert_pem holds {len(certificates)} certificates, expected exactly one")
    signer = signers.SimpleSigner(
        signing_cert=certificates[0],
        signing_key=signing_key,
        cert_registry=SimpleCertificateStore.from_certs(chain),
    )
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        name=signer_name,
        reason=reason,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        output = signers.sign_pdf(writer, metadata, signer=signer)
    except (SigningError, ValueError) as error:
        raise DocumentSigningError(f"could not sign the PDF: {error}") from error
    return output.getvalue()


def verify_pdf(pdf: bytes, *, trust_roots_pem: Sequence[bytes]) -> VerificationResult:
    """Check the PDF's (last) signature against the given trust roots; never raises on bad input."""
    digest = hashlib.sha256(pdf).hexdigest()

    def failed(message: str) -> VerificationResult:
        return VerificationResult(
            valid=False, intact=False, trusted=False, signer="", signed_at=None, sha256=digest, message=message
        )

    roots = [certificate for pem in trust_roots_pem for certificate in load_certs_from_pemder_data(pem)]
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_regular_signatures
    except Exception as error:  # a damaged file can fail in many ways inside the parser
        logger.info("documents.verify_unreadable", extra={"sha256": digest, "error": str(error)})
        return failed(f"not a readable PDF: {error}")
    if not signatures:
        return failed("the PDF carries no signature")
    embedded = signatures[-1]
    context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
    try:
        status = validate_pdf_signature(embedded, context)
    except (SignatureValidationError, ValueError, KeyError, TypeError) as error:
        return failed(f"the signature cannot be checked: {error}")

    signer = _common_name(status.signing_cert)
    padding_clean = _contents_padding_is_zero(embedded)
    # Later revisions that only add validation data (LTV) leave the signed content as it was.
    unchanged_since = status.modification_level in {ModificationLevel.NONE, ModificationLevel.LTA_UPDATES}
    valid = bool(status.bottom_line) and padding_clean and unchanged_since
    if valid:
        message = "the signature is valid and the document is unchanged since signing"
    elif not status.intact:
        message = "the document was changed after it was signed"
    elif not status.valid:
        message = "the signature does not match the signer's certificate"
    elif not status.trusted:
        message = "the signer's certificate does not chain to a trusted root"
    elif not padding_clean:
        message = "bytes inside the signature container were changed"
    else:
        message = f"the document was modified after signing ({status.modification_level})"
    return VerificationResult(
        valid=valid,
        intact=bool(status.intact) and padding_clean,
        trusted=bool(status.trusted),
        signer=signer,
        signed_at=status.signer_reported_dt,
        sha256=digest,
        message=message,
    )


def _common_name(certificate) -> str:
    try:
        return certificate.subject.native.get("common_name", "") or ""
    except (AttributeError, ValueError):
        return ""


def _contents_padding_is_zero(embedded) -> bool:
    """True when nothing but zeros follows the CMS object inside /Contents.

    /Contents is reserved larger than the signature and padded; the padding lies outside the
    hashed byte ranges and outside the DER the parser reads, so a byte changed there would
    otherwise go unnoticed.
    """
    contents = bytes(embedded.sig_object["/Contents"])
    used = _der_length(contents)
    return used is not None and used <= len(contents) and not any(contents[used:])


def _der_length(data: bytes) -> int | None:
    """The length of the DER element at the start of `data` (tag, length and value)."""
    if len(data) < 2:
        return None
    first = data[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or len(data) < 2 + count:
        return None
    return 2 + count + int.from_bytes(data[2 : 2 + count], "big")


def generate_development_certificate(common_name: str) -> tuple[bytes, bytes]:
    """A new RSA key and a self-signed certificate that may sign documents and act as its own CA.

    For development and tests only: production configures a certificate from a real CA.
    Returns (key_pem, cert_pem); the key is unencrypted PKCS#8.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Manifest (development)"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    public_key = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=DEVELOPMENT_CERTIFICATE_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)
