"""Serializers of a dispute's timeline (apps/disputes/timeline.py builds the entries)."""

from __future__ import annotations

from rest_framework import serializers

from apps.core.api.fields import StrictCharField
from apps.disputes.timeline import ACTOR_SIDES, EntryType


class DisputeTimelineEntryOutput(serializers.Serializer):
    at = serializers.DateTimeField()
    type = serializers.ChoiceField(choices=[(kind, kind.replace("_", " ")) for kind in EntryType.ALL])
    actor_side = serializers.ChoiceField(
        choices=[(side, side) for side in ACTOR_SIDES],
        allow_null=True,
        help_text="Who acted: a party, platform staff, the platform itself; null when the record does not say.",
    )
    summary = StrictCharField(help_text="What happened, in a sentence.")
    data = serializers.JSONField(help_text="The entry's facts, by type (ids, statuses, amounts as strings, times).")


class DisputeTimelineMeta(serializers.Serializer):
    total = serializers.IntegerField()


class DisputeTimelineOutput(serializers.Serializer):
    data = DisputeTimelineEntryOutput(many=True)
    meta = DisputeTimelineMeta()
