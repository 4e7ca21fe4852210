"""Sign-up (POST /auth/register): tenancy's use case, since it may create the person's
organization; the person themselves is made by accounts' user_register."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.fields import StrictCharField, StrictEmailField
from apps.core.api.serializers import DetailOutput
from apps.core.text import validate_display_name
from apps.core.throttling import ApiIpRateThrottle
from apps.tenancy import services

ACCEPTED = "If the details are valid, an email is on its way."


class RegisterInput(serializers.Serializer):
    email = StrictEmailField(max_length=254)
    password = StrictCharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})
    first_name = StrictCharField(
        max_length=150, required=False, allow_blank=True, default="", validators=[validate_display_name]
    )
    last_name = StrictCharField(
        max_length=150, required=False, allow_blank=True, default="", validators=[validate_display_name]
    )
    organization_name = StrictCharField(
        max_length=200,
        validators=[validate_display_name],
        required=False,
        allow_blank=True,
        default="",
        help_text="When given, an organization is created and the new user becomes its org_admin.",
    )
    referral_code = StrictCharField(
        max_length=32,
        required=False,
        allow_blank=True,
        default="",
        help_text="The invite code of the person who referred you (the `ref` of their link). "
        "An unknown code is refused (400 on referral_code) and nothing is created.",
    )


class RegisterView(APIView):
    """Endpoints for people who are not signed in (yet)."""

    permission_classes = [AllowAny]
    throttle_classes = [ApiIpRateThrottle]

    @extend_schema(
        request=RegisterInput,
        responses={202: DetailOutput},
        summary="Sign up; a verification link is emailed (the answer is the same for a taken address)",
    )
    def post(self, request):
        serializer = RegisterInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_sign_up(**serializer.validated_data)
        return Response({"detail": ACCEPTED}, status=status.HTTP_202_ACCEPTED)
