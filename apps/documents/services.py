"""Writes of the documents context: generate (render in a task), sign, verify, templates.

A generation request stores a pending version at once and answers; the Celery task
`document_render` builds the content from the order and the organization's template, renders
the PDF and stores it (ready), or records why it could not (failed). Every version keeps its
own file: regenerating makes version n + 1, and a signed version is frozen — it is never
rendered over, signed again, or followed by a new version.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from cryptography import x509
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.errors import (
    DomainError,
    ErrorCode,
    InvalidStateTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from apps.core.services import outbox_publish
from apps.documents import events, selectors, tasks
from apps.documents.certificates import signing_material
from apps.documents.content import DocumentType as ContentDocumentType
from apps.documents.content import LineItem, OptionalField, Party, ShipmentDocument
from apps.documents.from_shipment import document_from_shipment
from apps.documents.models import DocumentTemplate, GeneratedDocument, GeneratedDocumentStatus
from apps.documents.rendering import render_document
from apps.documents.signing import DocumentSigningError, VerificationResult, sign_pdf, verify_pdf
from apps.orders import selectors as orders

logger = logging.getLogger(__name__)

VERIFY_SALT = "apps.documents.verify"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_LOGO_PIXELS = 4000


# --- Verification tokens ---------------------------------------------------------------------


def verification_token(*, document_id: UUID, organization_id: UUID) -> str:
    """A compact signed token naming the document and the organization that issued it.

    The QR code carries it; holding it lets anyone see the document's public verification
    (never its content). It names the organization so the public page can read the row in
    that organization's scope, not in the all-tenants one.
    """
    raw = base64.urlsafe_b64encode(document_id.bytes + organization_id.bytes).rstrip(b"=").decode()
    return signing.Signer(salt=VERIFY_SALT).sign(raw)


def verification_token_ids(token: str) -> tuple[UUID, UUID]:
    """(document id, organization id) of a token; NotFound when it is not one of ours."""
    try:
        raw = signing.Signer(salt=VERIFY_SALT).unsign(token)
        data = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (signing.BadSignature, ValueError) as error:
        raise NotFound("No document has this verification code.") from error
    if len(data) != 32:
        raise NotFound("No document has this verification code.")
    return UUID(bytes=data[:16]), UUID(bytes=data[16:])


def _verification_url(token: str) -> str:
    return settings.DOCUMENT_VERIFICATION_BASE_URL.rstrip("/") + reverse("document-public-verify", args=[token])


# --- Content from an order -------------------------------------------------------------------


def _address_lines(values: dict) -> tuple[str, ...]:
    def text(*keys: str) -> str:
        return next((str(values[key]).strip() for key in keys if str(values.get(key) or "").strip()), "")

    city = " ".join(part for part in (text("postal_code", "zip"), text("city")) if part)
    return tuple(part for part in (text("line1", "address_line1"), text("line2", "address_line2"), city) if part)


def _warehouse_values(organization_id: UUID, warehouse_id: UUID | None) -> dict:
    """The warehouse's address when this organization may read it (the other party's warehouses
    are hidden by row-level security: the document then goes without that address)."""
    if warehouse_id is None:
        return {}
    try:
        warehouse = orders.warehouse_get(organization_id=organization_id, warehouse_id=warehouse_id)
    except NotFound:
        return {}
    return {
        "name": warehouse.name,
        "address_line1": warehouse.address_line1,
        "address_line2": warehouse.address_line2,
        "postal_code": warehouse.postal_code,
        "city": warehouse.city,
        "country": warehouse.country,
    }


def _place(values: dict) -> str:
    return ", ".join(part for part in (str(values.get("city") or ""), str(values.get("country") or "")) if part)


def shipment_from_order(*, order, document: GeneratedDocument) -> ShipmentDocument:
    """The content of one document of the order: parties, items, places, as the order says them."""
    source = _warehouse_values(document.organization_id, order.source_warehouse_id)
    destination = _warehouse_values(document.organization_id, order.destination_warehouse_id)
    shipping = order.shipping_address if isinstance(order.shipping_address, dict) else {}
    delivery = shipping or destination
    metadata = order.metadata if isinstance(order.metadata, dict) else {}
    items = tuple(
        LineItem(
            sku=item.sku or "-",
            description=item.name,
            quantity=Decimal(item.quantity),
            unit="pcs",
            unit_price=item.unit_price,
            currency=item.currency,
            weight_kg=Decimal(0),
            origin_country="",
        )
        for item in order.items.all()
    )
    number = order.number if document.version == 1 else f"{order.number}/{document.version}"
    return ShipmentDocument(
        document_type=ContentDocumentType(document.document_type),
        number=number,
        issue_date=timezone.localdate(document.created_at),
        language=document.language,
        shipper=Party(order.client_organization_name, _address_lines(source), str(source.get("country") or "")),
        consignee=Party(
            str(shipping.get("name") or shipping.get("recipient") or order.client_organization_name),
            _address_lines(delivery),
            str(delivery.get("country") or ""),
        ),
        carrier=Party(order.supplier_organization_name),
        items=items,
        currency=order.currency,
        verification_url=document.verification_url,
        place_of_taking_over=_place(source),
        place_of_delivery=_place(delivery),
        remarks=str(metadata.get("remarks") or "")[:500],
        vehicle=str(metadata.get("vehicle") or "")[:100],
    )


# --- Generate and render ---------------------------------------------------------------------


def _content(order, document: GeneratedDocument) -> ShipmentDocument:
    """From the order's structured shipment when it has one (freight orders), else from the
    order itself (forwarding and platform orders)."""
    shipment = orders.shipment_find(organization_id=document.organization_id, order_id=order.id)
    if shipment is None:
        return shipment_from_order(order=order, document=document)
    return document_from_shipment(
        shipment=shipment,
        order=order,
        document_type=document.document_type,
        number=order.number if document.version == 1 else f"{order.number}/{document.version}",
        issue_date=timezone.localdate(document.created_at),
        language=document.language,
        verification_url=document.verification_url,
        is_draft=document.is_draft,
    )


def _event(event_class, document: GeneratedDocument, **extra):
    return event_class(
        organization_id=document.organization_id,
        document_id=str(document.id),
        order_id=str(document.order_id),
        document_type=document.document_type,
        version=document.version,
        status=document.status,
        party_organization_ids=sorted({str(document.client_organization_id), str(document.supplier_organization_id)}),
        **extra,
    )


def _audit(document: GeneratedDocument, action: str, actor: Actor, values: dict | None = None) -> None:
    audit_record(
        action=action,
        resource_type="generated_document",
        resource_id=document.id,
        new_values={"document_type": document.document_type, "version": document.version, **(values or {})},
        organization_id=document.organization_id,
        actor=actor,
    )


@transaction.atomic
def document_generate(
    *,
    organization_id: UUID,
    actor: Actor,
    order_id: UUID,
    document_type: str,
    customer_id: UUID | None = None,
    draft: bool = False,
) -> GeneratedDocument:
    """Store the next version of a document of the order (pending) and queue its rendering.

    Refused (422) when the latest version is signed: a signed document is frozen; and (422
    DOCUMENT_DATA_INCOMPLETE, with the missing fields) when the order's shipment is incomplete (a
    proof of delivery also needs who took the goods over, and when),
    unless a `draft` is asked for, which is then marked DRAFT on every page.
    """
    order = orders.order_get(organization_id=organization_id, order_id=order_id, customer_id=customer_id)
    shipment = orders.shipment_find(organization_id=organization_id, order_id=order.id)
    missing = orders.shipment_missing(shipment) if shipment is not None else []
    if shipment is not None and document_type == ContentDocumentType.PROOF_OF_DELIVERY:
        missing += orders.shipment_delivery_missing(shipment)
    if missing and not draft:
        raise DomainError(
            "The shipment lacks what this document prints; complete it, or ask for a draft.",
            code=ErrorCode.DOCUMENT_DATA_INCOMPLETE,
            details={"missing": missing},
        )
    latest = (
        GeneratedDocument.objects.select_for_update()
        .filter(order_id=order.id, document_type=document_type)
        .order_by("-version")
        .first()
    )
    if latest is not None and latest.is_signed:
        raise InvalidStateTransition(
            f"Version {latest.version} of this document is signed; a signed document is not regenerated.",
            details={"document_id": str(latest.id)},
        )
    template = selectors.template_for(organization_id=organization_id, document_type=document_type)
    document_id = uuid.uuid4()
    token = verification_token(document_id=document_id, organization_id=organization_id)
    document = GeneratedDocument(
        id=document_id,
        organization_id=organization_id,
        client_organization_id=order.client_organization_id,
        supplier_organization_id=order.supplier_organization_id,
        order_id=order.id,
        order_number=order.number,
        customer_id=order.customer_id,
        document_type=document_type,
        version=latest.version + 1 if latest else 1,
        language=template.language if template else selectors.DEFAULT_LANGUAGE,
        verification_token=token,
        verification_url=_verification_url(token),
        requested_by_id=actor.user_id,
        is_draft=draft,
    )
    try:
        with transaction.atomic():
            document.save(force_insert=True)
    except IntegrityError as error:  # the first version, asked for twice at the same moment
        raise DomainError(
            "Another version of this document is being generated; try again.",
            code=ErrorCode.VALIDATION_CONSTRAINT_VIOLATION,
        ) from error
    _audit(document, "document.requested", actor)
    outbox_publish(_event(events.DocumentRequested, document))
    ids = (str(document.id), str(organization_id))
    transaction.on_commit(lambda: tasks.document_render.delay(*ids))
    return document


@transaction.atomic
def document_render(*, document_id: UUID) -> GeneratedDocument:
    """Render a pending version and store its PDF (ready), or record why it cannot be (failed).

    Idempotent: a version that is no longer pending is returned as it is.
    """
    document = GeneratedDocument.objects.select_for_update().filter(pk=document_id).first()
    if document is None:
        raise NotFound("Document not found.")
    if document.status != GeneratedDocumentStatus.PENDING:
        return document
    try:
        order = orders.order_get(organization_id=document.organization_id, order_id=document.order_id)
        content = _content(order, document)
        options, _ = selectors.template_options(
            selectors.template_for(organization_id=document.organization_id, document_type=document.document_type)
        )
        pdf = render_document(content, options)
    except OSError:
        raise  # storage or font unreachable: the task retries
    except (ValueError, NotFound) as error:
        return _fail(document, str(error))
    except Exception:
        logger.exception("documents.render_failed", extra={"document_id": str(document.id)})
        return _fail(document, "The document could not be rendered (internal error).")
    document.file.save(f"{document.id}.pdf", ContentFile(pdf), save=False)
    document.sha256 = hashlib.sha256(pdf).hexdigest()
    document.size_bytes = len(pdf)
    document.status = GeneratedDocumentStatus.READY
    document.rendered_at = timezone.now()
    document.save()
    outbox_publish(_event(events.DocumentReady, document, sha256=document.sha256))
    logger.info("documents.rendered", extra={"document_id": str(document.id), "bytes": len(pdf)})
    return document


def documents_mark_outdated(*, order_id, changed_at) -> int:
    """Mark the order's versions made before `changed_at` outdated (once; idempotent)."""
    return GeneratedDocument.objects.filter(
        order_id=order_id, created_at__lt=changed_at, outdated_at__isnull=True
    ).update(outdated_at=changed_at)


def _fail(document: GeneratedDocument, reason: str) -> GeneratedDocument:
    document.status = GeneratedDocumentStatus.FAILED
    document.failure_reason = reason[:2000]
    document.rendered_at = timezone.now()
    document.save()
    outbox_publish(_event(events.DocumentFailed, document, reason=document.failure_reason))
    logger.info("documents.render_refused", extra={"document_id": str(document.id), "reason": reason})
    return document


# --- Sign and verify -------------------------------------------------------------------------


def _common_name(cert_pem: bytes) -> str:
    certificate = x509.load_pem_x509_certificate(cert_pem)
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


@transaction.atomic
def document_sign(
    *, organization_id: UUID, actor: Actor, document_id: UUID, customer_id: UUID | None = None
) -> GeneratedDocument:
    """Sign the ready latest version with the platform's certificate (PAdES); the version is then frozen.

    Only the organization that issued the document signs it; the signed PDF is stored beside the
    rendered one, which stays as it was.
    """
    document = GeneratedDocument.objects.select_for_update().visible_to(organization_id).filter(pk=document_id).first()
    if document is None or customer_id not in (None, document.customer_id):  # `customer_id`: an `:own` reach
        raise NotFound("Document not found.")
    if document.organization_id != organization_id:
        raise PermissionDenied("Only the organization that issued the document signs it.")
    if document.is_signed:
        raise InvalidStateTransition("The document is signed already; a signed version is frozen.")
    if document.status != GeneratedDocumentStatus.READY:
        raise InvalidStateTransition(f"Only a ready document can be signed; this one is {document.status}.")
    newer = GeneratedDocument.objects.filter(
        order_id=document.order_id, document_type=document.document_type, version__gt=document.version
    ).exists()
    if newer:
        raise InvalidStateTransition("A newer version of this document exists; sign that one.")
    material = signing_material()
    with document.file.open("rb") as stored:
        pdf = stored.read()
    try:
        signed = sign_pdf(
            pdf,
            signer_name=settings.DOCUMENT_SIGNER_NAME,
            reason=f"{document.get_document_type_display()} {document.order_number} v{document.version}",
            key_pem=material.key_pem,
            cert_pem=material.cert_pem,
            ca_chain_pem=material.chain_pem,
            key_passphrase=material.passphrase,
        )
    except DocumentSigningError as error:
        logger.error("documents.sign_failed", extra={"document_id": str(document.id), "error": str(error)})
        raise DomainError(
            "The document could not be signed.", status_code=503, code=ErrorCode.INTERNAL_SERVER_ERROR
        ) from error
    document.signed_file.save(f"{document.id}-signed.pdf", ContentFile(signed), save=False)
    document.signature_sha256 = hashlib.sha256(signed).hexdigest()
    document.signed_at = timezone.now()
    document.signed_by_id = actor.user_id
    document.signer_name = _common_name(material.cert_pem)
    document.save()
    _audit(document, "document.signed", actor, {"signature_sha256": document.signature_sha256})
    outbox_publish(_event(events.DocumentSigned, document, signature_sha256=document.signature_sha256))
    return document


@dataclass(frozen=True)
class Verification:
    result: VerificationResult
    # The stored signed file is byte for byte the one recorded at signing.
    matches_record: bool


def document_verify(*, document: GeneratedDocument) -> Verification:
    """Check the stored signed PDF with pyHanko against the platform's trust roots."""
    if not document.is_signed:
        digest = document.sha256
        return Verification(
            result=VerificationResult(
                valid=False,
                intact=False,
                trusted=False,
                signer="",
                signed_at=None,
                sha256=digest,
                message="the document is not signed",
            ),
            matches_record=False,
        )
    with document.signed_file.open("rb") as stored:
        pdf = stored.read()
    result = verify_pdf(pdf, trust_roots_pem=signing_material().trust_roots_pem)
    return Verification(result=result, matches_record=result.sha256 == document.signature_sha256)


# --- Templates -------------------------------------------------------------------------------


def check_logo(data: bytes) -> None:
    """A logo is a PNG by its bytes, within the size limits; 400 otherwise."""
    if len(data) > settings.DOCUMENT_LOGO_MAX_BYTES:
        raise ValidationFailed(
            f"The logo is larger than {settings.DOCUMENT_LOGO_MAX_BYTES // 1024} KiB.",
            details={"logo_png_base64": ["Too large."]},
        )
    if not data.startswith(PNG_SIGNATURE):
        raise ValidationFailed("The logo must be a PNG image.", details={"logo_png_base64": ["Not a PNG file."]})
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise ValidationFailed(
            "The logo is not a readable PNG image.", details={"logo_png_base64": ["Unreadable PNG."]}
        ) from error
    if not (0 < width <= MAX_LOGO_PIXELS and 0 < height <= MAX_LOGO_PIXELS):
        raise ValidationFailed(
            f"The logo must be at most {MAX_LOGO_PIXELS} pixels on each side.",
            details={"logo_png_base64": ["Too many pixels."]},
        )


TEMPLATE_FIELDS = ("language", "header_text", "footer_text", "visible_fields")


def _apply_template_values(template: DocumentTemplate, values: dict) -> None:
    for name in TEMPLATE_FIELDS:
        if name in values:
            setattr(template, name, values[name])
    template.visible_fields = sorted({OptionalField(name).value for name in template.visible_fields})
    if "logo" in values:
        logo = values["logo"]
        if logo:
            check_logo(logo)
            template.logo.save(f"{template.id}.png", ContentFile(logo), save=False)
        else:
            template.logo = ""


def _audit_template(template: DocumentTemplate, action: str, actor: Actor) -> None:
    audit_record(
        action=action,
        resource_type="document_template",
        resource_id=template.id,
        new_values={
            "document_type": template.document_type,
            "language": template.language,
            "visible_fields": template.visible_fields,
            "has_logo": bool(template.logo),
        },
        organization_id=template.organization_id,
        actor=actor,
    )


@transaction.atomic
def template_create(*, organization_id: UUID, actor: Actor, document_type: str, values: dict) -> DocumentTemplate:
    """The organization's template for a type (one per type: 400 if it has one).

    `values`: language, header_text, footer_text, visible_fields, logo (PNG bytes or None).
    """
    if DocumentTemplate.objects.filter(organization_id=organization_id, document_type=document_type).exists():
        raise ValidationFailed(
            "The organization has a template of this type already; change that one.",
            details={"document_type": ["A template of this type exists."]},
        )
    template = DocumentTemplate(
        id=uuid.uuid4(), organization_id=organization_id, document_type=document_type, updated_by_id=actor.user_id
    )
    values = {"visible_fields": [field.value for field in OptionalField], **values}
    _apply_template_values(template, values)
    try:
        with transaction.atomic():
            template.save(force_insert=True)
    except IntegrityError as error:
        raise ValidationFailed(
            "The organization has a template of this type already.",
            details={"document_type": ["A template of this type exists."]},
        ) from error
    _audit_template(template, "document_template.created", actor)
    return template


@transaction.atomic
def template_update(*, organization_id: UUID, actor: Actor, template_id: UUID, values: dict) -> DocumentTemplate:
    """Change a template; documents rendered before keep their files, later renderings follow it."""
    template = (
        DocumentTemplate.objects.select_for_update().filter(organization_id=organization_id, pk=template_id).first()
    )
    if template is None:
        raise NotFound("Template not found.")
    _apply_template_values(template, values)
    template.updated_by_id = actor.user_id
    template.save()
    _audit_template(template, "document_template.updated", actor)
    return template


# --- The public verification page ------------------------------------------------------------


def public_verification(*, token: str) -> dict:
    """What the QR code's page shows a stranger: which document, its fingerprint, whether it verifies.

    Only what identifies the paper in hand (type, number, version, date) and its signature; never
    the parties, items or amounts, which someone holding just the link (a photographed QR code)
    has not seen. Read through the narrow public path (`selectors.public_verification_row`, a
    SECURITY DEFINER function returning just those columns), never in a tenant scope.
    """
    document_id, organization_id = verification_token_ids(token)
    row = selectors.public_verification_row(document_id=document_id, organization_id=organization_id, token=token)
    if row is None:
        raise NotFound("No document has this verification code.")
    signed = row["signed_at"] is not None
    # An unsaved stand-in with the public columns only, for the signature check and the labels.
    document = GeneratedDocument(
        document_type=row["document_type"],
        status=row["status"],
        sha256="" if signed else row["sha256"],
        signature_sha256=row["sha256"] if signed else "",
        signed_file=row["signed_file"],
        signed_at=row["signed_at"],
    )
    verification = document_verify(document=document) if signed else None
    result = verification.result if verification else None
    return {
        "document_type": row["document_type"],
        "document_type_label": document.get_document_type_display(),
        "number": row["order_number"] if row["version"] == 1 else f"{row['order_number']}/{row['version']}",
        "version": row["version"],
        "latest_version": row["latest_version"],
        "issued_on": timezone.localdate(row["created_at"]),
        "status": row["status"],
        "sha256": row["sha256"],
        "signed": signed,
        "signed_at": row["signed_at"],
        "signer": row["signer_name"],
        "signature_valid": bool(result and result.valid and verification.matches_record),
        "message": result.message if result else "The document is not signed.",
    }
