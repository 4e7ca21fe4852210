# Russian text is the point here: Cyrillic letters that look Latin are meant.
# ruff: noqa: RUF001
"""Real PDF signatures: a signed document verifies against the development certificate, and
any one changed byte, an untrusted signer or a missing signature makes it fail.

Pure tests: no database.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.x509.oid import NameOID
from pypdf import PdfReader

from apps.documents.content import DocumentType, LineItem, Party, ShipmentDocument
from apps.documents.rendering import render_document
from apps.documents.signing import (
    DocumentSigningError,
    generate_development_certificate,
    sign_pdf,
    verify_pdf,
)

COMMON_NAME = "Manifest development signing"


@pytest.fixture(scope="module")
def development_certificate() -> tuple[bytes, bytes]:
    return generate_development_certificate(COMMON_NAME)


@pytest.fixture(scope="module")
def cmr_pdf() -> bytes:
    return render_document(
        ShipmentDocument(
            document_type=DocumentType.CMR,
            number="MF-2025-000777",
            issue_date=date(2025, 3, 14),
            language="ru",
            shipper=Party("Müller Maschinenbau GmbH", ("Stuttgart",), "DE"),
            consignee=Party("ООО «Волга Карго»", ("Самара",), "RU"),
            items=(
                LineItem(
                    sku="BRG-1",
                    description="Подшипники",
                    quantity=Decimal(10),
                    unit="pcs",
                    unit_price=Decimal(5),
                    currency="EUR",
                    weight_kg=Decimal(40),
                    origin_country="DE",
                ),
            ),
            currency="EUR",
            verification_url="https://manifest.example/documents/777/verify",
        )
    )


@pytest.fixture(scope="module")
def signed_pdf(cmr_pdf, development_certificate) -> bytes:
    key_pem, cert_pem = development_certificate
    return sign_pdf(cmr_pdf, signer_name="Manifest", reason="Issued by Manifest", key_pem=key_pem, cert_pem=cert_pem)


def with_one_byte_changed(data: bytes, position: int) -> bytes:
    """The data with the byte at `position` replaced by a different one (a hex digit stays a hex digit)."""
    changed = bytearray(data)
    original = changed[position]
    if chr(original) in "0123456789abcdefABCDEF":
        changed[position] = ord("7") if original != ord("7") else ord("8")
    else:
        changed[position] = original ^ 0x01
    return bytes(changed)


def byte_range(signed: bytes) -> tuple[int, int, int, int]:
    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", signed)
    assert match is not None
    start, first_length, second_start, second_length = (int(number) for number in match.groups())
    return start, first_length, second_start, second_length


def test_a_signed_pdf_verifies_as_valid_intact_and_trusted_with_the_dev_certificate_as_root(
    signed_pdf, development_certificate
):
    # given
    _, cert_pem = development_certificate

    # when
    result = verify_pdf(signed_pdf, trust_roots_pem=[cert_pem])

    # then
    assert result.valid, result.message
    assert result.intact
    assert result.trusted
    assert result.signer == COMMON_NAME
    assert result.sha256 == hashlib.sha256(signed_pdf).hexdigest()
    assert result.signed_at is not None
    assert abs(datetime.datetime.now(datetime.UTC) - result.signed_at) < datetime.timedelta(minutes=10)


def test_the_signature_covers_the_whole_file_and_the_document_still_reads(signed_pdf, cmr_pdf):
    # given
    start, _, second_start, second_length = byte_range(signed_pdf)

    # when
    text = " ".join(PdfReader(io.BytesIO(signed_pdf)).pages[0].extract_text().split())

    # then
    assert signed_pdf.startswith(cmr_pdf)  # an incremental update: the original bytes are untouched
    assert start == 0
    assert second_start + second_length == len(signed_pdf)
    assert "ООО «Волга Карго»" in text


@pytest.mark.parametrize(
    "where",
    ["page content", "signature dictionary", "signature value", "signature padding", "after the signature"],
)
def test_changing_one_byte_of_the_signed_file_fails_verification(where, signed_pdf, development_certificate):
    # given
    _, cert_pem = development_certificate
    _, first_length, second_start, second_length = byte_range(signed_pdf)
    positions = {
        "page content": first_length // 3,
        "signature dictionary": signed_pdf.index(b"Issued by Manifest"),
        "signature value": first_length + 1 + 600,  # a hex digit well inside the CMS object
        "signature padding": second_start - 2,  # the last zero before '>'
        "after the signature": second_start + second_length // 2,
    }
    tampered = with_one_byte_changed(signed_pdf, positions[where])
    assert tampered != signed_pdf

    # when
    result = verify_pdf(tampered, trust_roots_pem=[cert_pem])

    # then
    assert not result.valid
    assert not result.intact
    assert result.sha256 == hashlib.sha256(tampered).hexdigest()


def test_a_signer_outside_the_trust_roots_is_intact_but_not_trusted(signed_pdf):
    # given
    _, stranger_cert_pem = generate_development_certificate("Somebody else")

    # when
    result = verify_pdf(signed_pdf, trust_roots_pem=[stranger_cert_pem])

    # then
    assert result.intact
    assert not result.trusted
    assert not result.valid
    assert "trusted root" in result.message


def test_an_unsigned_pdf_does_not_verify(cmr_pdf, development_certificate):
    result = verify_pdf(cmr_pdf, trust_roots_pem=[development_certificate[1]])

    assert not result.valid
    assert result.message == "the PDF carries no signature"


def test_bytes_that_are_not_a_pdf_do_not_verify_and_do_not_raise(development_certificate):
    result = verify_pdf(b"definitely not a PDF", trust_roots_pem=[development_certificate[1]])

    assert not result.valid
    assert result.sha256 == hashlib.sha256(b"definitely not a PDF").hexdigest()


def test_the_development_certificate_is_a_self_signed_ca_that_may_sign_documents():
    # when
    key_pem, cert_pem = generate_development_certificate("Manifest dev CA")

    # then
    certificate = x509.load_pem_x509_certificate(cert_pem)
    key = serialization.load_pem_private_key(key_pem, password=None)
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Manifest dev CA"
    assert certificate.issuer == certificate.subject
    assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and usage.key_cert_sign
    assert certificate.not_valid_after_utc > datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=365)
    certificate.public_key().verify(
        certificate.signature, certificate.tbs_certificate_bytes, padding.PKCS1v15(), hashes.SHA256()
    )
    assert key.public_key().public_numbers() == certificate.public_key().public_numbers()


def test_a_certificate_issued_by_a_ca_verifies_when_the_ca_is_the_trust_root(cmr_pdf, development_certificate):
    # given a signing certificate issued by the development CA, sent with its chain
    ca_key_pem, ca_cert_pem = development_certificate
    key_pem, cert_pem = issue_signing_certificate(ca_key_pem, ca_cert_pem, "Manifest signing service")

    # when
    signed = sign_pdf(
        cmr_pdf,
        signer_name="Manifest",
        reason="Issued",
        key_pem=key_pem,
        cert_pem=cert_pem,
        ca_chain_pem=[ca_cert_pem],
    )
    result = verify_pdf(signed, trust_roots_pem=[ca_cert_pem])

    # then
    assert result.valid, result.message
    assert result.signer == "Manifest signing service"


def test_signing_with_unreadable_key_material_is_refused(cmr_pdf, development_certificate):
    _, cert_pem = development_certificate

    with pytest.raises(DocumentSigningError):
        sign_pdf(cmr_pdf, signer_name="Manifest", reason="Issued", key_pem=b"not a key", cert_pem=cert_pem)


def issue_signing_certificate(ca_key_pem: bytes, ca_cert_pem: bytes, common_name: str) -> tuple[bytes, bytes]:
    """An end-entity document-signing certificate (EC P-256) issued by the given CA."""
    ca_key = serialization.load_pem_private_key(ca_key_pem, password=None)
    ca_certificate = x509.load_pem_x509_certificate(ca_cert_pem)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_certificate.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)
