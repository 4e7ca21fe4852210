"""Webhooks API: an organization's admins register endpoints, read their delivery logs, ping,
rotate secrets and redeliver (webhook:manage, which only org_admin holds)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from apps.core.api.filtering import query_params
from apps.core.pagination import paginated_response
from apps.tenancy.api.base import OrganizationEndpoint
from apps.webhooks import selectors, services
from apps.webhooks.api import serializers as s

MANAGE = "webhook:manage"
NOT_YOURS = OpenApiResponse(description="NOT_FOUND: no such endpoint or delivery in your organization")
SWITCHED_OFF = OpenApiResponse(description="INVALID_STATE_TRANSITION: the endpoint is switched off")


def _with_secret(endpoint, secret: str) -> dict:
    return {**s.EndpointOutput(endpoint).data, "secret": secret}


# No Idempotency-Key on creating an endpoint: the stored first answer would keep the secret
# in plain text (apps.core.idempotency records responses), which must exist only encrypted.
class EndpointListView(OrganizationEndpoint):
    required_permissions = {"GET": MANAGE, "POST": MANAGE}

    @extend_schema(responses=s.EndpointOutput(many=True), summary="The organization's webhook endpoints")
    def get(self, request):
        endpoints = selectors.endpoint_list(organization_id=self.organization_id)
        return paginated_response(self, endpoints, s.EndpointOutput)

    @extend_schema(
        request=s.EndpointInput,
        responses={201: s.EndpointWithSecretOutput},
        summary="Register an endpoint (its signing secret is in this answer only)",
    )
    def post(self, request):
        data = s.EndpointInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, secret = services.endpoint_create(actor=self.actor(), **data.validated_data)
        return Response(_with_secret(endpoint, secret), status=201)


class EndpointDetailView(OrganizationEndpoint):
    required_permissions = {"GET": MANAGE, "PATCH": MANAGE, "DELETE": MANAGE}

    @extend_schema(responses={200: s.EndpointOutput, 404: NOT_YOURS}, summary="One webhook endpoint")
    def get(self, request, endpoint_id):
        endpoint = selectors.endpoint_get(organization_id=self.organization_id, endpoint_id=endpoint_id)
        return Response(s.EndpointOutput(endpoint).data)

    @extend_schema(
        request=s.EndpointInput(partial=True),
        responses={200: s.EndpointOutput, 404: NOT_YOURS},
        summary="Change an endpoint; is_active true switches it back on and resets its circuit breaker",
    )
    def patch(self, request, endpoint_id):
        data = s.EndpointInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_update(actor=self.actor(), endpoint_id=endpoint_id, data=data.validated_data)
        return Response(s.EndpointOutput(endpoint).data)

    @extend_schema(responses={204: None, 404: NOT_YOURS}, summary="Remove an endpoint and its delivery log")
    def delete(self, request, endpoint_id):
        services.endpoint_delete(actor=self.actor(), endpoint_id=endpoint_id)
        return Response(status=204)


class EndpointRotateSecretView(OrganizationEndpoint):
    required_permissions = {"POST": MANAGE}

    @extend_schema(
        request=None,
        responses={200: s.EndpointWithSecretOutput, 404: NOT_YOURS},
        summary="A new signing secret (in this answer only); the previous one signs too for the overlap period",
    )
    def post(self, request, endpoint_id):
        endpoint, secret = services.endpoint_rotate_secret(actor=self.actor(), endpoint_id=endpoint_id)
        return Response(_with_secret(endpoint, secret))


class EndpointPingView(OrganizationEndpoint):
    required_permissions = {"POST": MANAGE}

    @extend_schema(
        request=None,
        responses={202: s.DeliveryOutput, 404: NOT_YOURS, 422: SWITCHED_OFF},
        summary="Send a webhook.ping delivery to the endpoint now (its result is in the delivery log)",
    )
    def post(self, request, endpoint_id):
        delivery = services.endpoint_ping(actor=self.actor(), endpoint_id=endpoint_id)
        return Response(s.DeliveryOutput(delivery).data, status=202)


class EndpointDeliveryListView(OrganizationEndpoint):
    required_permissions = {"GET": MANAGE}

    @extend_schema(
        parameters=[s.DeliveryListQuery],
        responses={200: s.DeliveryOutput(many=True), 404: NOT_YOURS},
        summary="The endpoint's delivery log, newest first",
    )
    def get(self, request, endpoint_id):
        status = query_params(s.DeliveryListQuery, request).get("status")
        deliveries = selectors.delivery_list(
            organization_id=self.organization_id, endpoint_id=endpoint_id, status=status
        )
        return paginated_response(self, deliveries, s.DeliveryOutput)


class DeliveryDetailView(OrganizationEndpoint):
    required_permissions = {"GET": MANAGE}

    @extend_schema(responses={200: s.DeliveryDetailOutput, 404: NOT_YOURS}, summary="A delivery with its attempts")
    def get(self, request, delivery_id):
        delivery = selectors.delivery_get(organization_id=self.organization_id, delivery_id=delivery_id)
        return Response(s.DeliveryDetailOutput(delivery).data)


class DeliveryRedeliverView(OrganizationEndpoint):
    required_permissions = {"POST": MANAGE}

    @extend_schema(
        request=None,
        responses={202: s.DeliveryOutput, 404: NOT_YOURS, 422: SWITCHED_OFF},
        summary="Send a delivery again: a new sequence of attempts, the same body, a fresh signature",
    )
    def post(self, request, delivery_id):
        delivery = services.delivery_redeliver(actor=self.actor(), delivery_id=delivery_id)
        return Response(s.DeliveryOutput(delivery).data, status=202)
