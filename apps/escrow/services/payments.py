"""Crossing the wire to the payment provider: submitting charges and refunds, and applying
the provider's signed webhooks.

Nothing here calls the provider inside a database transaction: a transaction is read,
the call is made, and its answer is recorded in a second transaction. Our payment
transaction's id is the reference and the idempotency key the provider sees, so a
retried submission never charges twice, and each webhook event is recorded once
(unique provider + event id) before a worker applies it; applying is one transaction
that marks the event applied, so a worker that dies half-way leaves nothing applied
and the retry applies it exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.core.context import tenant_scope
from apps.core.errors import ErrorCode, ValidationFailed
from apps.escrow.gateways import gateway_for
from apps.escrow.gateways.base import GatewayRejected, WebhookNotice, WebhookRejected
from apps.escrow.models import PaymentTransaction, TransactionKind, TransactionStatus, WebhookEvent
from apps.escrow.services import escrows
from apps.tenancy.selectors import organization_exists

logger = logging.getLogger(__name__)


class WebhookRefused(ValidationFailed):
    code = ErrorCode.VALIDATION_FIELD_INVALID


# --- submission -------------------------------------------------------------------------------


def _claim_submission(transaction_id: UUID) -> PaymentTransaction | None:
    """The transaction if it still has to reach the provider, with the attempt counted."""
    with transaction.atomic():
        payment = (
            PaymentTransaction.objects.select_for_update()
            .select_related("escrow")
            .filter(pk=transaction_id, status=TransactionStatus.PENDING, external_id="")
            .first()
        )
        if payment is None or payment.kind not in (TransactionKind.FUND, TransactionKind.REFUND):
            return None
        payment.submit_attempts += 1
        payment.submitted_at = timezone.now()
        payment.save(update_fields=["submit_attempts", "submitted_at", "updated_at"])
        return payment


def _charge_of(payment: PaymentTransaction) -> str:
    funding = (
        PaymentTransaction.objects.filter(
            escrow_id=payment.escrow_id, kind=TransactionKind.FUND, status=TransactionStatus.COMPLETED
        )
        .values_list("external_id", flat=True)
        .first()
    )
    return funding or ""


def payment_transaction_submit(*, transaction_id: UUID, organization_id: UUID) -> PaymentTransaction | None:
    """Send a pending fund or refund to the provider, acting for the client organization.
    Call it outside any transaction: the provider is called between two short ones.
    Raises GatewayUnavailable on a transient failure: the caller retries with the same
    idempotency key. A permanent refusal fails the transaction.

    Opens the organization's scope itself, once per short transaction (its task is a
    non-atomic TenantTask): a scope lives only as long as its transaction, and no
    transaction may stay open while the provider answers."""
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("payment_transaction_submit must not run inside a transaction: it calls the provider")
    with tenant_scope(organization_id):
        payment = _claim_submission(transaction_id)
        # Read in the tenant's scope: outside it row-level security shows no transactions.
        charge_external_id = _charge_of(payment) if payment and payment.kind == TransactionKind.REFUND else ""
    if payment is None:
        return None
    gateway = gateway_for(payment.provider)
    metadata = {"organization_id": str(payment.client_organization_id), "escrow_id": str(payment.escrow_id)}
    try:
        if payment.kind == TransactionKind.FUND:
            result = gateway.charge_create(
                reference=str(payment.id),
                amount=payment.amount,
                currency=payment.currency,
                payment_method=payment.payment_method,
                metadata=metadata,
                idempotency_key=str(payment.id),
            )
        else:
            result = gateway.refund_create(
                reference=str(payment.id),
                charge_external_id=charge_external_id,
                amount=payment.amount,
                currency=payment.currency,
                metadata=metadata,
                idempotency_key=str(payment.id),
            )
    except GatewayRejected as rejected:
        logger.warning("escrow.provider_rejected", extra={"transaction_id": str(payment.id), "reason": rejected.reason})
        result, failure = None, f"rejected by {payment.provider}: {rejected.reason}"
    else:
        failure = (result.failure_reason or "failed") if result.status == TransactionStatus.FAILED else None
    with tenant_scope(organization_id):  # the answer, recorded in the second short transaction
        if result is not None:
            # The webhook may have arrived first: only fill what is still blank.
            PaymentTransaction.objects.filter(pk=payment.pk, external_id="").update(
                external_id=result.external_id, updated_at=timezone.now()
            )
        if failure is not None:
            _fail(payment, reason=failure)
    return payment


def _fail(payment: PaymentTransaction, *, reason: str) -> None:
    if payment.kind == TransactionKind.FUND:
        escrows.escrow_funding_failed(payment=payment, reason=reason)
    else:
        escrows.escrow_refund_failed(payment=payment, reason=reason)


def payment_transactions_unsubmitted(*, older_than: timedelta, limit: int = 200) -> list[tuple[str, str]]:
    """(transaction id, organization id) of funds and refunds that never reached the provider
    (the enqueue was lost, or every retry failed): the beat sweep submits them again.
    Reads every tenant: the beat task calls it in its bypass scope."""
    cutoff = timezone.now() - older_than
    rows = (
        PaymentTransaction.objects.filter(
            status=TransactionStatus.PENDING,
            external_id="",
            kind__in=[TransactionKind.FUND, TransactionKind.REFUND],
            created_at__lt=cutoff,
        )
        .order_by("created_at")
        .values_list("id", "client_organization_id")[:limit]
    )
    return [(str(payment_id), str(organization_id)) for payment_id, organization_id in rows]


# --- webhooks ---------------------------------------------------------------------------------


def _tenant_of(notice: WebhookNotice) -> tuple[UUID, UUID]:
    """The organization and payment transaction the event names (we sent both with the charge)."""
    try:
        organization_id, reference = UUID(str(notice.metadata["organization_id"])), UUID(notice.reference)
    except (KeyError, ValueError, TypeError):
        raise WebhookRefused(
            "The event does not name one of our payment transactions.", details={"reference": ["Unknown."]}
        ) from None
    return organization_id, reference


def webhook_receive(*, provider: str, body: bytes, headers: Mapping[str, str]) -> tuple[WebhookEvent, bool]:
    """Verify a provider's webhook and record it once. Returns (event, newly recorded).

    Refused (400, nothing recorded) when the signature is wrong, the timestamp stale or
    the body malformed. The same event id again is not recorded twice: the provider is
    told it arrived (200) and it is applied once.

    Opens the tenant scope itself: the webhook arrives with no user and no tenant, and
    only its verified body names the organization (the metadata we sent with the charge)."""
    gateway = gateway_for(provider)
    try:
        notice = gateway.webhook_verify(body=body, headers=headers)
    except WebhookRejected as rejected:
        raise WebhookRefused("The webhook was refused.", details={"signature": [rejected.reason]}) from None
    organization_id, reference = _tenant_of(notice)
    with tenant_scope(organization_id):
        if not organization_exists(organization_id=organization_id):
            raise WebhookRefused(
                "The event names an organization we do not know.", details={"metadata.organization_id": ["Unknown."]}
            )
        try:
            with transaction.atomic():
                event = WebhookEvent.objects.create(
                    provider=provider,
                    event_id=notice.event_id,
                    event_type=notice.event_type,
                    organization_id=organization_id,
                    reference=reference,
                    payload={
                        "external_id": notice.external_id,
                        "amount": str(notice.amount),
                        "currency": notice.currency,
                        "failure_reason": notice.failure_reason,
                        "occurred_at": notice.occurred_at.isoformat(),
                    },
                )
        except IntegrityError:
            logger.info("escrow.webhook_duplicate", extra={"provider": provider, "event_id": notice.event_id})
            return WebhookEvent.objects.get(provider=provider, event_id=notice.event_id), False
    _apply_on_commit(event)
    return event, True


def _apply_on_commit(event: WebhookEvent) -> None:
    event_id, organization_id = event.pk, str(event.organization_id)

    def enqueue():
        from apps.escrow.tasks import payment_webhook_apply

        try:
            payment_webhook_apply.delay(webhook_event_id=event_id, organization_id=organization_id)
        except Exception:  # the beat sweep applies it later: the event is safe in PostgreSQL
            logger.warning("escrow.webhook_enqueue_failed", extra={"webhook_event_id": event_id})

    transaction.on_commit(enqueue)


def _ignore(event: WebhookEvent, why: str) -> WebhookEvent:
    logger.error("escrow.webhook_ignored", extra={"webhook_event_id": event.pk, "why": why})
    event.applied_at = timezone.now()
    event.last_error = f"ignored: {why}"
    event.save(update_fields=["applied_at", "last_error", "attempts"])
    return event


@transaction.atomic
def webhook_apply(*, webhook_event_id: int) -> WebhookEvent:
    """Apply a recorded webhook to its payment transaction, exactly once: the event row is
    locked, and marked applied in the same transaction as the money it moves."""
    event = WebhookEvent.objects.select_for_update().get(pk=webhook_event_id)
    if event.applied_at is not None:
        return event
    event.attempts += 1
    payment = PaymentTransaction.objects.filter(pk=event.reference).first()
    if payment is None:
        return _ignore(event, "no such payment transaction")
    if payment.amount != Decimal(event.payload["amount"]):
        return _ignore(event, f"amount {event.payload['amount']} differs from {payment.amount}")
    if payment.currency != event.payload["currency"]:
        return _ignore(event, f"currency {event.payload['currency']} differs from {payment.currency}")
    external_id = event.payload["external_id"]
    reason = event.payload.get("failure_reason") or "failed"
    expected_kind = TransactionKind.FUND if event.event_type.startswith("charge.") else TransactionKind.REFUND
    if payment.kind != expected_kind:
        return _ignore(event, f"{event.event_type} for a {payment.kind} transaction")
    match event.event_type:
        case "charge.succeeded":
            escrows.escrow_confirm_funding(payment=payment, external_id=external_id)
        case "charge.failed":
            escrows.escrow_funding_failed(payment=payment, reason=reason, external_id=external_id)
        case "refund.succeeded":
            escrows.escrow_refund_confirmed(payment=payment, external_id=external_id)
        case "refund.failed":
            escrows.escrow_refund_failed(payment=payment, reason=reason, external_id=external_id)
        case _:
            return _ignore(event, f"unknown event type {event.event_type}")
    event.applied_at = timezone.now()
    event.last_error = ""
    event.save(update_fields=["applied_at", "last_error", "attempts"])
    return event


def webhook_record_failure(*, webhook_event_id: int, error: str) -> None:
    """Note why applying failed and count the attempt, in a transaction of its own: the failed
    one rolled back, and with it the attempt webhook_apply had counted."""
    with transaction.atomic():
        WebhookEvent.objects.filter(pk=webhook_event_id, applied_at=None).update(
            last_error=error[:2000], attempts=F("attempts") + 1
        )


def webhook_events_unapplied(*, older_than: timedelta, limit: int = 200) -> list[tuple[int, str]]:
    """(event id, organization id) of recorded webhooks not applied yet: the beat sweep retries them.
    Reads every tenant: the beat task calls it in its bypass scope."""
    cutoff = timezone.now() - older_than
    rows = (
        WebhookEvent.objects.filter(applied_at=None, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("id", "organization_id")[:limit]
    )
    return [(event_id, str(organization_id)) for event_id, organization_id in rows]
