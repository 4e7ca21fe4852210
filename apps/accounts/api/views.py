"""Accounts API: sign-up, sign-in (with a second factor), sessions, 2FA, passwords."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import selectors, services
from apps.accounts.api import serializers as s
from apps.accounts.api.throttles import LOGIN_THROTTLES, RESET_THROTTLES, TWO_FACTOR_THROTTLES
from apps.core.pagination import paginated_response
from apps.core.throttling import ApiIpRateThrottle

ACCEPTED = "If the details are valid, an email is on its way."


def _input(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _current_session_id(request):
    """The sign-in session of the request's access token (None for the admin's cookie session)."""
    return getattr(request.user, "auth_session_id", None)


def _tokens(tokens: services.IssuedTokens) -> Response:
    return Response(s.TokensOutput(tokens).data)


class AnonymousView(APIView):
    """Endpoints for people who are not signed in (yet)."""

    permission_classes = [AllowAny]
    throttle_classes = [ApiIpRateThrottle]


class VerifyEmailView(AnonymousView):
    @extend_schema(request=s.TokenInput, responses=s.DetailOutput, summary="Confirm an email address")
    def post(self, request):
        services.user_verify_email(token=_input(s.TokenInput, request)["token"])
        return Response({"detail": "Email address verified."})


class LoginView(AnonymousView):
    throttle_classes = LOGIN_THROTTLES

    @extend_schema(
        request=s.LoginInput,
        responses={
            200: s.TokensOutput,
            401: OpenApiResponse(description="AUTH_TOKEN_INVALID, AUTH_ACCOUNT_LOCKED, or AUTH_2FA_REQUIRED"),
        },
        summary="Sign in with email and password",
        description="With two-factor on, the answer is 401 AUTH_2FA_REQUIRED with `details.challenge`; "
        "send it with a code to /auth/verify-2fa.",
    )
    def post(self, request):
        data = _input(s.LoginInput, request)
        return _tokens(services.login_with_password(**data, request=request._request))


class VerifyTwoFactorView(AnonymousView):
    throttle_classes = TWO_FACTOR_THROTTLES

    @extend_schema(request=s.SecondFactorInput, responses=s.TokensOutput, summary="Finish sign-in with a code")
    def post(self, request):
        data = _input(s.SecondFactorInput, request)
        return _tokens(services.login_with_second_factor(**data, request=request._request))


class RefreshView(AnonymousView):
    @extend_schema(request=s.RefreshInput, responses=s.TokensOutput, summary="Rotate the refresh token")
    def post(self, request):
        return _tokens(services.session_refresh(refresh_token=_input(s.RefreshInput, request)["refresh"]))


class LogoutView(APIView):
    @extend_schema(request=None, responses={204: None}, summary="Sign out the current session")
    def post(self, request):
        services.session_revoke(user_id=request.user.id, session_id=_current_session_id(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SessionListView(APIView):
    @extend_schema(responses=s.SessionOutput(many=True), summary="The user's signed-in sessions")
    def get(self, request):
        sessions = selectors.session_list(user_id=request.user.id)
        context = {"current_session_id": _current_session_id(request)}
        return paginated_response(self, sessions, s.SessionOutput, context=context)


class SessionDetailView(APIView):
    @extend_schema(responses={204: None}, summary="Sign out one session")
    def delete(self, request, session_id):
        services.session_revoke(user_id=request.user.id, session_id=session_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EnableTwoFactorView(APIView):
    @extend_schema(request=None, responses=s.TotpEnrollmentOutput, summary="Start authenticator enrolment")
    def post(self, request):
        return Response(s.TotpEnrollmentOutput(services.totp_enable_start(user=request.user)).data)


class ConfirmTwoFactorView(APIView):
    @extend_schema(request=s.CodeInput, responses=s.BackupCodesOutput, summary="Confirm enrolment with a code")
    def post(self, request):
        codes = services.totp_enable_confirm(user=request.user, code=_input(s.CodeInput, request)["code"])
        return Response({"backup_codes": codes})


class DisableTwoFactorView(APIView):
    @extend_schema(request=s.CodeInput, responses={204: None}, summary="Turn two-factor off (needs a code)")
    def post(self, request):
        services.totp_disable(user=request.user, code=_input(s.CodeInput, request)["code"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChangePasswordView(APIView):
    @extend_schema(request=s.PasswordChangeInput, responses={204: None}, summary="Change the password")
    def post(self, request):
        data = _input(s.PasswordChangeInput, request)
        services.password_change(user=request.user, current_session_id=_current_session_id(request), **data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ResetPasswordView(AnonymousView):
    throttle_classes = RESET_THROTTLES

    @extend_schema(request=s.ResetRequestInput, responses={202: s.DetailOutput}, summary="Ask for a reset link")
    def post(self, request):
        services.password_reset_request(email=_input(s.ResetRequestInput, request)["email"])
        return Response({"detail": ACCEPTED}, status=status.HTTP_202_ACCEPTED)


class ResetPasswordConfirmView(AnonymousView):
    throttle_classes = RESET_THROTTLES

    @extend_schema(request=s.ResetConfirmInput, responses=s.DetailOutput, summary="Set a new password from a link")
    def post(self, request):
        services.password_reset_confirm(**_input(s.ResetConfirmInput, request))
        return Response({"detail": "Password changed; sign in with the new one."})
