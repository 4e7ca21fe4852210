"""The back-office: one Django admin for platform staff and for organization admins.

Platform staff see every organization (the TenantMiddleware puts their admin
requests in the audited all-tenants scope). An organization admin (an active
`org_admin` membership, no staff flag) sees only the organization chosen for the
session: the middleware sets that tenant for PostgreSQL, so row-level security
limits every admin query, and `OrganizationScopedAdmin` filters by it as well (the rows
the organization holds, from the model's `row_visibility`).
"""

from __future__ import annotations

from uuid import UUID

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.db import models
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from apps.accounts import services as accounts
from apps.core.context import user_scope
from apps.core.errors import DomainError
from apps.core.network import client_ip
from apps.tenancy.middleware import ADMIN_ORGANIZATION_SESSION_KEY
from apps.tenancy.roles import Actor, Role
from apps.tenancy.selectors import active_memberships_of

LOCKED_MESSAGE = "Too many failed sign-ins: sign-in is locked for a while. Try again later or ask an administrator."


def administered_memberships(*, user_id: UUID) -> list:
    """The user's active org_admin memberships: the organizations they may run in the admin."""
    return [m for m in active_memberships_of(user_id=user_id) if m.role == Role.ORG_ADMIN]


def admin_organization_id(request) -> UUID | None:
    """The organization an organization admin is working on (None for staff and everyone else)."""
    membership = getattr(request, "admin_membership", None)
    return membership.organization_id if membership else None


def is_platform_staff(request) -> bool:
    return request.user.is_active and request.user.is_staff


def admin_actor(request, *, organization_id: UUID | None = None) -> Actor:
    """Who acts on a back-office page: platform staff (for `organization_id` when the page
    works on one), or the organization admin for the organization chosen for the session."""
    if is_platform_staff(request):
        return Actor.staff(request.user.id, organization_id=organization_id)
    return Actor.of(request.admin_membership, user_id=request.user.id)


class BackOfficeAuthenticationForm(AdminAuthenticationForm):
    """Lets in platform staff and organization admins; everyone else gets the usual message.

    Staff, and anyone who has turned two-factor on, also give an authenticator code
    or a backup code (django-otp then marks the session verified). Failed attempts
    count towards the same lockout as the API's sign-in.
    """

    otp_token = forms.CharField(
        label="Authenticator code",
        required=False,
        max_length=32,
        help_text="The 6-digit code from your authenticator app, or a backup code.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )

    def clean(self):
        email = (self.cleaned_data.get("username") or "").strip().lower()
        ip = client_ip(self.request) if self.request else None
        known = accounts.user_get_by_email(email=email) if email else None
        if email and accounts.lockout_seconds_left(email=email, ip=ip, user=known):
            raise forms.ValidationError(LOCKED_MESSAGE, code="locked")
        try:
            cleaned = super().clean()
        except forms.ValidationError as error:
            if email and error.code == "invalid_login":
                accounts.lockout_record_failure(email=email, ip=ip, user=known)
            raise
        user = self.get_user()
        if user is not None and (user.is_staff or accounts.has_two_factor(user)):
            self._check_second_factor(user, email=email, ip=ip)
        return cleaned

    def _check_second_factor(self, user, *, email: str, ip: str | None) -> None:
        if not accounts.has_two_factor(user):
            raise forms.ValidationError(
                "Platform staff need two-factor authentication: turn it on through the API "
                "(POST /api/v1/auth/enable-2fa) before using the back-office.",
                code="2fa_not_enrolled",
            )
        device = accounts.second_factor_match(user=user, code=self.cleaned_data.get("otp_token", ""))
        if device is None:
            accounts.lockout_record_failure(email=email, ip=ip, user=user)
            raise forms.ValidationError(
                "Enter a current authenticator code or an unused backup code.", code="invalid_otp"
            )
        user.otp_device = device  # django-otp stores it in the session when Django logs the user in

    def confirm_login_allowed(self, user):
        if user.is_active and not user.is_staff:
            # Nobody is logged in yet, so the request's scope shows no memberships:
            # look at this user's own rows only.
            with user_scope(user.id):
                if administered_memberships(user_id=user.id):
                    return
        super().confirm_login_allowed(user)


class ManifestAdminSite(admin.AdminSite):
    site_header = "Manifest back-office"
    site_title = "Manifest"
    index_title = "Operations"
    site_url = None  # there is no public site behind "/": the API lives under /api/
    login_form = BackOfficeAuthenticationForm

    def has_permission(self, request):
        if is_platform_staff(request):
            return request.user.is_verified()  # passed TOTP at this session's login
        return request.user.is_active and getattr(request, "admin_membership", None) is not None

    def each_context(self, request):
        context = super().each_context(request)
        membership = getattr(request, "admin_membership", None)
        context["admin_membership"] = membership
        context["admin_memberships"] = getattr(request, "admin_memberships", [])
        return context

    def get_urls(self):
        switch = self.admin_view(require_POST(self.switch_organization))
        return [path("switch-organization/", switch, name="switch_organization"), *super().get_urls()]

    def switch_organization(self, request):
        """Store the chosen organization in the session; the next request works on it."""
        form = SwitchOrganizationForm(request.POST)
        administered = {m.organization_id: m for m in getattr(request, "admin_memberships", [])}
        if form.is_valid() and form.cleaned_data["organization"] in administered:
            chosen = administered[form.cleaned_data["organization"]]
            request.session[ADMIN_ORGANIZATION_SESSION_KEY] = str(chosen.organization_id)
            messages.success(request, f"You are now working on {chosen.organization.name}.")
        else:
            messages.error(request, "You are not an administrator of that organization.")
        target = request.POST.get("next") or reverse("admin:index")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = reverse("admin:index")
        return HttpResponseRedirect(target)


class SwitchOrganizationForm(forms.Form):
    organization = forms.UUIDField()


class OrganizationScopedAdmin(admin.ModelAdmin):
    """Base of every admin page an organization admin may use.

    Staff keep Django's model permissions. An organization admin gets the actions named
    in `org_admin_actions` on the rows their organization holds, as the model's
    `row_visibility` says (`Model.objects.visible_to`): its own rows, or those of which it
    is a party (either party of an order, an escrow, an offer). Writes go through the
    context's services (override `save_model`/`delete_model`), never the bare ORM.
    """

    # A page that shows an organization admin fewer rows than the model's visibility (the
    # ledger lines of their own accounts, not the other party's) names its column here.
    organization_lookup: str | None = None
    org_admin_actions: frozenset[str] = frozenset({"view"})
    # Django 6's default, chosen now: a bare "example.com" means https.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_platform_staff(request):
            return queryset
        organization_id = admin_organization_id(request)
        if organization_id is None:
            return queryset.none()
        if self.organization_lookup:
            return queryset.filter(**{self.organization_lookup: organization_id})
        return queryset.visible_to(organization_id)

    def _org_admin_may(self, request, action: str) -> bool:
        return admin_organization_id(request) is not None and action in self.org_admin_actions

    def has_module_permission(self, request):
        if is_platform_staff(request):
            return super().has_module_permission(request)
        return self._org_admin_may(request, "view")

    def has_view_permission(self, request, obj=None):
        if is_platform_staff(request):
            return super().has_view_permission(request, obj)
        return self._org_admin_may(request, "view") or self._org_admin_may(request, "change")

    def has_add_permission(self, request):
        if is_platform_staff(request):
            return super().has_add_permission(request)
        return self._org_admin_may(request, "add")

    def has_change_permission(self, request, obj=None):
        if is_platform_staff(request):
            return super().has_change_permission(request, obj)
        return self._org_admin_may(request, "change")

    def has_delete_permission(self, request, obj=None):
        if is_platform_staff(request):
            return super().has_delete_permission(request, obj)
        return self._org_admin_may(request, "delete")


class ServiceErrorsAsMessages:
    """Shows a service's DomainError as a message on the same page instead of a server error.

    The admin's change view runs in a savepoint, so whatever the view wrote before
    the error (its LogEntry included) is rolled back with it.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(request.get_full_path())
