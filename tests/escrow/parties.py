"""Escrow set-up: a client and a supplier (both KYC-verified), an order between them, its
escrow at each stage, and signed provider webhooks. Imported by tests/escrow/conftest.py."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest

from apps.core.context import system_scope, tenant_scope
from apps.escrow import services
from apps.escrow.models import Escrow, PaymentTransaction
from apps.escrow.selectors import ledger_problems
from apps.orders import services as order_services
from apps.tenancy.roles import Actor, Role
from tests.factories import OrganizationFactory, member
from tests.marketplace.factories import VerificationFactory
from tests.shipments import COMPLETE_SHIPMENT

WEBHOOK_SECRET = "test-sandbox-webhook-secret"


@dataclass
class Party:
    org: object
    admin: object
    staff: object  # the member who does the day-to-day work, in `role`
    role: str

    def actor(self) -> Actor:
        return Actor(user_id=self.staff.id, organization_id=self.org.id, role=self.role)


def make_party(name: str, role: str, *, verified: bool = True, plan: str = "standard") -> Party:
    organization = OrganizationFactory(name=name, subscription_plan=plan)
    if verified:
        VerificationFactory(organization=organization)
    return Party(organization, member(organization, Role.ORG_ADMIN), member(organization, role), role)


@pytest.fixture
def client_party():
    return make_party("Baltic Shippers", Role.SHIPPER)


@pytest.fixture
def supplier_party():
    return make_party("Volga Carriers", Role.CARRIER)


@pytest.fixture
def outsider():
    return make_party("Rhein Logistik", Role.SHIPPER)


def order_between(client: Party, supplier: Party, *, total: str = "1000.00", currency: str = "EUR"):
    with tenant_scope(client.org.id, user_id=client.staff.id):
        return order_services.order_create(
            order_input=order_services.OrderInput(
                kind="freight",
                client_organization_id=client.org.id,
                supplier_organization_id=supplier.org.id,
                currency=currency,
                items=[
                    order_services.ItemInput(name="Freight Hamburg → Warsaw", quantity=1, unit_price=Decimal(total))
                ],
                shipment=COMPLETE_SHIPMENT,
            ),
            actor=client.actor(),
        )


@pytest.fixture
def order(client_party, supplier_party):
    return order_between(client_party, supplier_party)


def create_escrow(client: Party, order) -> Escrow:
    with tenant_scope(client.org.id, user_id=client.staff.id):
        return services.escrow_create(actor=client.actor(), order_id=order.id)


def fund_escrow(client: Party, escrow: Escrow) -> Escrow:
    """Fund it the way the provider confirms: a signed charge.succeeded webhook, received and applied."""
    with tenant_scope(client.org.id, user_id=client.staff.id):
        funding = services.escrow_fund(actor=client.actor(), escrow_id=escrow.id)
    deliver_webhook(charge_event(funding, "charge.succeeded"))
    with tenant_scope(client.org.id):
        return Escrow.objects.get(pk=escrow.pk)


@pytest.fixture
def escrow(client_party, order):
    return create_escrow(client_party, order)


@pytest.fixture
def funded_escrow(client_party, escrow):
    return fund_escrow(client_party, escrow)


# --- the provider's side of a webhook -----------------------------------------------------------


@pytest.fixture(autouse=True)
def payment_gateways(payment_sandbox, settings):
    """Every escrow test talks to the session's sandbox provider and shares its webhook secret."""
    settings.PAYMENT_GATEWAYS = payment_sandbox.gateway_settings()
    assert payment_sandbox.secret == WEBHOOK_SECRET


def charge_event(payment: PaymentTransaction, event_type: str, *, event_id: str | None = None, **overrides) -> dict:
    obj = {
        "id": payment.external_id or f"ch_{uuid.uuid4().hex[:16]}",
        "reference": str(payment.id),
        "amount": str(payment.amount),
        "currency": payment.currency,
        "status": event_type.split(".")[1],
        "metadata": {"organization_id": str(payment.client_organization_id), "escrow_id": str(payment.escrow_id)},
        "failure_reason": "card_declined" if event_type.endswith("failed") else "",
    }
    obj.update(overrides)
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": obj},
    }


def signed(event: dict, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> tuple[bytes, dict]:
    body = json.dumps(event, separators=(",", ":")).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"Sandbox-Signature": f"t={timestamp},v1={signature}", "Content-Type": "application/json"}


def deliver_webhook(event: dict) -> int | None:
    """Receive and apply the event as the webhook endpoint and the worker would; the event's row id."""
    body, headers = signed(event)
    recorded, created = services.webhook_receive(provider="sandbox", body=body, headers=headers)
    if not created:
        return None
    with tenant_scope(recorded.organization_id):
        services.webhook_apply(webhook_event_id=recorded.pk)
    return recorded.pk


# --- after every money test: the ledger balances -------------------------------------------------


@pytest.fixture(autouse=True)
def ledger_stays_balanced(request):
    """After each escrow test: PostgreSQL's deferred balance check fires now (SET CONSTRAINTS
    ALL IMMEDIATE), the ledger sums to zero per currency, and every escrow's cached amounts
    equal its postings."""
    uses_db = request.node.get_closest_marker("django_db") is not None
    uses_committed = "committed" in request.fixturenames
    if uses_db:
        request.getfixturevalue("db")
    elif uses_committed:
        request.getfixturevalue("committed")
    yield
    if not (uses_db or uses_committed):
        return
    from django.db import connection

    if uses_db and not connection.needs_rollback:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    if connection.needs_rollback:
        return
    with system_scope(reason="test ledger check", audit=False):
        problems = ledger_problems()
    assert problems == [], problems


# --- real parts: HTTP clients of a live server, and outcomes read as the platform ------------------
# (tests/escrow/test_concurrency.py, test_faults.py, test_webhooks.py, test_end_to_end.py)


def bearer(user) -> dict:
    """The Authorization header of a new session of `user`, as tests/conftest.py's `api` sends it."""
    from apps.accounts.services import session_start

    return {"Authorization": f"Bearer {session_start(user=user).access}"}


def live_client(server: str, user=None):
    """An httpx client of the live server (the `asgi_server` fixture), signed in as `user` if given."""
    import httpx

    return httpx.Client(base_url=f"http://{server}", headers=bearer(user) if user else {}, timeout=20)


def escrow_now(escrow_id) -> Escrow:
    with system_scope(reason="test: the outcome", audit=False):
        return Escrow.objects.get(pk=escrow_id)


def entry_kinds(escrow_id) -> list[str]:
    """The kinds of the escrow's journal entries, oldest first."""
    from apps.escrow.models import JournalEntry

    with system_scope(reason="test: the outcome", audit=False):
        entries = JournalEntry.objects.filter(escrow_id=escrow_id).order_by("created_at", "id")
        return list(entries.values_list("kind", flat=True))
