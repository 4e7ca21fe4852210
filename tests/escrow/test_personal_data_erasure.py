"""Erasing the person who ran an order's money keeps the order, the escrow and the ledger
(the autouse `ledger_stays_balanced` fixture then proves the ledger still balances)."""

from __future__ import annotations

import pytest

from apps.accounts.models import ErasureRequest
from apps.accounts.services import personal_data
from apps.core.actors import Actor
from apps.core.context import system_scope
from apps.escrow.models import Escrow, JournalEntry
from apps.orders.models import Order

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def test_erasing_the_person_who_funded_an_escrow_keeps_the_order_escrow_and_journal(
    api, client_party, order, funded_escrow
):
    # given the shipper who created the order and its escrow, funded, asks to be erased
    person = client_party.staff
    assert api(person).post("/api/v1/me/erasure", {"password": PASSWORD}, format="json").status_code == 202
    with system_scope(reason="test reads the request", audit=False):
        request = ErasureRequest.objects.get(user=person)
        entries_before = JournalEntry.objects.filter(escrow_id=funded_escrow.id).count()

    # when the erasure is carried out
    personal_data.erasure_carry_out(request_id=request.id, actor=Actor.system())

    # then the records others and the ledger need are all there, without the person
    person.refresh_from_db()
    assert person.email == f"erased-{person.id}@invalid" and not person.is_active
    with system_scope(reason="test reads what others keep", audit=False):
        assert Order.objects.get(pk=order.pk).created_by_id == person.id
        escrow = Escrow.objects.get(pk=funded_escrow.pk)
        assert escrow.held_amount == funded_escrow.held_amount > 0
        assert JournalEntry.objects.filter(escrow_id=escrow.id).count() == entries_before > 0
