"""Writes of the marketplace, one module per group of use cases; import them from here."""

from apps.marketplace.services.catalog import (
    offering_check,
    offering_create,
    offering_set_hidden,
    offering_update,
    tariff_check,
    tariff_create,
    tariff_delete,
    tariff_update,
)
from apps.marketplace.services.offers import (
    AwardResult,
    offer_accept,
    offer_expire,
    offer_reject,
    offer_revise,
    offer_submit,
    offer_withdraw,
    offers_expire_due,
)
from apps.marketplace.services.rfqs import (
    rfq_cancel,
    rfq_close_by_staff,
    rfq_create,
    rfq_expire,
    rfq_publish,
    rfq_update,
    rfqs_expire_due,
)

__all__ = [
    "AwardResult",
    "offer_accept",
    "offer_expire",
    "offer_reject",
    "offer_revise",
    "offer_submit",
    "offer_withdraw",
    "offering_check",
    "offering_create",
    "offering_set_hidden",
    "offering_update",
    "offers_expire_due",
    "rfq_cancel",
    "rfq_close_by_staff",
    "rfq_create",
    "rfq_expire",
    "rfq_publish",
    "rfq_update",
    "rfqs_expire_due",
    "tariff_check",
    "tariff_create",
    "tariff_delete",
    "tariff_update",
]
