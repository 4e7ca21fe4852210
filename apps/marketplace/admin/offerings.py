"""Offerings with their tariffs: edited by their carrier's organization admin through the
catalogue services, moderated (hidden, put back) by platform staff."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.postgres.forms import SimpleArrayField

from apps.core.actors import Actor
from apps.core.errors import ValidationFailed
from apps.marketplace import services
from apps.marketplace.admin.common import StaffModerationMixin, acting_for, amount_with_currency, list_display_for
from apps.marketplace.models import HAZMAT_CLASSES, CargoType, ServiceOffering, Tariff
from apps.marketplace.services.catalog import OFFERING_FIELDS, TARIFF_FIELDS
from apps.tenancy.admin_site import OrganizationScopedAdmin, ServiceErrorsAsMessages, is_platform_staff

# Django's admin lays out `radiolist inline` choices side by side (its radio_fields HORIZONTAL).
CHOICES_ACROSS = {"class": "radiolist inline"}
WEEKDAYS = [(1, "Mon"), (2, "Tue"), (3, "Wed"), (4, "Thu"), (5, "Fri"), (6, "Sat"), (7, "Sun")]


def _show_service_errors(form: forms.Form, error: ValidationFailed) -> None:
    for field, problems in error.details.items():
        form.add_error(field if field in form.fields else None, problems)
    if not error.details:
        form.add_error(None, error.message)


class CountryListField(SimpleArrayField):
    """Comma-separated ISO 3166-1 alpha-2 codes (lower case accepted); empty means anywhere."""

    def __init__(self, **kwargs):
        super().__init__(forms.CharField(max_length=2), required=False, **kwargs)

    def clean(self, value):
        # Upper-cased here; unknown codes are the service's to refuse (offering_check).
        return [code.upper() for code in super().clean(value)]


class OfferingForm(forms.ModelForm):
    """The fields the catalogue services write, checked as the API checks them."""

    origin_countries = CountryListField(help_text="Comma-separated, e.g. DE,PL. Empty: anywhere.")
    destination_countries = CountryListField(help_text="Comma-separated, e.g. DE,PL. Empty: anywhere.")
    cargo_types = forms.MultipleChoiceField(
        choices=CargoType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs=CHOICES_ACROSS),
        help_text="None: any cargo.",
    )
    hazmat_classes = forms.MultipleChoiceField(
        choices=[(code, code) for code in HAZMAT_CLASSES],
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs=CHOICES_ACROSS),
        help_text="UN classes it carries; none: no dangerous goods.",
    )
    available_days = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs=CHOICES_ACROSS),
        help_text="Days it picks up on; none: every day.",
    )
    transit_days = forms.IntegerField(min_value=0, max_value=365)
    currency = forms.CharField(min_length=3, max_length=3, help_text="ISO 4217, e.g. EUR.")

    class Meta:
        model = ServiceOffering
        fields = list(OFFERING_FIELDS)

    def clean_currency(self):
        return self.cleaned_data["currency"].upper()

    def clean(self):
        cleaned = super().clean()
        try:
            services.offering_check({field: cleaned[field] for field in OFFERING_FIELDS if field in cleaned})
        except ValidationFailed as error:
            _show_service_errors(self, error)
        return cleaned


class TariffForm(forms.ModelForm):
    class Meta:
        model = Tariff
        fields = list(TARIFF_FIELDS)

    def clean(self):
        cleaned = super().clean()
        try:
            services.tariff_check(
                {field: cleaned[field] for field in TARIFF_FIELDS if field in cleaned},
                currency=self._offering_currency(),
            )
        except ValidationFailed as error:
            _show_service_errors(self, error)
        return cleaned

    def _offering_currency(self) -> str | None:
        # The inline formset sets the offering on the row before it is cleaned, with the
        # currency as submitted on the same page (the API checks charges the same way).
        offering = getattr(self.instance, "offering", None)
        return offering.currency if offering is not None else None


class TariffInline(admin.StackedInline):
    """An offering's tariffs, edited with it by its organization's admin (the parent page
    decides who opens it; row-level security limits the rows); read-only for staff."""

    model = Tariff
    form = TariffForm
    extra = 0
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("name", "tariff_type", "is_active"),
                    ("price_per_unit", "unit"),
                    ("minimum_charge", "maximum_charge"),
                    ("min_weight_kg", "max_weight_kg"),
                    ("min_distance_km", "max_distance_km"),
                    ("valid_from", "valid_until"),
                    ("seasonal_multiplier", "fuel_multiplier"),
                ]
            },
        )
    ]

    def has_view_permission(self, request, obj=None):
        return True  # Django's model permissions, which organization admins lack, would hide them

    def has_add_permission(self, request, obj=None):
        return acting_for(request) is not None

    def has_change_permission(self, request, obj=None):
        return acting_for(request) is not None

    def has_delete_permission(self, request, obj=None):
        return acting_for(request) is not None


@admin.register(ServiceOffering)
class ServiceOfferingAdmin(StaffModerationMixin, ServiceErrorsAsMessages, OrganizationScopedAdmin):
    org_admin_actions = frozenset({"view", "add", "change"})
    form = OfferingForm
    inlines = [TariffInline]
    # The two flags early: on a laptop's width the long labels push the last columns out.
    list_display = [
        "name",
        "organization_name",
        "active",
        "hidden",
        "service_type",
        "pricing_model",
        "base_price_with_currency",
        "transit_days",
    ]
    list_filter = ["service_type", "is_active", "is_hidden"]
    search_fields = ["name", "organization_name"]
    show_full_result_count = False
    actions = ["hide_from_catalogue", "put_back_in_catalogue"]
    readonly_fields = [
        "organization_name",
        "is_hidden",
        "hidden_reason",
        "rating_average",
        "rating_count",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["name", "organization_name", "service_type", "description", "is_active"]}),
        (
            "Coverage",
            {"fields": [("origin_countries", "destination_countries"), ("origin_cities", "destination_cities")]},
        ),
        (
            "Limits",
            {
                "fields": [
                    ("max_weight_kg", "max_volume_cbm"),
                    ("max_length_cm", "max_width_cm", "max_height_cm"),
                    "cargo_types",
                    "hazmat_classes",
                    ("temperature_controlled", "temperature_min_c", "temperature_max_c"),
                ]
            },
        ),
        ("Service level", {"fields": ["transit_days", ("sla_guarantee", "insurance_included", "tracking_included")]}),
        ("Pricing", {"fields": [("pricing_model", "base_price", "currency"), "is_free"]}),
        ("Availability", {"fields": ["available_days", ("available_from", "available_until")]}),
        ("Moderation", {"fields": [("is_hidden", "hidden_reason")]}),
        (
            "Record",
            {"classes": ["collapse"], "fields": [("rating_average", "rating_count"), ("created_at", "updated_at")]},
        ),
    ]

    def get_fieldsets(self, request, obj=None):
        if obj is not None:
            return self.fieldsets
        # A new offering: no organization name yet (the service copies it), nothing to moderate.
        first, *rest = self.fieldsets
        fields = [field for field in first[1]["fields"] if field != "organization_name"]
        return [(None, {"fields": fields}), *[part for part in rest if part[0] not in ("Moderation", "Record")]]

    def get_list_display(self, request):
        return list_display_for(request, self.list_display)

    @admin.display(description="base price", ordering="base_price")
    def base_price_with_currency(self, offering):
        return amount_with_currency(offering.base_price, offering.currency)

    @admin.display(description="active", boolean=True, ordering="is_active")
    def active(self, offering):
        return offering.is_active

    @admin.display(description="hidden", boolean=True, ordering="is_hidden")
    def hidden(self, offering):
        return offering.is_hidden

    # Staff act for no organization, and the services write for the actor's: see the package (__init__.py).

    def has_add_permission(self, request):
        return not is_platform_staff(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return not is_platform_staff(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # offers and quotes point at offerings: switch one off (is_active) instead

    def save_model(self, request, obj, form, change):
        actor = acting_for(request)
        if change:
            data = {field: form.cleaned_data[field] for field in form.changed_data if field in OFFERING_FIELDS}
            services.offering_update(actor=actor, offering_id=obj.pk, data=data)
            return
        data = {field: form.cleaned_data[field] for field in OFFERING_FIELDS if field in form.cleaned_data}
        created = services.offering_create(actor=actor, data=data)
        obj.pk = created.pk
        obj._state.adding = False

    def save_formset(self, request, form, formset, change):
        """Each tariff row through its service; what Django's change message reads is kept."""
        actor = acting_for(request)
        offering_id = form.instance.pk
        deleted = formset.deleted_forms if formset.can_delete else []
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for tariff_form in formset.initial_forms:
            tariff = tariff_form.instance
            if tariff_form in deleted:
                services.tariff_delete(actor=actor, offering_id=offering_id, tariff_id=tariff.pk)
                formset.deleted_objects.append(tariff)
            elif tariff_form.has_changed():
                changed = [field for field in tariff_form.changed_data if field in TARIFF_FIELDS]
                services.tariff_update(
                    actor=actor,
                    offering_id=offering_id,
                    tariff_id=tariff.pk,
                    data={field: tariff_form.cleaned_data[field] for field in changed},
                )
                formset.changed_objects.append((tariff, changed))
        for tariff_form in formset.extra_forms:
            if not tariff_form.has_changed() or tariff_form in deleted:
                continue
            cleaned = tariff_form.cleaned_data
            data = {field: cleaned[field] for field in TARIFF_FIELDS if field in cleaned}
            formset.new_objects.append(services.tariff_create(actor=actor, offering_id=offering_id, data=data))

    @admin.action(description="Hide from the catalogue", permissions=["moderate"])
    def hide_from_catalogue(self, request, queryset):
        reason = self.ask_reason(
            request,
            queryset,
            action="hide_from_catalogue",
            title="Hide offerings from the catalogue",
            help_text="Required. The carrier sees it on the offering.",
            button="Hide them",
        )
        if not isinstance(reason, str):
            return reason
        self.moderate_each(
            request,
            queryset.filter(is_hidden=False),
            lambda offering: services.offering_set_hidden(
                actor=Actor.staff(request.user.id), offering_id=offering.pk, hidden=True, reason=reason
            ),
            done="{count} offering(s) hidden from the catalogue.",
            nothing="Nothing to do: the selected offerings are hidden already.",
        )
        return None

    @admin.action(description="Put back in the catalogue", permissions=["moderate"])
    def put_back_in_catalogue(self, request, queryset):
        self.moderate_each(
            request,
            queryset.filter(is_hidden=True),
            lambda offering: services.offering_set_hidden(
                actor=Actor.staff(request.user.id), offering_id=offering.pk, hidden=False, reason=""
            ),
            done="{count} offering(s) back in the catalogue.",
            nothing="Nothing to do: the selected offerings are in the catalogue already.",
        )
