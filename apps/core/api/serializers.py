"""Serializers every context's API shares."""

from rest_framework import serializers

from apps.core.api.fields import StrictCharField


class DetailOutput(serializers.Serializer):
    detail = StrictCharField()


# An organization taking part (client, supplier, carrier): its id and name.
class PartyOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = StrictCharField()
