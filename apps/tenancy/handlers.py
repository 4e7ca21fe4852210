"""Outbox subscribers of the tenancy context."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from apps.tenancy.consumers import organization_group


def broadcast_to_organization(event) -> None:
    """Push every event of an organization to its live feed (`org.<id>` group).

    Idempotent for clients: the event id travels with it.
    """
    if event.organization_id is None:
        return
    async_to_sync(get_channel_layer().group_send)(
        organization_group(event.organization_id),
        {
            "type": "event.message",
            "event": {
                "id": str(event.id),
                "event_type": event.event_type,
                "aggregate_type": event.aggregate_type,
                "aggregate_id": event.aggregate_id,
                "payload": event.payload,
                "created_at": event.created_at.isoformat(),
            },
        },
    )
