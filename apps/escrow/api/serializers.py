"""Serializers of the payments API: field-level checks here; amounts against what is held,
minor units and states are the services' (apps.escrow.services)."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import CurrencyField, MoneyAmountField, MoneyField, StrictCharField
from apps.core.api.serializers import PartyOutput
from apps.escrow.models import (
    AccountKind,
    Escrow,
    EscrowStatus,
    EscrowStatusChange,
    ExchangeRate,
    PaymentTransaction,
    Posting,
)
from apps.escrow.selectors import shown_amount

# Within the escrow's currency's minor units: the service checks them (it knows the escrow).
AMOUNT = {"currency_of": "the escrow's currency", "min_value": Decimal("0.001"), "whole_digits": 14}


# --- input ------------------------------------------------------------------------------------


class EscrowCreateInput(serializers.Serializer):
    order_id = serializers.UUIDField()
    provider = StrictCharField(max_length=32, required=False, help_text="Payment provider; the default if omitted.")


class EscrowFundInput(serializers.Serializer):
    payment_method = StrictCharField(
        max_length=64, required=False, allow_blank=True, help_text="The provider's payment method token."
    )


class EscrowReleaseInput(serializers.Serializer):
    amount = MoneyAmountField(**AMOUNT, required=False, help_text="Part of what is held; all of it if omitted.")
    reason = StrictCharField(max_length=500, required=False, allow_blank=True)


class RefundInput(serializers.Serializer):
    escrow_id = serializers.UUIDField()
    amount = MoneyAmountField(**AMOUNT, required=False, help_text="Part of what is held; all of it if omitted.")
    reason = StrictCharField(max_length=500, required=False, allow_blank=True)


class BalancesQuery(serializers.Serializer):
    display_currency = CurrencyField(
        required=False, help_text="Also show each balance in this currency (display only)."
    )


class EscrowListQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=EscrowStatus.choices, required=False)


class StatementQuery(serializers.Serializer):
    currency = CurrencyField(required=False)
    account = serializers.ChoiceField(choices=[AccountKind.AVAILABLE, AccountKind.HELD], required=False)


# --- output -----------------------------------------------------------------------------------


class PaymentTransactionOutput(serializers.ModelSerializer):
    amount = MoneyField()

    class Meta:
        model = PaymentTransaction
        fields = [
            "id",
            "escrow_id",
            "kind",
            "amount",
            "currency",
            "status",
            "provider",
            "external_id",
            "failure_reason",
            "created_at",
            "completed_at",
        ]


class EscrowHistoryOutput(serializers.ModelSerializer):
    # The history's columns are by/at (apps.core.lifecycle); the API keeps its names.
    actor_id = serializers.ReadOnlyField(source="by_id")
    created_at = serializers.DateTimeField(source="at", read_only=True)

    class Meta:
        model = EscrowStatusChange
        fields = ["from_status", "to_status", "reason", "actor_id", "created_at"]


class EscrowOutput(serializers.ModelSerializer):
    client_organization = serializers.SerializerMethodField()
    supplier_organization = serializers.SerializerMethodField()
    amount = MoneyField()
    commission_amount = MoneyField(help_text="The platform's commission if everything is released.")
    commission_minimum = MoneyField()
    supplier_receives = serializers.SerializerMethodField(help_text="The amount less the commission.")
    held_amount = MoneyField()
    released_amount = MoneyField()
    refunded_amount = MoneyField()
    commission_taken = MoneyField()

    class Meta:
        model = Escrow
        fields = [
            "id",
            "number",
            "order_id",
            "order_number",
            "client_organization",
            "supplier_organization",
            "status",
            "provider",
            "amount",
            "currency",
            "commission_rate",
            "commission_minimum",
            "commission_amount",
            "supplier_receives",
            "held_amount",
            "released_amount",
            "refunded_amount",
            "commission_taken",
            "funded_at",
            "delivered_at",
            "auto_release_at",
            "disputed_at",
            "released_at",
            "closed_at",
            "created_at",
        ]

    @extend_schema_field(PartyOutput)
    def get_client_organization(self, escrow) -> dict:
        return {"id": escrow.client_organization_id, "name": escrow.client_organization_name}

    @extend_schema_field(PartyOutput)
    def get_supplier_organization(self, escrow) -> dict:
        return {"id": escrow.supplier_organization_id, "name": escrow.supplier_organization_name}

    @extend_schema_field({"type": "string", "format": "decimal"})
    def get_supplier_receives(self, escrow) -> str:
        return str(MoneyField().to_representation((escrow.amount - escrow.commission_amount, escrow.currency)))


class EscrowStatusOutput(EscrowOutput):
    history = EscrowHistoryOutput(many=True, read_only=True)
    transactions = PaymentTransactionOutput(many=True, read_only=True)

    class Meta(EscrowOutput.Meta):
        fields = [*EscrowOutput.Meta.fields, "history", "transactions"]


class FundOutput(serializers.Serializer):
    escrow = EscrowOutput()
    transaction = PaymentTransactionOutput()


class RefundOutput(serializers.Serializer):
    escrow = EscrowOutput()
    transaction = PaymentTransactionOutput()


class EquivalentOutput(serializers.Serializer):
    currency = StrictCharField()
    amount = serializers.DecimalField(max_digits=24, decimal_places=4, coerce_to_string=True)
    rate = serializers.DecimalField(max_digits=24, decimal_places=10, coerce_to_string=True)
    as_of = serializers.DateTimeField(allow_null=True)


class BalanceOutput(serializers.Serializer):
    currency = StrictCharField()
    available = StrictCharField()
    held = StrictCharField()
    display_equivalent = serializers.DictField(
        child=EquivalentOutput(allow_null=True),
        required=False,
        help_text="available and held in display_currency at the stored rate: display only, never moves money.",
    )


class BalancesOutput(serializers.Serializer):
    data = BalanceOutput(many=True)


class StatementLineOutput(serializers.ModelSerializer):
    account = StrictCharField(source="account_kind")
    amount = serializers.SerializerMethodField(help_text="The line's effect on the balance: + in, - out.")
    entry_kind = StrictCharField(source="entry.kind")
    description = StrictCharField(source="entry.description")
    entry_id = serializers.UUIDField()
    escrow_number = serializers.SerializerMethodField()

    class Meta:
        model = Posting
        fields = [
            "id",
            "created_at",
            "account",
            "currency",
            "amount",
            "entry_id",
            "entry_kind",
            "description",
            "escrow_id",
            "escrow_number",
        ]

    @extend_schema_field({"type": "string", "format": "decimal"})
    def get_amount(self, posting) -> str:
        return MoneyField().to_representation((shown_amount(posting), posting.currency))

    def get_escrow_number(self, posting) -> str | None:
        return posting.escrow.number if posting.escrow_id else None


class ExchangeRateOutput(serializers.ModelSerializer):
    class Meta:
        model = ExchangeRate
        fields = ["base", "quote", "rate", "as_of", "provider"]


class WebhookOutput(serializers.Serializer):
    received = serializers.BooleanField()
    duplicate = serializers.BooleanField()
