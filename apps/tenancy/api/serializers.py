from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import StrictCharField, StrictEmailField, StrictRegexField, StrictURLField
from apps.tenancy.features import FEATURES
from apps.tenancy.models import Invitation, Membership, Organization
from apps.tenancy.roles import Role, permissions_of
from apps.tenancy.services import ORGANIZATION_EDITABLE_FIELDS

User = get_user_model()


class OrganizationSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "slug"]


class OrganizationSerializer(serializers.ModelSerializer):
    # Blank until an admin fills them in: read-only model fields would lose allow_blank,
    # and the schema would then promise an email address and a URL that are not there.
    contact_email = StrictEmailField(read_only=True, allow_blank=True)
    website = StrictURLField(read_only=True, allow_blank=True)

    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "legal_name",
            "slug",
            "tax_id",
            "registration_number",
            "contact_email",
            "contact_phone",
            "website",
            "address_line1",
            "address_line2",
            "city",
            "region",
            "postal_code",
            "country",
            "business_type",
            "verification_level",
            "subscription_plan",
            "subscription_status",
            "settings",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class OrganizationUpdateSerializer(serializers.ModelSerializer):
    """Input of PATCH /organizations/{id}: the fields an org admin may edit, each optional."""

    country = StrictRegexField(
        r"^[A-Z]{2}$",
        required=False,
        allow_blank=True,
        error_messages={"invalid": "Use an ISO 3166-1 alpha-2 code, e.g. DE."},
    )

    class Meta:
        model = Organization
        fields = list(ORGANIZATION_EDITABLE_FIELDS)
        extra_kwargs = {field: {"required": False} for field in ORGANIZATION_EDITABLE_FIELDS}

    def validate_settings(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("settings must be a JSON object.")
        return value


class UserSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name"]


class MembershipSerializer(serializers.ModelSerializer):
    user = UserSummarySerializer(read_only=True)
    invited_by = serializers.UUIDField(source="invited_by_id", read_only=True, allow_null=True)
    permissions = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = [
            "id",
            "user",
            "role",
            "extra_permissions",
            "permissions",
            "is_active",
            "invited_by",
            "joined_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_permissions(self, membership) -> list[str]:
        return sorted(permissions_of(membership.role, membership.extra_permissions))

    def to_representation(self, membership):
        """What the declared fields give, without building them: the member list's hot path.

        DRF builds this ModelSerializer's fields (and the nested user's) on every response and
        runs each through its generic machinery; this writes the same dict directly. The
        declared fields still define the OpenAPI schema and the read paths elsewhere;
        tests/tenancy/test_member_representation.py checks it equals DRF's own
        representation, so a field added above must be added here too.
        """
        user = membership.user
        invited_by_id = membership.invited_by_id
        return {
            "id": str(membership.id),
            "user": {
                "id": str(user.id),
                "email": user.email,
                "first_name": user.first_name,
                "last_name": user.last_name,
            },
            "role": membership.role,
            "extra_permissions": membership.extra_permissions,
            "permissions": self.get_permissions(membership),
            "is_active": bool(membership.is_active),
            "invited_by": None if invited_by_id is None else str(invited_by_id),
            "joined_at": _datetime(membership.joined_at),
            "created_at": _datetime(membership.created_at),
        }


# DRF's own conversion (the current time zone, ISO 8601, "Z" for UTC), unbound: the same strings.
_datetime = serializers.DateTimeField().to_representation


class MemberInviteSerializer(serializers.Serializer):
    email = StrictEmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationSerializer(serializers.ModelSerializer):
    """What the organization sees of an invitation: the address it typed, nothing about the person."""

    status = serializers.ChoiceField(
        choices=Invitation.Status.choices,
        source="current_status",
        read_only=True,
        help_text="`expired` once past `expires_at` without an answer.",
    )
    invited_by = serializers.UUIDField(source="invited_by_id", read_only=True, allow_null=True)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "status", "expires_at", "invited_by", "created_at"]
        read_only_fields = fields


class InvitingOrganizationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = StrictCharField()


class MyInvitationSerializer(serializers.ModelSerializer):
    """An invitation as its invitee sees it (GET /me/invitations)."""

    organization = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = ["id", "organization", "role", "expires_at", "created_at"]
        read_only_fields = fields

    @extend_schema_field(InvitingOrganizationSerializer)
    def get_organization(self, invitation) -> dict:
        names = self.context.get("organization_names", {})
        return {"id": invitation.organization_id, "name": names.get(invitation.organization_id, "")}


class InvitationTokenSerializer(serializers.Serializer):
    token = StrictCharField(max_length=200, help_text="The token of the link in the invitation e-mail.")


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    extra_permissions = serializers.ListField(child=StrictCharField(max_length=80), required=False, max_length=100)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give role and/or extra_permissions.")
        return attrs


class MyMembershipSerializer(serializers.ModelSerializer):
    organization = OrganizationSummarySerializer(read_only=True)
    permissions = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = ["id", "organization", "role", "permissions", "joined_at"]
        read_only_fields = fields

    def get_permissions(self, membership) -> list[str]:
        return sorted(permissions_of(membership.role, membership.extra_permissions))


class MeSerializer(serializers.ModelSerializer):
    memberships = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "phone",
            "phone_verified_at",
            "timezone",
            "language",
            "is_staff",
            "created_at",
            "last_login",
            "memberships",
        ]
        read_only_fields = fields

    def get_memberships(self, user) -> list[dict]:
        return MyMembershipSerializer(self.context["memberships"], many=True).data


class FeatureStateSerializer(serializers.Serializer):
    name = StrictCharField()
    label = StrictCharField(source="feature.label")
    description = StrictCharField(source="feature.description")
    toggled_by = StrictCharField(source="feature.toggled_by")
    is_entitled = serializers.BooleanField()
    is_enabled = serializers.BooleanField()
    is_active = serializers.BooleanField()
    config = serializers.JSONField()


class FeatureUpdateSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(required=False)
    config = serializers.DictField(required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give enabled and/or config.")
        return attrs


FEATURE_NAMES = sorted(FEATURES)
