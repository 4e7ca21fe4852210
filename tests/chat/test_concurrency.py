"""Chat under concurrency, on committed data and real connections: an edit and a delete of one
message at once, and senders on both sides at once."""

from __future__ import annotations

import threading

from django.db import connections

from apps.chat import services
from apps.chat.models import Message, MessageVersion
from apps.core.context import system_scope, tenant_scope
from apps.core.errors import DomainError
from tests.chat.factories import order_thread, send


def test_an_edit_and_a_delete_at_once_run_one_after_the_other(committed, shipper, carrier):
    thread = order_thread(shipper, carrier)
    message = send(carrier, thread, "Pickup at 9")
    barrier, outcomes = threading.Barrier(2), {}

    def run(name, change):
        barrier.wait()
        try:
            with tenant_scope(carrier.org.id, user_id=carrier.user.id):
                change()
            outcomes[name] = "done"
        except DomainError as error:
            outcomes[name] = error.code
        finally:
            connections.close_all()

    actor = carrier.actor()
    workers = [
        threading.Thread(
            target=run, args=("edit", lambda: services.message_edit(actor=actor, message_id=message.id, text="at 10"))
        ),
        threading.Thread(
            target=run, args=("delete", lambda: services.message_delete(actor=actor, message_id=message.id))
        ),
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    with system_scope(reason="test: read the message"):
        stored = Message.objects.get(pk=message.id)
        versions = MessageVersion.objects.filter(message=message).count()
    assert stored.deleted_at is not None
    # Either the edit came first (then the delete) or the delete did, and the edit was refused.
    if outcomes["edit"] == "done":
        assert stored.body == "at 10" and versions == 1
    else:
        assert outcomes["edit"] == "INVALID_STATE_TRANSITION" and stored.body == "Pickup at 9" and versions == 0
    assert outcomes["delete"] == "done"


def test_concurrent_senders_get_consecutive_places_in_the_thread(committed, shipper, carrier):
    thread = order_thread(shipper, carrier)
    barrier = threading.Barrier(4)

    def run(side, number):
        barrier.wait()
        try:
            send(side, thread, f"at once {number}")
        finally:
            connections.close_all()

    workers = [threading.Thread(target=run, args=(side, n)) for n, side in enumerate([shipper, carrier] * 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    with system_scope(reason="test: read the thread"):
        assert sorted(Message.objects.filter(thread=thread).values_list("seq", flat=True)) == [1, 2, 3, 4]
        thread.refresh_from_db()
    assert thread.last_seq == 4
