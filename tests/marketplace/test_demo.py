"""The demo data of `make run`: a marketplace to look at, made through the services."""

import pytest
from django.core.management import call_command

from apps.core.context import system_scope
from apps.marketplace.models import Offer, Rfq, ServiceOffering, Tariff

pytestmark = pytest.mark.django_db


def _counts():
    with system_scope(reason="test: the demo rows", audit=False):
        return (
            ServiceOffering.objects.count(),
            Tariff.objects.count(),
            sorted(Rfq.objects.values_list("status", flat=True)),
            list(Offer.objects.values_list("status", "price_breakdown__total")),
        )


def test_seed_demo_makes_offerings_an_open_rfq_with_a_quoted_offer_once(capsys):
    call_command("seed_demo")
    first = _counts()
    call_command("seed_demo")

    offerings, tariffs, rfqs, offers = first
    assert (offerings, tariffs, rfqs) == (3, 6, ["draft", "open"])
    assert len(offers) == 1
    status, quoted_total = offers[0]
    assert status == "submitted"
    assert quoted_total is not None  # priced from the groupage offering's tariffs
    assert _counts() == first
    assert "marketplace:" in capsys.readouterr().out
