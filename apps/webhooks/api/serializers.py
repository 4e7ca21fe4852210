"""Serializers of webhooks: endpoints (the secret only in the answers that make one), their
delivery log and a delivery with its attempts."""

from __future__ import annotations

from rest_framework import serializers

from apps.core.api.fields import StrictCharField
from apps.webhooks.models import DeliveryStatus


class EndpointInput(serializers.Serializer):
    url = StrictCharField(
        max_length=2000,
        help_text="http(s); refused (400) when it resolves to a private, loopback or link-local address.",
    )
    event_types = serializers.ListField(
        child=StrictCharField(max_length=100),
        min_length=1,
        max_length=50,
        help_text='Event types or fnmatch patterns ("order.*", "*"); each must match a known event type.',
    )
    description = StrictCharField(max_length=500, required=False, allow_blank=True)
    is_active = serializers.BooleanField(
        required=False, help_text="Switching an endpoint back on resets its circuit breaker."
    )


class EndpointOutput(serializers.Serializer):
    id = serializers.UUIDField()
    url = StrictCharField()
    event_types = serializers.ListField(child=StrictCharField())
    description = StrictCharField()
    is_active = serializers.BooleanField()
    disabled_reason = StrictCharField(help_text="Why it is switched off (the circuit breaker, an administrator).")
    disabled_at = serializers.DateTimeField(allow_null=True)
    consecutive_failures = serializers.IntegerField()
    secret_rotated_at = serializers.DateTimeField(allow_null=True)
    previous_secret_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Until then the previous secret signs too (a second v1)."
    )
    created_by_id = serializers.UUIDField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class EndpointWithSecretOutput(EndpointOutput):
    secret = StrictCharField(help_text="The signing secret: shown in this answer only, keep it now.")


class DeliveryListQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, required=False)


class DeliveryOutput(serializers.Serializer):
    id = serializers.UUIDField()
    endpoint_id = serializers.UUIDField()
    event_id = serializers.UUIDField()
    event_type = StrictCharField()
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    sequence = serializers.IntegerField(help_text="1, plus one per manual redelivery.")
    attempt_count = serializers.IntegerField(help_text="Attempts in the current sequence.")
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = StrictCharField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class AttemptOutput(serializers.Serializer):
    sequence = serializers.IntegerField()
    number = serializers.IntegerField()
    requested_at = serializers.DateTimeField()
    succeeded = serializers.BooleanField()
    status_code = serializers.IntegerField(allow_null=True)
    latency_ms = serializers.IntegerField(allow_null=True)
    response_excerpt = StrictCharField(help_text="The response's first kilobyte.")
    error = StrictCharField()


class DeliveryDetailOutput(DeliveryOutput):
    body = StrictCharField(help_text="The JSON sent, the same bytes at every attempt.")
    attempts = AttemptOutput(many=True)
