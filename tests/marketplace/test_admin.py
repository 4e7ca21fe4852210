"""The marketplace in the back-office: a carrier's admin edits its offerings and their
tariffs through the catalogue services; staff hide offerings and close abusive RFQs, with
a reason, audited; RFQs and offers are read-only, each party seeing its own."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django import forms
from django.urls import reverse

from apps.core.context import system_scope, tenant_scope
from apps.core.errors import ValidationFailed
from apps.core.models import AuditLog
from apps.marketplace import services
from apps.marketplace.models import Offer, OfferStatus, Rfq, RfqStatus, RfqStatusChange, ServiceOffering, Tariff
from apps.tenancy.roles import Actor, Role
from tests.factories import UserFactory
from tests.marketplace.factories import OfferingFactory, RfqFactory, TariffFactory
from tests.support import admin_client as logged_in

pytestmark = pytest.mark.django_db

OFFERINGS = reverse("admin:marketplace_serviceoffering_changelist")
RFQS = reverse("admin:marketplace_rfq_changelist")
OFFERS = reverse("admin:marketplace_offer_changelist")
ACTION_ROWS = "_selected_action"


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True)


def audit_actions(resource_id) -> list[str]:
    with system_scope(reason="test reads the audit log", audit=False):
        return list(AuditLog.objects.filter(resource_id=str(resource_id)).values_list("action", flat=True))


def stored(model, **lookup):
    with system_scope(reason="test reads what was stored", audit=False):
        return model.objects.get(**lookup)


def tariffs_of(offering) -> list[Tariff]:
    with system_scope(reason="test reads tariffs", audit=False):
        return list(Tariff.objects.filter(offering_id=offering.pk).order_by("name"))


def offer_from(party, rfq, *, price: str = "1850.00", **data) -> Offer:
    """A carrier's offer on the RFQ, made through the service as the API would."""
    actor = Actor(user_id=party.staff.id, organization_id=party.org.id, role=Role.CARRIER)
    terms = {"price": price and Decimal(price), "currency": "EUR", "transit_days": 2, "valid_until": rfq.deadline}
    terms |= data
    with tenant_scope(party.org.id, user_id=party.staff.id):
        return services.offer_submit(actor=actor, rfq_id=rfq.id, data=terms)


def change_url(model: str, pk) -> str:
    return reverse(f"admin:marketplace_{model}_change", args=[pk])


def _as_posted(field: forms.Field, key: str, value) -> dict:
    if isinstance(field.widget, forms.MultiWidget):  # a date and a time input
        parts = field.widget.decompress(value)
        return {f"{key}_{index}": "" if part is None else str(part) for index, part in enumerate(parts)}
    if isinstance(field, forms.MultipleChoiceField):  # checkboxes: the ticked ones, or nothing
        return {key: [str(item) for item in value or []]}
    if isinstance(value, bool):
        return {key: "on"} if value else {}
    if isinstance(value, list | tuple):
        return {key: [str(item) for item in value]}
    return {key: "" if value is None else str(value)}


def posted_back(page) -> dict:
    """What a browser posts back from an admin change form nobody touched, inlines included."""
    data: dict = {}
    every_form = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data |= {management.add_prefix(name): management[name].value() for name in management.fields}
        every_form += inline.formset.forms
    for form in every_form:
        for name, field in form.fields.items():
            data |= _as_posted(field, form.add_prefix(name), form[name].value())
    return data


def new_tariff_row(data: dict, *, offering_id="", **values) -> dict:
    """`data` with one more tariff row at the end of the inline."""
    index = int(data["tariffs-TOTAL_FORMS"])
    row = {
        "id": "",
        "offering": str(offering_id),
        "name": "Base rate",
        "tariff_type": "base",
        "price_per_unit": "0.1200",
        "unit": "kg",
        "minimum_charge": "",
        "maximum_charge": "",
        "min_weight_kg": "",
        "max_weight_kg": "",
        "min_distance_km": "",
        "max_distance_km": "",
        "valid_from_0": "",
        "valid_from_1": "",
        "valid_until_0": "",
        "valid_until_1": "",
        "seasonal_multiplier": "1",
        "fuel_multiplier": "1",
        "is_active": "on",
    } | values
    return (
        data
        | {f"tariffs-{index}-{name}": value for name, value in row.items()}
        | {"tariffs-TOTAL_FORMS": str(index + 1)}
    )


# --- Who sees which offerings -----------------------------------------------------------------


def test_an_org_admin_sees_only_their_organizations_offerings(carrier, rival, staff):
    mine = OfferingFactory(organization=carrier.org, name="Volga express")
    theirs = OfferingFactory(organization=rival.org, name="Rhein overnight")  # published: RLS shows it to all
    client = logged_in(carrier.admin)

    listed = client.get(OFFERINGS).content.decode()
    other_page = client.get(change_url("serviceoffering", theirs.pk), follow=True)
    unknown_page = client.get(change_url("serviceoffering", uuid.uuid4()), follow=True)
    everything = logged_in(staff).get(OFFERINGS).content.decode()

    assert mine.name in listed
    assert theirs.name not in listed
    # Django's admin answers a row outside the queryset as it answers an id that never
    # existed: a redirect to the index saying so. Nothing tells the two apart.
    assert other_page.redirect_chain == unknown_page.redirect_chain == [(reverse("admin:index"), 302)]
    assert "doesn\u2019t exist" in other_page.content.decode()
    assert theirs.name not in other_page.content.decode()
    assert mine.name in everything and theirs.name in everything


def test_staff_see_an_offering_and_its_tariffs_read_only(carrier, staff):
    offering = OfferingFactory(organization=carrier.org)
    TariffFactory(offering=offering, name="Fuel 2027")
    client = logged_in(staff)

    page = client.get(change_url("serviceoffering", offering.pk))
    add = client.get(reverse("admin:marketplace_serviceoffering_add"))

    body = page.content.decode()
    assert page.status_code == 200
    assert "Fuel 2027" in body
    assert 'name="name"' not in body  # no inputs: staff act for no organization here
    assert 'name="_save"' not in body
    assert add.status_code == 403


# --- An org admin edits through the services --------------------------------------------------


def test_an_org_admin_edits_an_offering_and_adds_a_tariff_inline(carrier):
    offering = OfferingFactory(organization=carrier.org, name="Volga express")
    client = logged_in(carrier.admin)
    url = change_url("serviceoffering", offering.pk)
    data = posted_back(client.get(url))
    data |= {"name": "Volga express, next day", "origin_countries": "de,pl", "cargo_types": ["palletized"]}
    data = new_tariff_row(data, offering_id=offering.pk, name="Per kg", minimum_charge="50.00")

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    changed = stored(ServiceOffering, pk=offering.pk)
    assert (changed.name, changed.origin_countries, changed.cargo_types) == (
        "Volga express, next day",
        ["DE", "PL"],
        ["palletized"],
    )
    [tariff] = tariffs_of(offering)
    assert (tariff.name, tariff.minimum_charge, tariff.organization_id, tariff.offering_is_published) == (
        "Per kg",
        Decimal("50.00"),
        carrier.org.id,
        True,
    )
    assert "service_offering.updated" in audit_actions(offering.pk)
    assert audit_actions(tariff.pk) == ["tariff.created"]


def test_an_org_admin_changes_one_tariff_and_removes_another_inline(carrier):
    offering = OfferingFactory(organization=carrier.org)
    kept = TariffFactory(offering=offering, name="A base", price_per_unit=Decimal("10.0000"))
    removed = TariffFactory(offering=offering, name="B old surcharge")
    client = logged_in(carrier.admin)
    url = change_url("serviceoffering", offering.pk)
    data = posted_back(client.get(url))
    rows = {data[f"tariffs-{index}-id"]: index for index in range(int(data["tariffs-TOTAL_FORMS"]))}
    data[f"tariffs-{rows[str(kept.pk)]}-price_per_unit"] = "12.5000"
    data[f"tariffs-{rows[str(removed.pk)]}-DELETE"] = "on"

    response = client.post(url, data)

    assert response.status_code == 302
    assert [(tariff.name, tariff.price_per_unit) for tariff in tariffs_of(offering)] == [("A base", Decimal("12.5"))]
    assert audit_actions(kept.pk) == ["tariff.updated"]
    assert audit_actions(removed.pk) == ["tariff.deleted"]


def test_an_org_admin_adds_an_offering_with_a_tariff(carrier):
    client = logged_in(carrier.admin)
    url = reverse("admin:marketplace_serviceoffering_add")
    data = posted_back(client.get(url))
    data |= {
        "name": "Baltic reefer",
        "service_type": "road_ftl",
        "transit_days": "2",
        "pricing_model": "fixed",
        "base_price": "900",
        "currency": "eur",
        "temperature_controlled": "on",
        "temperature_min_c": "2",
        "temperature_max_c": "8",
        "available_days": ["1", "3"],
    }
    data = new_tariff_row(data, name="Fixed", unit="fixed", price_per_unit="900")

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    offering = stored(ServiceOffering, organization=carrier.org, name="Baltic reefer")
    assert (offering.organization_name, offering.currency, offering.available_days) == (carrier.org.name, "EUR", [1, 3])
    assert [tariff.name for tariff in tariffs_of(offering)] == ["Fixed"]
    assert audit_actions(offering.pk) == ["service_offering.created"]


def test_a_contradicting_tariff_is_shown_beside_its_field_and_changes_nothing(carrier):
    offering = OfferingFactory(organization=carrier.org, name="Volga express")
    client = logged_in(carrier.admin)
    url = change_url("serviceoffering", offering.pk)
    data = posted_back(client.get(url)) | {"name": "Renamed"}
    data = new_tariff_row(data, offering_id=offering.pk, minimum_charge="500.00", maximum_charge="100.00")

    response = client.post(url, data)

    assert response.status_code == 200  # the form again
    assert "Must be at most maximum_charge (100.00); it is 500.00." in response.content.decode()
    assert stored(ServiceOffering, pk=offering.pk).name == "Volga express"
    assert tariffs_of(offering) == []
    assert audit_actions(offering.pk) == []


def test_an_offering_contradicting_itself_is_refused_beside_its_field(carrier):
    offering = OfferingFactory(organization=carrier.org)
    client = logged_in(carrier.admin)
    url = change_url("serviceoffering", offering.pk)
    data = posted_back(client.get(url)) | {"temperature_min_c": "2", "temperature_max_c": "8", "currency": "XYZ"}

    response = client.post(url, data)

    errors = response.context["adminform"].form.errors
    assert "temperature_controlled" in errors  # the service's check, run by the form
    assert "currency" in errors
    assert stored(ServiceOffering, pk=offering.pk).temperature_min_c is None


def test_a_service_refusal_comes_back_as_a_message_and_undoes_the_whole_save(carrier, monkeypatch):
    # Stands in for a refusal the form cannot foresee: the offering is saved first, then
    # the tariff's service refuses; nothing of the submission may stay.
    def refuse(**kwargs):
        raise ValidationFailed("The tariff has contradicting fields.")

    monkeypatch.setattr(services, "tariff_create", refuse)
    offering = OfferingFactory(organization=carrier.org, name="Volga express")
    client = logged_in(carrier.admin)
    url = change_url("serviceoffering", offering.pk)
    data = new_tariff_row(posted_back(client.get(url)) | {"name": "Renamed"}, offering_id=offering.pk)

    response = client.post(url, data, follow=True)

    assert response.redirect_chain == [(url, 302)]
    assert "The tariff has contradicting fields." in response.content.decode()
    assert stored(ServiceOffering, pk=offering.pk).name == "Volga express"
    assert audit_actions(offering.pk) == []


# --- Staff moderate the catalogue -------------------------------------------------------------


def test_staff_hide_an_offering_with_a_reason(carrier, staff):
    offering = OfferingFactory(organization=carrier.org)
    tariff = TariffFactory(offering=offering)
    client = logged_in(staff)
    chosen = {"action": "hide_from_catalogue", ACTION_ROWS: [str(offering.pk)]}

    asked = client.post(OFFERINGS, chosen | {"index": "0"})
    done = client.post(OFFERINGS, chosen | {"apply": "yes", "reason": "Fake prices, reported twice."}, follow=True)

    assert asked.status_code == 200
    assert 'name="reason"' in asked.content.decode()
    assert "1 offering(s) hidden from the catalogue." in done.content.decode()
    hidden = stored(ServiceOffering, pk=offering.pk)
    assert (hidden.is_hidden, hidden.hidden_reason) == (True, "Fake prices, reported twice.")
    assert stored(Tariff, pk=tariff.pk).offering_is_published is False
    with system_scope(reason="test reads the audit log", audit=False):
        row = AuditLog.objects.get(action="service_offering.hidden", resource_id=str(offering.pk))
    assert (row.actor_id, row.organization_id) == (staff.id, carrier.org.id)


def test_the_hide_action_without_a_reason_hides_nothing(carrier, staff):
    offering = OfferingFactory(organization=carrier.org)
    client = logged_in(staff)

    response = client.post(
        OFFERINGS, {"action": "hide_from_catalogue", ACTION_ROWS: [str(offering.pk)], "apply": "yes", "reason": "  "}
    )

    assert response.status_code == 200  # the page asking for a reason, again
    assert "Say why." in response.content.decode()
    assert stored(ServiceOffering, pk=offering.pk).is_hidden is False
    assert audit_actions(offering.pk) == []


def test_staff_put_a_hidden_offering_back_in_the_catalogue(carrier, staff):
    offering = OfferingFactory(organization=carrier.org, is_hidden=True, hidden_reason="Checked, was fine.")
    tariff = TariffFactory(offering=offering)

    logged_in(staff).post(OFFERINGS, {"action": "put_back_in_catalogue", ACTION_ROWS: [str(offering.pk)], "index": "0"})

    back = stored(ServiceOffering, pk=offering.pk)
    assert (back.is_hidden, back.hidden_reason) == (False, "")
    assert stored(Tariff, pk=tariff.pk).offering_is_published is True
    assert audit_actions(offering.pk) == ["service_offering.unhidden"]


# --- RFQs and offers --------------------------------------------------------------------------


def test_staff_close_an_open_rfq_and_its_live_offers_are_rejected(shipper, carrier, staff):
    rfq = RfqFactory(organization=shipper.org)
    offer = offer_from(carrier, rfq)
    client = logged_in(staff)
    chosen = {"action": "close_as_abusive", ACTION_ROWS: [str(rfq.pk)]}

    client.post(RFQS, chosen | {"index": "0"})
    done = client.post(RFQS, chosen | {"apply": "yes", "reason": "Phishing link in the description."}, follow=True)

    assert "1 RFQ(s) closed" in done.content.decode()
    closed = stored(Rfq, pk=rfq.pk)
    assert (closed.status, closed.close_reason) == (RfqStatus.CLOSED, "Phishing link in the description.")
    rejected = stored(Offer, pk=offer.pk)
    assert (rejected.status, rejected.decision_note) == (OfferStatus.REJECTED, "Phishing link in the description.")
    with system_scope(reason="test reads the history", audit=False):
        history = list(RfqStatusChange.objects.filter(rfq_id=rfq.pk).values_list("to_status", "by_id"))
        row = AuditLog.objects.get(action="rfq.closed", resource_id=str(rfq.pk))
    assert history[-1] == (RfqStatus.CLOSED, staff.id)
    assert (row.actor_id, row.organization_id) == (staff.id, shipper.org.id)
    assert "offer.rejected" in audit_actions(offer.pk)


def test_closing_without_a_reason_closes_nothing(shipper, staff):
    rfq = RfqFactory(organization=shipper.org)

    response = logged_in(staff).post(
        RFQS, {"action": "close_as_abusive", ACTION_ROWS: [str(rfq.pk)], "apply": "yes", "reason": ""}
    )

    assert response.status_code == 200
    assert "Say why." in response.content.decode()
    assert stored(Rfq, pk=rfq.pk).status == RfqStatus.OPEN
    assert audit_actions(rfq.pk) == []


def test_an_rfq_that_is_no_longer_open_is_named_in_an_error_and_the_others_close(shipper, staff):
    open_rfq = RfqFactory(organization=shipper.org)
    cancelled = RfqFactory(organization=shipper.org, status=RfqStatus.CANCELLED)

    response = logged_in(staff).post(
        RFQS,
        {
            "action": "close_as_abusive",
            ACTION_ROWS: [str(open_rfq.pk), str(cancelled.pk)],
            "apply": "yes",
            "reason": "Spam.",
        },
        follow=True,
    )

    body = response.content.decode()
    assert f"{cancelled.number}: RFQ {cancelled.number} is cancelled" in body
    assert "1 RFQ(s) closed" in body
    assert stored(Rfq, pk=open_rfq.pk).status == RfqStatus.CLOSED
    assert stored(Rfq, pk=cancelled.pk).status == RfqStatus.CANCELLED


def test_org_admins_get_no_staff_actions(shipper, carrier):
    offering = OfferingFactory(organization=carrier.org)
    rfq = RfqFactory(organization=shipper.org)
    carrier_admin, shipper_admin = logged_in(carrier.admin), logged_in(shipper.admin)

    offerings_page = carrier_admin.get(OFFERINGS).content.decode()
    rfqs_page = shipper_admin.get(RFQS).content.decode()
    hide = carrier_admin.post(
        OFFERINGS, {"action": "hide_from_catalogue", ACTION_ROWS: [str(offering.pk)], "apply": "yes", "reason": "x"}
    )
    close = shipper_admin.post(
        RFQS, {"action": "close_as_abusive", ACTION_ROWS: [str(rfq.pk)], "apply": "yes", "reason": "x"}
    )

    assert offering.name in offerings_page and rfq.number in rfqs_page
    assert "hide_from_catalogue" not in offerings_page and "put_back_in_catalogue" not in offerings_page
    assert "close_as_abusive" not in rfqs_page
    assert hide.status_code == close.status_code == 200  # no actions: the plain list again
    assert stored(ServiceOffering, pk=offering.pk).is_hidden is False
    assert stored(Rfq, pk=rfq.pk).status == RfqStatus.OPEN


def test_the_shipper_sees_its_rfq_with_every_offer_and_its_history(shipper, carrier, rival):
    rfq = RfqFactory(organization=shipper.org)
    offer_from(carrier, rfq, price="1850.00")
    offer_from(rival, rfq, price="1720.00")
    client = logged_in(shipper.admin)

    listed = client.get(RFQS).content.decode()
    page = client.get(change_url("rfq", rfq.pk)).content.decode()

    assert rfq.number in listed
    assert '<td class="field-live_offers">2</td>' in listed
    assert carrier.org.name in page and rival.org.name in page
    assert "1850.00" in page and "1720.00" in page
    assert "Hamburg, DE → Warsaw, PL" in page
    assert "history" in page.lower()


def test_a_carrier_sees_its_own_offer_but_not_the_rfq_nor_a_rivals_offer(shipper, carrier, rival):
    rfq = RfqFactory(organization=shipper.org)
    mine = offer_from(carrier, rfq, price="1850.00")
    theirs = offer_from(rival, rfq, price="1720.00")
    client = logged_in(carrier.admin)

    offers = client.get(OFFERS).content.decode()
    rfqs = client.get(RFQS).content.decode()
    my_page = client.get(change_url("offer", mine.pk))
    their_page = client.get(change_url("offer", theirs.pk))
    shippers_offers = logged_in(shipper.admin).get(OFFERS).content.decode()

    assert "1850.00" in offers and "1720.00" not in offers
    assert rfq.number not in rfqs  # the RFQ page is its owner's
    assert my_page.status_code == 200 and "revisions" in my_page.content.decode().lower()
    assert their_page.status_code == 302
    assert "1850.00" in shippers_offers and "1720.00" in shippers_offers


def test_an_offer_priced_from_an_offering_shows_its_breakdown_line_by_line(shipper, carrier):
    offering = OfferingFactory(organization=carrier.org, base_price=Decimal("0.1000"))  # per kg
    TariffFactory(offering=offering, name="Loading", price_per_unit=Decimal("35.0000"))
    rfq = RfqFactory(organization=shipper.org)  # 1,200 kg
    offer = offer_from(carrier, rfq, price=None, transit_days=None, service_offering=offering.id)

    page = logged_in(shipper.admin).get(change_url("offer", offer.pk)).content.decode()

    assert "<td>Base price</td>" in page and "<td>Loading</td>" in page
    assert "155.00 EUR" in page  # 120.00 for the weight + 35.00 loading


# --- Query counts -----------------------------------------------------------------------------


def _some_offerings(party, count: int) -> None:
    for _ in range(count):
        TariffFactory(offering=OfferingFactory(organization=party.org))


def _some_rfqs_with_offers(shipper, carriers, count: int) -> None:
    for _ in range(count):
        rfq = RfqFactory(organization=shipper.org)
        for carrier in carriers:
            offer_from(carrier, rfq)


@pytest.mark.parametrize(
    ("url", "queries", "make_rows"),
    [
        # user, OTP device, savepoint, all-tenants scope, its audit row, count, page, release,
        # restore (the savepoint and the restore only because the test runs in a transaction)
        pytest.param(OFFERINGS, 9, lambda parties, n: _some_offerings(parties[1], n), id="offerings"),
        # ... and the date hierarchy's range and days; the live offers come with the page
        pytest.param(RFQS, 11, lambda parties, n: _some_rfqs_with_offers(parties[0], parties[1:], n), id="rfqs"),
        pytest.param(OFFERS, 11, lambda parties, n: _some_rfqs_with_offers(parties[0], parties[1:], n), id="offers"),
    ],
)
def test_a_changelist_runs_the_same_queries_for_few_or_many_rows(
    url, queries, make_rows, shipper, carrier, rival, staff, django_assert_num_queries
):
    parties = (shipper, carrier, rival)
    client = logged_in(staff)
    make_rows(parties, 2)
    client.get(url)  # warm what is cached per process (content types, currencies)

    with django_assert_num_queries(queries) as few:
        assert client.get(url).status_code == 200
    make_rows(parties, 4)
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_an_org_admins_offering_changelist_runs_the_same_queries_for_few_or_many(carrier, django_assert_num_queries):
    client = logged_in(carrier.admin)
    _some_offerings(carrier, 2)
    client.get(OFFERINGS)

    # user, savepoint, user scope, memberships, tenant scope, count, Django's two permission
    # queries, page, release, restore
    with django_assert_num_queries(11) as few:
        client.get(OFFERINGS)
    _some_offerings(carrier, 5)
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(OFFERINGS)


def test_a_tariff_charge_finer_than_the_offerings_currency_is_refused_beside_its_field(carrier):
    # given an offering priced in yen, which has no minor unit
    offering = OfferingFactory(organization=carrier.org, currency="JPY")
    client = logged_in(carrier.admin)
    url = change_url("serviceoffering", offering.pk)
    data = new_tariff_row(posted_back(client.get(url)), offering_id=offering.pk, minimum_charge="500.50")

    # when an org admin adds a tariff with a minimum charge of 500.50 JPY
    response = client.post(url, data)

    # then the form comes back with the charge refused, and no tariff is stored
    assert response.status_code == 200
    [tariff_form] = response.context["inline_admin_formsets"][0].formset.forms
    assert "minimum_charge" in tariff_form.errors
    assert tariffs_of(offering) == []
