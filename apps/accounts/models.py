"""The platform's user: email login, UUID primary key (fixed from the first migration)."""

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils.crypto import constant_time_compare, salted_hmac
from django_otp.models import Device

from apps.core.rls import Personal
from apps.core.text import validate_display_name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields):
        if not email:
            raise ValueError("A user needs an email address")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields):
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **fields)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("email address", max_length=254, unique=True)
    phone = models.CharField(max_length=32, blank=True)
    first_name = models.CharField(max_length=150, blank=True, validators=[validate_display_name])
    last_name = models.CharField(max_length=150, blank=True, validators=[validate_display_name])
    timezone = models.CharField(max_length=64, default="UTC")
    language = models.CharField(max_length=16, default="en")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="Platform staff: may use the Django admin across all organizations."
    )
    email_verified_at = models.DateTimeField(null=True, blank=True)
    # When `phone` was confirmed by a code sent to it (apps.notifications); SMS go only to a
    # confirmed number.
    phone_verified_at = models.DateTimeField(null=True, blank=True)
    password_changed_at = models.DateTimeField(null=True, blank=True)
    # Lockout (apps.accounts.services.login_*): consecutive failed sign-ins, and until when
    # sign-in is refused after too many.
    failed_login_count = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def is_locked(self, now) -> bool:
        return self.locked_until is not None and self.locked_until > now


class AuthSession(models.Model):
    """One signed-in device: created at sign-in, kept alive by refresh-token rotation.

    The access tokens it issues carry its id (`sid`); revoking it makes them fail at
    once (see apps.accounts.tokens) and its refresh tokens useless.
    """

    row_visibility = Personal()

    class Method(models.TextChoices):
        PASSWORD = "password", "Password"
        PASSWORD_TOTP = "password+totp", "Password and authenticator code"
        PASSWORD_BACKUP_CODE = "password+backup", "Password and backup code"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auth_sessions")
    method = models.CharField(max_length=20, choices=Method.choices, default=Method.PASSWORD)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["-last_used_at"]
        indexes = [models.Index(fields=["user", "revoked_at", "expires_at"], name="auth_session_user_live_idx")]

    def __str__(self) -> str:
        return f"session {self.id} of {self.user_id}"


class RefreshToken(models.Model):
    """A refresh token ever issued for a session, by hash only.

    Each refresh marks the presented token rotated and issues the next one; a rotated
    token presented again is reuse (a copy is in someone else's hands) and revokes the
    whole session.
    """

    row_visibility = Personal()

    id = models.BigAutoField(primary_key=True)
    session = models.ForeignKey(AuthSession, on_delete=models.CASCADE, related_name="refresh_tokens")
    # The session's user again, so that row-level security can read the row alone.
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refresh token {self.id} of session {self.session_id}"


class BackupCodeDevice(Device):
    """Single-use backup codes as a django-otp device, stored as keyed hashes only.

    (django-otp's StaticDevice keeps its codes in clear.) The codes are random, so a
    keyed HMAC is enough: a slow password hash would only slow every sign-in down.

    Like django-otp's own device tables (and the user table) it has no row-level
    security: django-otp's middleware loads the device that verified an admin session
    before any scope exists; only keyed hashes are stored.
    """

    code_hashes = models.JSONField(default=list, blank=True)

    class Meta(Device.Meta):
        verbose_name = "backup code device"

    @staticmethod
    def hash_code(code: str) -> str:
        normalized = code.replace("-", "").replace(" ", "").upper()
        return salted_hmac("apps.accounts.backup-code", normalized).hexdigest()

    def verify_token(self, token) -> bool:
        """Consume the code if it is one of the unused ones (single use)."""
        digest = self.hash_code(str(token))
        locked = type(self).objects.select_for_update().get(pk=self.pk)
        for stored in locked.code_hashes:
            if constant_time_compare(stored, digest):
                locked.code_hashes = [h for h in locked.code_hashes if h != stored]
                locked.save(update_fields=["code_hashes"])
                self.code_hashes = locked.code_hashes
                return True
        return False


# --- Personal data: export and erasure (apps.accounts.services.personal_data) --------------


def personal_data_export_path(export: "PersonalDataExport", filename: str) -> str:
    # Our own name, never the client's: one file per export, stored privately.
    return f"personal-data/{export.user_id}/{export.id}.json"


class PersonalDataExport(models.Model):
    """One archive of everything the platform holds about a person, built by a worker.

    pending → ready (the file is stored, downloadable through short-lived signed links
    until `expires_at`) | failed; a ready export past `expires_at` loses its file.
    """

    row_visibility = Personal()

    class Status(models.TextChoices):
        PENDING = "pending", "Being built"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired (file removed)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="personal_data_exports")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    file = models.FileField(upload_to=personal_data_export_path, max_length=300, blank=True)
    size_bytes = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    failure_reason = models.TextField(blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "personal data export"
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["user", "requested_at"], name="personal_export_user_idx")]
        constraints = [
            # At most one export being built per person: asking again returns it.
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status="pending"), name="personal_export_one_pending"
            )
        ]

    def __str__(self) -> str:
        return f"personal data export {self.id} ({self.status})"


class ErasureRequest(models.Model):
    """A person's request to be erased: scheduled for `due_at` (the grace period, during which
    they may cancel), carried out by the beat job or earlier by platform staff in the
    back-office; staff may also refuse it with a reason (a legal hold)."""

    row_visibility = Personal()

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CANCELLED = "cancelled", "Cancelled by the person"
        REFUSED = "refused", "Refused by staff"
        COMPLETED = "completed", "Carried out"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # PROTECT: the user row is never deleted, only anonymized; the request stays as its record.
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="erasure_requests")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    requested_at = models.DateTimeField(auto_now_add=True)
    due_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Platform staff who carried it out or refused it (empty when the beat job did).
    handled_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    staff_note = models.TextField(blank=True)

    class Meta:
        verbose_name = "erasure request"
        ordering = ["-requested_at"]
        indexes = [
            models.Index(fields=["user", "requested_at"], name="erasure_request_user_idx"),
            models.Index(fields=["due_at"], name="erasure_request_due_idx", condition=models.Q(status="scheduled")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status="scheduled"), name="erasure_request_one_scheduled"
            )
        ]

    def __str__(self) -> str:
        return f"erasure request {self.id} ({self.status})"
