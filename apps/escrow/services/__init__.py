"""Writes of the escrow context, one module per group of use cases; import them from here."""

from apps.escrow.services.adjustments import ledger_adjust
from apps.escrow.services.disputes import escrow_dispute, escrow_resolve_dispute
from apps.escrow.services.escrows import (
    escrow_confirm_funding,
    escrow_create,
    escrow_fund,
    escrow_funding_failed,
    escrow_refund,
    escrow_refund_confirmed,
    escrow_refund_failed,
    escrow_release,
)
from apps.escrow.services.jobs import (
    escrow_auto_release_due,
    escrow_close_settled,
    escrows_release_due_organizations,
    escrows_settled_organizations,
)
from apps.escrow.services.lifecycle import escrow_cancel, escrow_close, escrow_record_delivery
from apps.escrow.services.payments import (
    WebhookRefused,
    payment_transaction_submit,
    payment_transactions_unsubmitted,
    webhook_apply,
    webhook_events_unapplied,
    webhook_receive,
    webhook_record_failure,
)
from apps.escrow.services.rates import exchange_rates_refresh
from apps.escrow.services.steps import InsufficientFunds

__all__ = [
    "InsufficientFunds",
    "WebhookRefused",
    "escrow_auto_release_due",
    "escrow_cancel",
    "escrow_close",
    "escrow_close_settled",
    "escrow_confirm_funding",
    "escrow_create",
    "escrow_dispute",
    "escrow_fund",
    "escrow_funding_failed",
    "escrow_record_delivery",
    "escrow_refund",
    "escrow_refund_confirmed",
    "escrow_refund_failed",
    "escrow_release",
    "escrow_resolve_dispute",
    "escrows_release_due_organizations",
    "escrows_settled_organizations",
    "exchange_rates_refresh",
    "ledger_adjust",
    "payment_transaction_submit",
    "payment_transactions_unsubmitted",
    "webhook_apply",
    "webhook_events_unapplied",
    "webhook_receive",
    "webhook_record_failure",
]
