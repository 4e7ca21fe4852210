"""The catalogue of feature flags (DESIGN.md §4). Rows per organization live in OrganizationFeature."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ToggledBy(StrEnum):
    ORG_ADMIN = "org_admin"  # staff grant the entitlement, org admins switch it on and off
    STAFF = "staff"  # only platform staff switch it


@dataclass(frozen=True)
class Feature:
    name: str
    label: str
    description: str
    default_entitled: bool = False
    default_enabled: bool = False
    toggled_by: ToggledBy = ToggledBy.ORG_ADMIN
    # The KYC-gated action that switching it on needs (apps.kyc.gate); its default is then
    # on only for an organization that may take that action (tenancy.selectors.feature_states).
    kyc_gate: str = ""


FEATURES: dict[str, Feature] = {
    feature.name: feature
    for feature in (
        Feature("assisted_purchase", "Assisted purchase", "The forwarder buys products for its customers."),
        Feature("self_purchase", "Self purchase", "Customers buy themselves and ship to the forwarder's warehouse."),
        Feature(
            "escrow", "Escrow payments", "Orders are paid through escrow.", True, True, kyc_gate="feature.escrow.enable"
        ),
        Feature("chat", "Chat", "Conversations between the parties of an order.", True, True),
        Feature("platform_integrations", "Platform integrations", "Orders from Shopee, Lazada, Shopify, TikTok."),
        Feature("device_passports", "Device passports", "QR-coded lifecycle records for equipment."),
        Feature("expert_services", "Expert services", "Service work orders by expert technicians."),
        Feature("points", "Points", "Loyalty points and referrals."),
        Feature("workflows", "Workflows", "Configurable order workflows."),
        Feature("cold_chain", "Cold chain", "Temperature-controlled cargo.", toggled_by=ToggledBy.STAFF),
    )
}
