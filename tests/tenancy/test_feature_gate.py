"""The feature gate other contexts put on their endpoints: 403 FEATURE_DISABLED when off."""

import pytest
from django.urls import path
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.tenancy.permissions import FeatureEnabled, HasPermission, requires_feature
from apps.tenancy.roles import Role
from tests.factories import FeatureFactory, MembershipFactory, OrganizationFactory, member

pytestmark = pytest.mark.django_db


class AssistedPurchaseView(APIView):
    """Shaped like the order endpoints that will carry the gate."""

    permission_classes = [IsAuthenticated, HasPermission, FeatureEnabled]
    required_feature = "assisted_purchase"
    required_permissions = {"GET": "order:read"}

    def get(self, request):
        return Response({"ok": True})


class SelfPurchaseView(APIView):
    @requires_feature("self_purchase")
    def get(self, request):
        return Response({"ok": True})


urlpatterns = [path("gated/assisted", AssistedPurchaseView.as_view()), path("gated/self", SelfPurchaseView.as_view())]


@pytest.fixture(autouse=True)
def gated_urls(settings):
    settings.ROOT_URLCONF = __name__


def test_enabled_feature_lets_the_request_through(api):
    organization = OrganizationFactory()
    FeatureFactory(organization=organization, name="assisted_purchase", is_entitled=True, is_enabled=True)

    response = api(member(organization, role=Role.PURCHASE_AGENT)).get("/gated/assisted")

    assert response.status_code == 200


def test_entitled_but_switched_off_feature_is_403_feature_disabled(api):
    organization = OrganizationFactory()
    FeatureFactory(organization=organization, name="assisted_purchase", is_entitled=True, is_enabled=False)

    response = api(member(organization, role=Role.PURCHASE_AGENT)).get("/gated/assisted")

    assert response.status_code == 403
    assert response.json()["error_code"] == "FEATURE_DISABLED"


def test_switched_on_but_not_entitled_feature_is_403_feature_disabled(api):
    organization = OrganizationFactory()
    FeatureFactory(organization=organization, name="self_purchase", is_entitled=False, is_enabled=True)

    response = api(member(organization)).get("/gated/self")

    assert response.status_code == 403
    assert response.json()["error_code"] == "FEATURE_DISABLED"


def test_decorated_view_follows_the_flag(api):
    organization = OrganizationFactory()
    FeatureFactory(organization=organization, name="self_purchase", is_entitled=True, is_enabled=True)

    assert api(member(organization)).get("/gated/self").status_code == 200


def test_user_of_several_organizations_must_name_one(api):
    first, second = OrganizationFactory(), OrganizationFactory()
    user = member(first)
    MembershipFactory(organization=second, user=user)
    FeatureFactory(organization=second, name="assisted_purchase", is_entitled=True, is_enabled=True)

    without_header = api(user).get("/gated/assisted")
    with_header = api(user, organization=second).get("/gated/assisted")

    assert without_header.status_code == 400
    assert without_header.json()["error_code"] == "VALIDATION_FIELD_REQUIRED"
    assert with_header.status_code == 200
