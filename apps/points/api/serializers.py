"""Serializers of the points and referrals API: a person's balance and ledger, the rules, their
invite code and link, and the people they referred."""

from __future__ import annotations

from rest_framework import serializers

from apps.core.api.fields import StrictCharField
from apps.points.models import Category, PointRule, PointTransaction, Referral, ReferralSource, ReferralStatus
from apps.points.models import TransactionType as Type


class PointBalanceOutput(serializers.Serializer):
    balance = serializers.IntegerField(help_text="Points now (may be negative only after a rule that allows it).")
    updated_at = serializers.DateTimeField(allow_null=True, help_text="The last change; null before the first.")


class PointTransactionOutput(serializers.ModelSerializer):
    type = serializers.ChoiceField(choices=Type.choices)
    category = serializers.ChoiceField(choices=[("", "None"), *Category.choices])
    amount = serializers.IntegerField(help_text="Signed: a PENALTY is negative.")
    balance = serializers.IntegerField(help_text="The balance after this line.")
    rule = serializers.SerializerMethodField(help_text="The key of the rule that earned it; null for staff's.")

    class Meta:
        model = PointTransaction
        fields = ["id", "sequence", "type", "category", "amount", "balance", "description", "rule", "created_at"]

    def get_rule(self, line: PointTransaction) -> str | None:
        return line.rule.key if line.rule_id else None


class PointTransactionFilterInput(serializers.Serializer):
    type = serializers.ChoiceField(choices=Type.choices, required=False)
    category = serializers.ChoiceField(choices=Category.choices, required=False)


class PointRuleOutput(serializers.ModelSerializer):
    transaction_type = serializers.ChoiceField(choices=Type.choices)
    category = serializers.ChoiceField(choices=Category.choices)
    amount = serializers.IntegerField(help_text="Points; a PENALTY subtracts them.")
    event_type = StrictCharField(help_text="The domain event that earns them.")

    class Meta:
        model = PointRule
        fields = ["key", "event_type", "transaction_type", "category", "amount", "description"]


class ReferralCodeOutput(serializers.Serializer):
    code = StrictCharField(help_text="Your personal invite code.")
    link = StrictCharField(help_text="The sign-up link that carries it.")


class ReferralOutput(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=ReferralStatus.choices)
    source = serializers.ChoiceField(choices=ReferralSource.choices)
    referred_name = StrictCharField(
        allow_blank=True, help_text="The person, as far as you are shown: a first name and initial."
    )
    referred_organization_name = StrictCharField(
        allow_blank=True, help_text="Their organization, once known; empty before."
    )
    refusal_reason = StrictCharField(allow_blank=True, help_text="Why a REFUSED referral was refused.")

    class Meta:
        model = Referral
        fields = [
            "id",
            "status",
            "source",
            "referred_name",
            "referred_organization_name",
            "refusal_reason",
            "created_at",
            "qualified_at",
            "rewarded_at",
        ]


class ReferralClaimInput(serializers.Serializer):
    code = StrictCharField(max_length=32, help_text="The invite code of the person who referred you.")
