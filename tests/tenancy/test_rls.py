"""Row-level security as PostgreSQL enforces it, read with raw SQL on the application's connection."""

import re
import uuid
from decimal import Decimal

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection, models
from django.utils import timezone

from apps.accounts.models import ErasureRequest, PersonalDataExport
from apps.accounts.services import session_start
from apps.chat.models import Message, MessageAttachment, MessageReport, MessageVersion, Thread, ThreadParticipant
from apps.core.actors import Actor
from apps.core.context import Scope, activate, system_scope, tenant_scope
from apps.core.models import IdempotencyRecord, OutboxEvent
from apps.core.rls import Visibility
from apps.disputes.models import Dispute, DisputeEvidence, DisputeResolution, DisputeStatusChange
from apps.documents.models import DocumentTemplate, GeneratedDocument
from apps.escrow.models import (
    Escrow,
    EscrowStatusChange,
    JournalEntry,
    LedgerAccount,
    PaymentTransaction,
    Posting,
    WebhookEvent,
)
from apps.integrations.models import (
    BillingRecord,
    DuplicateFlag,
    PlatformConfiguration,
    PlatformOrderLink,
    QuarantinedOrder,
    StatusPush,
    SyncRun,
    WebhookReceipt,
)
from apps.kyc.models import KycDocument, KycDocumentStatusChange, OrganizationVerification, VerificationStatusChange
from apps.marketplace.models import (
    Booking,
    BookingStatusChange,
    Offer,
    OfferRevision,
    OfferStatusChange,
    QuoteRecord,
    Rfq,
    RfqStatusChange,
    ServiceOffering,
    Tariff,
)
from apps.notifications.models import (
    Delivery,
    DeliveryAttempt,
    Notification,
    NotificationPreference,
    NotificationSettings,
    PhoneVerification,
    PushSubscription,
)
from apps.orders import services as order_services
from apps.orders.models import (
    OrderReturn,
    Package,
    PackageStatusChange,
    Product,
    ReturnItem,
    ReturnPhoto,
    ReturnStatusChange,
    Shipment,
    ShipmentAmendment,
    UnmatchedArrival,
)
from apps.passports.models import (
    DevicePassport,
    PassportAttachment,
    PassportEvent,
    PassportScan,
    PassportServiceRequest,
    PassportTakeover,
    ServiceRequestStatusChange,
    TakeoverStatusChange,
)
from apps.points.models import PointAccount, PointTransaction, Referral, ReferralCode, ReferralStatusChange
from apps.reviews.models import Review, ReviewSummary
from apps.service.models import (
    ExpertCertification,
    ExpertPassport,
    ExpertWorkStatusChange,
    MatchingResult,
    ServiceOrder,
    ServiceOrderAttachment,
    ServiceOrderStatusChange,
)
from apps.tenancy import services
from apps.tenancy.models import Invitation, Organization
from apps.tracking.models import (
    Alert,
    AlertStatusChange,
    Device,
    DeviceAssignment,
    Geofence,
    ShipmentTrack,
    TrackedShipment,
    TrackingEvent,
)
from apps.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.factories import FeatureFactory, OrganizationFactory, UserFactory, member

pytestmark = pytest.mark.django_db


def tenant_models() -> list[type[models.Model]]:
    return [model for model in apps.get_models() if isinstance(getattr(model, "row_visibility", None), Visibility)]


def _refers_to_organization(model) -> bool:
    for field in model._meta.get_fields():
        if getattr(field, "related_model", None) is Organization and field.concrete:
            return True
        if field.concrete and "organization" in field.name:
            return True
    return False


def _raw(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.fixture
def two_tenants():
    """Organizations A and B, each with a row in every tenant table."""
    tenants = {}
    for label in ("A", "B"):
        organization = OrganizationFactory(name=f"Tenant {label}")
        admin = member(organization)
        FeatureFactory(organization=organization)
        claimant = OrganizationFactory(name=f"Claimant of {label}")  # a party of its passport takeovers
        with tenant_scope(organization.id, user_id=admin.id):
            services.audit_record(action="test.row", resource_type="test", organization_id=organization.id)
            verification = OrganizationVerification.objects.create(organization=organization)
            VerificationStatusChange.objects.create(
                verification=verification, organization=organization, to_status="pending"
            )
            Invitation.objects.create(
                organization=organization,
                email=f"invitee-{label}@example.test",
                role="carrier",
                invitee=admin,
                token_hash=label * 64,
                expires_at=timezone.now() + timezone.timedelta(days=1),
            )
            # An order with the organization on both sides: every party column names it.
            warehouse = order_services.warehouse_create(
                organization_id=organization.id,
                actor=Actor(user_id=admin.id),
                data={"name": "Main", "code": "main", "country": "DE", "city": "Hamburg", "address_line1": "Kai 1"},
            )
            order = order_services.order_create(
                order_input=order_services.OrderInput(
                    kind="freight",
                    client_organization_id=organization.id,
                    supplier_organization_id=organization.id,
                    currency="EUR",
                    items=[order_services.ItemInput(name="Pallet", quantity=1, unit_price=Decimal("10"))],
                    destination_warehouse_id=warehouse.id,
                ),
                actor=Actor(user_id=admin.id),
            )
            DocumentTemplate.objects.create(organization=organization, document_type="cmr")
            GeneratedDocument.objects.create(
                organization=organization,
                client_organization=organization,
                supplier_organization=organization,
                order=order,
                order_number=order.number,
                document_type="cmr",
                version=1,
                language="en",
                verification_token=f"token-{label}",
                verification_url=f"https://manifest.example/verify/token-{label}",
            )
            document = KycDocument.objects.create(
                organization=organization,
                document_type="inn",
                file=f"kyc/{organization.id}/test.pdf",
                original_filename="test.pdf",
                content_type="application/pdf",
                size_bytes=1,
                sha256="0" * 64,
            )
            KycDocumentStatusChange.objects.create(document=document, organization=organization, to_status="checking")
            OutboxEvent.objects.create(
                organization=organization, event_type="test.row", aggregate_type="test", aggregate_id="1"
            )
            _forwarding_rows(organization, order, warehouse)
            _marketplace_rows(organization, order)
            _escrow_rows(organization, order)
            _tracking_rows(organization, order, label)
            _chat_rows(organization, order, admin)
            _dispute_rows(organization, order, admin)
            _webhook_rows(organization)
            _passport_rows(organization, admin, label, claimant)
            _service_rows(organization, admin, label)
            _review_rows(organization, admin)
            _integration_rows(organization, order)
        with activate(Scope(user_id=admin.id)):
            IdempotencyRecord.objects.create(
                user=admin,
                organization_id=organization.id,
                key=f"key-{label}",
                method="POST",
                path="/x",
                request_fingerprint="f",
            )
            PersonalDataExport.objects.create(user=admin)
            ErasureRequest.objects.create(user=admin, due_at=timezone.now())
            _notification_rows(admin)
            _points_rows(admin, organization)
        session_start(user=admin)  # an AuthSession and its RefreshToken
        tenants[label] = (organization, admin)
    return tenants


def _forwarding_rows(organization, order, warehouse):
    """A product, a package, an unmatched arrival, a return (items, photo, history) and the
    order's shipment with an amendment."""
    parties = {"client_organization_id": organization.id, "supplier_organization_id": organization.id}
    Product.objects.create(organization=organization, external_url="https://www.amazon.de/dp/1", source_platform="x")
    measures = {"weight_g": 1, "length_cm": 1, "width_cm": 1, "height_cm": 1}
    package = Package.objects.create(
        order=order, tracking_number="T1", received_at=timezone.now(), **measures, **parties
    )
    PackageStatusChange.objects.create(package=package, from_status="at_warehouse", to_status="in_transit", **parties)
    UnmatchedArrival.objects.create(organization=organization, warehouse=warehouse, tracking_number="U1", **measures)
    order_return = OrderReturn.objects.create(order=order, reason="Broken", **parties)
    ReturnItem.objects.create(order_return=order_return, order_item=order.items.first(), quantity=1, **parties)
    ReturnPhoto.objects.create(
        order_return=order_return,
        file="returns/x.png",
        original_filename="x.png",
        content_type="image/png",
        size_bytes=1,
        sha256="0" * 64,
        **parties,
    )
    ReturnStatusChange.objects.create(order_return=order_return, to_status="requested", **parties)
    shipment = Shipment.objects.get(order=order)  # made with the freight order
    ShipmentAmendment.objects.create(shipment=shipment, order_status="in_transit", changed_fields=["route"], **parties)


def _marketplace_rows(organization, order):
    """Unpublished catalogue rows and a draft RFQ (published ones are every tenant's to read,
    tests/marketplace/test_visibility.py), and an offer and a booking with the organization on
    both sides."""
    offering = ServiceOffering.objects.create(
        organization=organization,
        organization_name=organization.name,
        name="Withdrawn service",
        service_type="road_ftl",
        transit_days=1,
        currency="EUR",
        is_active=False,
    )
    Tariff.objects.create(
        offering=offering, organization=organization, offering_is_published=False, name="Base", tariff_type="base"
    )
    rfq = Rfq.objects.create(
        organization=organization,
        organization_name=organization.name,
        number="RFQ-2026-000001",
        title="Draft",
        weight_kg=1,
        currency="EUR",
        deadline=timezone.now() + timezone.timedelta(days=1),
    )
    RfqStatusChange.objects.create(rfq=rfq, organization=organization, to_status="draft")
    parties = {"carrier_organization": organization, "shipper_organization": organization}
    offer = Offer.objects.create(
        rfq=rfq,
        rfq_number=rfq.number,
        carrier_organization_name=organization.name,
        price=1,
        currency="EUR",
        transit_days=1,
        valid_until=timezone.now() + timezone.timedelta(days=1),
        **parties,
    )
    OfferRevision.objects.create(
        offer=offer, version=1, price=1, currency="EUR", transit_days=1, valid_until=offer.valid_until, **parties
    )
    OfferStatusChange.objects.create(offer=offer, to_status="submitted", **parties)
    QuoteRecord.objects.create(
        organization=organization,
        offering_id=offering.id,
        carrier_organization_id=organization.id,
        shipment={},
        currency="EUR",
        total=1,
        lines=[],
        transit_days=1,
        created_at=timezone.now(),
        valid_until=timezone.now() + timezone.timedelta(minutes=30),
    )
    booking_parties = {"shipper_organization": organization, "carrier_organization": organization}
    booking = Booking.objects.create(
        number="BKG-2026-000001",
        shipper_organization_name=organization.name,
        carrier_organization_name=organization.name,
        quote_record_id=offering.id,
        offering_id=offering.id,
        order=order,
        price=1,
        currency="EUR",
        transit_days=1,
        expires_at=timezone.now() + timezone.timedelta(days=1),
        **booking_parties,
    )
    BookingStatusChange.objects.create(booking=booking, to_status="pending", **booking_parties)


def _tracking_rows(organization, order, label):
    """The order's tracked shipment with an event (in its month's partition), an alert and its
    history, and a device assigned to it and a geofence of the organization."""
    parties = {"client_organization_id": organization.id, "supplier_organization_id": organization.id}
    shipment = TrackedShipment.objects.create(
        kind="order", order=order, tracking_number=f"MF{label}TEST", reference=order.number, status="draft", **parties
    )
    now = timezone.now()
    TrackingEvent.objects.create(
        shipment_id=shipment.id, event_type="milestone", source="manual", occurred_at=now, received_at=now, **parties
    )
    alert = Alert.objects.create(shipment=shipment, alert_type="manual", severity="low", message="Look", **parties)
    AlertStatusChange.objects.create(alert=alert, to_status="open", **parties)
    ShipmentTrack.objects.create(shipment=shipment, points=[[0.0, 0.0, 0]], pings=1, **parties)
    device = Device.objects.create(organization=organization, name="Unit", key_prefix="k", key_digest=label * 64)
    DeviceAssignment.objects.create(organization=organization, device=device, shipment=shipment, valid_from=now)
    Geofence.objects.create(organization=organization, name="Yard", shape="polygon", polygon=[[0, 0], [0, 1], [1, 1]])


def _chat_rows(organization, order, user):
    """A thread about the order with a participant, a message with an earlier version, an
    attachment and a report."""
    parties = {"party_a_organization_id": organization.id, "party_b_organization_id": organization.id}
    now = timezone.now()
    thread = Thread.objects.create(
        kind="order",
        subject_id=order.id,
        title="Order",
        party_a_name="A",
        party_b_name="B",
        last_activity_at=now,
        **parties,
    )
    ThreadParticipant.objects.create(thread=thread, user=user, organization=organization, **parties)
    message = Message.objects.create(
        thread=thread, seq=1, sender=user, sender_organization=organization, body="Hi", **parties
    )
    MessageVersion.objects.create(message=message, body="Hello", written_at=now, **parties)
    MessageAttachment.objects.create(
        message=message,
        thread=thread,
        filename="a.pdf",
        content_type="application/pdf",
        size=1,
        sha256="0" * 64,
        **parties,
    )
    MessageReport.objects.create(
        message=message, thread=thread, reporter=user, reporter_organization=organization, reason="spam", **parties
    )


def _notification_rows(user):
    """A notification with a delivery and its attempt, preferences, quiet hours, a push
    subscription and a phone code: all the person's own."""
    now = timezone.now()
    notification = Notification.objects.create(
        user=user, type="system.alert", event_id=uuid.uuid4(), event_type="notification.broadcast", title="Hello"
    )
    delivery = Delivery.objects.create(
        notification=notification, user=user, channel="email", address=user.email, due_at=now
    )
    DeliveryAttempt.objects.create(delivery=delivery, user=user, number=1, status="sent")
    NotificationPreference.objects.create(user=user, type="order.status_changed")
    NotificationSettings.objects.create(user=user)
    PushSubscription.objects.create(user=user, endpoint=f"https://push.example/{user.id}", p256dh="k", auth="a")
    PhoneVerification.objects.create(user=user, phone="+15550001", code_hash="h", expires_at=now)


def _integration_rows(organization, order):
    """A connected shop, an order bound to it with its billing, a duplicate flag, a pushed
    fulfilment, a sync run, a quarantined order and a webhook receipt."""
    now = timezone.now()
    configuration = PlatformConfiguration.objects.create(
        organization=organization,
        platform="shopify",
        shop_id=f"rls-{organization.id}.myshopify.com",
        name="Shop",
        credentials_encrypted="x",
        sync_interval=300,
    )
    common = {"organization": organization, "configuration": configuration}
    link = PlatformOrderLink.objects.create(
        **common,
        platform="shopify",
        shop_id=configuration.shop_id,
        external_id="1",
        order_id=order.id,
        order_number=order.number,
        platform_status="paid",
        platform_created_at=now,
        platform_updated_at=now,
        currency="EUR",
        total_amount=1,
        items_key="k",
        content_hash="h",
        raw_payload={},
    )
    other = PlatformOrderLink.objects.create(
        **{**common, "configuration": configuration},
        platform="shopee",
        shop_id="x",
        external_id="2",
        order_id=uuid.uuid4(),
        order_number="PL-2",
        platform_status="READY_TO_SHIP",
        platform_created_at=now,
        platform_updated_at=now,
        currency="EUR",
        total_amount=1,
        items_key="k",
        content_hash="h",
        raw_payload={},
    )
    DuplicateFlag.objects.create(organization=organization, link=link, other_link=other)
    BillingRecord.objects.create(
        organization=organization,
        link=link,
        order_id=order.id,
        kind="INVOICE",
        number="INV-1",
        amount=1,
        currency="EUR",
        issued_at=now,
    )
    StatusPush.objects.create(organization=organization, link=link, event_id=uuid.uuid4(), status="in_transit")
    SyncRun.objects.create(**common, trigger="SCHEDULE", started_at=now, window_start=now, window_end=now)
    QuarantinedOrder.objects.create(
        **common, external_id="3", reason="x", raw_payload={}, first_seen_at=now, last_seen_at=now
    )
    WebhookReceipt.objects.create(**common, dedupe_key="k")


def _points_rows(user, organization):
    """The person's points account and a ledger line, their invite code, and a person they
    referred (the organization as the referred one) with the referral's history: all theirs."""
    PointAccount.objects.create(user=user, balance=5, transaction_count=1)
    PointTransaction.objects.create(
        user=user, sequence=1, type="REWARD", category="DEVICE", amount=5, balance=5, description="x", source_key="t"
    )
    ReferralCode.objects.create(user=user, code=f"RLS{str(user.id)[:5].upper()}")
    referral = Referral.objects.create(
        referrer=user, referred=UserFactory(), code="X", source="SIGN_UP", referred_organization=organization
    )
    ReferralStatusChange.objects.create(referral=referral, referrer=user, to_status="PENDING")


def _dispute_rows(organization, order, user):
    """A dispute about the order with its first history row and a statement."""
    parties = {"client_organization_id": organization.id, "supplier_organization_id": organization.id}
    dispute = Dispute.objects.create(
        number="DSP-1",
        order=order,
        order_number=order.number,
        client_organization_name=organization.name,
        supplier_organization_name=organization.name,
        opened_by_side="client",
        opened_by_organization=organization,
        opened_by=user,
        reason_category="late",
        description="Late",
        currency="EUR",
        outcome_requested="other",
        **parties,
    )
    DisputeStatusChange.objects.create(dispute=dispute, to_status="created", **parties)
    DisputeEvidence.objects.create(
        dispute=dispute, kind="statement", added_by_side="client", statement="Late", **parties
    )
    DisputeResolution.objects.create(
        dispute=dispute,
        kind="proposal",
        outcome="refund",
        release_amount=0,
        refund_amount=0,
        currency="EUR",
        reason="Late",
        **parties,
    )


def _webhook_rows(organization):
    """An endpoint with a delivery and its attempt."""
    endpoint = WebhookEndpoint.objects.create(
        organization=organization, url="https://hooks.example.test/in", event_types=["*"], secret_encrypted="x"
    )
    delivery = WebhookDelivery.objects.create(
        organization=organization, endpoint=endpoint, event_id=uuid.uuid4(), event_type="test.row", body="{}"
    )
    WebhookAttempt.objects.create(
        organization=organization, delivery=delivery, sequence=1, number=1, requested_at=timezone.now()
    )


def _passport_rows(organization, user, label, other):
    """A device passport with a lifecycle step, a file, a scan and a service request (with its
    history), and two takeover claims (with their history): one by another organization on this
    one's device, one by this organization, so each party column holds the tenant's id."""
    now = timezone.now()
    code = f"T{label}X-2612-MO-DE-000001-00"
    passport = DevicePassport.objects.create(
        organization=organization,
        issuer_organization=organization,
        code=code,
        company_code=f"T{label}X",
        year_month="2612",
        product_type="MO",
        origin_country="DE",
        sequence=1,
        checksum="00",
        device_name="Motor",
        manufacturer=f"Maker {label}",
        serial_number="SN-1",
    )
    event = PassportEvent.objects.create(
        passport=passport, organization=organization, kind="manufactured", to_status="manufactured", occurred_at=now
    )
    PassportAttachment.objects.create(
        passport=passport,
        organization=organization,
        event=event,
        kind="document",
        file="passports/x",
        filename="x.pdf",
        content_type="application/pdf",
        size=1,
        sha256="0" * 64,
    )
    PassportScan.objects.create(passport=passport, organization=organization, scanned_at=now, channel="code")
    request = PassportServiceRequest.objects.create(
        organization=organization,
        number=f"SRQ-{label}",
        passport=passport,
        passport_code=code,
        source="member",
        contact_name="",
        description="Noisy",
        requested_by=user,
    )
    ServiceRequestStatusChange.objects.create(service_request=request, organization=organization, to_status="open")
    for from_organization, to_organization in ((organization, other), (other, organization)):
        takeover = PassportTakeover.objects.create(
            passport=passport,
            passport_code=code,
            device_name="Motor",
            from_organization=from_organization,
            to_organization=to_organization,
            from_organization_name=from_organization.name,
            to_organization_name=to_organization.name,
        )
        TakeoverStatusChange.objects.create(
            takeover=takeover,
            from_organization=from_organization,
            to_organization=to_organization,
            to_status="pending",
        )


def _service_rows(organization, user, label):
    """An unpublished expert passport (published ones are every tenant's to read) with a
    certification and its work-status history; a service order of the organization held by its
    own expert (both party columns), its history, a photo and a matching result."""
    expert = ExpertPassport.objects.create(
        organization=organization,
        user=user,
        display_name=f"Expert {label}",
        code=f"EP-T-EL-MOT-2612-DE-0000{ord(label) - 64}-00",
        expert_type="T",
        industry_code="EL",
        skill_code="MOT",
        year_month="2612",
        nationality="DE",
        sequence=ord(label) - 64,
        checksum="00",
        is_published=False,
    )
    ExpertCertification.objects.create(expert=expert, organization=organization, name="Cert", is_published=False)
    ExpertWorkStatusChange.objects.create(expert=expert, organization=organization, to_status="IDLE")
    order = ServiceOrder.objects.create(
        organization=organization,
        expert_organization=organization,
        expert=expert,
        number=f"SVO-{label}",
        title="Fix",
        required_skill="EL-MOT",
    )
    parties = {"organization": organization, "expert_organization": organization}
    ServiceOrderStatusChange.objects.create(service_order=order, to_status="PENDING", **parties)
    ServiceOrderAttachment.objects.create(
        service_order=order,
        kind="PHOTO",
        file="service-orders/x",
        filename="x.jpg",
        content_type="image/jpeg",
        size=1,
        sha256="0" * 64,
        **parties,
    )
    MatchingResult.objects.create(
        organization=organization,
        target_organization=organization,
        source_id=order.id,
        target_id=expert.id,
        score=1,
        rank=1,
    )


def _review_rows(organization, user):
    """A review with the organization on both sides (both party columns), and its summary
    counting no review yet (one that counts is every tenant's to read)."""
    Review.objects.create(
        subject_type="FREIGHT_ORDER",
        subject_id=uuid.uuid4(),
        subject_number="FR-1",
        reviewee_type="CARRIER",
        reviewee_id=organization.id,
        reviewee_organization=organization,
        author=user,
        author_organization=organization,
        rating=5,
        text="Fine.",
    )
    ReviewSummary.objects.create(organization=organization, reviewee_type="CARRIER", reviewee_id=organization.id)


def _escrow_rows(organization, order):
    """An escrow with its history, a transaction, a ledger entry on the organization's own
    account and the platform's, and a recorded provider webhook."""
    parties = {"client_organization_id": organization.id, "supplier_organization_id": organization.id}
    escrow = Escrow.objects.create(
        number="ESC-1",
        order=order,
        order_number=order.number,
        client_organization_name=organization.name,
        supplier_organization_name=organization.name,
        provider="sandbox",
        amount=1,
        currency="EUR",
        commission_rate=0,
        commission_minimum=0,
        commission_amount=0,
        **parties,
    )
    EscrowStatusChange.objects.create(escrow=escrow, to_status="created", **parties)
    payment = PaymentTransaction.objects.create(escrow=escrow, kind="fund", amount=1, currency="EUR", **parties)
    account = LedgerAccount.objects.create(
        id=LedgerAccount.id_for(organization_id=organization.id, kind="available", currency="EUR"),
        organization=organization,
        kind="available",
        currency="EUR",
    )
    # The platform's account has no organization: no tenant reads it, every tenant may open it.
    platform = LedgerAccount(
        id=LedgerAccount.id_for(organization_id=None, kind="commission", currency="EUR"),
        kind="commission",
        currency="EUR",
    )
    LedgerAccount.objects.bulk_create([platform], ignore_conflicts=True)
    entry = JournalEntry.objects.create(kind="adjustment", description="test", **parties)
    for ledger_account, amount in ((account, -1), (platform, 1)):
        Posting.objects.create(
            entry=entry,
            account=ledger_account,
            organization_id=ledger_account.organization_id,
            account_kind=ledger_account.kind,
            amount=amount,
            currency="EUR",
            **parties,
        )
    WebhookEvent.objects.create(
        provider="sandbox",
        event_id=f"evt-{organization.id}",
        event_type="charge.succeeded",
        organization=organization,
        reference=payment.id,
        payload={},
    )


def _owner_ids(label, tenants, column) -> set[str]:
    organization, admin = tenants[label]
    personal = column in {"user_id", "invitee_id", "referrer_id"}  # rows of a person: each tenant's admin here
    return {str(admin.id)} if personal else {str(organization.id)}


def test_every_tenant_table_hides_other_tenants_rows_from_raw_sql(two_tenants):
    organization_a, admin_a = two_tenants["A"]
    checked = 0
    with tenant_scope(organization_a.id, user_id=admin_a.id):
        for model in tenant_models():
            table = model._meta.db_table
            for column in model.row_visibility.columns:
                rows = _raw(f'SELECT "{column}"::text FROM "{table}"')
                seen = {value for (value,) in rows}
                foreign = _owner_ids("B", two_tenants, column)
                assert not (seen & foreign), f"{table}.{column}: tenant A sees B's rows {seen & foreign}"
                assert seen & _owner_ids("A", two_tenants, column), f"{table}.{column}: A does not see its own rows"
                checked += 1
    assert checked >= len(tenant_models())


def test_with_no_tenant_set_every_tenant_table_reads_empty(two_tenants):
    with system_scope(reason="test: the rows exist", audit=False):
        for model in tenant_models():
            assert _raw(f'SELECT count(*) FROM "{model._meta.db_table}"')[0][0] > 0, model._meta.db_table
    with activate(Scope()):
        for model in tenant_models():
            assert _raw(f'SELECT * FROM "{model._meta.db_table}"') == [], model._meta.db_table


def test_tenant_cannot_write_rows_for_another_tenant(two_tenants):
    organization_a, admin_a = two_tenants["A"]
    organization_b, _ = two_tenants["B"]
    with tenant_scope(organization_a.id, user_id=admin_a.id), pytest.raises(Exception, match="row-level security"):
        OutboxEvent.objects.create(
            organization_id=organization_b.id, event_type="x", aggregate_type="x", aggregate_id="1"
        )


def test_application_role_is_neither_superuser_nor_bypassrls(db):
    (role, session_role, superuser, bypass) = _raw(
        "SELECT current_user, session_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )[0]
    assert role == session_role == settings.APP_DB_USER
    assert superuser is False
    assert bypass is False


def test_every_model_with_an_organization_or_party_column_declares_its_visibility():
    undeclared = [
        model._meta.label
        for model in apps.get_models()
        if _refers_to_organization(model) and not isinstance(getattr(model, "row_visibility", None), Visibility)
    ]
    assert undeclared == [], f"declare row_visibility (DESIGN.md §3) on: {undeclared}"


def test_every_declared_table_has_forced_rls_and_the_policies_of_its_declaration(db):
    for model in tenant_models():
        table, visibility = model._meta.db_table, model.row_visibility
        enabled, forced = _raw("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s", [table])[
            0
        ]
        assert enabled and forced, f"{table}: RLS enabled={enabled} forced={forced}"
        policies = dict(
            _raw(
                "SELECT p.policyname, obj_description(pol.oid, 'pg_policy') FROM pg_policies p"
                " JOIN pg_policy pol ON pol.polname = p.policyname AND pol.polrelid = %s::regclass"
                " WHERE p.tablename = %s",
                [table, table],
            )
        )
        expected = {policy.name for policy in visibility.policies(table)}
        assert set(policies) == expected, f"{table}: policies {set(policies)} != {expected}; migrate the declaration"
        assert set(policies.values()) == {visibility.signature()}, (
            f"{table}: migrated as {set(policies.values())}, declared {visibility.signature()}: add a migration "
            "with ApplyRowLevelSecurity"
        )


def test_every_policy_column_leads_an_index(db):
    for model in tenant_models():
        table = model._meta.db_table
        for column in model.row_visibility.columns:
            leading = _raw(
                "SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
                " WHERE i.indrelid = %s::regclass AND a.attname = %s",
                [table, column],
            )
            assert leading, f"{table}.{column} is used by a policy but no index starts with it"


def test_policies_call_their_helpers_once_per_query(db):
    """Helpers wrapped in (select ...) become init plans, evaluated once, not once per row."""
    for qual, check in _raw("SELECT coalesce(qual, ''), coalesce(with_check, '') FROM pg_policies"):
        for expression in (qual, check):
            bare_calls = re.findall(r"(?<!SELECT )app_(?:current_tenant|current_user_id|rls_bypass)\(\)", expression)
            assert not bare_calls, expression
