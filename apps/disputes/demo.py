"""Demo data of disputes for `make run` (registered with apps.core.demo, run by `seed_demo`), made
through the services as the demo users would: Baltic Shippers opens a case about its latest
freight order carried by Volga Carriers (pallets arrived damaged), with a statement and a photo;
Volga answers with a statement and its signed CMR. The worker draws the previews of the two files
once it is up, so the back-office's mediation page (Disputes, then the case) shows a case with
evidence on both sides. Runs once, after the escrow, tracking and chat seeders."""

from __future__ import annotations

import io
from decimal import Decimal

from PIL import Image, ImageDraw

from apps.accounts.services import user_get_by_email
from apps.core.context import system_scope, tenant_scope
from apps.disputes import services
from apps.disputes.selectors import dispute_list
from apps.orders.selectors import order_list
from apps.tenancy.roles import Actor, Role
from apps.tenancy.selectors import organization_get_by_slug


def _actor(email: str, organization, role: str) -> Actor:
    return Actor(user_id=user_get_by_email(email=email).id, organization_id=organization.id, role=role)


def _photo() -> bytes:
    """A stand-in for the client's photo: two pallets, one of them crushed."""
    image = Image.new("RGB", (960, 640), (214, 219, 223))
    draw = ImageDraw.Draw(image)
    draw.rectangle((80, 300, 420, 560), fill=(176, 132, 84), outline=(90, 60, 30), width=6)
    draw.polygon([(520, 560), (880, 560), (850, 420), (700, 470), (560, 380)], fill=(150, 110, 70))
    draw.line((560, 380, 850, 420), fill=(90, 60, 30), width=6)
    draw.text((90, 60), "Delivery, Kazan: pallet 2 of 6 crushed", fill=(20, 20, 20))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def _signed_cmr() -> bytes:
    """A stand-in for the carrier's signed CMR: one A4 page."""
    page = Image.new("RGB", (595, 842), "white")
    draw = ImageDraw.Draw(page)
    draw.rectangle((30, 30, 565, 812), outline="black", width=2)
    draw.text((50, 50), "CMR - International consignment note", fill="black")
    for top in range(110, 700, 70):
        draw.rectangle((50, top, 545, top + 55), outline=(120, 120, 120))
    draw.text((60, 720), "Goods received in good condition - signed, consignee", fill="black")
    draw.line((330, 780, 520, 760), fill=(20, 40, 160), width=3)
    buffer = io.BytesIO()
    page.save(buffer, format="PDF")
    return buffer.getvalue()


def seed() -> list[str]:
    """Open the demo case once; the lines `make run` prints about it."""
    with system_scope(reason="seed_demo: disputes", audit=False):
        shipper = organization_get_by_slug(slug="baltic-shippers")
        carrier = organization_get_by_slug(slug="volga-carriers")
    client = _actor("shipper@baltic-shippers.demo", shipper, Role.SHIPPER)
    supplier = _actor("carrier@volga-carriers.demo", carrier, Role.CARRIER)
    with tenant_scope(shipper.id, user_id=client.user_id):
        if dispute_list(organization_id=shipper.id).exists():
            return ["  disputes: the demo case is there already"]
        order = (
            order_list(organization_id=shipper.id)
            .filter(kind="freight", supplier_organization_id=carrier.id)
            .order_by("-created_at")
            .first()
        )
        if order is None:
            return ["  disputes: no demo freight order to open a case about"]
        dispute = services.dispute_open(
            actor=client,
            data=services.DisputeInput(
                order_id=order.id,
                reason_category="damaged",
                description="Pallet 2 of 6 arrived crushed; the machine parts on it are bent.",
                outcome_requested="partial_refund",
                amount_claimed=(order.total_amount / 6).quantize(Decimal("0.01")) if order.total_amount else None,
            ),
        )
        services.evidence_add(
            actor=client,
            dispute_id=dispute.id,
            statement="Photo taken at unloading in Kazan, before signing for the goods.",
            upload=services.Upload("unloading-kazan.jpg", _photo(), "image/jpeg"),
        )
    with tenant_scope(carrier.id, user_id=supplier.user_id):
        services.evidence_add(
            actor=supplier,
            dispute_id=dispute.id,
            statement="Loaded intact in Tallinn; the consignee signed the CMR without reservations.",
            upload=services.Upload("cmr-signed.pdf", _signed_cmr(), "application/pdf"),
        )
    return [
        f"  disputes: {dispute.number} about {dispute.order_number} (damaged pallet), evidence from both sides:"
        " the mediation page is in the back-office under Disputes"
    ]
