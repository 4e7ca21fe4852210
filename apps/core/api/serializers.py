"""Serializers every context's API shares."""

from rest_framework import serializers


class DetailOutput(serializers.Serializer):
    detail = serializers.CharField()


class PartyOutput(serializers.Serializer):
    """An organization taking part (client, supplier, carrier): its id and name."""

    id = serializers.UUIDField()
    name = serializers.CharField()
