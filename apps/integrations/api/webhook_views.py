"""The platforms' webhooks: no user, no tenant; the shop it names and its signature over the raw
body are the credential (apps/integrations/services/webhooks.py)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.integrations import services
from apps.integrations.models import Platform

# The path's platform: our value, and "tiktok" as TikTok Shop's short name.
PLATFORM_ALIASES = {**{value: value for value in Platform.values}, "tiktok": Platform.TIKTOK_SHOP}


class PlatformWebhookOutput(serializers.Serializer):
    received = serializers.BooleanField()
    duplicate = serializers.BooleanField()


class PlatformWebhookView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    @extend_schema(
        request={"application/json": {"type": "object"}},
        responses={
            200: PlatformWebhookOutput,
            401: OpenApiResponse(description="AUTH_TOKEN_INVALID: unknown shop or bad signature (logged)"),
            404: OpenApiResponse(description="NOT_FOUND: unknown platform"),
        },
        summary="Platform webhooks (Shopify, Shopee, Lazada, TikTok Shop; signed)",
        auth=[],
    )
    def post(self, request, platform):
        outcome = services.webhook_receive(
            platform=PLATFORM_ALIASES.get(platform, platform),
            headers=request.headers,
            body=request._request.body,
            remote=request.META.get("REMOTE_ADDR", ""),
        )
        return Response(PlatformWebhookOutput({"received": True, "duplicate": outcome.duplicate}).data)
