"""Serializers every context's API shares."""

from rest_framework import serializers


class DetailOutput(serializers.Serializer):
    detail = serializers.CharField()


# An organization taking part (client, supplier, carrier): its id and name.
class PartyOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
