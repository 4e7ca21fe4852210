"""The notification types: which domain events each tells, to whom, on which channels by default.

A type maps outbox events to recipients with one rule (apps.notifications.recipients):
- `Members(where, roles)`: the active members holding one of the roles in the organizations
  the event concerns: `ORGANIZATION` (the event's own, i.e. the acting organization),
  `PARTIES` (every organization in the payload's `party_organization_ids`, which the live
  feed uses too), `COUNTERPARTIES` (the parties but the acting organization), or the name of a
  payload field that holds one organization id;
- `PayloadUser(field)`: the person the event is about (their own account's events);
- `PayloadAudience()`: the users and organizations a staff broadcast names;
- `Staff()`: active platform staff (mediators);
- `ChatOffline()`: the other side's participants of a chat thread who are not online in it.

The person whose action caused the event is never told of it (except their own account's
security events, which exist to tell them). `mandatory` types cannot be switched off;
`digestible` types may be gathered into an hourly or daily e-mail. `sample` is the payload
staff preview templates with, and the shape a template may use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

ORGANIZATION = "organization"
PARTIES = "parties"
COUNTERPARTIES = "counterparties"

# Who works an organization's deals, by role (apps.tenancy.roles.Role values).
ADMINS = frozenset({"org_admin"})
TRADERS = frozenset({"org_admin", "shipper", "carrier", "buyer", "supplier", "customer_service"})
OPERATIONS = TRADERS | {"purchase_agent", "warehouse_manager"}


@dataclass(frozen=True)
class Members:
    where: str
    roles: frozenset[str]


@dataclass(frozen=True)
class PayloadUser:
    field: str = "user_id"


@dataclass(frozen=True)
class PayloadAudience:
    """Users (`user_ids`) and members of organizations (`organization_ids`, optionally only
    `roles`) named in a staff broadcast's payload."""


@dataclass(frozen=True)
class Staff:
    pass


@dataclass(frozen=True)
class ChatOffline:
    pass


Rule = Members | PayloadUser | PayloadAudience | Staff | ChatOffline

DEFAULT_CHANNELS = frozenset({"in_app", "email", "push"})
URGENT_CHANNELS = frozenset({"in_app", "email", "push", "sms"})


@dataclass(frozen=True)
class NotificationType:
    key: str
    label: str
    category: str
    events: tuple[str, ...]
    recipients: Rule
    default_channels: frozenset[str] = DEFAULT_CHANNELS
    mandatory: bool = False
    digestible: bool = False
    # Tell only when the payload says so (e.g. an appeal, not every answer).
    when: Callable[[dict], bool] | None = None
    sample: dict = field(default_factory=dict)


_ORDER = {"order_id": "5b0f1c1e-8a4e-4d43-9d6e-2f1f3c9b7a10", "number": "ORD-2026-000123"}
_ESCROW = {
    "escrow_id": "0d5c1b7e-4f1d-4b8e-9c55-1f8e2a9b6c21",
    "order_id": _ORDER["order_id"],
    "currency": "EUR",
    "held_amount": "1250.00",
    "amount": "1250.00",
}
_DISPUTE = {
    "dispute_id": "9a3e2b1c-7d6f-4e5a-8b9c-0d1e2f3a4b5c",
    "number": "DSP-2026-000007",
    "order_id": _ORDER["order_id"],
    "from_status": "opened",
    "to_status": "under_review",
}

_PASSPORT = {
    "passport_id": "2f6d0c3a-5b1e-4c7d-9a8b-1e2f3a4b5c6d",
    "code": "VOL-2612-PU-RU-000003-41",
    "device_name": "Centrifugal pump 80 m3/h",
}
# Who looks after an organization's devices (seed 002 §9).
DEVICE_KEEPERS = frozenset({"org_admin", "operator"})

_SERVICE_ORDER = {
    "service_order_id": "4b3a2c1d-9e8f-4a7b-8c6d-5e4f3a2b1c0d",
    "number": "SVO-2026-000031",
    "title": "Motor overheats at full load",
    "party_organization_ids": [],
    "customer_id": "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
    "expert_id": "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d",
    "expert_user_id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
    "customer_organization_id": "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a",
}
# Who dispatches an organization's field service (orders service, assigns experts).
DISPATCHERS = frozenset({"org_admin", "operator"})
# The expert's moves the customer side hears of (a completion through `service_order.completed`,
# which has no `action`: its `status_changed` twin is left out, so nobody hears it twice).
SERVICE_ORDER_PROGRESS = ("service_order.status_changed", "service_order.completed")


def _order_status_worth_telling(payload: dict) -> bool:
    # A platform order (Shopee, Lazada, Shopify, TikTok Shop) moves as its platform says, several
    # times each and thousands a day for a busy seller, who follows them on the platform: of those
    # moves only a cancellation is told here (the goods must not go out). Others' orders: every move.
    return payload.get("kind") != "platform" or payload.get("to_status") == "cancelled"


def _service_order_progress(payload: dict) -> bool:
    return "action" not in payload or payload["action"] in ("accept", "decline", "start")


_REVIEW = {
    "review_id": "4b3a2c1d-0e9f-4a8b-8c7d-6e5f4a3b2c1d",
    "subject_type": "FREIGHT_ORDER",
    "subject_number": "FR-2026-000123",
    "reviewee_type": "CARRIER",
    "reviewee_user_id": None,
    "rating": 5,
}

TYPES: tuple[NotificationType, ...] = (
    NotificationType(
        key="rfq.created",
        label="RFQ published to you",
        category="marketplace",
        events=("rfq.created",),
        recipients=Members(COUNTERPARTIES, frozenset({"org_admin", "carrier"})),
        digestible=True,
        sample={"rfq_id": "3c1d", "number": "RFQ-2026-000042", "status": "published"},
    ),
    NotificationType(
        key="rfq.updated",
        label="RFQ changed or closed",
        category="marketplace",
        events=("rfq.updated", "rfq.closed"),
        recipients=Members(COUNTERPARTIES, frozenset({"org_admin", "carrier"})),
        digestible=True,
        sample={"rfq_id": "3c1d", "number": "RFQ-2026-000042", "status": "published", "changed": ["pickup_date"]},
    ),
    NotificationType(
        key="offer.received",
        label="Offer received on your RFQ",
        category="marketplace",
        events=("offer.submitted", "offer.revised"),
        recipients=Members(COUNTERPARTIES, frozenset({"org_admin", "shipper", "buyer"})),
        digestible=True,
        sample={
            "offer_id": "77aa",
            "rfq_number": "RFQ-2026-000042",
            "price": "980.00",
            "currency": "EUR",
            "version": 1,
        },
    ),
    NotificationType(
        key="offer.accepted",
        label="Your offer was accepted",
        category="marketplace",
        events=("offer.accepted",),
        recipients=Members("carrier_organization_id", frozenset({"org_admin", "carrier"})),
        sample={"offer_id": "77aa", "rfq_number": "RFQ-2026-000042", "order_id": _ORDER["order_id"]},
    ),
    NotificationType(
        key="order.status_changed",
        label="Order status changed",
        category="orders",
        events=("order.status_changed",),
        recipients=Members(PARTIES, OPERATIONS),
        digestible=True,
        when=_order_status_worth_telling,
        sample={**_ORDER, "kind": "freight", "from_status": "confirmed", "to_status": "in_transit", "note": ""},
    ),
    NotificationType(
        key="payment.escrow_funded",
        label="Escrow funded",
        category="payments",
        events=("escrow.funded",),
        recipients=Members(PARTIES, TRADERS),
        sample={**_ESCROW, "status": "funded"},
    ),
    NotificationType(
        key="payment.escrow_released",
        label="Escrow released",
        category="payments",
        events=("escrow.released",),
        recipients=Members(PARTIES, TRADERS),
        sample={**_ESCROW, "status": "released", "commission": "25.00", "automatic": False},
    ),
    NotificationType(
        key="payment.escrow_refunded",
        label="Escrow refunded",
        category="payments",
        events=("escrow.refunded",),
        recipients=Members(PARTIES, TRADERS),
        sample={**_ESCROW, "status": "refunded"},
    ),
    NotificationType(
        key="document.requested",
        label="Document requested",
        category="documents",
        events=("document.requested",),
        recipients=Members(COUNTERPARTIES, TRADERS),
        digestible=True,
        sample={"document_id": "d0c5", "order_id": _ORDER["order_id"], "document_type": "cmr", "version": 1},
    ),
    NotificationType(
        key="document.ready",
        label="Document ready",
        category="documents",
        events=("document.ready",),
        recipients=Members(PARTIES, TRADERS),
        digestible=True,
        sample={"document_id": "d0c5", "order_id": _ORDER["order_id"], "document_type": "cmr", "version": 1},
    ),
    NotificationType(
        key="document.signed",
        label="Document signed",
        category="documents",
        events=("document.signed",),
        recipients=Members(PARTIES, TRADERS),
        sample={"document_id": "d0c5", "order_id": _ORDER["order_id"], "document_type": "cmr", "version": 2},
    ),
    NotificationType(
        key="dispute.updated",
        label="Dispute update",
        category="disputes",
        events=(
            "dispute.opened",
            "dispute.status_changed",
            "dispute.evidence_added",
            "dispute.response_due",
            "dispute.mediator_assigned",
            "dispute.resolution_proposed",
            "dispute.resolved",
            "dispute.resolution_answered",
        ),
        recipients=Members(PARTIES, TRADERS),
        sample=_DISPUTE,
    ),
    NotificationType(
        key="dispute.staff_attention",
        label="Dispute needs a mediator",
        category="disputes",
        events=("dispute.opened", "dispute.resolution_answered", "dispute.response_due"),
        recipients=Staff(),
        # A new case, a rejected resolution (an appeal), or a side's deadline missed.
        when=lambda payload: (
            payload.get("answer", "rejected") == "rejected" and payload.get("stage", "overdue") == "overdue"
        ),
        sample={**_DISPUTE, "answer": "rejected", "side": "claimant"},
    ),
    NotificationType(
        key="passport.takeover",
        label="Device takeover requested or decided",
        category="passports",
        # Requested: the claimant acts, the device's owner is told. Decided: the owner (or staff,
        # for the owner) acts, the claimant is told; withdrawn by the claimant, the owner is.
        events=("passport.takeover_requested", "passport.takeover_decided"),
        recipients=Members(COUNTERPARTIES, DEVICE_KEEPERS),
        sample={
            **_PASSPORT,
            "takeover_id": "6c2b9e4d-3f1a-4d8e-b7c6-5a4b3c2d1e0f",
            "party_organization_ids": [],
            "from_organization_id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
            "to_organization_id": "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a",
            "to_organization_name": "Baltic Shippers",
        },
    ),
    NotificationType(
        key="passport.service_requested",
        label="Service requested for a device",
        category="passports",
        events=("passport.service_requested",),
        recipients=Members(ORGANIZATION, DEVICE_KEEPERS | {"engineer"}),
        sample={
            **_PASSPORT,
            "service_request_id": "8e7d6c5b-4a39-4281-9f0e-1d2c3b4a5968",
            "number": "SRQ-2026-000012",
            "source": "public",
        },
    ),
    NotificationType(
        key="service_order.assigned",
        label="Service order assigned to you",
        category="service",
        events=("service_order.status_changed",),
        recipients=PayloadUser("expert_user_id"),
        # Assigned by the customer's dispatcher (an expert who takes a live offer knows it).
        when=lambda payload: payload.get("action") == "assign",
        sample={**_SERVICE_ORDER, "from_status": "PENDING", "to_status": "ASSIGNED", "action": "assign", "reason": ""},
    ),
    NotificationType(
        key="service_order.progress",
        label="Your service order accepted, declined, started or completed",
        category="service",
        events=SERVICE_ORDER_PROGRESS,
        recipients=PayloadUser("customer_id"),
        when=_service_order_progress,
        sample={
            **_SERVICE_ORDER,
            "from_status": "ASSIGNED",
            "to_status": "IN_PROGRESS",
            "action": "start",
            "reason": "",
        },
    ),
    NotificationType(
        key="service_order.dispatch",
        label="Service orders of your organization accepted, declined, started or completed",
        category="service",
        events=SERVICE_ORDER_PROGRESS,
        # The customer organization's dispatchers, also when its own expert does the work.
        recipients=Members("customer_organization_id", DISPATCHERS),
        when=_service_order_progress,
        sample={
            **_SERVICE_ORDER,
            "completed_at": "2026-12-07T10:30:00+00:00",
            "passport_id": _PASSPORT["passport_id"],
        },
    ),
    NotificationType(
        key="service_order.cancelled",
        label="A service order you hold was cancelled",
        category="service",
        events=("service_order.status_changed",),
        recipients=PayloadUser("expert_user_id"),
        when=lambda payload: payload.get("action") == "cancel",
        sample={
            **_SERVICE_ORDER,
            "from_status": "ASSIGNED",
            "to_status": "CANCELLED",
            "action": "cancel",
            "reason": "The line is stopped for a month.",
        },
    ),
    NotificationType(
        key="expert.membership_expired",
        label="Your expert membership expired",
        category="service",
        events=("expert.membership_changed",),
        recipients=PayloadUser("user_id"),
        when=lambda payload: bool(payload.get("expired")),
        sample={
            "expert_id": _SERVICE_ORDER["expert_id"],
            "code": "EP-T-EL-MOT-2612-RU-00042-89",
            "user_id": _SERVICE_ORDER["expert_user_id"],
            "from_level": "GOLD",
            "to_level": "FREE",
            "expires_at": None,
            "expired": True,
        },
    ),
    NotificationType(
        key="review.received",
        label="Your organization was reviewed",
        category="reviews",
        # The reviewed organization's people who answer for its work (an expert hears of their
        # own review as review.about_you below).
        events=("review.created",),
        recipients=Members("reviewee_organization_id", ADMINS | {"operator", "carrier", "shipper"}),
        digestible=True,
        sample=_REVIEW,
    ),
    NotificationType(
        key="review.about_you",
        label="You were reviewed",
        category="reviews",
        # The expert who did the work, or the customer who ordered it.
        events=("review.created",),
        recipients=PayloadUser("reviewee_user_id"),
        digestible=True,
        sample={**_REVIEW, "reviewee_type": "EXPERT", "reviewee_user_id": "0c9b8a7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d"},
    ),
    NotificationType(
        key="service.offer",
        label="Urgent service order offered to you",
        category="service",
        # A live offer to RUSHING experts (apps/service/services/dispatch.py): the payload names
        # their users. Open for minutes, the first to accept gets it: in the app and by push.
        events=("service_order.offered",),
        recipients=PayloadAudience(),
        default_channels=frozenset({"in_app", "push"}),
        sample={
            "service_order_id": "4d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a",
            "number": "SVO-2026-000042",
            "title": "Motor overheats",
            "urgency": "URGENT",
            "offer_round": 1,
            "user_ids": [],
            "expires_at": "2026-12-07T10:02:00+00:00",
        },
    ),
    NotificationType(
        key="kyc.decision",
        label="KYC decision",
        category="kyc",
        events=("kyc.document_reviewed", "kyc.verification_changed"),
        recipients=Members(ORGANIZATION, ADMINS),
        # Decisions only: a document approved or rejected, the organization verified or rejected.
        when=lambda payload: payload.get("status") in ("approved", "rejected", "verified"),
        sample={"document_id": "k1", "document_type": "registration_certificate", "status": "approved", "reason": ""},
    ),
    NotificationType(
        key="kyc.expiry",
        label="KYC document expiring or expired",
        category="kyc",
        events=("kyc.document_expiring", "kyc.document_expired"),
        recipients=Members(ORGANIZATION, ADMINS),
        sample={"document_id": "k1", "document_type": "insurance", "status": "approved", "expires_on": "2027-01-31"},
    ),
    NotificationType(
        key="tracking.alert",
        label="Shipment alert",
        category="tracking",
        events=("tracking.alert_raised", "tracking.alert_worsened"),
        recipients=Members(PARTIES, TRADERS),
        default_channels=URGENT_CHANNELS,
        sample={
            "shipment_id": "5h1p",
            "reference": "ORD-2026-000123",
            "alert_type": "temperature",
            "severity": "critical",
            "message": "Temperature 9.5 °C above the 8 °C limit",
        },
    ),
    NotificationType(
        key="chat.message",
        label="Chat message while you were away",
        category="chat",
        events=("chat.message_sent",),
        recipients=ChatOffline(),
        digestible=True,
        sample={"thread_id": "7h", "thread_kind": "order", "message_id": "m1", "seq": 4, "attachment_count": 0},
    ),
    NotificationType(
        key="system.alert",
        label="Message from the platform",
        category="system",
        events=("notification.broadcast",),
        recipients=PayloadAudience(),
        sample={"title": "Maintenance on Sunday", "body": "The platform is read-only 02:00-03:00 UTC."},
    ),
    NotificationType(
        key="webhook.endpoint_disabled",
        label="Webhook endpoint disabled",
        category="system",
        events=("webhook_endpoint.disabled",),
        recipients=Members(ORGANIZATION, ADMINS),
        sample={"endpoint_id": "e1", "url": "https://example.com/hooks", "reason": "failing", "failures": 20},
    ),
    NotificationType(
        key="integration.sync_paused",
        label="A shop's sync paused after failing",
        category="integrations",
        # Only when the circuit breaker paused the shop: a single failed run is in the sync log,
        # and the next run may well succeed.
        events=("sync.failed",),
        recipients=Members(ORGANIZATION, ADMINS),
        default_channels=frozenset({"in_app", "email"}),
        when=lambda payload: bool(payload.get("paused")),
        sample={
            "configuration_id": "3e2d1c0b-9a8f-4e7d-8c6b-5a4f3e2d1c0b",
            "platform": "shopify",
            "shop_id": "nusantara-goods.myshopify.com",
            "shop_name": "Nusantara Goods",
            "run_id": "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",
            "error_code": "PLATFORM_UNAVAILABLE",
            "error": "The platform answered 503.",
            "consecutive_failures": 5,
            "paused": True,
        },
    ),
    NotificationType(
        key="security.sign_in",
        label="New sign-in to your account",
        category="security",
        events=("account.signed_in",),
        recipients=PayloadUser("user_id"),
        mandatory=True,
        when=lambda payload: bool(payload.get("new_device")),
        sample={"user_id": "u1", "ip_address": "203.0.113.7", "user_agent": "Firefox on Linux", "method": "password"},
    ),
    NotificationType(
        key="security.password_changed",
        label="Your password was changed",
        category="security",
        events=("account.password_changed",),
        recipients=PayloadUser("user_id"),
        mandatory=True,
        sample={"user_id": "u1", "ip_address": "203.0.113.7"},
    ),
    NotificationType(
        key="security.two_factor_disabled",
        label="Two-factor authentication turned off",
        category="security",
        events=("account.two_factor_disabled",),
        recipients=PayloadUser("user_id"),
        mandatory=True,
        sample={"user_id": "u1", "ip_address": "203.0.113.7"},
    ),
)

# Sent directly by SMS to a number being confirmed, never stored as a notification.
PHONE_VERIFICATION = NotificationType(
    key="security.phone_verification",
    label="Phone verification code",
    category="security",
    events=(),
    recipients=PayloadUser("user_id"),
    default_channels=frozenset({"sms"}),
    mandatory=True,
    sample={"code": "428913", "minutes": 10},
)

BY_KEY: dict[str, NotificationType] = {kind.key: kind for kind in (*TYPES, PHONE_VERIFICATION)}


def types_for_event(event_type: str) -> list[NotificationType]:
    return [kind for kind in TYPES if event_type in kind.events]


def type_get(key: str) -> NotificationType | None:
    return BY_KEY.get(key)


def listed_types() -> Iterable[NotificationType]:
    """The types a person has preferences for (the phone code is not one)."""
    return TYPES
