"""`manage.py ledger_check`: it proves the ledger balances, and it fails when it does not."""

import pytest
from django.core.management import CommandError, call_command

from apps.core.context import system_scope
from apps.escrow.models import Escrow

pytestmark = pytest.mark.django_db


def test_ledger_check_passes_on_a_funded_escrow(funded_escrow, capsys):
    call_command("ledger_check")

    assert "ledger balanced" in capsys.readouterr().out


def test_ledger_check_fails_when_an_escrows_cached_held_amount_differs_from_its_postings(funded_escrow, capsys):
    with system_scope(reason="test: corrupt the cache", audit=False):
        Escrow.objects.filter(pk=funded_escrow.pk).update(held_amount=999)

    with pytest.raises(CommandError, match="ledger problem"):
        call_command("ledger_check")

    assert "escrow_held_mismatch" in capsys.readouterr().err
    with system_scope(reason="test: put it back for the after-test check", audit=False):
        Escrow.objects.filter(pk=funded_escrow.pk).update(held_amount=funded_escrow.held_amount)
