"""Organizations (the tenants), their members, feature flags and the audit log."""

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from apps.core.models import TimeStampedModel
from apps.core.rls import Owned, TenantRoot
from apps.core.text import validate_display_name
from apps.tenancy.features import FEATURES
from apps.tenancy.roles import Role


class Organization(TimeStampedModel):
    class BusinessType(models.TextChoices):
        CLIENT = "client", "Client"
        SUPPLIER = "supplier", "Supplier"
        BOTH = "both", "Client and supplier"

    class VerificationLevel(models.TextChoices):
        NONE = "none", "Not verified"
        BASIC = "basic", "Basic"
        ENHANCED = "enhanced", "Enhanced"
        PREMIUM = "premium", "Premium"

    class Plan(models.TextChoices):
        FREE = "free", "Free"
        STANDARD = "standard", "Standard"
        ENTERPRISE = "enterprise", "Enterprise"

    class SubscriptionStatus(models.TextChoices):
        TRIALING = "trialing", "Trialing"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        CANCELLED = "cancelled", "Cancelled"

    row_visibility = TenantRoot(membership_table="tenancy_membership")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, validators=[validate_display_name])
    legal_name = models.CharField(max_length=300, blank=True, validators=[validate_display_name])
    slug = models.SlugField(max_length=80, unique=True)
    # Three letters that open the organization's device passport codes (seed 002
    # organizations.code): given once, when its first passport is issued, and never changed,
    # since printed labels carry it.
    code = models.CharField(
        max_length=3,
        unique=True,
        null=True,
        blank=True,
        validators=[RegexValidator(r"^[A-Z]{3}$", "Three capital letters A-Z.")],
        help_text="Three capital letters that open its device passport codes; fixed once given.",
    )
    tax_id = models.CharField("tax id (INN/VAT)", max_length=32, blank=True)
    registration_number = models.CharField(max_length=32, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=32, blank=True)
    website = models.URLField(blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    business_type = models.CharField(max_length=10, choices=BusinessType.choices, default=BusinessType.CLIENT)
    verification_level = models.CharField(
        max_length=10, choices=VerificationLevel.choices, default=VerificationLevel.NONE
    )
    subscription_plan = models.CharField(max_length=12, choices=Plan.choices, default=Plan.FREE)
    subscription_status = models.CharField(
        max_length=10, choices=SubscriptionStatus.choices, default=SubscriptionStatus.TRIALING
    )
    settings = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(TimeStampedModel):
    """A user's place in an organization: one role, plus extra permissions granted one by one."""

    row_visibility = Owned(personal="user_id")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=24, choices=Role.choices)
    extra_permissions = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    joined_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_organization_user_unique")
        ]
        indexes = [models.Index(fields=["user", "organization"], name="membership_user_org_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.organization_id} as {self.role}"


class Invitation(TimeStampedModel):
    """An organization's offer of a role to whoever owns an e-mail address; a membership
    exists only once that person accepts (apps.tenancy.services.invitation_accept).

    The inviting organization owns the row. The invitee reads it through `invitee_id`
    (the account holding the address when the invitation was made, if any), like their
    memberships: the person is known to the server, never shown to the organization.
    An address with no account is reached through the e-mailed link only; its token is
    stored as a SHA-256 hash.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"

    row_visibility = Owned(personal="invitee_id")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=24, choices=Role.choices)
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="invitations"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    membership = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=models.Q(status="pending"),
                name="invitation_one_pending_per_address",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "created_at"], name="invitation_org_created_idx"),
            models.Index(fields=["invitee", "status"], name="invitation_invitee_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.organization_id} as {self.role} ({self.status})"

    @property
    def current_status(self) -> str:
        """The status, with a pending invitation past its date reported as expired."""
        if self.status == self.Status.PENDING and self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.status


class OrganizationFeature(TimeStampedModel):
    """A feature flag of one organization: staff grant the entitlement, org admins switch it."""

    row_visibility = Owned()

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="features")
    name = models.CharField(max_length=40, choices=[(f.name, f.label) for f in FEATURES.values()])
    is_entitled = models.BooleanField(default=False)
    is_enabled = models.BooleanField(default=False)
    config = models.JSONField(default=dict, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="feature_organization_name_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({'on' if self.is_enabled else 'off'})"
