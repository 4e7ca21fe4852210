"""Outbox subscribers of the tenancy context."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from apps.core.live_groups import event_message
from apps.tenancy.consumers import organization_group


def broadcast_to_organization(event) -> None:
    """Push every event of an organization to its live feed (`org.<id>` group), and to each
    party's feed when the event is about a record shared by parties.

    Idempotent for clients: the event id travels with it.
    """
    audience = {str(event.organization_id)} if event.organization_id else set()
    # Records shared by parties (orders) name every party organization in the payload.
    audience.update(str(organization_id) for organization_id in event.payload.get("party_organization_ids", ()))
    message = event_message(event)
    for organization_id in sorted(audience):
        async_to_sync(get_channel_layer().group_send)(organization_group(organization_id), message)
