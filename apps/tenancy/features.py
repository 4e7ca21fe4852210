"""The catalogue of feature flags (DESIGN.md §4). Rows per organization live in OrganizationFeature."""

from __future__ import annotations

from collections.abc import Callable
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


FEATURES: dict[str, Feature] = {
    feature.name: feature
    for feature in (
        Feature("assisted_purchase", "Assisted purchase", "The forwarder buys products for its customers."),
        Feature("self_purchase", "Self purchase", "Customers buy themselves and ship to the forwarder's warehouse."),
        Feature("escrow", "Escrow payments", "Orders are paid through escrow.", True, True),
        Feature("chat", "Chat", "Conversations between the parties of an order.", True, True),
        Feature("platform_integrations", "Platform integrations", "Orders from Shopee, Lazada, Shopify, TikTok."),
        Feature("device_passports", "Device passports", "QR-coded lifecycle records for equipment."),
        Feature("expert_services", "Expert services", "Service work orders by expert technicians."),
        Feature("points", "Points", "Loyalty points and referrals."),
        Feature("workflows", "Workflows", "Configurable order workflows."),
        Feature("cold_chain", "Cold chain", "Temperature-controlled cargo.", toggled_by=ToggledBy.STAFF),
    )
}


@dataclass(frozen=True)
class FeaturePrecondition:
    """What switching a feature on needs, registered by the context that decides it (the KYC
    gate, apps.kyc.apps), so that tenancy imports no higher context. A feature with one is on
    by default only for an organization it allows (tenancy.selectors.feature_states)."""

    allows: Callable[..., bool]  # (*, organization_id) -> whether the organization may switch it on
    require: Callable[..., None]  # (*, organization_id) -> None, or raises the error that refuses it


_PRECONDITIONS: dict[str, list[FeaturePrecondition]] = {}


def feature_precondition_register(name: str, precondition: FeaturePrecondition) -> None:
    """Register a precondition of switching the feature `name` on (in an AppConfig.ready)."""
    registered = _PRECONDITIONS.setdefault(name, [])
    if precondition not in registered:
        registered.append(precondition)


def feature_preconditions(name: str) -> tuple[FeaturePrecondition, ...]:
    return tuple(_PRECONDITIONS.get(name, ()))
