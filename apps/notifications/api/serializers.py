"""Shapes of the notifications API."""

from __future__ import annotations

from rest_framework import serializers

from apps.core.api.fields import StrictCharField, StrictURLField
from apps.notifications.catalogue import BY_KEY
from apps.notifications.models import Channel, Digest, Language
from apps.tenancy.roles import Role

TYPE_KEYS = sorted(BY_KEY)


class DeliveryAttemptOutput(serializers.Serializer):
    number = serializers.IntegerField()
    status = StrictCharField()
    provider_id = StrictCharField()
    error = StrictCharField()
    attempted_at = serializers.DateTimeField()


class DeliveryOutput(serializers.Serializer):
    id = serializers.UUIDField()
    channel = StrictCharField()
    status = StrictCharField()
    attempts = serializers.IntegerField()
    due_at = serializers.DateTimeField()
    digest = StrictCharField()
    sent_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    last_error = StrictCharField()


class NotificationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    type = StrictCharField()
    event_type = StrictCharField()
    organization_id = serializers.UUIDField(allow_null=True)
    title = StrictCharField()
    body = StrictCharField()
    subject_type = StrictCharField()
    subject_id = StrictCharField()
    is_read = serializers.SerializerMethodField()
    read_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()

    def get_is_read(self, notification) -> bool:
        return notification.read_at is not None


class NotificationDetailOutput(NotificationOutput):
    deliveries = serializers.SerializerMethodField()

    def get_deliveries(self, notification) -> list[dict]:
        rows = []
        for delivery in notification.deliveries.all():
            data = DeliveryOutput(delivery).data
            data["attempt_log"] = DeliveryAttemptOutput(delivery.attempt_rows.all(), many=True).data
            rows.append(data)
        return rows


class ReadAllOutput(serializers.Serializer):
    marked_read = serializers.IntegerField()
    unread_count = serializers.IntegerField()


class TypePreferenceInput(serializers.Serializer):
    type = serializers.ChoiceField(choices=TYPE_KEYS)
    in_app = serializers.BooleanField(required=False, allow_null=True, default=None)
    email = serializers.BooleanField(required=False, allow_null=True, default=None)
    sms = serializers.BooleanField(required=False, allow_null=True, default=None)
    push = serializers.BooleanField(required=False, allow_null=True, default=None)
    digest = serializers.ChoiceField(choices=Digest.choices, required=False, allow_null=True, default=None)


class LocalTimeField(serializers.TimeField):
    """A wall-clock time of the user's time zone. Django's time parser drops an offset
    (`22:00+03:00` becomes 22:00), which would move the hours silently: refused instead."""

    def to_internal_value(self, value):
        if isinstance(value, str) and any(sign in value for sign in "+-Zz"):
            self.fail("invalid", format="HH:MM, local time without an offset")
        return super().to_internal_value(value)


class QuietHoursField(serializers.Serializer):
    start = LocalTimeField(format="%H:%M", help_text="Local time (the user's time zone), HH:MM.")
    end = LocalTimeField(format="%H:%M", help_text="Local time; may be before start (across midnight).")


class PreferencesInput(serializers.Serializer):
    types = TypePreferenceInput(many=True, required=False, max_length=100)
    quiet_hours = QuietHoursField(required=False, allow_null=True)


class TypePreferenceOutput(serializers.Serializer):
    type = StrictCharField()
    label = StrictCharField()
    category = StrictCharField()
    mandatory = serializers.BooleanField()
    digestible = serializers.BooleanField()
    in_app = serializers.BooleanField()
    email = serializers.BooleanField()
    sms = serializers.BooleanField()
    push = serializers.BooleanField()
    digest = StrictCharField()


class PreferencesOutput(serializers.Serializer):
    types = TypePreferenceOutput(many=True)
    quiet_hours = QuietHoursField(allow_null=True)


class SendInput(serializers.Serializer):
    title = StrictCharField(max_length=200)
    body = StrictCharField(max_length=2000)
    user_ids = serializers.ListField(child=serializers.UUIDField(), required=False, default=list, max_length=1000)
    organization_ids = serializers.ListField(
        child=serializers.UUIDField(), required=False, default=list, max_length=1000
    )
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=Role.choices), required=False, default=list, max_length=20
    )


class SendOutput(serializers.Serializer):
    broadcast_id = serializers.UUIDField()
    status = StrictCharField()


class TemplateInput(serializers.Serializer):
    type = serializers.ChoiceField(choices=TYPE_KEYS)
    channel = serializers.ChoiceField(choices=Channel.choices)
    language = serializers.ChoiceField(choices=Language.choices)
    subject = StrictCharField(max_length=300)
    body = StrictCharField(max_length=5000)
    is_active = serializers.BooleanField(required=False, default=True)


class TemplateUpdateInput(serializers.Serializer):
    subject = StrictCharField(max_length=300, required=False)
    body = StrictCharField(max_length=5000, required=False)
    is_active = serializers.BooleanField(required=False)


class TemplatePreviewInput(serializers.Serializer):
    type = serializers.ChoiceField(choices=TYPE_KEYS)
    subject = StrictCharField(max_length=300)
    body = StrictCharField(max_length=5000)


class TemplateOutput(serializers.Serializer):
    id = serializers.UUIDField()
    type = StrictCharField()
    channel = StrictCharField()
    language = StrictCharField()
    subject = StrictCharField()
    body = StrictCharField()
    is_active = serializers.BooleanField()
    updated_at = serializers.DateTimeField()


class PreviewOutput(serializers.Serializer):
    subject = StrictCharField()
    body = StrictCharField()
    sample = serializers.DictField()


class PushSubscriptionKeys(serializers.Serializer):
    p256dh = StrictCharField(max_length=200)
    auth = StrictCharField(max_length=64)


class PushSubscriptionInput(serializers.Serializer):
    """What a browser's `PushSubscription.toJSON()` gives."""

    endpoint = StrictURLField(max_length=1000)
    keys = PushSubscriptionKeys()


class PushSubscriptionOutput(serializers.Serializer):
    id = serializers.UUIDField()
    endpoint = StrictCharField()
    user_agent = StrictCharField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)


class PushKeyOutput(serializers.Serializer):
    vapid_public_key = StrictCharField(help_text="The application server key for PushManager.subscribe().")


class PhoneStartInput(serializers.Serializer):
    phone = StrictCharField(max_length=32, help_text="The number, with its country code: +<country><number>.")


class PhoneStartOutput(serializers.Serializer):
    phone = StrictCharField()
    expires_at = serializers.DateTimeField()


class PhoneConfirmInput(serializers.Serializer):
    code = StrictCharField(max_length=12)


class PhoneConfirmOutput(serializers.Serializer):
    phone = StrictCharField()
    verified = serializers.BooleanField()
