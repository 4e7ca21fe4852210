"""Back-office for user accounts: platform staff only (organization admins manage
their members through the membership pages of the tenancy admin)."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import ErasureRequest
from apps.accounts.services import personal_data, two_factor_reset, user_unlock
from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.errors import DomainError

User = get_user_model()


class UserAddForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("email",)


class UserEditForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserAddForm
    list_display = [
        "email",
        "first_name",
        "last_name",
        "is_staff",
        "is_superuser",
        "is_active",
        "locked_until",
        "last_login",
    ]
    list_filter = ["is_staff", "is_superuser", "is_active", ("locked_until", admin.EmptyFieldListFilter)]
    actions = ["unlock_sign_in", "reset_two_factor"]
    search_fields = ["email", "first_name", "last_name", "phone"]
    ordering = ["email"]
    readonly_fields = [
        "last_login",
        "email_verified_at",
        "password_changed_at",
        "failed_login_count",
        "locked_until",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["first_name", "last_name", "phone", "timezone", "language"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Sign-in", {"fields": ["email_verified_at", "password_changed_at", "failed_login_count", "locked_until"]}),
        ("History", {"fields": ["last_login", "created_at", "updated_at"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "usable_password", "password1", "password2"]})]

    @admin.action(description="Lift the sign-in lockout of the selected users")
    def unlock_sign_in(self, request, queryset):
        for user_id in queryset.values_list("pk", flat=True):
            user_unlock(user_id=user_id, actor=Actor.staff(request.user.id))
        self.message_user(request, "Sign-in lockout lifted.")

    @admin.action(description="Turn off two-factor for the selected users (they enrol again)")
    def reset_two_factor(self, request, queryset):
        actor = Actor.staff(request.user.id)
        reset = sum(two_factor_reset(user_id=pk, actor=actor) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"Two-factor turned off for {reset} user(s).")

    def has_delete_permission(self, request, obj=None):
        return False  # accounts are deactivated (is_active), so that their history stays attributed

    # Django's admin builds a change message and calls log_change after every change,
    # the password form included: the audit log records who changed which fields
    # (for the password, only that it changed).

    def construct_change_message(self, request, form, formsets, add=False):
        request.audited_fields = sorted(
            {"password" if field.startswith("password") else field for field in form.changed_data}
        )
        return super().construct_change_message(request, form, formsets, add)

    def log_addition(self, request, obj, message):
        audit_record(action="user.created", resource_type="user", resource_id=obj.pk, new_values={"email": obj.email})
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        fields = getattr(request, "audited_fields", [])
        audit_record(action="user.updated", resource_type="user", resource_id=obj.pk, new_values={"fields": fields})
        return super().log_change(request, obj, message)


@admin.register(ErasureRequest)
class ErasureRequestAdmin(admin.ModelAdmin):
    """Platform staff see every erasure request; they carry a scheduled one out before its
    grace period ends, or refuse it with a reason (a legal hold). Otherwise the hourly job
    carries it out when due (docs/accounts.md, "Personal data")."""

    list_display = ["id", "user", "status", "requested_at", "due_at", "completed_at", "handled_by"]
    list_filter = ["status"]
    search_fields = ["id", "user__email"]
    list_select_related = ["user", "handled_by"]
    ordering = ["-requested_at"]
    actions = ["carry_out_now", "refuse"]
    readonly_fields = ["id", "user", "status", "requested_at", "due_at", "cancelled_at", "completed_at", "handled_by"]
    fields = [*readonly_fields, "staff_note"]

    def has_add_permission(self, request):
        return False  # the person asks, through the API

    def has_delete_permission(self, request, obj=None):
        return False  # the request is the record that the erasure was asked for and done

    def save_model(self, request, obj, form, change):
        # The staff note is the only field the form edits; it goes through its service (audited).
        personal_data.erasure_request_note(request_id=obj.pk, actor=Actor.staff(request.user.id), note=obj.staff_note)

    @admin.action(description="Carry out the selected erasures now")
    def carry_out_now(self, request, queryset):
        done = 0
        for request_id in queryset.values_list("pk", flat=True):
            try:
                personal_data.erasure_carry_out(request_id=request_id, actor=Actor.staff(request.user.id))
                done += 1
            except DomainError as error:
                self.message_user(request, f"{request_id}: {error.message}", messages.ERROR)
        self.message_user(request, f"{done} erasure(s) carried out.")

    @admin.action(description="Refuse the selected erasures (write the reason in the staff note first)")
    def refuse(self, request, queryset):
        for erasure in queryset:
            try:
                personal_data.erasure_request_refuse(
                    request_id=erasure.pk, actor=Actor.staff(request.user.id), note=erasure.staff_note
                )
            except DomainError as error:
                self.message_user(request, f"{erasure.pk}: {error.message}", messages.ERROR)


# django-otp's own device admin shows and edits the TOTP secrets: nobody needs that.
# Staff turn a user's two-factor off with the action above instead.
admin.site.unregister(TOTPDevice)
