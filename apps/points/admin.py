"""Points and referrals in the back-office, for platform staff only (every row is a person's, not an
organization's: organization admins see none of it). Staff requests run in the audited
all-tenants scope.

- Rules: what earns points; created and edited here (through the rule services: checked,
  audited, the awarding subscriber's cache forgotten). Never deleted: switch one off.
- Accounts and the ledger: read-only. "Credit or penalize" (the add form of the ledger, also
  linked from each account) records a CREDIT or PENALTY with its reason through `points_adjust`.
- Referrals: read-only, with their history.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.html import format_html

from apps.core.admin import ReadOnlyAdminMixin, StatusHistoryInlineMixin
from apps.points import services
from apps.points.models import (
    Category,
    PointAccount,
    PointRule,
    PointTransaction,
    Referral,
    ReferralStatusChange,
    TransactionType,
)
from apps.points.services.rules import RULE_FIELDS
from apps.tenancy.admin_site import ServiceErrorsAsMessages, admin_actor, is_platform_staff


class StaffOnly:
    """Pages for platform staff alone (Django's model permissions apply on top for them)."""

    def has_module_permission(self, request):
        return is_platform_staff(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return is_platform_staff(request) and super().has_view_permission(request, obj)


# --- Rules ------------------------------------------------------------------------------------------


class PointRuleForm(forms.ModelForm):
    class Meta:
        model = PointRule
        fields = list(RULE_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["conditions"].required = False


@admin.register(PointRule)
class PointRuleAdmin(StaffOnly, ServiceErrorsAsMessages, admin.ModelAdmin):
    form = PointRuleForm
    list_display = ["key", "event_type", "recipient", "transaction_type", "category", "amount", "is_active"]
    list_filter = ["is_active", "transaction_type", "category"]
    search_fields = ["key", "event_type", "description"]
    ordering = ["event_type", "key"]

    def has_delete_permission(self, request, obj=None):
        return False  # the ledger keeps its rule: switch it off instead

    def save_model(self, request, obj, form, change):
        data = {field: form.cleaned_data[field] for field in RULE_FIELDS if field in form.cleaned_data}
        data["conditions"] = data.get("conditions") or {}
        actor = admin_actor(request)
        if change:
            saved = services.point_rule_update(actor=actor, rule_id=obj.pk, data=data)
        else:
            saved = services.point_rule_create(actor=actor, data=data)
        obj.pk = saved.pk


# --- Accounts and the ledger ----------------------------------------------------------------------


@admin.register(PointAccount)
class PointAccountAdmin(StaffOnly, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["user", "balance", "transaction_count", "updated_at"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    ordering = ["-updated_at"]
    show_full_result_count = False
    fields = ["user", "balance", "transaction_count", "created_at", "updated_at", "ledger", "adjust"]
    readonly_fields = fields

    @admin.display(description="ledger")
    def ledger(self, account: PointAccount) -> str:
        url = reverse("admin:points_pointtransaction_changelist") + f"?user={account.user_id}"
        return format_html('<a href="{}">{} lines</a>', url, account.transaction_count)

    @admin.display(description="credit or penalize")
    def adjust(self, account: PointAccount) -> str:
        url = reverse("admin:points_pointtransaction_add") + f"?user={account.user_id}"
        return format_html('<a href="{}">Credit or penalize this person…</a>', url)


class AdjustmentForm(forms.ModelForm):
    """A staff adjustment: who, CREDIT or PENALTY, how many points, and why."""

    user = forms.ModelChoiceField(queryset=get_user_model().objects.all(), widget=forms.TextInput)
    type = forms.ChoiceField(choices=[(TransactionType.CREDIT, "Credit"), (TransactionType.PENALTY, "Penalty")])
    amount = forms.IntegerField(min_value=1, max_value=services.ledger.MAX_AMOUNT)
    category = forms.ChoiceField(choices=[("", "-"), *Category.choices], required=False)
    description = forms.CharField(max_length=200, help_text="Why: the person reads it on their ledger line.")
    allows_negative = forms.BooleanField(
        required=False, help_text="A penalty may take the balance below zero (otherwise it is refused)."
    )

    class Meta:
        model = PointTransaction
        fields = ["user", "type", "amount", "category", "description"]

    def _post_clean(self):
        pass  # the service builds and checks the line; the form only reads the input


@admin.register(PointTransaction)
class PointTransactionAdmin(StaffOnly, ServiceErrorsAsMessages, admin.ModelAdmin):
    list_display = ["created_at", "user", "sequence", "type", "category", "amount", "balance", "description"]
    list_filter = ["type", "category"]
    search_fields = ["user__email", "source_key", "description"]
    list_select_related = ["user", "rule"]
    ordering = ["-created_at"]
    show_full_result_count = False
    readonly_fields = [
        "user",
        "sequence",
        "type",
        "category",
        "amount",
        "balance",
        "description",
        "rule",
        "source_key",
        "source_event_id",
        "actor_id",
        "metadata",
        "created_at",
    ]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = AdjustmentForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["user", "type", "amount", "category", "description", "allows_negative"]
        return self.readonly_fields

    def get_changeform_initial_data(self, request):
        return {"user": request.GET.get("user")}

    def has_add_permission(self, request):
        return is_platform_staff(request)  # "credit or penalize", through the service

    def has_change_permission(self, request, obj=None):
        return False  # append-only

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        recorded = services.points_adjust(
            actor=admin_actor(request),
            user_id=data["user"].pk,
            transaction_type=data["type"],
            amount=data["amount"],
            category=data.get("category") or "",
            description=data["description"],
            allows_negative=data.get("allows_negative", False),
        )
        line = recorded.transaction
        for field in line._meta.concrete_fields:  # the page that follows shows the line recorded
            setattr(obj, field.attname, getattr(line, field.attname))
        obj._state.adding = False

    def log_addition(self, request, obj, message):
        return None  # the service's audit row is the record (the ledger line is not the form's object)


# --- Referrals --------------------------------------------------------------------------------------


class ReferralHistoryInline(StatusHistoryInlineMixin, ReadOnlyAdminMixin, admin.TabularInline):
    model = ReferralStatusChange
    fk_name = "referral"
    extra = 0


@admin.register(Referral)
class ReferralAdmin(StaffOnly, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "referrer", "referred", "referred_organization_name", "status", "source"]
    list_filter = ["status", "source"]
    search_fields = ["referrer__email", "referred__email", "code", "referred_organization_name"]
    list_select_related = ["referrer", "referred"]
    ordering = ["-created_at"]
    show_full_result_count = False
    inlines = [ReferralHistoryInline]
