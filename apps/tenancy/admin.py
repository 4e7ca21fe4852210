"""Back-office pages of the tenancy context: organizations, members, feature flags, audit log.

Every write calls a service of apps.tenancy.services (audited there); a domain error
from a service comes back to the page as a message and changes nothing.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import OuterRef, Subquery
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from apps.core.admin import ReadOnlyAdminMixin
from apps.core.errors import DomainError
from apps.core.models import AuditLog
from apps.tenancy import services
from apps.tenancy.admin_site import (
    OrganizationScopedAdmin,
    ServiceErrorsAsMessages,
    admin_actor,
    admin_organization_id,
    is_platform_staff,
)
from apps.tenancy.features import FEATURES, ToggledBy
from apps.tenancy.models import Invitation, Membership, Organization
from apps.tenancy.selectors import feature_states

User = get_user_model()


# --- Organizations -------------------------------------------------------------------------


def _assume_https(db_field, **kwargs):
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


class OrganizationCreateForm(forms.ModelForm):
    first_admin_email = forms.EmailField(
        required=False, help_text="An existing user who becomes the organization's first admin."
    )

    class Meta:
        model = Organization
        fields = ["name", "slug", *services.STAFF_EDITABLE_FIELDS]
        formfield_callback = _assume_https

    def clean_first_admin_email(self):
        email = self.cleaned_data["first_admin_email"]
        if email and not User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("No user has this email address; create the user first.")
        return email


@admin.register(Organization)
class OrganizationAdmin(ServiceErrorsAsMessages, OrganizationScopedAdmin):
    org_admin_actions = frozenset({"view", "change"})

    list_display = [
        "name",
        "slug",
        "country",
        "business_type",
        "verification_level",
        "subscription_plan",
        "subscription_status",
        "is_active",
        "created_at",
    ]
    list_filter = ["business_type", "verification_level", "subscription_plan", "subscription_status", "is_active"]
    search_fields = ["name", "legal_name", "slug", "tax_id", "registration_number"]
    ordering = ["name"]
    readonly_fields = ["id", "slug", "verification_level", "feature_flags", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["id", "name", "legal_name", "slug", "business_type", "feature_flags"]}),
        ("Registration", {"fields": ["tax_id", "registration_number", "country", "verification_level", "code"]}),
        ("Contacts", {"fields": ["contact_email", "contact_phone", "website"]}),
        ("Address", {"fields": ["address_line1", "address_line2", "city", "region", "postal_code"]}),
        ("Subscription", {"fields": ["subscription_plan", "subscription_status", "is_active"]}),
        ("Settings", {"classes": ["collapse"], "fields": ["settings", "created_at", "updated_at"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []  # the add form is staff's, and sets the slug once
        readonly = list(self.readonly_fields)
        if not is_platform_staff(request):
            readonly += ["subscription_plan", "subscription_status", "is_active"]
        if obj.code or not is_platform_staff(request):
            readonly.append("code")  # fixed once given: its device passports carry it
        return readonly

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["first_admin_email", "name", "slug", *services.STAFF_EDITABLE_FIELDS]})]
        return self.fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = OrganizationCreateForm
        return super().get_form(request, obj, change=change, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return False  # an organization is switched off (is_active), never deleted: its records stay

    def save_model(self, request, obj, form, change):
        if change:
            original = Organization.objects.get(pk=obj.pk)
            services.organization_update(
                organization=original,
                actor=admin_actor(request, organization_id=original.id),
                data={field: form.cleaned_data[field] for field in form.changed_data},
                by_staff=is_platform_staff(request),
            )
            return
        admin_email = form.cleaned_data.get("first_admin_email")
        admin_user = User.objects.filter(email__iexact=admin_email).first() if admin_email else None
        created = services.organization_create(
            actor=admin_actor(request),
            name=form.cleaned_data["name"],
            slug=form.cleaned_data["slug"],
            admin_user_id=admin_user.id if admin_user else None,
            **{field: form.cleaned_data[field] for field in services.STAFF_EDITABLE_FIELDS if field != "name"},
        )
        obj.pk = created.pk
        obj._state.adding = False

    @admin.display(description="Feature flags")
    def feature_flags(self, obj):
        if obj.pk is None:
            return "-"
        url = reverse("admin:tenancy_organization_features", args=[obj.pk])
        return format_html('<a href="{}">Manage feature flags</a>', url)

    # The feature page: every catalogued flag, whether the organization is entitled to it
    # (staff decide) and whether it is switched on (org admins decide, for entitled ones).

    def get_urls(self):
        features = self.admin_site.admin_view(self.features_view)
        return [
            path("<uuid:object_id>/features/", features, name="tenancy_organization_features"),
            *super().get_urls(),
        ]

    def features_view(self, request, object_id):
        organization = self.get_queryset(request).filter(pk=object_id).first()
        if organization is None or not self.has_view_permission(request, organization):
            raise PermissionDenied
        may_change = self.has_change_permission(request, organization)
        staff = is_platform_staff(request)
        if request.method == "POST":
            if not may_change:
                raise PermissionDenied
            self._apply_feature_action(request, organization)
            return HttpResponseRedirect(request.get_full_path())
        states = feature_states(organization_id=organization.id)
        rows = [
            {
                "state": state,
                "may_toggle": may_change
                and state.is_entitled
                and (staff or state.feature.toggled_by == ToggledBy.ORG_ADMIN),
                "may_entitle": may_change and staff,
            }
            for state in states.values()
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Feature flags of {organization.name}",
            "opts": self.model._meta,
            "original": organization,
            "rows": rows,
        }
        return TemplateResponse(request, "admin/tenancy/organization/features.html", context)

    @staticmethod
    def _apply_feature_action(request, organization) -> None:
        name, action = request.POST.get("feature", ""), request.POST.get("action", "")
        staff = is_platform_staff(request)
        try:
            if action in ("enable", "disable"):
                if staff:
                    services.feature_set_entitlement(
                        organization_id=organization.id,
                        actor=admin_actor(request, organization_id=organization.id),
                        name=name,
                        entitled=True,
                        enabled=action == "enable",
                    )
                else:
                    services.feature_set_enabled(
                        organization_id=organization.id,
                        actor=admin_actor(request, organization_id=organization.id),
                        name=name,
                        enabled=action == "enable",
                    )
            elif action in ("entitle", "withdraw") and staff:
                services.feature_set_entitlement(
                    organization_id=organization.id,
                    actor=admin_actor(request, organization_id=organization.id),
                    name=name,
                    entitled=action == "entitle",
                )
            else:
                messages.error(request, "Unknown action.")
                return
        except DomainError as error:
            messages.error(request, error.message)
            return
        outcome = {"enable": "switched on", "disable": "switched off", "entitle": "granted", "withdraw": "withdrawn"}
        messages.success(request, f"{FEATURES[name].label}: {outcome[action]}.")


# --- Members -------------------------------------------------------------------------------


class InvitationForm(forms.ModelForm):
    email = forms.EmailField(help_text="The person who owns this address becomes a member only by accepting.")

    class Meta:
        model = Invitation
        fields = ["organization", "email", "role"]


@admin.register(Invitation)
class InvitationAdmin(ServiceErrorsAsMessages, OrganizationScopedAdmin):
    """Adding a member is inviting an address: the person accepts (or not) from their own
    account, and the page shows nothing of them but the address typed."""

    org_admin_actions = frozenset({"view", "add"})
    list_display = ["email", "organization", "role", "shown_status", "expires_at", "created_at"]
    list_filter = ["status", "role"]
    search_fields = ["email"]
    list_select_related = ["organization"]
    ordering = ["-created_at"]
    actions = ["revoke_invitations"]
    fields = ["organization", "email", "role", "shown_status", "expires_at", "invited_by", "created_at"]
    readonly_fields = fields

    @admin.display(description="status")
    def shown_status(self, obj):
        return obj.current_status

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None and not is_platform_staff(request):
            kwargs["exclude"] = ["organization"]  # an org admin invites into their own organization
        return super().get_form(request, obj, change=change, form=InvitationForm, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["organization", "email", "role"] if is_platform_staff(request) else ["email", "role"]
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def has_change_permission(self, request, obj=None):
        return False  # an invitation is answered by its invitee, or revoked (the action)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        if is_platform_staff(request) or self._org_admin_may(request, "add"):
            return actions
        return {}

    def save_model(self, request, obj, form, change):
        organization = form.cleaned_data.get("organization") or Organization.objects.get(
            pk=admin_organization_id(request)
        )
        invitation = services.invitation_create(
            organization=organization,
            actor=admin_actor(request, organization_id=organization.id),
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
        )
        obj.pk = invitation.pk
        obj._state.adding = False

    @admin.action(description="Revoke the selected pending invitations")
    def revoke_invitations(self, request, queryset):
        revoked = 0
        for invitation in queryset.filter(status=Invitation.Status.PENDING).order_by("pk"):
            try:
                services.invitation_revoke(
                    invitation=invitation, actor=admin_actor(request, organization_id=invitation.organization_id)
                )
                revoked += 1
            except DomainError as error:
                messages.error(request, f"{invitation.email}: {error.message}")
        self.message_user(request, f"{revoked} invitation(s) revoked.")


class MemberChangeForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["role", "extra_permissions", "is_active"]


@admin.register(Membership)
class MembershipAdmin(ServiceErrorsAsMessages, OrganizationScopedAdmin):
    # No "add": people join by accepting an invitation (InvitationAdmin above).
    org_admin_actions = frozenset({"view", "change"})

    list_display = ["user_email", "organization", "role", "is_active", "joined_at"]
    list_filter = ["role", "is_active"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    list_select_related = ["user", "organization"]
    ordering = ["organization__name", "user__email"]
    readonly_fields = ["user", "organization", "invited_by", "joined_at", "created_at", "updated_at"]

    @admin.display(description="user", ordering="user__email")
    def user_email(self, obj):
        return obj.user.email

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = MemberChangeForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        return [
            (None, {"fields": ["user", "organization", "role", "extra_permissions", "is_active"]}),
            ("History", {"fields": ["invited_by", "joined_at", "created_at", "updated_at"]}),
        ]

    def has_add_permission(self, request):
        return False  # for staff too: a membership needs its person's consent

    def has_delete_permission(self, request, obj=None):
        return False  # members are deactivated, so that what they did stays attributed

    def save_model(self, request, obj, form, change):
        original = Membership.objects.select_related("user", "organization").get(pk=obj.pk)
        actor = admin_actor(request, organization_id=original.organization_id)
        data = form.cleaned_data
        if original.is_active and not data["is_active"]:
            services.member_deactivate(membership=original, actor=actor)
        elif not original.is_active and data["is_active"]:
            # Coming back is joining again: the former member is invited and decides.
            services.invitation_create(
                organization=original.organization, actor=actor, email=original.user.email, role=data["role"]
            )
            messages.info(request, f"{original.user.email} was invited back; they become a member once they accept.")
        elif {"role", "extra_permissions"} & set(form.changed_data):
            services.member_update(
                membership=original,
                actor=actor,
                role=data["role"],
                extra_permissions=data["extra_permissions"],
            )


# --- Audit log -----------------------------------------------------------------------------


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """Read-only for everyone: the database refuses changes anyway."""

    org_admin_actions = frozenset({"view"})
    list_display = ["occurred_at", "action", "resource_type", "resource_id", "actor_email", "ip_address"]
    list_filter = ["action", "resource_type"]
    search_fields = ["action", "resource_id", "request_id"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False  # the table only grows: skip the second COUNT(*)

    def get_queryset(self, request):
        email = User.objects.filter(id=OuterRef("actor_id")).values("email")[:1]
        return super().get_queryset(request).annotate(actor_email=Subquery(email))

    @admin.display(description="actor")
    def actor_email(self, obj):
        return obj.actor_email or obj.actor_id or "-"

    def get_list_display(self, request):
        if is_platform_staff(request):
            return [*self.list_display, "organization_id"]
        return self.list_display
