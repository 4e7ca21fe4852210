"""Serializers of the service orders API: asking for service (JSON, or a form with photos),
correcting it, the moves of its lifecycle, the order (list row and detail with its history and
files) and the candidates matching scored for it."""

from __future__ import annotations

import json

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import CurrencyField, MoneyAmountField, MoneyField, StrictCharField
from apps.core.download_links import download_token
from apps.service.api.expert_serializers import SKILL_KEY_CHOICES
from apps.service.models import (
    ExpertPassport,
    MatchingResult,
    ServiceOrder,
    ServiceOrderAttachment,
    ServiceOrderStatusChange,
    Urgency,
    WorkStatus,
)

ATTACHMENT_SALT = "service.attachment"
MAX_PARTS = 100


def _coordinate(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True, **kwargs)


def _price(**kwargs) -> MoneyAmountField:
    return MoneyAmountField(whole_digits=12, decimal_places=2, required=False, allow_null=True, **kwargs)


class ServiceOrderFields(serializers.Serializer):
    title = StrictCharField(max_length=200)
    description = StrictCharField(max_length=4000, required=False, allow_blank=True, default="")
    urgency = serializers.ChoiceField(
        choices=Urgency.choices,
        required=False,
        default=Urgency.MEDIUM,
        help_text="URGENT and HIGH go to RUSHING experts first.",
    )
    required_skill = serializers.ChoiceField(
        choices=SKILL_KEY_CHOICES, help_text="The skill the work needs (INDUSTRY-SKILL, GET /experts/skills)."
    )
    address = StrictCharField(
        max_length=300, required=False, allow_blank=True, default="", help_text="Default: the device's place."
    )
    latitude = _coordinate(default=None, help_text="The site, with longitude; default: the device's place.")
    longitude = _coordinate(default=None, help_text="The site, with latitude; default: the device's place.")
    scheduled_start = serializers.DateTimeField(required=False, allow_null=True, default=None)
    scheduled_end = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="On or after the start."
    )
    price = _price(default=None, help_text="What the customer offers to pay (optional), in `currency`.")
    currency = CurrencyField(required=False, help_text="ISO 4217, with a price.")


class ServiceOrderCreateInput(ServiceOrderFields):
    passport_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="One of your installed devices (a customer: one kept for them); the `serviced` step is written "
        "on it when the work is completed.",
    )
    customer_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The member the work is for (default: you; a customer orders only for themselves).",
    )


class ServiceOrderCreateFormInput(ServiceOrderCreateInput):
    photos = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        help_text="Photos of the problem: JPEG or PNG, up to 10 (multipart only).",
    )


class ServiceOrderUpdateInput(ServiceOrderFields):
    """Every field optional: only those sent change (while PENDING or ASSIGNED)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
            field.default = serializers.empty

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError({"non_field_errors": ["Send at least one field to change."]})
        return attrs


class ServiceOrderAssignInput(serializers.Serializer):
    expert_id = serializers.UUIDField(help_text="A published expert, or one of your organization's own.")


class ServiceOrderReasonInput(serializers.Serializer):
    reason = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")


class ServiceOrderCancelInput(serializers.Serializer):
    reason = StrictCharField(max_length=2000, help_text="Why: the expert reads it.")


class ServiceOrderPartInput(serializers.Serializer):
    name = StrictCharField(max_length=200)
    quantity = serializers.IntegerField(min_value=1, max_value=10_000, required=False, default=1)
    part_number = StrictCharField(max_length=80, required=False, allow_blank=True, default="")


class ServiceOrderCompleteInput(serializers.Serializer):
    work_done = StrictCharField(max_length=4000, help_text="What was done.")
    signed_off_by_name = StrictCharField(max_length=200, help_text="The customer's person who signed the work off.")
    parts_used = ServiceOrderPartInput(many=True, required=False, default=list, max_length=MAX_PARTS)


class ServiceOrderCompleteFormInput(serializers.Serializer):
    work_done = StrictCharField(max_length=4000, help_text="What was done.")
    signed_off_by_name = StrictCharField(max_length=200, help_text="The customer's person who signed the work off.")
    parts_used = StrictCharField(
        required=False,
        default="[]",
        help_text='The parts as a JSON array: [{"name": "Bearing 6205", "quantity": 2, "part_number": "6205-2RS"}].',
    )
    photos = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, help_text="Photos of the work done (JPEG, PNG)."
    )
    sign_off = serializers.FileField(required=False, help_text="The customer's signature as an image (JPEG, PNG).")

    def validate_parts_used(self, value):
        try:
            parts = json.loads(value)
        except ValueError:
            raise serializers.ValidationError("A JSON array of parts.") from None
        serializer = ServiceOrderPartInput(data=parts, many=True, max_length=MAX_PARTS)
        if not isinstance(parts, list) or not serializer.is_valid():
            raise serializers.ValidationError(
                serializer.errors if isinstance(parts, list) else ["A JSON array of parts."]
            )
        return serializer.validated_data


class ServiceOrderExpertOutput(serializers.ModelSerializer):
    """The expert who holds the order (null while none does, or when the profile is no longer
    published to the customer)."""

    class Meta:
        model = ExpertPassport
        fields = ["id", "code", "display_name", "rating_average", "rating_count", "work_status"]
        read_only_fields = fields


class ServiceOrderOutput(serializers.ModelSerializer):
    side = serializers.SerializerMethodField(
        help_text="customer: your organization asked for it; expert: one of your experts holds it."
    )
    passport_id = serializers.UUIDField(read_only=True, allow_null=True)
    customer_id = serializers.UUIDField(read_only=True, allow_null=True)
    price = MoneyField(allow_null=True)
    expert = serializers.SerializerMethodField()

    class Meta:
        model = ServiceOrder
        fields = [
            "id",
            "number",
            "side",
            "title",
            "urgency",
            "status",
            "status_changed_at",
            "required_skill",
            "passport_id",
            "passport_code",
            "device_name",
            "customer_id",
            "address",
            "latitude",
            "longitude",
            "scheduled_start",
            "scheduled_end",
            "price",
            "currency",
            "expert",
            "accepted_at",
            "completed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_side(self, order) -> str:
        return "customer" if order.organization_id == self.context.get("organization_id") else "expert"

    @extend_schema_field(ServiceOrderExpertOutput(allow_null=True))
    def get_expert(self, order) -> dict | None:
        if order.expert_id is None or order.expert is None:
            return None
        return ServiceOrderExpertOutput(order.expert).data


class ServiceOrderHistoryOutput(serializers.ModelSerializer):
    by_id = serializers.UUIDField(read_only=True, allow_null=True, help_text="Who moved it (null: the system).")

    class Meta:
        model = ServiceOrderStatusChange
        fields = ["from_status", "to_status", "by_id", "at", "reason"]
        read_only_fields = fields


class ServiceOrderAttachmentOutput(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField(help_text="The file's link; works for a few minutes.")

    class Meta:
        model = ServiceOrderAttachment
        fields = ["id", "kind", "filename", "content_type", "size", "sha256", "created_at", "download_url"]
        read_only_fields = fields

    def get_download_url(self, attachment) -> str:
        token = download_token(
            salt=ATTACHMENT_SALT, record_id=attachment.id, organization_id=self.context["organization_id"]
        )
        return reverse("service-order-attachment-file", args=[token])


class ServiceOrderPartOutput(serializers.Serializer):
    name = StrictCharField()
    quantity = serializers.IntegerField()
    part_number = StrictCharField()


class ServiceOrderDetailOutput(ServiceOrderOutput):
    """The order with its history (oldest first), files and completion."""

    created_by_id = serializers.UUIDField(read_only=True, allow_null=True)
    passport_event_id = serializers.UUIDField(
        read_only=True, allow_null=True, help_text="The `serviced` step completion wrote on the device's passport."
    )
    parts_used = ServiceOrderPartOutput(many=True, read_only=True)
    history = ServiceOrderHistoryOutput(source="status_changes", many=True, read_only=True)
    attachments = serializers.SerializerMethodField()

    class Meta(ServiceOrderOutput.Meta):
        fields = [
            *ServiceOrderOutput.Meta.fields,
            "description",
            "created_by_id",
            "work_done",
            "parts_used",
            "signed_off_by_name",
            "signed_off_at",
            "cancellation_reason",
            "passport_event_id",
            "offer_round",
            "offers_expire_at",
            "history",
            "attachments",
        ]
        read_only_fields = fields

    @extend_schema_field(ServiceOrderAttachmentOutput(many=True))
    def get_attachments(self, order) -> list:
        return ServiceOrderAttachmentOutput(order.attachments.all(), many=True, context=self.context).data


class ServiceOrderDeclineOutput(serializers.Serializer):
    service_order_id = serializers.UUIDField()
    status = StrictCharField(
        allow_null=True, help_text="PENDING: the assignment you gave back; null: an offer (the order is not yours)."
    )
    offer_status = StrictCharField(help_text="DECLINED.")


class ServiceOrderMatchExpertOutput(serializers.Serializer):
    id = serializers.UUIDField(source="target_id")
    code = StrictCharField(source="expert_code", allow_null=True)
    display_name = StrictCharField(source="expert_display_name", allow_null=True)
    rating_average = serializers.DecimalField(
        source="expert_rating_average", max_digits=3, decimal_places=2, allow_null=True
    )
    work_status = serializers.ChoiceField(source="expert_work_status", choices=WorkStatus.choices, allow_null=True)


class ServiceOrderMatchOutput(serializers.ModelSerializer):
    """A scored candidate: the score, each factor's share (the breakdown sums to the score), the
    rank, and the live offer made to the expert (RUSHING experts, for urgent work)."""

    expert = ServiceOrderMatchExpertOutput(source="*", read_only=True)
    breakdown = serializers.DictField(read_only=True, help_text="Each factor's share of the score.")

    class Meta:
        model = MatchingResult
        fields = [
            "id",
            "rank",
            "score",
            "breakdown",
            "distance_km",
            "expert",
            "status",
            "offer_status",
            "offer_round",
            "offered_at",
            "responded_at",
            "created_at",
        ]
        read_only_fields = fields
