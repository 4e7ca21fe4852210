"""model_update: only what changed is written, audited with its old and new values, and
published in the caller's transaction; a change to nothing leaves no trace."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.core.actors import Actor
from apps.core.context import system_scope, tenant_scope
from apps.core.models import AuditLog, OutboxEvent
from apps.core.updates import model_update
from apps.orders.models import Warehouse
from apps.tenancy import events
from apps.tenancy.models import Organization
from tests.factories import OrganizationFactory, member

pytestmark = pytest.mark.django_db

FIELDS = ("name", "legal_name", "city")


def organization_updated(organization, changed):
    return events.OrganizationUpdated(organization_id=organization.id, changed_fields=sorted(changed))


def audit_rows(organization_id):
    with system_scope(reason="test: read the audit log", audit=False):
        return list(
            AuditLog.objects.filter(organization_id=organization_id, action__startswith="organization.").values(
                "action", "resource_type", "resource_id", "old_values", "new_values", "actor_id"
            )
        )


def outbox_rows(organization_id):
    with system_scope(reason="test: read the outbox", audit=False):
        return list(OutboxEvent.objects.filter(organization_id=organization_id).values_list("event_type", "payload"))


def stored(organization_id):
    with system_scope(reason="test: read the row", audit=False):
        return Organization.objects.get(pk=organization_id)


def update(organization, user, data, **options):
    with tenant_scope(organization.id, user_id=user.id), transaction.atomic():
        return model_update(
            instance=organization,
            data=data,
            fields=FIELDS,
            actor=Actor(user_id=user.id, organization_id=organization.id),
            resource_type="organization",
            organization_id=organization.id,
            **options,
        )


def test_only_the_changed_fields_are_written():
    organization = OrganizationFactory(name="Before", legal_name="Before GmbH", city="Hamburg")
    user = member(organization)
    # Another writer changes the city after the instance was read.
    with system_scope(reason="test: a concurrent write", audit=False):
        Organization.objects.filter(pk=organization.pk).update(city="Bremen")

    _, changed = update(organization, user, {"name": "After", "legal_name": "Before GmbH", "city": "Hamburg"})

    assert changed == ["name"]
    row = stored(organization.id)
    assert (row.name, row.legal_name, row.city) == ("After", "Before GmbH", "Bremen")
    assert row.updated_at > organization.created_at


def test_keys_outside_the_allowed_fields_are_ignored():
    organization = OrganizationFactory(name="Before", subscription_plan="free")
    user = member(organization)

    _, changed = update(organization, user, {"name": "After", "subscription_plan": "enterprise"})

    assert changed == ["name"]
    assert stored(organization.id).subscription_plan == "free"


def test_a_change_to_nothing_saves_audits_and_publishes_nothing():
    organization = OrganizationFactory(name="Same", city="Hamburg")
    user = member(organization)
    updated_at = stored(organization.id).updated_at

    instance, changed = update(organization, user, {"name": "Same", "city": "Hamburg"}, event=organization_updated)

    assert instance is organization
    assert changed == []
    assert stored(organization.id).updated_at == updated_at
    assert audit_rows(organization.id) == []
    assert outbox_rows(organization.id) == []


def test_the_audit_row_holds_the_old_and_new_values_of_the_changed_fields_only():
    organization = OrganizationFactory(name="Before", legal_name="Same GmbH", city="Hamburg")
    user = member(organization)

    update(organization, user, {"name": "After", "legal_name": "Same GmbH", "city": "Bremen"})

    assert audit_rows(organization.id) == [
        {
            "action": "organization.updated",
            "resource_type": "organization",
            "resource_id": str(organization.id),
            "old_values": {"name": "Before", "city": "Hamburg"},
            "new_values": {"name": "After", "city": "Bremen"},
            "actor_id": user.id,
        }
    ]


def test_the_audit_action_can_be_named():
    organization = OrganizationFactory(name="Before")
    user = member(organization)

    update(organization, user, {"name": "After"}, audit_action="organization.renamed")

    assert [row["action"] for row in audit_rows(organization.id)] == ["organization.renamed"]


def test_the_event_is_built_from_the_saved_instance_and_published():
    organization = OrganizationFactory(name="Before", city="Hamburg")
    user = member(organization)

    names_seen = []

    def event(instance, changed):
        names_seen.append(instance.name)
        return organization_updated(instance, changed)

    update(organization, user, {"city": "Bremen", "name": "After"}, event=event)

    assert names_seen == ["After"]
    assert outbox_rows(organization.id) == [("organization.updated", {"changed_fields": ["city", "name"]})]


def test_row_audit_and_event_roll_back_with_the_callers_transaction():
    organization = OrganizationFactory(name="Before")
    user = member(organization)

    with pytest.raises(RuntimeError), tenant_scope(organization.id, user_id=user.id), transaction.atomic():
        model_update(
            instance=organization,
            data={"name": "After"},
            fields=FIELDS,
            actor=Actor(user_id=user.id, organization_id=organization.id),
            resource_type="organization",
            organization_id=organization.id,
            event=organization_updated,
        )
        raise RuntimeError("the caller fails after the update")

    assert stored(organization.id).name == "Before"
    assert audit_rows(organization.id) == []
    assert outbox_rows(organization.id) == []


def test_full_clean_refuses_an_invalid_value_before_anything_is_written():
    organization = OrganizationFactory(name="Before")
    user = member(organization)

    with pytest.raises(ValidationError) as refused:
        update(organization, user, {"name": "x" * 1000}, full_clean=True, clean_exclude=["slug"])

    assert "name" in refused.value.message_dict
    assert stored(organization.id).name == "Before"
    assert audit_rows(organization.id) == []


def test_the_audit_row_is_in_the_instances_organization_by_default():
    organization = OrganizationFactory()
    user = member(organization)
    with system_scope(reason="test data", audit=False):
        warehouse = Warehouse.objects.create(
            organization=organization,
            name="Hamburg 1",
            code="ham-1",
            country="DE",
            city="Hamburg",
            address_line1="Kai 1",
        )

    with tenant_scope(organization.id, user_id=user.id), transaction.atomic():
        model_update(
            instance=warehouse,
            data={"name": "Hamburg North"},
            fields=("name",),
            actor=Actor(user_id=user.id),
            resource_type="warehouse",
        )

    with system_scope(reason="test: read the audit log", audit=False):
        row = AuditLog.objects.get(action="warehouse.updated")
    assert (row.organization_id, row.resource_id, row.new_values) == (
        organization.id,
        str(warehouse.id),
        {"name": "Hamburg North"},
    )
