"""How many pallets a shipment counts as: the count it gives, or an estimate from its weight
and volume when it gives none, so that a per-pallet tariff can still price it.

The estimate assumes Euro pallets (EN 13698-1, 1.2 x 0.8 m): each carries at most
`EURO_PALLET_MAX_LOAD_KG` and `EURO_PALLET_USABLE_VOLUME_CBM` (its footprint loaded to about
1.56 m, what fits under a curtain-sider's 2.7 m twice or a box trailer once with room to
handle). The shipment takes the larger of the two counts, each rounded up, and at least one
pallet. Both the Python pricing and the SQL ranking price with this one number
(apps.marketplace.selectors.offering_totals_for_quote passes it as the shipment's pallets).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from functools import lru_cache

from apps.marketplace.pricing.values import Shipment
from apps.marketplace.pricing.wording import _number

EURO_PALLET_LENGTH_M = Decimal("1.2")
EURO_PALLET_WIDTH_M = Decimal("0.8")
EURO_PALLET_USABLE_VOLUME_CBM = Decimal("1.5")
EURO_PALLET_MAX_LOAD_KG = Decimal("1000")


@dataclass(frozen=True, slots=True)
class Pallets:
    count: Decimal
    estimated: bool  # True: the shipment gave no pallet count
    note: str  # how an estimate was made, for the breakdown line; "" when given


# The same shipment is priced against every candidate offering: estimate it once.
@lru_cache(maxsize=1024)
def shipment_pallets(shipment: Shipment) -> Pallets:
    """The shipment's pallet count as given, or estimated from its weight and volume."""
    if shipment.pallet_count is not None:
        return Pallets(count=Decimal(shipment.pallet_count), estimated=False, note="")
    by_weight = _rounded_up(shipment.weight_kg / EURO_PALLET_MAX_LOAD_KG)
    volume = shipment.volume_cbm
    by_volume = Decimal(0) if volume is None else _rounded_up(volume / EURO_PALLET_USABLE_VOLUME_CBM)
    count = max(by_weight, by_volume, Decimal(1))
    plural = "pallet" if count == 1 else "pallets"
    measures = f"{_number(shipment.weight_kg)} kg"
    measures += " (no volume given)" if volume is None else f" and {_number(volume)} m³"
    note = (
        f"{_number(count)} {plural} estimated from {measures}: a Euro pallet "
        f"({_number(EURO_PALLET_LENGTH_M)} x {_number(EURO_PALLET_WIDTH_M)} m) carries at most "
        f"{_number(EURO_PALLET_MAX_LOAD_KG)} kg and {_number(EURO_PALLET_USABLE_VOLUME_CBM)} m³."
    )
    return Pallets(count=count, estimated=True, note=note)


def _rounded_up(value: Decimal) -> Decimal:
    return value.to_integral_value(rounding=ROUND_CEILING)
