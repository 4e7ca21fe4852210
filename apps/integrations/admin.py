"""The back-office of platform integrations: connected shops (here), and what their syncs left (the
sync log, quarantined orders, billing records, fulfilment pushes, probable duplicates:
apps/integrations/admin_records.py).

Who sees and does what:
- an organization admin (with `platform_integrations` on; off, the pages are hidden) connects its
  shops: the add page asks for the platform, then the shop and the platform's credential fields,
  and connects through `configuration_connect` (the platform checks the credentials first; they
  are kept encrypted and never shown back: the page shows their field names, masked). They rename
  a shop, change its interval, pause or resume it, give it new credentials (`configuration_update`),
  and ask for "Sync now" or a "Full re-sync";
- platform staff see every organization's shops with their health, and may start a sync for a
  seller; they neither connect nor change a seller's shop (its credentials are the seller's).
Every write is a service call.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.html import format_html_join

from apps.core.errors import DomainError
from apps.integrations import (
    admin_records,  # noqa: F401 - registers the sync log's, quarantine's, billing's, pushes' and duplicates' pages
    selectors,
    services,
)
from apps.integrations.adapters import adapter_class
from apps.integrations.admin_common import IntegrationsSwitchedOn, changelist_link
from apps.integrations.models import Platform, PlatformConfiguration
from apps.tenancy.admin_site import (
    OrganizationScopedAdmin,
    ServiceErrorsAsMessages,
    admin_actor,
    is_platform_staff,
)

CREDENTIAL_PREFIX = "credential_"
SHOP_FIELDS = ["name", "shop_id", "sync_interval"]
EDITABLE_FIELDS = ("name", "sync_interval", "is_active")


def _credential_field(name: str, *, required: bool, replacing: bool) -> forms.CharField:
    """A credential typed in and never rendered back (a password input that stays empty)."""
    if replacing:
        help_text = "To replace the credentials, give every required field; leave all empty to keep them."
    else:
        help_text = "" if required else "Optional."
    return forms.CharField(
        label=name.replace("_", " "),
        required=required and not replacing,
        max_length=4000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=help_text,
    )


def credential_form(platform: str, *, replacing: bool) -> type[forms.ModelForm]:
    """The shop's form with `platform`'s credential fields (`credential_<name>`): all required to
    connect; on a connected shop all optional (empty keeps the stored ones)."""
    adapter = adapter_class(platform)
    declared = {
        f"{CREDENTIAL_PREFIX}{name}": _credential_field(name, required=True, replacing=replacing)
        for name in adapter.credential_fields
    }
    declared.update(
        {
            f"{CREDENTIAL_PREFIX}{name}": _credential_field(name, required=False, replacing=replacing)
            for name in adapter.optional_credential_fields
        }
    )
    return type(f"{adapter.__name__}ShopForm", (ShopForm,), declared)


class ShopForm(forms.ModelForm):
    sync_interval = forms.IntegerField(
        required=False,
        min_value=1,
        help_text="Seconds between two scheduled syncs (at least a minute; empty: the default).",
    )

    class Meta:
        model = PlatformConfiguration
        fields = [*SHOP_FIELDS, "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and "sync_interval" in self.fields:
            self.fields["sync_interval"].required = True

    def credentials(self) -> dict[str, str]:
        """The credential fields typed in (empty ones left out)."""
        return {
            name.removeprefix(CREDENTIAL_PREFIX): value
            for name, value in self.cleaned_data.items()
            if name.startswith(CREDENTIAL_PREFIX) and value
        }


def platform_of(request) -> str:
    """The platform the add page connects a shop of (`?platform=`; "" until one is chosen)."""
    platform = request.GET.get("platform", "")
    return platform if platform in Platform.values else ""


@admin.register(PlatformConfiguration)
class PlatformConfigurationAdmin(IntegrationsSwitchedOn, ServiceErrorsAsMessages, OrganizationScopedAdmin):
    org_admin_actions = frozenset({"view", "add", "change"})
    list_display = [
        "name",
        "platform",
        "shop_id",
        "owner",
        "is_active",
        "health_shown",
        "last_sync_at",
        "last_success_at",
        "next_sync_at",
        "consecutive_failures",
        "last_error_code",
    ]
    list_filter = ["platform", "health", "is_active"]
    search_fields = ["name", "shop_id"]
    ordering = ["platform", "name", "id"]
    show_full_result_count = False
    actions = ["sync_now", "full_resync"]
    readonly_fields = [
        "platform",
        "shop_id",
        "owner",
        "credentials_shown",
        "health_shown",
        "watermark",
        "last_sync_at",
        "last_success_at",
        "next_sync_at",
        "consecutive_failures",
        "circuit_opened_at",
        "last_error_code",
        "last_error",
        "webhooks_registered_at",
        "records",
        "created_at",
        "updated_at",
    ]

    # --- the list ---

    def get_list_display(self, request):
        # An organization admin's shops are all their own: no organization column.
        if is_platform_staff(request):
            return self.list_display
        return [column for column in self.list_display if column != "owner"]

    def get_list_select_related(self, request):
        return ["organization"] if is_platform_staff(request) else []

    @admin.display(description="organization", ordering="organization__name")
    def owner(self, configuration: PlatformConfiguration) -> str:
        return configuration.organization.name

    @admin.display(description="health", ordering="health")
    def health_shown(self, configuration: PlatformConfiguration) -> str:
        if configuration.last_error_code and configuration.health != "HEALTHY":
            return f"{configuration.get_health_display()} ({configuration.last_error_code})"
        return configuration.get_health_display()

    # --- the shop's page ---

    @admin.display(description="credentials")
    def credentials_shown(self, configuration: PlatformConfiguration) -> str:
        summary = selectors.configuration_credential_summary(configuration)
        return ", ".join(f"{name} {masked}" for name, masked in summary.items()) or "-"

    @admin.display(description="what its syncs left")
    def records(self, configuration: PlatformConfiguration) -> str:
        lookup = {"configuration__id__exact": configuration.pk}
        links = [
            changelist_link("syncrun", "sync log", lookup),
            changelist_link("quarantinedorder", "quarantined orders", lookup),
            changelist_link("billingrecord", "billing records", {"link__configuration__id__exact": configuration.pk}),
            changelist_link("statuspush", "fulfilment pushes", {"link__configuration__id__exact": configuration.pk}),
        ]
        return format_html_join(" · ", "{}", ((link,) for link in links))

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            form = credential_form(platform_of(request), replacing=False)
            credentials = [name for name in form.base_fields if name.startswith(CREDENTIAL_PREFIX)]
            return [("Shop", {"fields": SHOP_FIELDS}), ("Credentials", {"fields": credentials})]
        fieldsets = [
            ("Shop", {"fields": [("platform", "shop_id"), "owner", "name", ("sync_interval", "is_active")]}),
            (
                "Health",
                {
                    "fields": [
                        "health_shown",
                        ("last_sync_at", "last_success_at", "next_sync_at"),
                        ("watermark", "consecutive_failures", "circuit_opened_at"),
                        ("last_error_code", "last_error"),
                        "webhooks_registered_at",
                        "records",
                    ]
                },
            ),
            ("Credentials", {"fields": ["credentials_shown"]}),
            ("Record", {"fields": [("created_at", "updated_at")]}),
        ]
        if self.has_change_permission(request, obj):
            form = credential_form(obj.platform, replacing=True)
            replacing = [name for name in form.base_fields if name.startswith(CREDENTIAL_PREFIX)]
            fieldsets[2] = ("Credentials", {"fields": ["credentials_shown", *replacing]})
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = credential_form(obj.platform if obj else platform_of(request), replacing=obj is not None)
        return super().get_form(request, obj, change=change, **kwargs)

    def add_view(self, request, form_url="", extra_context=None):
        """First the platform (each has its own credential fields), then the shop's form."""
        if not platform_of(request) and self.has_add_permission(request):
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": "Connect a shop",
                "platforms": Platform.choices,
            }
            return TemplateResponse(request, "admin/integrations/platformconfiguration/choose_platform.html", context)
        return super().add_view(request, form_url, extra_context)

    def has_add_permission(self, request):
        # Staff act for no organization: a shop is connected by its seller (see the module).
        return not is_platform_staff(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return not is_platform_staff(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # deactivated, never deleted: its platform orders are bound to it

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        actor = admin_actor(request)
        if change:
            changes = {name: data[name] for name in EDITABLE_FIELDS if name in form.changed_data}
            credentials = form.credentials()
            if credentials:
                changes["credentials"] = credentials
            saved = services.configuration_update(actor=actor, configuration_id=obj.pk, **changes)
        else:
            saved = services.configuration_connect(
                actor=actor,
                platform=platform_of(request),
                shop_id=data["shop_id"],
                name=data["name"],
                credentials=form.credentials(),
                sync_interval=data["sync_interval"],
            )
        # What the admin's messages and log read of the object: the row the service wrote.
        obj.pk, obj.platform, obj.organization_id = saved.pk, saved.platform, saved.organization_id
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        pass  # no relations: the service wrote everything (save_model)

    # --- actions ---

    def has_sync_permission(self, request) -> bool:
        return self.has_view_permission(request)

    @admin.action(description="Sync now (a run from the last watermark, at once)", permissions=["sync"])
    def sync_now(self, request, queryset):
        done = self._each(
            request,
            queryset,
            lambda row: services.configuration_sync_now(
                actor=admin_actor(request, organization_id=row.organization_id), configuration_id=row.pk
            ),
        )
        if done:
            self.message_user(request, f"Sync queued for {done} shop(s): see the sync log.", messages.SUCCESS)

    @admin.action(
        description="Full re-sync (every order of the initial look-back again; unchanged ones change nothing)",
        permissions=["sync"],
    )
    def full_resync(self, request, queryset):
        done = self._each(
            request,
            queryset,
            lambda row: services.configuration_sync_now(
                actor=admin_actor(request, organization_id=row.organization_id), configuration_id=row.pk, full=True
            ),
        )
        if done:
            self.message_user(request, f"Full re-sync queued for {done} shop(s): see the sync log.", messages.SUCCESS)

    def _each(self, request, queryset, call) -> int:
        """One call per selected shop (in primary-key order); a refusal names its shop, the others go."""
        done = 0
        for row in queryset.order_by("pk"):
            try:
                call(row)
            except DomainError as error:
                self.message_user(request, f"{row}: {error.message}", messages.ERROR)
            else:
                done += 1
        return done
