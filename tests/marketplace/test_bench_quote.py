"""The quote benchmark's seed (bench/quote.py) makes what docs/benchmarks.md says it measures:
published offerings with their tariffs, of which a good share, not all, can carry the shipment."""

from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F
from django.utils import timezone

from apps.core.context import tenant_scope
from apps.marketplace import quotes, selectors
from apps.marketplace.models import ServiceOffering, Tariff
from bench import quote as bench_quote

# Every 110 offerings hold each (profile, coverage) pair once: the shares below are exact.
OFFERINGS = 220


@pytest.fixture
def seeded(committed):
    return bench_quote._seed(offerings=OFFERINGS, tariffs=5, carriers=5)


def test_the_seed_publishes_the_offerings_with_five_tariffs_of_the_five_kinds(seeded):
    with tenant_scope(seeded.shipper.id):
        offerings = list(selectors.with_pricing_tariffs(selectors.offering_list_published()))
        carriers = set(ServiceOffering.objects.values_list("organization_id", flat=True))
        carriers_own_their_tariffs = Tariff.objects.filter(organization_id=F("offering__organization_id")).count()

    assert (seeded.offerings, seeded.tariffs, len(offerings)) == (OFFERINGS, OFFERINGS * 5, OFFERINGS)
    assert len(carriers) == 5
    assert {offering.pricing_model for offering in offerings} == {"fixed", "per_kg", "per_km", "per_cbm"}
    five_kinds = Counter({"base": 2, "distance": 1, "seasonal": 1, "fuel_surcharge": 1})
    assert all(Counter(tariff.tariff_type for tariff in o.pricing_tariffs) == five_kinds for o in offerings)
    assert carriers_own_their_tariffs == OFFERINGS * 5


def test_the_sql_narrowing_keeps_about_two_in_five_and_all_of_them_are_quoted(seeded):
    user = get_user_model().objects.get(pk=seeded.user.pk)

    with tenant_scope(seeded.shipper.id, user_id=user.id):
        candidates = len(list(selectors.offerings_for_quote(shipment=bench_quote.shipment())))
        result = quotes.quote_shipment(shipment=bench_quote.shipment(), now=timezone.now(), limit=OFFERINGS)

    assert 0.3 * OFFERINGS <= candidates <= 0.6 * OFFERINGS
    assert result.total == len(result.quotes) == candidates
    skipped = Counter(reason.code for _, quote in result.quotes for _, reason in quote.skipped_tariffs)
    assert {"tariff_distance_out_of_range", "tariff_weight_out_of_range", "tariff_not_valid_at_pickup"} <= set(skipped)
