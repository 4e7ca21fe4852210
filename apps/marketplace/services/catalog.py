"""Writes of the service catalogue: carriers' offerings and their tariffs; staff hiding."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from django.db import transaction

from apps.accounts.guards import require_verified_email
from apps.core.audit import audit_record
from apps.core.countries import is_country
from apps.core.errors import NotFound, ValidationFailed
from apps.core.money import is_currency, minor_units_error
from apps.core.services import outbox_publish
from apps.core.updates import model_changes, model_update
from apps.marketplace import events
from apps.marketplace.models import ServiceOffering, Tariff, TariffType, TariffUnit
from apps.tenancy.roles import Actor
from apps.tenancy.selectors import organization_name_taken, organization_names

OFFERING_FIELDS = (
    "name",
    "description",
    "service_type",
    "origin_countries",
    "destination_countries",
    "origin_cities",
    "destination_cities",
    "max_weight_kg",
    "max_volume_cbm",
    "max_length_cm",
    "max_width_cm",
    "max_height_cm",
    "cargo_types",
    "hazmat_classes",
    "temperature_controlled",
    "temperature_min_c",
    "temperature_max_c",
    "transit_days",
    "sla_guarantee",
    "insurance_included",
    "tracking_included",
    "pricing_model",
    "base_price",
    "currency",
    "is_free",
    "available_days",
    "available_from",
    "available_until",
    "is_active",
)

TARIFF_FIELDS = (
    "name",
    "tariff_type",
    "price_per_unit",
    "unit",
    "minimum_charge",
    "maximum_charge",
    "min_weight_kg",
    "max_weight_kg",
    "min_distance_km",
    "max_distance_km",
    "valid_from",
    "valid_until",
    "seasonal_multiplier",
    "fuel_multiplier",
    "is_active",
)


def _ordered(errors: dict, values: dict, low: str, high: str, *, strict: bool = False) -> None:
    first, second = values.get(low), values.get(high)
    if first is None or second is None:
        return
    if first > second or (strict and first == second):
        # Both ends are named: either may be the one the caller got wrong.
        relation, inverse = ("before", "after") if strict else ("at most", "at least")
        errors.setdefault(low, []).append(f"Must be {relation} {high} ({second}); it is {first}.")
        errors.setdefault(high, []).append(f"Must be {inverse} {low} ({first}); it is {second}.")


COUNTRY_FIELDS = ("origin_countries", "destination_countries")


def _normalized(values: dict) -> dict:
    """Codes upper-cased, whoever wrote them (the API does it already; the back-office may not)."""
    normalized = dict(values)
    for field in COUNTRY_FIELDS:
        if field in normalized:
            normalized[field] = [code.strip().upper() for code in normalized[field]]
    if "currency" in normalized:
        normalized["currency"] = normalized["currency"].strip().upper()
    return normalized


def offering_check(values: dict) -> None:
    """400 naming each field that is not a known code or contradicts another field."""
    errors: dict[str, list[str]] = {}
    for field in COUNTRY_FIELDS:
        unknown = [code for code in values.get(field) or () if not is_country(code)]
        if unknown:
            errors[field] = [f"Not ISO 3166-1 alpha-2 country codes: {', '.join(unknown)}."]
    if "currency" in values and not is_currency(values["currency"]):
        errors["currency"] = [f"{values['currency']!r} is not an ISO 4217 currency in use."]
    _ordered(errors, values, "temperature_min_c", "temperature_max_c")
    _ordered(errors, values, "available_from", "available_until", strict=True)
    has_range = values.get("temperature_min_c") is not None or values.get("temperature_max_c") is not None
    if has_range and not values.get("temperature_controlled"):
        errors.setdefault("temperature_controlled", []).append("A temperature range needs temperature_controlled.")
    if errors:
        raise ValidationFailed("The offering has contradicting fields.", details=errors)


def tariff_check(values: dict, *, currency: str | None = None) -> None:
    """400 naming each field of a tariff that contradicts another (or, given the offering's
    currency, a charge with more decimal places than the currency has)."""
    errors: dict[str, list[str]] = {}
    for field in ("minimum_charge", "maximum_charge"):
        money_error = minor_units_error(values[field], currency) if currency and values.get(field) else None
        if money_error:
            errors[field] = [money_error]
    _ordered(errors, values, "minimum_charge", "maximum_charge")
    _ordered(errors, values, "min_weight_kg", "max_weight_kg")
    _ordered(errors, values, "min_distance_km", "max_distance_km")
    _ordered(errors, values, "valid_from", "valid_until", strict=True)
    tariff_type = values.get("tariff_type")
    if tariff_type in (TariffType.BASE, TariffType.DISTANCE) and values.get("price_per_unit") is None:
        errors.setdefault("price_per_unit", []).append(f"A {tariff_type} tariff charges per unit: give the price.")
    if tariff_type == TariffType.DISTANCE and values.get("unit") != TariffUnit.KM:
        errors.setdefault("unit", []).append("A distance tariff charges per km.")
    # A surcharge is a share of the subtotal (its multiplier) and/or a charge per unit.
    surcharges = {TariffType.SEASONAL: "seasonal_multiplier", TariffType.FUEL_SURCHARGE: "fuel_multiplier"}
    multiplier = surcharges.get(tariff_type)
    if multiplier and values.get(multiplier, Decimal(1)) == 1 and values.get("price_per_unit") is None:
        errors.setdefault(multiplier, []).append(f"A {tariff_type} tariff needs a multiplier other than 1 or a price.")
    if errors:
        raise ValidationFailed("The tariff has contradicting fields.", details=errors)


def _refuse_another_organizations_name(name: str, *, organization_id: UUID) -> None:
    # Quotes and listings show the offering's name beside its carrier's: an offering named
    # like another organization ("Volga Carriers" by someone else) would pass for it.
    if name and organization_name_taken(name=name, excluding_organization_id=organization_id):
        raise ValidationFailed(
            "The name is another organization's.",
            details={"name": ["An offering cannot be named like another organization."]},
        )


def _offering_changed(offering: ServiceOffering, changed: list[str]) -> events.OfferingChanged:
    return events.OfferingChanged(
        organization_id=offering.organization_id,
        offering_id=str(offering.id),
        is_published=offering.is_published,
        changed=sorted(changed),
    )


def _publish_offering(offering: ServiceOffering, changed: list[str]) -> None:
    outbox_publish(_offering_changed(offering, changed))


def _own_offering(*, organization_id: UUID, offering_id: UUID, lock: bool = False) -> ServiceOffering:
    queryset = ServiceOffering.objects.filter(organization_id=organization_id, pk=offering_id)
    offering = (queryset.select_for_update() if lock else queryset).first()
    if offering is None:
        raise NotFound("Service offering not found.")
    return offering


@transaction.atomic
def offering_create(*, actor: Actor, data: dict) -> ServiceOffering:
    """Publish a new offering of the actor's organization (active unless `is_active` is false)."""
    values = _normalized({field: data[field] for field in OFFERING_FIELDS if field in data})
    offering_check(values)
    _refuse_another_organizations_name(values.get("name", ""), organization_id=actor.organization_id)
    if values.get("is_active", True):  # created active: published to every tenant
        require_verified_email(user_id=actor.user_id, action="offering.publish")
    name = organization_names(organization_ids=[actor.organization_id])[actor.organization_id]
    offering = ServiceOffering.objects.create(
        organization_id=actor.organization_id, organization_name=name, created_by_id=actor.user_id, **values
    )
    audit_record(
        action="service_offering.created",
        resource_type="service_offering",
        resource_id=offering.id,
        new_values={"name": offering.name, "service_type": offering.service_type},
        organization_id=actor.organization_id,
        actor_id=actor.user_id,
    )
    _publish_offering(offering, ["created"])
    return offering


def _sync_tariff_visibility(offering: ServiceOffering) -> None:
    # The copy of the offering's state that the tariffs' row-level security policy reads.
    Tariff.objects.filter(offering=offering).exclude(offering_is_published=offering.is_published).update(
        offering_is_published=offering.is_published
    )


@transaction.atomic
def offering_update(*, actor: Actor, offering_id: UUID, data: dict) -> ServiceOffering:
    """Change the offering's own fields; deactivating it takes it and its tariffs out of the catalogue."""
    offering = _own_offering(organization_id=actor.organization_id, offering_id=offering_id, lock=True)
    changes = model_changes(instance=offering, data=data, fields=OFFERING_FIELDS)
    offering_check({field: getattr(offering, field) for field in OFFERING_FIELDS} | changes)
    if "name" in changes:
        _refuse_another_organizations_name(changes["name"], organization_id=actor.organization_id)
    if not changes:
        return offering
    if changes.get("is_active") is True:  # published again, to every tenant
        require_verified_email(user_id=actor.user_id, action="offering.publish")
    offering, _ = model_update(
        instance=offering,
        data=changes,
        fields=OFFERING_FIELDS,
        actor=actor,
        resource_type="service_offering",
        event=_offering_changed,
    )
    _sync_tariff_visibility(offering)
    return offering


@transaction.atomic
def offering_set_hidden(*, actor: Actor, offering_id: UUID, hidden: bool, reason: str) -> ServiceOffering:
    """Staff take an offering out of the catalogue (or put it back), with a reason; audited.

    Runs in the caller's all-tenants scope (the staff back-office)."""
    if hidden and not reason.strip():
        raise ValidationFailed("Say why the offering is hidden.", details={"reason": ["Required."]})
    offering = ServiceOffering.objects.select_for_update().filter(pk=offering_id).first()
    if offering is None:
        raise NotFound("Service offering not found.")
    if offering.is_hidden == hidden:
        return offering
    offering.is_hidden = hidden
    offering.hidden_reason = reason.strip() if hidden else ""
    offering.save(update_fields=["is_hidden", "hidden_reason", "updated_at"])
    _sync_tariff_visibility(offering)
    audit_record(
        action="service_offering.hidden" if hidden else "service_offering.unhidden",
        resource_type="service_offering",
        resource_id=offering.id,
        old_values={"is_hidden": not hidden},
        # Putting it back may have a reason too: it is kept in the audit log only.
        new_values={"is_hidden": hidden, "reason": reason.strip()},
        organization_id=offering.organization_id,
        actor_id=actor.user_id,
    )
    _publish_offering(offering, ["is_hidden"])
    return offering


@transaction.atomic
def tariff_create(*, actor: Actor, offering_id: UUID, data: dict) -> Tariff:
    offering = _own_offering(organization_id=actor.organization_id, offering_id=offering_id, lock=True)
    values = {field: data[field] for field in TARIFF_FIELDS if field in data}
    tariff_check(values, currency=offering.currency)
    tariff = Tariff.objects.create(
        offering=offering,
        organization_id=offering.organization_id,
        offering_is_published=offering.is_published,
        **values,
    )
    audit_record(
        action="tariff.created",
        resource_type="tariff",
        resource_id=tariff.id,
        new_values={"offering": str(offering.id), "name": tariff.name, "tariff_type": tariff.tariff_type},
        organization_id=actor.organization_id,
        actor_id=actor.user_id,
    )
    _publish_offering(offering, ["tariffs"])
    return tariff


def _own_tariff(*, actor: Actor, offering_id: UUID, tariff_id: UUID) -> Tariff:
    tariff = (
        Tariff.objects.select_for_update()
        .filter(organization_id=actor.organization_id, offering_id=offering_id, pk=tariff_id)
        .select_related("offering")
        .first()
    )
    if tariff is None:
        raise NotFound("Tariff not found.")
    return tariff


@transaction.atomic
def tariff_update(*, actor: Actor, offering_id: UUID, tariff_id: UUID, data: dict) -> Tariff:
    tariff = _own_tariff(actor=actor, offering_id=offering_id, tariff_id=tariff_id)
    changes = model_changes(instance=tariff, data=data, fields=TARIFF_FIELDS)
    tariff_check(
        {field: getattr(tariff, field) for field in TARIFF_FIELDS} | changes, currency=tariff.offering.currency
    )
    tariff, _ = model_update(
        instance=tariff,
        data=changes,
        fields=TARIFF_FIELDS,
        actor=actor,
        resource_type="tariff",
        event=lambda saved, _changed: _offering_changed(saved.offering, ["tariffs"]),
    )
    return tariff


@transaction.atomic
def tariff_delete(*, actor: Actor, offering_id: UUID, tariff_id: UUID) -> None:
    """Remove a tariff. Offers priced with it keep their breakdown (copied onto the offer)."""
    tariff = _own_tariff(actor=actor, offering_id=offering_id, tariff_id=tariff_id)
    audit_record(
        action="tariff.deleted",
        resource_type="tariff",
        resource_id=tariff.id,
        old_values={"offering": str(offering_id), "name": tariff.name, "tariff_type": tariff.tariff_type},
        organization_id=actor.organization_id,
        actor_id=actor.user_id,
    )
    offering = tariff.offering
    tariff.delete()
    _publish_offering(offering, ["tariffs"])
