"""The payments API as its users meet it: create, fund, release, refund, dispute, status, the
lists and the statement, balances in a display currency, idempotency, and the error envelope.

The provider's side is a signed webhook POSTed to our endpoint and then applied as the worker
would (in these rolled-back tests on_commit never fires, so nothing is applied by itself)."""

from __future__ import annotations

import json
from decimal import Decimal
from uuid import uuid4

import pytest

from apps.core.actors import Actor
from apps.core.context import system_scope, tenant_scope
from apps.core.models import IdempotencyRecord, OutboxEvent
from apps.escrow import services
from apps.escrow.models import (
    Escrow,
    EscrowStatusChange,
    JournalEntry,
    LedgerAccount,
    PaymentTransaction,
    Posting,
    WebhookEvent,
)
from apps.orders import services as order_services
from apps.orders.models import Order
from apps.tenancy.roles import Role
from tests.escrow.parties import charge_event, create_escrow, fund_escrow, make_party, order_between, signed
from tests.factories import FeatureFactory, member

pytestmark = pytest.mark.django_db

PAYMENTS = "/api/v1/payments"
WEBHOOK = f"{PAYMENTS}/webhooks/sandbox"
ENVELOPE = {"error_code", "message", "details", "timestamp", "request_id"}


# --- helpers ------------------------------------------------------------------------------------


def as_member(api, party, user=None):
    """An API client acting for the party's organization (its day-to-day member by default)."""
    return api(user or party.staff, party.org)


def money_post(client, path: str, body: dict | None = None, *, key: str | None = None):
    """A money-moving POST with a fresh Idempotency-Key unless one is given."""
    return client.post(
        f"{PAYMENTS}/{path}", body or {}, format="json", HTTP_IDEMPOTENCY_KEY=key or f"key-{uuid4().hex}"
    )


def error_of(response, status: int, code: str) -> dict:
    """The error envelope of the response, after checking its status and code."""
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == ENVELOPE, body
    assert body["error_code"] == code, body
    assert body["message"] and body["timestamp"] and body["request_id"]
    return body


def stored_escrow(escrow_id) -> Escrow:
    with system_scope(reason="test", audit=False):
        return Escrow.objects.get(pk=escrow_id)


def stored_transaction(transaction_id) -> PaymentTransaction:
    with system_scope(reason="test", audit=False):
        return PaymentTransaction.objects.get(pk=transaction_id)


def stored_order(order_id) -> Order:
    with system_scope(reason="test", audit=False):
        return Order.objects.get(pk=order_id)


WRITTEN = (
    Escrow,
    EscrowStatusChange,
    PaymentTransaction,
    JournalEntry,
    Posting,
    LedgerAccount,
    WebhookEvent,
    IdempotencyRecord,
    OutboxEvent,
)


def row_counts() -> dict[str, int]:
    """How many rows every table a payments request may write holds, all tenants together."""
    with system_scope(reason="test", audit=False):
        return {model.__name__: model.objects.count() for model in WRITTEN}


def provider_says(api, payment_id, event_type: str) -> dict:
    """The provider's signed webhook about our transaction, POSTed to the endpoint, then applied
    in the scope of the organization it concerns (what the worker does after commit)."""
    event = charge_event(stored_transaction(payment_id), event_type)
    body, headers = signed(event)
    response = api().post(
        WEBHOOK, data=body, content_type="application/json", HTTP_SANDBOX_SIGNATURE=headers["Sandbox-Signature"]
    )
    assert response.status_code == 200, response.json()
    organization_id = event["data"]["object"]["metadata"]["organization_id"]
    with tenant_scope(organization_id):
        recorded = WebhookEvent.objects.get(provider="sandbox", event_id=event["id"])
        services.webhook_apply(webhook_event_id=recorded.pk)
    return response.json()


def status_of(api, party, escrow_id) -> dict:
    response = as_member(api, party).get(f"{PAYMENTS}/escrow/{escrow_id}/status")
    assert response.status_code == 200, response.json()
    return response.json()


def balances_of(api, party, **query) -> list[dict]:
    response = as_member(api, party).get(f"{PAYMENTS}/balances", query)
    assert response.status_code == 200, response.json()
    return response.json()["data"]


def refund_via_api(api, supplier_party, escrow_id, amount=None) -> dict:
    body = {"escrow_id": str(escrow_id)} | ({} if amount is None else {"amount": amount})
    response = money_post(as_member(api, supplier_party), "refunds", body)
    assert response.status_code == 202, response.json()
    return response.json()


def release_via_api(api, client_party, escrow_id, amount=None) -> dict:
    response = money_post(
        as_member(api, client_party), f"escrow/{escrow_id}/release", {} if amount is None else {"amount": amount}
    )
    assert response.status_code == 200, response.json()
    return response.json()


def dispute(party, escrow_id, reason="The pallets arrived wet."):
    with tenant_scope(party.org.id, user_id=party.staff.id):
        return services.escrow_dispute(actor=party.actor(), escrow_id=escrow_id, reason=reason)


# --- create ---------------------------------------------------------------------------------------


def test_create_answers_201_with_the_commission_shown_before_funding(api, client_party, order):
    response = money_post(as_member(api, client_party), "escrow/create", {"order_id": str(order.id)})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["amount"], body["currency"]) == ("created", "1000.00", "EUR")
    assert (body["commission_rate"], body["commission_amount"], body["supplier_receives"]) == (
        "0.0300",
        "30.00",
        "970.00",
    )
    assert body["held_amount"] == "0.00"
    assert stored_escrow(body["id"]).order_id == order.id


@pytest.mark.parametrize(
    ("plan", "commission", "supplier_receives"),
    [("free", "50.00", "950.00"), ("standard", "30.00", "970.00"), ("enterprise", "15.00", "985.00")],
)
def test_the_commission_rate_follows_the_suppliers_plan(api, client_party, plan, commission, supplier_receives):
    supplier = make_party(f"Carrier on {plan}", Role.CARRIER, plan=plan)
    order = order_between(client_party, supplier)

    body = money_post(as_member(api, client_party), "escrow/create", {"order_id": str(order.id)}).json()

    assert (body["commission_amount"], body["supplier_receives"]) == (commission, supplier_receives)


def test_the_minimum_fee_applies_on_a_small_order(api, client_party, supplier_party):
    order = order_between(client_party, supplier_party, total="20.00")  # 3 % would be 0.60

    body = money_post(as_member(api, client_party), "escrow/create", {"order_id": str(order.id)}).json()

    assert (body["commission_minimum"], body["commission_amount"], body["supplier_receives"]) == (
        "1.00",
        "1.00",
        "19.00",
    )


def test_an_order_has_one_escrow_a_second_create_is_422(api, client_party, order):
    client = as_member(api, client_party)
    assert money_post(client, "escrow/create", {"order_id": str(order.id)}).status_code == 201

    second = money_post(client, "escrow/create", {"order_id": str(order.id)})

    error_of(second, 422, "VALIDATION_CONSTRAINT_VIOLATION")
    with system_scope(reason="test", audit=False):
        assert Escrow.objects.filter(order_id=order.id).count() == 1


@pytest.mark.parametrize("who", ["staff", "admin"])
def test_the_supplier_cannot_open_the_escrow(api, supplier_party, order, who):
    # its carrier staff lack escrow:fund; its admin holds every permission, but is not the payer
    response = money_post(
        as_member(api, supplier_party, getattr(supplier_party, who)), "escrow/create", {"order_id": str(order.id)}
    )

    error_of(response, 403, "RBAC_PERMISSION_DENIED")
    with system_scope(reason="test", audit=False):
        assert not Escrow.objects.filter(order_id=order.id).exists()


def test_another_tenants_order_is_not_found(api, outsider, order):
    response = money_post(as_member(api, outsider), "escrow/create", {"order_id": str(order.id)})

    error_of(response, 404, "NOT_FOUND")


def test_a_cancelled_order_cannot_be_paid_into_escrow(api, client_party, order):
    with tenant_scope(client_party.org.id, user_id=client_party.staff.id):
        order_services.order_cancel(order_id=order.id, actor=client_party.actor(), reason="Plans changed.")
    before = row_counts()

    response = money_post(as_member(api, client_party), "escrow/create", {"order_id": str(order.id)})

    error_of(response, 422, "INVALID_STATE_TRANSITION")
    assert row_counts() == before


def test_create_without_a_configured_payment_provider_is_503_and_writes_nothing(api, client_party, order, settings):
    settings.PAYMENT_GATEWAYS = {}  # production without a real provider: the sandbox is left out

    response = money_post(as_member(api, client_party), "escrow/create", {"order_id": str(order.id)})

    error_of(response, 503, "EXTERNAL_SERVICE_UNAVAILABLE")
    with system_scope(reason="test", audit=False):
        assert not Escrow.objects.filter(order_id=order.id).exists()


def test_create_without_an_idempotency_key_is_400_and_writes_nothing(api, client_party, order):
    before = row_counts()

    response = as_member(api, client_party).post(
        f"{PAYMENTS}/escrow/create", {"order_id": str(order.id)}, format="json"
    )

    body = error_of(response, 400, "VALIDATION_FIELD_REQUIRED")
    assert "Idempotency-Key" in body["details"]
    assert row_counts() == before


def test_the_same_key_and_body_replays_the_first_response_and_opens_one_escrow(api, client_party, order):
    client = as_member(api, client_party)
    first = money_post(client, "escrow/create", {"order_id": str(order.id)}, key="create-once")

    again = money_post(client, "escrow/create", {"order_id": str(order.id)}, key="create-once")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert again.json() == first.json()
    with system_scope(reason="test", audit=False):
        assert Escrow.objects.filter(order_id=order.id).count() == 1


def test_the_same_key_with_another_body_is_422_idempotency_key_reused(api, client_party, supplier_party, order):
    other_order = order_between(client_party, supplier_party, total="50.00")
    client = as_member(api, client_party)
    money_post(client, "escrow/create", {"order_id": str(order.id)}, key="create-key")

    reused = money_post(client, "escrow/create", {"order_id": str(other_order.id)}, key="create-key")

    error_of(reused, 422, "IDEMPOTENCY_KEY_REUSED")
    with system_scope(reason="test", audit=False):
        assert not Escrow.objects.filter(order_id=other_order.id).exists()


def test_escrow_switched_off_is_403_feature_disabled(api, client_party, order):
    FeatureFactory(organization=client_party.org, name="escrow", is_entitled=True, is_enabled=False)

    created = money_post(as_member(api, client_party), "escrow/create", {"order_id": str(order.id)})
    listed = as_member(api, client_party).get(f"{PAYMENTS}/escrow")

    error_of(created, 403, "FEATURE_DISABLED")
    error_of(listed, 403, "FEATURE_DISABLED")


def test_a_role_without_the_permission_is_403(api, client_party, order):
    expert = member(client_party.org, Role.EXPERT)

    response = money_post(as_member(api, client_party, expert), "escrow/create", {"order_id": str(order.id)})

    error_of(response, 403, "RBAC_PERMISSION_DENIED")


# --- fund -----------------------------------------------------------------------------------------


def test_fund_answers_202_with_a_pending_transaction_and_the_escrow_still_created(api, client_party, escrow):
    response = money_post(as_member(api, client_party), f"escrow/{escrow.id}/fund", {"payment_method": "pm_card_ok"})

    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["transaction"]["kind"], body["transaction"]["status"]) == ("fund", "pending")
    assert body["transaction"]["amount"] == "1000.00"
    assert (body["escrow"]["status"], body["escrow"]["held_amount"]) == ("created", "0.00")
    assert stored_order(escrow.order_id).payment_status == "pending"


def test_an_unverified_client_cannot_fund(api, supplier_party):
    client = make_party("Unverified Shippers", Role.SHIPPER, verified=False)
    # Escrow is off by default until KYC passes: this one was switched on while verified.
    FeatureFactory(organization=client.org, name="escrow")
    escrow = create_escrow(client, order_between(client, supplier_party))
    before = row_counts()

    response = money_post(as_member(api, client), f"escrow/{escrow.id}/fund")

    error_of(response, 422, "KYC_NOT_VERIFIED")
    assert row_counts() == before


def test_a_second_fund_while_pending_returns_the_same_transaction(api, client_party, escrow):
    client = as_member(api, client_party)
    first = money_post(client, f"escrow/{escrow.id}/fund").json()

    second = money_post(client, f"escrow/{escrow.id}/fund").json()  # another key: a new request

    assert second["transaction"]["id"] == first["transaction"]["id"]
    with system_scope(reason="test", audit=False):
        assert PaymentTransaction.objects.filter(escrow_id=escrow.id, kind="fund").count() == 1


def test_the_supplier_cannot_fund(api, supplier_party, escrow):
    response = money_post(as_member(api, supplier_party, supplier_party.admin), f"escrow/{escrow.id}/fund")

    error_of(response, 403, "RBAC_PERMISSION_DENIED")


def test_a_succeeded_charge_webhook_funds_the_escrow_and_pays_the_order(api, client_party, escrow):
    funding = money_post(as_member(api, client_party), f"escrow/{escrow.id}/fund").json()["transaction"]

    answer = provider_says(api, funding["id"], "charge.succeeded")

    assert answer == {"received": True, "duplicate": False}
    status = status_of(api, client_party, escrow.id)
    assert (status["status"], status["held_amount"]) == ("funded", "1000.00")
    assert status["funded_at"] is not None
    assert [(t["kind"], t["status"]) for t in status["transactions"]] == [("fund", "completed")]
    assert stored_order(escrow.order_id).payment_status == "paid"


def test_a_failed_charge_fails_the_transaction_and_the_escrow_may_be_funded_again(api, client_party, escrow):
    client = as_member(api, client_party)
    failed = money_post(client, f"escrow/{escrow.id}/fund").json()["transaction"]

    provider_says(api, failed["id"], "charge.failed")

    assert stored_transaction(failed["id"]).status == "failed"
    assert status_of(api, client_party, escrow.id)["status"] == "created"
    assert stored_order(escrow.order_id).payment_status == "unpaid"
    retry = money_post(client, f"escrow/{escrow.id}/fund")
    assert retry.status_code == 202, retry.json()
    assert retry.json()["transaction"]["id"] != failed["id"]
    assert retry.json()["transaction"]["status"] == "pending"


def test_funding_a_funded_escrow_is_an_invalid_transition(api, client_party, funded_escrow):
    response = money_post(as_member(api, client_party), f"escrow/{funded_escrow.id}/fund")

    error_of(response, 422, "INVALID_STATE_TRANSITION")


# --- release --------------------------------------------------------------------------------------


def test_a_full_release_pays_the_supplier_less_the_commission(api, client_party, supplier_party, funded_escrow):
    body = release_via_api(api, client_party, funded_escrow.id)

    assert (body["status"], body["held_amount"], body["released_amount"]) == ("released", "0.00", "1000.00")
    assert body["commission_taken"] == "30.00"
    assert body["released_at"] is not None
    [supplier_eur] = balances_of(api, supplier_party)
    assert (supplier_eur["available"], supplier_eur["held"]) == ("970.00", "0.00")


def test_partial_releases_take_the_cumulative_commission_and_end_released(api, client_party, funded_escrow):
    first = release_via_api(api, client_party, funded_escrow.id, "400.00")
    rest = release_via_api(api, client_party, funded_escrow.id, "600.00")

    shown = ("status", "held_amount", "commission_taken")
    assert [first[key] for key in shown] == ["partially_released", "600.00", "12.00"]  # 3 % of 400
    assert [rest[key] for key in shown] == ["released", "0.00", "30.00"]  # exactly 3 % of 1000 in all
    with system_scope(reason="test", audit=False):
        commissions = PaymentTransaction.objects.filter(escrow_id=funded_escrow.id, kind="commission")
        assert sorted(commissions.values_list("amount", flat=True)) == [Decimal("12.00"), Decimal("18.00")]


def test_releasing_more_than_is_held_is_422_insufficient_funds_naming_what_is_held(api, client_party, funded_escrow):
    before = row_counts()

    response = money_post(as_member(api, client_party), f"escrow/{funded_escrow.id}/release", {"amount": "1000.01"})

    body = error_of(response, 422, "INSUFFICIENT_FUNDS")
    assert Decimal(body["details"]["held_amount"]) == Decimal("1000.00")
    assert Decimal(body["details"]["amount"]) == Decimal("1000.01")
    assert "1000" in body["message"]
    assert row_counts() == before


def test_a_release_retried_with_its_key_moves_the_money_once(api, client_party, funded_escrow):
    client = as_member(api, client_party)
    first = money_post(client, f"escrow/{funded_escrow.id}/release", {"amount": "400.00"}, key="release-400")

    retry = money_post(client, f"escrow/{funded_escrow.id}/release", {"amount": "400.00"}, key="release-400")

    assert (retry.status_code, retry["Idempotent-Replayed"], retry.json()) == (200, "true", first.json())
    assert stored_escrow(funded_escrow.id).held_amount == Decimal("600.00")
    with system_scope(reason="test", audit=False):
        assert JournalEntry.objects.filter(escrow_id=funded_escrow.id, kind="release").count() == 1


@pytest.mark.parametrize("who", ["staff", "admin"])
def test_the_supplier_may_not_release(api, supplier_party, funded_escrow, who):
    supplier = as_member(api, supplier_party, getattr(supplier_party, who))

    response = money_post(supplier, f"escrow/{funded_escrow.id}/release")

    error_of(response, 403, "RBAC_PERMISSION_DENIED")
    assert stored_escrow(funded_escrow.id).held_amount == Decimal("1000.00")


def test_release_to_an_unverified_supplier_is_422_kyc_not_verified(api, client_party):
    supplier = make_party("Unverified Carriers", Role.CARRIER, verified=False)
    escrow = fund_escrow(client_party, create_escrow(client_party, order_between(client_party, supplier)))
    before = row_counts()

    response = money_post(as_member(api, client_party), f"escrow/{escrow.id}/release")

    error_of(response, 422, "KYC_NOT_VERIFIED")
    assert row_counts() == before


def test_an_amount_with_more_decimals_than_the_currency_is_400(api, client_party, funded_escrow):
    response = money_post(as_member(api, client_party), f"escrow/{funded_escrow.id}/release", {"amount": "1.005"})

    body = error_of(response, 400, "VALIDATION_FIELD_INVALID")
    assert "amount" in body["details"]
    assert stored_escrow(funded_escrow.id).held_amount == Decimal("1000.00")


def test_a_fraction_of_a_yen_is_400(api, client_party, supplier_party):
    order = order_between(client_party, supplier_party, total="15000", currency="JPY")
    escrow = fund_escrow(client_party, create_escrow(client_party, order))

    fraction = money_post(as_member(api, client_party), f"escrow/{escrow.id}/release", {"amount": "1.5"})
    whole = release_via_api(api, client_party, escrow.id, "1000")

    error_of(fraction, 400, "VALIDATION_FIELD_INVALID")
    assert (whole["held_amount"], whole["commission_taken"]) == ("14000", "150")  # 3 % is 30: the minimum is 150


def test_release_of_an_unfunded_escrow_is_an_invalid_transition(api, client_party, escrow):
    response = money_post(as_member(api, client_party), f"escrow/{escrow.id}/release")

    body = error_of(response, 422, "INVALID_STATE_TRANSITION")
    assert body["details"]["status"] == "created"


# --- refund ---------------------------------------------------------------------------------------


def test_the_supplier_refunds_in_part_then_in_full(api, supplier_party, funded_escrow):
    part = refund_via_api(api, supplier_party, funded_escrow.id, "300.00")
    rest = refund_via_api(api, supplier_party, funded_escrow.id)

    assert (part["transaction"]["kind"], part["transaction"]["status"], part["transaction"]["amount"]) == (
        "refund",
        "pending",
        "300.00",
    )
    assert (part["escrow"]["status"], part["escrow"]["held_amount"], part["escrow"]["refunded_amount"]) == (
        "funded",
        "700.00",
        "300.00",
    )
    assert (rest["transaction"]["amount"], rest["escrow"]["status"], rest["escrow"]["refunded_amount"]) == (
        "700.00",
        "refunded",
        "1000.00",
    )
    assert stored_order(funded_escrow.order_id).payment_status == "refunded"


def test_a_partial_refund_marks_the_order_partially_refunded(api, supplier_party, funded_escrow):
    refund_via_api(api, supplier_party, funded_escrow.id, "300.00")

    assert stored_order(funded_escrow.order_id).payment_status == "partially_refunded"


def test_a_refund_retried_with_its_key_refunds_once(api, supplier_party, funded_escrow):
    supplier = as_member(api, supplier_party)
    body = {"escrow_id": str(funded_escrow.id), "amount": "300.00"}
    first = money_post(supplier, "refunds", body, key="refund-300")

    retry = money_post(supplier, "refunds", body, key="refund-300")

    assert (retry.status_code, retry.json()) == (202, first.json())
    assert stored_escrow(funded_escrow.id).refunded_amount == Decimal("300.00")
    with system_scope(reason="test", audit=False):
        assert PaymentTransaction.objects.filter(escrow_id=funded_escrow.id, kind="refund").count() == 1


def test_refunding_more_than_is_held_is_422_insufficient_funds(api, supplier_party, funded_escrow):
    before = row_counts()

    response = money_post(
        as_member(api, supplier_party), "refunds", {"escrow_id": str(funded_escrow.id), "amount": "1500.00"}
    )

    error_of(response, 422, "INSUFFICIENT_FUNDS")
    assert row_counts() == before


@pytest.mark.parametrize("who", ["staff", "admin"])
def test_the_client_may_not_refund(api, client_party, funded_escrow, who):
    # its shipper staff lack escrow:refund; its admin has it, but a client asks through a dispute
    response = money_post(
        as_member(api, client_party, getattr(client_party, who)), "refunds", {"escrow_id": str(funded_escrow.id)}
    )

    error_of(response, 403, "RBAC_PERMISSION_DENIED")
    assert stored_escrow(funded_escrow.id).held_amount == Decimal("1000.00")


def test_the_refund_succeeded_webhook_completes_the_refund(api, supplier_party, funded_escrow):
    refund = refund_via_api(api, supplier_party, funded_escrow.id, "250.00")["transaction"]

    provider_says(api, refund["id"], "refund.succeeded")

    stored = stored_transaction(refund["id"])
    assert (stored.status, stored.completed_at is not None, stored.external_id != "") == ("completed", True, True)
    with system_scope(reason="test: the event", audit=False):
        [event] = OutboxEvent.objects.filter(event_type="escrow.refund_completed", aggregate_id=str(funded_escrow.id))
    assert (event.payload["amount"], event.payload["transaction_id"]) == ("250.00", refund["id"])


def test_a_failed_refund_credits_the_clients_available_balance(api, client_party, supplier_party, funded_escrow):
    refund = refund_via_api(api, supplier_party, funded_escrow.id)["transaction"]
    assert [(b["currency"], b["available"]) for b in balances_of(api, client_party)] == [("EUR", "0.00")]

    provider_says(api, refund["id"], "refund.failed")

    assert stored_transaction(refund["id"]).status == "failed"
    [client_eur] = balances_of(api, client_party)
    assert (client_eur["available"], client_eur["held"]) == ("1000.00", "0.00")
    transactions = status_of(api, client_party, funded_escrow.id)["transactions"]
    refund_row = next(row for row in transactions if row["kind"] == "refund")
    assert (refund_row["status"], refund_row["failure_reason"]) == ("failed", "card_declined")


# --- dispute --------------------------------------------------------------------------------------


def test_a_disputed_escrow_neither_releases_nor_refunds(api, client_party, supplier_party, funded_escrow):
    dispute(client_party, funded_escrow.id)
    before = row_counts()

    release = money_post(as_member(api, client_party), f"escrow/{funded_escrow.id}/release", {"amount": "10.00"})
    refund = money_post(as_member(api, supplier_party), "refunds", {"escrow_id": str(funded_escrow.id)})

    error_of(release, 422, "INVALID_STATE_TRANSITION")
    error_of(refund, 422, "INVALID_STATE_TRANSITION")
    assert row_counts() == before
    assert stored_escrow(funded_escrow.id).held_amount == Decimal("1000.00")


def resolve(client_party, escrow_id, **amounts):
    with tenant_scope(client_party.org.id):
        return services.escrow_resolve_dispute(
            actor=Actor.system(), escrow_id=escrow_id, note="Split agreed", **amounts
        )


def test_a_resolution_releasing_and_refunding_part_leaves_the_rest_partially_released(
    api, client_party, supplier_party, funded_escrow
):
    dispute(supplier_party, funded_escrow.id)

    resolve(client_party, funded_escrow.id, release_amount="400.00", refund_amount="100.00")

    status = status_of(api, client_party, funded_escrow.id)
    assert (status["status"], status["held_amount"], status["released_amount"], status["refunded_amount"]) == (
        "partially_released",
        "500.00",
        "400.00",
        "100.00",
    )
    assert status["commission_taken"] == "12.00"
    assert (status["history"][-1]["from_status"], status["history"][-1]["to_status"]) == (
        "disputed",
        "partially_released",
    )
    assert release_via_api(api, client_party, funded_escrow.id)["status"] == "released"  # unfrozen


@pytest.mark.parametrize(
    ("amounts", "settled_as"),
    [({"release_amount": "1000.00"}, "released"), ({"refund_amount": "1000.00"}, "refunded")],
)
def test_a_resolution_of_everything_settles_the_escrow(api, client_party, funded_escrow, amounts, settled_as):
    dispute(client_party, funded_escrow.id)

    resolve(client_party, funded_escrow.id, **amounts)

    status = status_of(api, client_party, funded_escrow.id)
    assert (status["status"], status["held_amount"]) == (settled_as, "0.00")


def test_a_resolution_of_more_than_is_held_is_422(client_party, funded_escrow):
    dispute(client_party, funded_escrow.id)

    with pytest.raises(services.InsufficientFunds) as refused:
        resolve(client_party, funded_escrow.id, release_amount="600.00", refund_amount="400.01")

    assert refused.value.status_code == 422
    escrow = stored_escrow(funded_escrow.id)
    assert (escrow.status, escrow.held_amount) == ("disputed", Decimal("1000.00"))


# --- status ---------------------------------------------------------------------------------------


def test_the_status_shows_a_history_row_for_every_transition_and_the_transactions(
    api, client_party, supplier_party, escrow
):
    client = as_member(api, client_party)
    funding = money_post(client, f"escrow/{escrow.id}/fund").json()["transaction"]
    provider_says(api, funding["id"], "charge.succeeded")
    money_post(client, f"escrow/{escrow.id}/release", {"amount": "400.00", "reason": "First half unloaded"})
    money_post(as_member(api, supplier_party), "refunds", {"escrow_id": str(escrow.id), "reason": "Short delivery"})

    status = status_of(api, supplier_party, escrow.id)

    assert [(h["from_status"], h["to_status"], h["reason"].split(" (")[0]) for h in status["history"]] == [
        ("", "created", ""),
        ("created", "funded", "Confirmed by sandbox"),
        ("funded", "partially_released", "First half unloaded"),
        ("partially_released", "refunded", "Short delivery"),
    ]
    assert [(t["kind"], t["amount"], t["status"]) for t in status["transactions"]] == [
        ("fund", "1000.00", "completed"),
        ("release", "388.00", "completed"),
        ("commission", "12.00", "completed"),
        ("refund", "600.00", "pending"),
    ]


def test_another_tenant_sees_no_status(api, outsider, funded_escrow):
    response = as_member(api, outsider).get(f"{PAYMENTS}/escrow/{funded_escrow.id}/status")

    error_of(response, 404, "NOT_FOUND")


# --- lists: the number of queries does not grow with the rows ------------------------------------


def funded_escrows(client_party, supplier_party, count: int, *, total="100.00", currency="EUR") -> list[Escrow]:
    orders = [order_between(client_party, supplier_party, total=total, currency=currency) for _ in range(count)]
    return [fund_escrow(client_party, create_escrow(client_party, order)) for order in orders]


def counted_get(client, url: str, django_assert_num_queries, queries: int):
    """GET `url` in exactly `queries` queries, right after a GET that warms the cache (the feature
    flags): a cache.clear() of another test run on the same Redis must not count here."""
    client.get(url)
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200, response.json()
    return response.json()


# savepoint, user scope, user+memberships, tenant scope, then the reads, release, restore (the
# savepoint and restore only because the test itself runs inside a transaction)
@pytest.mark.parametrize(
    ("path", "queries", "rows"),
    [
        ("escrow", 7, lambda body: body["meta"]["total"]),  # a page shorter than `limit`: no count
        ("statement", 7, lambda body: len(body["data"])),  # a page (the client's held lines)
        ("balances", 7, lambda body: len(body["data"])),  # one sum
        ("balances?display_currency=USD", 8, lambda body: len(body["data"])),  # and the rates, in one query
    ],
)
def test_a_list_runs_the_same_number_of_queries_for_3_or_6_escrows(
    api, client_party, supplier_party, django_assert_num_queries, path, queries, rows
):
    services.exchange_rates_refresh()
    client = as_member(api, client_party)
    url = f"{PAYMENTS}/{path}"

    funded_escrows(client_party, supplier_party, 3)
    few = counted_get(client, url, django_assert_num_queries, queries)
    funded_escrows(client_party, supplier_party, 3)
    many = counted_get(client, url, django_assert_num_queries, queries)

    assert (rows(few), rows(many)) == ((3, 6) if path in ("escrow", "statement") else (1, 1))


def test_balances_in_a_display_currency_run_the_same_number_of_queries_for_1_or_3_currencies(
    api, client_party, supplier_party, django_assert_num_queries
):
    services.exchange_rates_refresh()
    client = as_member(api, client_party)
    url = f"{PAYMENTS}/balances?display_currency=USD"

    funded_escrows(client_party, supplier_party, 1)
    one = counted_get(client, url, django_assert_num_queries, 8)
    funded_escrows(client_party, supplier_party, 1, total="5000", currency="JPY")
    funded_escrows(client_party, supplier_party, 1, total="80.00", currency="GBP")
    three = counted_get(client, url, django_assert_num_queries, 8)

    assert (len(one["data"]), len(three["data"])) == (1, 3)


def rates_file(tmp_path, rates: dict, *, base="EUR") -> dict:
    """EXCHANGE_RATES_PROVIDER reading a file of `rates` written in tmp_path."""
    path = tmp_path / f"rates-{uuid4().hex}.json"
    path.write_text(json.dumps({"base": base, "as_of": "2026-12-01T08:00:00Z", "rates": rates}))
    return {"BACKEND": "apps.escrow.rates.OfflineFileRates", "PATH": str(path)}


def test_the_exchange_rate_list_runs_the_same_number_of_queries_for_2_or_34_rates(
    api, client_party, django_assert_num_queries, settings, tmp_path
):
    client = as_member(api, client_party)
    url = f"{PAYMENTS}/exchange-rates?limit=100"
    default_provider = settings.EXCHANGE_RATES_PROVIDER

    settings.EXCHANGE_RATES_PROVIDER = rates_file(tmp_path, {"USD": "1.05"})
    services.exchange_rates_refresh()
    few = counted_get(client, url, django_assert_num_queries, 7)  # a page shorter than `limit`: no count
    settings.EXCHANGE_RATES_PROVIDER = default_provider
    services.exchange_rates_refresh()
    many = counted_get(client, url, django_assert_num_queries, 7)

    assert (len(few["data"]), len(many["data"])) == (2, 34)


def test_the_escrow_list_shows_both_parties_their_escrows_and_nobody_else(
    api, client_party, supplier_party, outsider, funded_escrow
):
    as_client = as_member(api, client_party).get(f"{PAYMENTS}/escrow").json()
    as_supplier = as_member(api, supplier_party).get(f"{PAYMENTS}/escrow?status=funded").json()
    as_outsider = as_member(api, outsider).get(f"{PAYMENTS}/escrow").json()

    assert [e["id"] for e in as_client["data"]] == [str(funded_escrow.id)]
    assert [e["id"] for e in as_supplier["data"]] == [str(funded_escrow.id)]
    assert as_outsider["meta"]["total"] == 0


# --- statement ------------------------------------------------------------------------------------


def statement(api, party, **query) -> dict:
    response = as_member(api, party).get(f"{PAYMENTS}/statement", query)
    assert response.status_code == 200, response.json()
    return response.json()


def test_the_statement_pages_by_cursor(api, client_party, supplier_party):
    escrows = funded_escrows(client_party, supplier_party, 3)

    first = statement(api, client_party, limit=2)
    second = as_member(api, client_party).get(first["meta"]["next"]).json()

    assert len(first["data"]) == 2 and len(second["data"]) == 1
    assert second["meta"]["next"] is None
    newest_first = [line["escrow_id"] for line in first["data"] + second["data"]]
    assert newest_first == [str(e.id) for e in reversed(escrows)]


def test_the_statement_shows_only_the_organizations_own_accounts_with_signs(
    api, client_party, supplier_party, funded_escrow
):
    release_via_api(api, client_party, funded_escrow.id, "400.00")

    client_lines = statement(api, client_party)["data"]
    supplier_lines = statement(api, supplier_party)["data"]

    # the client's held account: + in at funding, - out at release; never the supplier's available
    assert [(line["account"], line["amount"], line["entry_kind"]) for line in client_lines] == [
        ("held", "-400.00", "release"),
        ("held", "1000.00", "funding"),
    ]
    assert [(line["account"], line["amount"], line["entry_kind"]) for line in supplier_lines] == [
        ("available", "388.00", "release")
    ]
    assert {line["escrow_number"] for line in client_lines + supplier_lines} == {funded_escrow.number}


def test_the_statement_filters_by_currency_and_account(api, client_party, supplier_party, funded_escrow):
    order = order_between(client_party, supplier_party, total="5000", currency="JPY")
    fund_escrow(client_party, create_escrow(client_party, order))
    refund_via_api(api, supplier_party, funded_escrow.id, "100.00")
    with system_scope(reason="test", audit=False):
        refund = PaymentTransaction.objects.get(escrow_id=funded_escrow.id, kind="refund")
    provider_says(api, refund.id, "refund.failed")  # 100.00 EUR to the client's available

    yen = statement(api, client_party, currency="jpy")["data"]
    available = statement(api, client_party, account="available")["data"]
    held_eur = statement(api, client_party, currency="EUR", account="held")["data"]

    assert [(line["currency"], line["amount"]) for line in yen] == [("JPY", "5000")]
    assert [(line["currency"], line["amount"], line["entry_kind"]) for line in available] == [
        ("EUR", "100.00", "refund_failed")
    ]
    assert [line["amount"] for line in held_eur] == ["-100.00", "1000.00"]


@pytest.mark.parametrize("query", [{"account": "commission"}, {"currency": "XYZ"}])
def test_a_bad_statement_filter_is_400(api, client_party, query):
    response = as_member(api, client_party).get(f"{PAYMENTS}/statement", query)

    error_of(response, 400, "VALIDATION_FIELD_INVALID")


# --- balances in a display currency ---------------------------------------------------------------


def test_balances_show_equivalents_at_the_stored_rate_and_never_convert_the_amounts(
    api, client_party, supplier_party, funded_escrow
):
    services.exchange_rates_refresh()
    release_via_api(api, client_party, funded_escrow.id, "400.00")

    [supplier_eur] = balances_of(api, supplier_party, display_currency="usd")
    [plain] = balances_of(api, supplier_party)

    assert (supplier_eur["currency"], supplier_eur["available"]) == ("EUR", "388.00")  # not converted
    assert plain == {key: value for key, value in supplier_eur.items() if key != "display_equivalent"}
    available = supplier_eur["display_equivalent"]["available"]
    assert (available["currency"], Decimal(available["rate"])) == ("USD", Decimal("1.0542"))
    assert Decimal(available["amount"]) == Decimal("409.03")  # 388.00 x 1.0542 = 409.0296
    assert available["as_of"].startswith("2026-11-30T16:00:00")
    assert Decimal(supplier_eur["display_equivalent"]["held"]["amount"]) == 0


def test_a_balance_without_a_known_rate_has_a_null_equivalent(api, client_party, funded_escrow):
    services.exchange_rates_refresh()  # euro-based: no EUR -> BRL in the offline file

    [client_eur] = balances_of(api, client_party, display_currency="BRL")

    assert client_eur["display_equivalent"] == {"available": None, "held": None}
    assert client_eur["held"] == "1000.00"


def test_an_unknown_display_currency_is_400(api, client_party):
    response = as_member(api, client_party).get(f"{PAYMENTS}/balances", {"display_currency": "XYZ"})

    error_of(response, 400, "VALIDATION_FIELD_INVALID")


# --- every bad input: the envelope, and nothing changed -------------------------------------------

# A fixed id (not uuid4()): xdist workers must collect the same test ids.
NOBODYS_ID = "00000000-0000-4000-8000-00000000dead"


@pytest.mark.parametrize(
    ("who", "path", "body", "status", "code"),
    [
        ("client", "escrow/create", {}, 400, "VALIDATION_FIELD_REQUIRED"),
        ("client", "escrow/create", {"order_id": "not-a-uuid"}, 400, "VALIDATION_FIELD_INVALID"),
        ("client", "escrow/create", {"order_id": NOBODYS_ID}, 404, "NOT_FOUND"),
        ("client", "escrow/{escrow}/release", {"amount": "lots"}, 400, "VALIDATION_FIELD_INVALID"),
        ("client", "escrow/{escrow}/release", {"amount": "-5.00"}, 400, "VALIDATION_FIELD_INVALID"),
        ("client", "escrow/{escrow}/release", {"amount": "0"}, 400, "VALIDATION_FIELD_INVALID"),
        ("client", "escrow/{escrow}/fund", {"payment_method": "x" * 65}, 400, "VALIDATION_FIELD_INVALID"),
        ("client", f"escrow/{NOBODYS_ID}/release", {}, 404, "NOT_FOUND"),
        ("supplier", "refunds", {}, 400, "VALIDATION_FIELD_REQUIRED"),
        ("supplier", "refunds", {"escrow_id": "{escrow}", "amount": "0.001"}, 400, "VALIDATION_FIELD_INVALID"),
        ("supplier", "refunds", {"escrow_id": NOBODYS_ID}, 404, "NOT_FOUND"),
    ],
)
def test_a_bad_request_gets_the_error_envelope_and_changes_nothing(
    api, client_party, supplier_party, funded_escrow, who, path, body, status, code
):
    party = client_party if who == "client" else supplier_party
    path = path.replace("{escrow}", str(funded_escrow.id))
    body = {key: value.replace("{escrow}", str(funded_escrow.id)) for key, value in body.items()}
    before = row_counts()

    response = money_post(as_member(api, party), path, body)

    error_of(response, status, code)
    assert row_counts() == before


def test_a_webhook_with_a_bad_signature_is_400_and_records_nothing(api, client_party, escrow):
    with tenant_scope(client_party.org.id, user_id=client_party.staff.id):
        funding = services.escrow_fund(actor=client_party.actor(), escrow_id=escrow.id)
    body, _headers = signed(charge_event(funding, "charge.succeeded"), secret="not-our-secret")
    before = row_counts()

    response = api().post(
        WEBHOOK, data=body, content_type="application/json", HTTP_SANDBOX_SIGNATURE=_headers["Sandbox-Signature"]
    )

    error_of(response, 400, "VALIDATION_FIELD_INVALID")
    assert row_counts() == before
