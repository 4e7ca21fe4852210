"""Orders and warehouses in the back-office."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.core.actors import Actor
from apps.core.context import system_scope
from apps.core.models import AuditLog
from apps.orders.models import Package, UnmatchedArrival, Warehouse
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, UserFactory, member
from tests.orders.test_orders_api import freight_order, move
from tests.support import admin_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def parties():
    shipper_org, carrier_org = OrganizationFactory(name="Baltic Shippers"), OrganizationFactory(name="Volga Carriers")
    return {
        "shipper_org": shipper_org,
        "carrier_org": carrier_org,
        "shipper": member(shipper_org, Role.SHIPPER),
        "carrier": member(carrier_org, Role.CARRIER),
    }


def test_both_parties_admins_see_the_order_with_its_history_and_others_do_not(api, parties):
    order = freight_order(parties)
    move(api, parties["shipper"], parties["shipper_org"], order, "pending")
    carrier_admin = admin_client(member(parties["carrier_org"], Role.ORG_ADMIN))
    outsider_admin = admin_client(member(OrganizationFactory(), Role.ORG_ADMIN))

    listed = carrier_admin.get(reverse("admin:orders_order_changelist")).content.decode()
    page = carrier_admin.get(reverse("admin:orders_order_change", args=[order.pk]))
    outsider = outsider_admin.get(reverse("admin:orders_order_changelist")).content.decode()

    assert order.number in listed
    assert page.status_code == 200
    assert "history" in page.content.decode().lower()
    assert "pending" in page.content.decode()
    assert order.number not in outsider


def test_staff_filter_orders_by_status(api, parties):
    pending, draft = freight_order(parties), freight_order(parties)
    move(api, parties["shipper"], parties["shipper_org"], pending, "pending")
    staff = admin_client(UserFactory(is_staff=True, is_superuser=True))

    body = staff.get(reverse("admin:orders_order_changelist") + "?status__exact=pending").content.decode()

    assert pending.number in body
    assert draft.number not in body


def test_an_org_admin_adds_a_warehouse_in_the_admin_through_the_service():
    organization = OrganizationFactory()
    client = admin_client(member(organization, Role.ORG_ADMIN))

    response = client.post(
        reverse("admin:orders_warehouse_add"),
        {
            "name": "Hamburg hub",
            "code": "ham-1",
            "country": "DE",
            "city": "Hamburg",
            "address_line1": "Am Kaiserkai 1",
            "timezone": "Europe/Berlin",
            "is_active": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    with system_scope(reason="test", audit=False):
        warehouse = Warehouse.objects.get(code="ham-1")
        assert warehouse.organization_id == organization.id
        assert AuditLog.objects.filter(action="warehouse.created", resource_id=str(warehouse.id)).exists()


def test_the_receiving_screen_matches_a_parcel_and_keeps_an_unknown_one(parties):
    forwarder = parties["carrier_org"]
    admin_user = member(forwarder, Role.ORG_ADMIN)
    client = admin_client(admin_user)
    client.post(
        reverse("admin:orders_warehouse_add"),
        {
            "name": "Hamburg hub",
            "code": "ham-1",
            "country": "DE",
            "city": "Hamburg",
            "address_line1": "Am Kaiserkai 1",
            "timezone": "Europe/Berlin",
            "is_active": "on",
        },
    )
    with system_scope(reason="test", audit=False):
        warehouse = Warehouse.objects.get(code="ham-1")
    url = reverse("admin:orders_warehouse_receive", args=[warehouse.pk])
    parcel = {"weight_g": 1200, "length_cm": 30, "width_cm": 20, "height_cm": 10}

    page = client.get(url)
    unknown = client.post(url, {"tracking_number": "ZZ 999 000 111", **parcel}, follow=True)

    assert page.status_code == 200
    assert "ZZ999000111" in unknown.content.decode()  # listed among the unmatched arrivals
    with system_scope(reason="test", audit=False):
        assert UnmatchedArrival.objects.filter(warehouse=warehouse, tracking_number="ZZ999000111").exists()


def test_platform_staff_look_at_the_receiving_screen_but_do_not_receive(parties):
    forwarder = parties["carrier_org"]
    from apps.core.context import tenant_scope
    from apps.orders import services

    with tenant_scope(forwarder.id):
        warehouse = services.warehouse_create(
            organization_id=forwarder.id,
            actor=Actor(user_id=parties["carrier"].id),
            data={"name": "Kazan", "code": "kzn", "country": "RU", "city": "Kazan", "address_line1": "Ul. 1"},
        )
    staff = admin_client(UserFactory(is_staff=True, is_superuser=True))

    response = staff.get(reverse("admin:orders_warehouse_receive", args=[warehouse.pk]))

    assert response.status_code == 403


def test_the_receiving_screen_matches_a_parcel_an_order_expects(parties):
    from decimal import Decimal

    from apps.core.context import tenant_scope
    from apps.orders import services

    forwarder = parties["carrier_org"]
    admin_user = member(forwarder, Role.ORG_ADMIN)
    with tenant_scope(forwarder.id, user_id=admin_user.id):
        warehouse = services.warehouse_create(
            organization_id=forwarder.id,
            actor=Actor(user_id=admin_user.id),
            data={"name": "Hamburg", "code": "ham", "country": "DE", "city": "Hamburg", "address_line1": "Kai 1"},
        )
        order = services.order_create(
            order_input=services.OrderInput(
                kind="self_purchase",
                client_organization_id=forwarder.id,
                supplier_organization_id=forwarder.id,
                currency="EUR",
                external_tracking_number="1Z999AA10123456784",
                items=[services.ItemInput(name="Sneakers", quantity=1, unit_price=Decimal("89.00"))],
            ),
            actor=Actor(user_id=admin_user.id),
        )
    url = reverse("admin:orders_warehouse_receive", args=[warehouse.pk])

    response = admin_client(admin_user).post(
        url,
        {"tracking_number": "1z999aa10123456784", "weight_g": 900, "length_cm": 35, "width_cm": 25, "height_cm": 12},
        follow=True,
    )

    assert f"Matched to order {order.number}" in response.content.decode()
    with system_scope(reason="test", audit=False):
        assert Package.objects.filter(order=order, current_warehouse=warehouse).count() == 1
