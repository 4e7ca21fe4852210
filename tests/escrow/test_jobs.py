"""The beat jobs and the order events: proof of delivery starts the auto-release clock, due escrows
release in full, settled ones close after the claims window, and a cancelled order closes its
unfunded escrow.

Time moves through the data (the event's or the escrow's timestamps set in the past), never by
sleeping."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.context import system_scope, tenant_scope
from apps.core.models import OutboxEvent
from apps.core.services import outbox_relay
from apps.escrow import selectors, services, tasks
from apps.escrow.models import Escrow, EscrowStatus
from apps.orders import services as order_services
from apps.tenancy.roles import Role
from tests.beat import run_beat_job
from tests.escrow.parties import create_escrow, fund_escrow, make_party, order_between

pytestmark = pytest.mark.django_db

S = EscrowStatus
DAY = timedelta(days=1)


def stored_escrow(escrow_id) -> Escrow:
    with system_scope(reason="test", audit=False):
        return Escrow.objects.get(pk=escrow_id)


def move_order(party, order, *statuses: str) -> None:
    with tenant_scope(party.org.id, user_id=party.staff.id):
        for status in statuses:
            order_services.order_change_status(order_id=order.id, actor=party.actor(), status=status)


def order_event(order, to_status: str) -> OutboxEvent:
    with system_scope(reason="test", audit=False):
        return OutboxEvent.objects.get(
            event_type="order.status_changed", aggregate_id=str(order.id), payload__to_status=to_status
        )


def relay(event: OutboxEvent) -> None:
    """Deliver the event to its subscribers as the relay worker does, in its organization's scope."""
    assert outbox_relay(organization_id=event.organization_id, event_ids=[event.id]) == 1


def deliver(client_party, supplier_party, order, *, days_ago: float = 0) -> OutboxEvent:
    """The supplier proves delivery of the order `days_ago` days ago; the event is relayed."""
    move_order(client_party, order, "pending")
    move_order(supplier_party, order, "confirmed", "in_transit", "delivered")
    delivered = order_event(order, "delivered")
    if days_ago:
        with system_scope(reason="test: the delivery happened earlier", audit=False):
            OutboxEvent.objects.filter(pk=delivered.pk).update(created_at=delivered.created_at - days_ago * DAY)
            delivered.refresh_from_db()
    relay(delivered)
    return delivered


def record_delivery(escrow, *, days_ago: float) -> None:
    with tenant_scope(escrow.client_organization_id):
        services.escrow_record_delivery(order_id=escrow.order_id, delivered_at=timezone.now() - days_ago * DAY)


def auto_release_due() -> int:
    """The beat job, as its tasks run it: each client organization in its own scope."""
    return sum(run_beat_job(tasks.escrow_auto_release_due))


def close_settled() -> int:
    """The beat job, as its tasks run it: each client organization in its own scope."""
    return sum(run_beat_job(tasks.escrow_close_settled))


def escrow_events(escrow, event_type: str) -> list[OutboxEvent]:
    with system_scope(reason="test", audit=False):
        return list(OutboxEvent.objects.filter(event_type=event_type, aggregate_id=str(escrow.id)))


# --- auto-release -----------------------------------------------------------------------------------


def test_the_delivered_order_event_starts_the_auto_release_clock(client_party, supplier_party, order, funded_escrow):
    delivered = deliver(client_party, supplier_party, order)

    escrow = stored_escrow(funded_escrow.id)
    assert escrow.delivered_at == delivered.created_at
    assert escrow.auto_release_at == delivered.created_at + settings.ESCROW["AUTO_RELEASE_DAYS"] * DAY


def test_an_escrow_delivered_more_than_the_auto_release_days_ago_is_released_in_full(
    client_party, supplier_party, order, funded_escrow
):
    deliver(client_party, supplier_party, order, days_ago=settings.ESCROW["AUTO_RELEASE_DAYS"] + 1)

    released = auto_release_due()

    assert released == 1
    escrow = stored_escrow(funded_escrow.id)
    assert (escrow.status, escrow.held_amount, escrow.released_amount) == (S.RELEASED, 0, Decimal("1000.00"))
    with tenant_scope(client_party.org.id):
        last = selectors.escrow_get(organization_id=client_party.org.id, escrow_id=escrow.id).history.last()
    assert (last.from_status, last.to_status, last.by_id) == (S.FUNDED, S.RELEASED, None)
    assert last.reason.startswith("Automatic release")
    [event] = escrow_events(escrow, "escrow.released")
    assert event.payload["automatic"] is True
    assert (Decimal(event.payload["amount"]), Decimal(event.payload["commission"])) == (Decimal(1000), Decimal(30))
    with tenant_scope(supplier_party.org.id):
        [supplier_eur] = selectors.balances(organization_id=supplier_party.org.id)
    assert supplier_eur.available == Decimal("970.00")


def test_a_partially_released_escrow_that_is_due_releases_the_rest(client_party, funded_escrow):
    with tenant_scope(client_party.org.id, user_id=client_party.staff.id):
        services.escrow_release(actor=client_party.actor(), escrow_id=funded_escrow.id, amount="400.00")
    record_delivery(funded_escrow, days_ago=8)

    assert auto_release_due() == 1

    escrow = stored_escrow(funded_escrow.id)
    assert (escrow.status, escrow.held_amount, escrow.commission_taken) == (S.RELEASED, 0, Decimal("30.00"))


def test_a_disputed_escrow_is_not_auto_released(client_party, funded_escrow):
    record_delivery(funded_escrow, days_ago=8)
    with tenant_scope(client_party.org.id, user_id=client_party.staff.id):
        services.escrow_dispute(actor=client_party.actor(), escrow_id=funded_escrow.id, reason="Half is missing.")

    released = auto_release_due()

    assert released == 0
    escrow = stored_escrow(funded_escrow.id)
    assert (escrow.status, escrow.held_amount) == (S.DISPUTED, Decimal("1000.00"))
    assert escrow_events(escrow, "escrow.released") == []


def test_a_delivery_proved_while_disputed_still_starts_the_clock(client_party, funded_escrow):
    with tenant_scope(client_party.org.id, user_id=client_party.staff.id):
        services.escrow_dispute(actor=client_party.actor(), escrow_id=funded_escrow.id, reason="Half is missing.")

    record_delivery(funded_escrow, days_ago=1)

    escrow = stored_escrow(funded_escrow.id)
    assert escrow.auto_release_at == escrow.delivered_at + settings.ESCROW["AUTO_RELEASE_DAYS"] * DAY


def test_a_resolution_that_leaves_money_held_gives_it_the_whole_window_again(client_party, funded_escrow):
    record_delivery(funded_escrow, days_ago=8)  # the clock ran out while the escrow was frozen
    with tenant_scope(client_party.org.id, user_id=client_party.staff.id):
        services.escrow_dispute(actor=client_party.actor(), escrow_id=funded_escrow.id, reason="Half is missing.")
        services.escrow_resolve_dispute(
            actor=Actor.system(), escrow_id=funded_escrow.id, refund_amount="500.00", note="Half refunded"
        )

    released = auto_release_due()

    escrow = stored_escrow(funded_escrow.id)
    assert released == 0
    assert (escrow.status, escrow.held_amount) == (S.FUNDED, Decimal("500.00"))
    assert escrow.auto_release_at > timezone.now() + (settings.ESCROW["AUTO_RELEASE_DAYS"] - 1) * DAY


def test_an_escrow_not_yet_due_is_not_released(funded_escrow):
    record_delivery(funded_escrow, days_ago=settings.ESCROW["AUTO_RELEASE_DAYS"] - 1)

    assert auto_release_due() == 0

    assert stored_escrow(funded_escrow.id).status == S.FUNDED


def test_an_escrow_moved_past_its_release_time_is_released(funded_escrow):
    record_delivery(funded_escrow, days_ago=0)
    with system_scope(reason="test: the clock ran out", audit=False):
        Escrow.objects.filter(pk=funded_escrow.pk).update(auto_release_at=timezone.now() - timedelta(minutes=1))

    assert auto_release_due() == 1

    assert stored_escrow(funded_escrow.id).status == S.RELEASED


def test_a_delivery_proved_before_funding_starts_the_clock_at_funding(client_party, escrow):
    record_delivery(escrow, days_ago=8)
    assert stored_escrow(escrow.id).auto_release_at is None  # nothing held yet: nothing to release

    fund_escrow(client_party, escrow)

    funded = stored_escrow(escrow.id)
    assert funded.auto_release_at == funded.delivered_at + settings.ESCROW["AUTO_RELEASE_DAYS"] * DAY
    assert auto_release_due() == 1


def test_an_auto_release_refused_for_one_escrow_does_not_stop_the_others(client_party, supplier_party, order):
    unverified = make_party("Carrier without KYC", Role.CARRIER, verified=False)
    stuck = fund_escrow(client_party, create_escrow(client_party, order_between(client_party, unverified)))
    due = fund_escrow(client_party, create_escrow(client_party, order))
    record_delivery(stuck, days_ago=9)
    record_delivery(due, days_ago=8)

    assert auto_release_due() == 1

    assert (stored_escrow(stuck.id).status, stored_escrow(due.id).status) == (S.FUNDED, S.RELEASED)


# --- closing settled escrows ---------------------------------------------------------------------


def settled_days_ago(escrow, days: float) -> None:
    with system_scope(reason="test: settled earlier", audit=False):
        Escrow.objects.filter(pk=escrow.pk).update(settled_at=timezone.now() - days * DAY)


def test_a_released_escrow_closes_after_the_claims_window(client_party, funded_escrow):
    with tenant_scope(client_party.org.id, user_id=client_party.staff.id):
        services.escrow_release(actor=client_party.actor(), escrow_id=funded_escrow.id)
    settled_days_ago(funded_escrow, settings.ESCROW["CLOSE_AFTER_DAYS"] + 1)

    assert close_settled() == 1

    escrow = stored_escrow(funded_escrow.id)
    assert (escrow.status, escrow.closed_at is not None) == (S.CLOSED, True)
    [closed] = escrow_events(escrow, "escrow.closed")
    assert closed.payload["reason"] == "Settled and past the claims window"


def test_a_refunded_escrow_closes_after_the_claims_window(supplier_party, funded_escrow):
    with tenant_scope(supplier_party.org.id, user_id=supplier_party.staff.id):
        services.escrow_refund(actor=supplier_party.actor(), escrow_id=funded_escrow.id)
    settled_days_ago(funded_escrow, settings.ESCROW["CLOSE_AFTER_DAYS"] + 1)

    assert close_settled() == 1

    assert stored_escrow(funded_escrow.id).status == S.CLOSED


def test_an_escrow_settled_within_the_claims_window_stays_open(client_party, funded_escrow):
    with tenant_scope(client_party.org.id, user_id=client_party.staff.id):
        services.escrow_release(actor=client_party.actor(), escrow_id=funded_escrow.id)
    settled_days_ago(funded_escrow, settings.ESCROW["CLOSE_AFTER_DAYS"] - 1)

    assert close_settled() == 0

    assert stored_escrow(funded_escrow.id).status == S.RELEASED


def test_an_escrow_still_holding_money_is_never_closed(client_party, funded_escrow):
    with tenant_scope(client_party.org.id, user_id=client_party.staff.id):
        services.escrow_release(actor=client_party.actor(), escrow_id=funded_escrow.id, amount="400.00")
    settled_days_ago(funded_escrow, settings.ESCROW["CLOSE_AFTER_DAYS"] + 1)  # even if it claims to be settled

    assert close_settled() == 0

    assert stored_escrow(funded_escrow.id).status == S.PARTIALLY_RELEASED


# --- a cancelled order ---------------------------------------------------------------------------


def cancel_order(party, order) -> None:
    with tenant_scope(party.org.id, user_id=party.staff.id):
        order_services.order_cancel(order_id=order.id, actor=party.actor(), reason="No truck that week.")
    relay(order_event(order, "cancelled"))


@pytest.mark.parametrize("side", ["client", "supplier"])
def test_a_cancelled_order_closes_its_unfunded_escrow(client_party, supplier_party, order, escrow, side):
    cancel_order(client_party if side == "client" else supplier_party, order)

    closed = stored_escrow(escrow.id)
    assert (closed.status, closed.closed_at is not None) == (S.CLOSED, True)
    with tenant_scope(client_party.org.id):
        last = selectors.escrow_get(organization_id=client_party.org.id, escrow_id=escrow.id).history.last()
    assert (last.from_status, last.to_status, last.reason) == (S.CREATED, S.CLOSED, "The order was cancelled")


def test_a_cancelled_order_leaves_its_funded_escrow_holding_the_money(client_party, order, funded_escrow):
    cancel_order(client_party, order)

    escrow = stored_escrow(funded_escrow.id)
    assert (escrow.status, escrow.held_amount) == (S.FUNDED, Decimal("1000.00"))
