"""Whether a service offering can carry a shipment, and its price, itemized.

Pure: it receives the offering and its tariffs already loaded and never queries. Amounts are
`Decimal`, never float.

Distance: the great-circle distance between origin and destination when both have
coordinates, rounded to 0.1 km (method "great_circle"); otherwise unknown (method "unknown").

Eligibility (`ineligibility_reasons`): every failing rule is reported, not only the first. A
limit the offering leaves empty is no limit, except hazmat: an empty hazmat list carries no
dangerous goods. Countries and cities compare case-insensitively; a blank city is not in a
non-empty city list. Dimensions are compared one by one (no rotation). A shipment's
temperature bound that is not given is not checked; an offering's that is empty is open.

Pricing (`quote_offering`): an offering with eligibility reasons is an `Exclusion`, and so is
one whose price needs a quantity the shipment lacks (`distance_unknown`, `volume_unknown`);
all reasons are collected together. A pallet count is never lacking: without one it is
estimated from the weight and volume (`pallets.shipment_pallets`), and every line priced per
pallet says so (`quantity_estimated`, `note`). An offering whose total comes to 0 is excluded
(`zero_price`) unless its carrier marked it free (`is_free`).

A tariff is judged at the pickup date at 00:00 UTC, or at `now` without a pickup date. It
applies when it is active, valid_from <= moment < valid_until (each bound optional), the
weight is inside [min_weight_kg, max_weight_kg] and, when it has a distance range, the
distance is inside [min_distance_km, max_distance_km] (bounds inclusive, empty = open). A
tariff that does not apply is listed in `skipped_tariffs` with its reason. An applicable
tariff charged per km, m³ or pallet needs that quantity; so does a distance range.

Quantities: kg = weight, cbm = volume, km = distance, pallet = pallet count (given, or
estimated: Euro pallets of 1,000 kg and 1.5 m³, the larger count rounded up, at least 1),
fixed = 1.
Each line's amount is rounded to the currency's minor units, half to even; the total is
the sum of the rounded amounts, so the breakdown always adds up.
1. Base price (the offering): base_price x 1 (fixed), weight (per_kg), km (per_km) or
   volume (per_cbm). Not clamped.
2. Tariffs `base` and `distance`, in the order given: price_per_unit (empty = 0) x quantity
   x the tariff's seasonal_multiplier x its fuel_multiplier, clamped to
   [minimum_charge, maximum_charge] (each optional).
3. S = base price + the lines of step 2.
4. Tariffs `seasonal`: S x (seasonal_multiplier - 1) + price_per_unit x quantity (when a
   price is set), clamped. A multiplier below 1 is a discount (a negative line).
5. S2 = S + the seasonal lines.
6. Tariffs `fuel_surcharge`: S2 x (fuel_multiplier - 1) + price_per_unit x quantity (when
   set), clamped.
7. Total = S2 + the fuel surcharge lines, floored at 0: a total below 0 is 0, with no
   line added for the difference.
8. A total of 0 is quoted only for an offering marked `is_free`; otherwise `zero_price`.
"""

from apps.marketplace.pricing.eligibility import covers_cities, ineligibility_reasons, shipment_distance
from apps.marketplace.pricing.pallets import Pallets, shipment_pallets
from apps.marketplace.pricing.quoting import quote_offering, tariff_moment
from apps.marketplace.pricing.values import (
    Distance,
    Exclusion,
    Place,
    PriceLine,
    Quote,
    Reason,
    Shipment,
    quote_as_dict,
    shipment_as_dict,
    shipment_from_dict,
)

__all__ = [
    "Distance",
    "Exclusion",
    "Pallets",
    "Place",
    "PriceLine",
    "Quote",
    "Reason",
    "Shipment",
    "covers_cities",
    "ineligibility_reasons",
    "quote_as_dict",
    "quote_offering",
    "shipment_as_dict",
    "shipment_distance",
    "shipment_from_dict",
    "shipment_pallets",
    "tariff_moment",
]
