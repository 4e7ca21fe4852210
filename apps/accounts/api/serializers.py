from rest_framework import serializers

from apps.accounts.models import AuthSession
from apps.core.api.fields import StrictCharField, StrictEmailField
from apps.core.api.serializers import DetailOutput  # noqa: F401  (s.DetailOutput in the views)


class TokenInput(serializers.Serializer):
    token = StrictCharField(max_length=1000)


class LoginInput(serializers.Serializer):
    email = StrictCharField(max_length=254)
    password = StrictCharField(max_length=128, trim_whitespace=False)


class SecondFactorInput(serializers.Serializer):
    challenge = StrictCharField(max_length=1000)
    code = StrictCharField(max_length=32, help_text="A 6-digit authenticator code or a backup code.")


class RefreshInput(serializers.Serializer):
    refresh = StrictCharField(max_length=200)


class TokensOutput(serializers.Serializer):
    access = StrictCharField()
    refresh = StrictCharField()
    token_type = StrictCharField(default="Bearer")
    expires_in = serializers.IntegerField(source="access_expires_in", help_text="Seconds the access token lives.")
    refresh_expires_at = serializers.DateTimeField()
    session_id = serializers.UUIDField()


class SessionOutput(serializers.ModelSerializer):
    current = serializers.SerializerMethodField()

    class Meta:
        model = AuthSession
        fields = ["id", "method", "ip_address", "user_agent", "created_at", "last_used_at", "expires_at", "current"]

    def get_current(self, session) -> bool:
        return session.id == self.context.get("current_session_id")


class CodeInput(serializers.Serializer):
    code = StrictCharField(max_length=32)


class TotpEnrollmentOutput(serializers.Serializer):
    otpauth_uri = StrictCharField()
    secret_base32 = StrictCharField()
    qr_svg = StrictCharField(help_text="The otpauth URI as a QR code (SVG markup).")


class BackupCodesOutput(serializers.Serializer):
    backup_codes = serializers.ListField(child=StrictCharField(), help_text="Shown once; each works once.")


class PasswordChangeInput(serializers.Serializer):
    current_password = StrictCharField(max_length=128, trim_whitespace=False)
    new_password = StrictCharField(max_length=128, trim_whitespace=False)


class ResetRequestInput(serializers.Serializer):
    email = StrictEmailField(max_length=254)


class ResetConfirmInput(serializers.Serializer):
    uid = StrictCharField(max_length=64)
    token = StrictCharField(max_length=128)
    new_password = StrictCharField(max_length=128, trim_whitespace=False)
