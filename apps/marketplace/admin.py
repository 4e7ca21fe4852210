"""Back-office of the marketplace: carriers' offerings with their tariffs, shippers' RFQs
with their offers and history, and the offers with their revisions.

Who does what here:
- an organization admin works on the organization chosen for the session: they see its
  offerings and edit them and their tariffs inline, through the catalogue services
  (`offering_create`, `offering_update`, `tariff_create`, `tariff_update`,
  `tariff_delete`), acting as their membership (`acting_for`); they see its RFQs and the
  offers on them, and the offers it made or received, read-only (RFQs and offers are
  written by their parties through the API, where the lifecycle rules live);
- platform staff see every organization's rows but edit none of them: the back-office
  puts their requests in the all-tenants scope, acting for no organization, and the
  catalogue services act for an organization (the actor's) only. Impersonating the
  carrier would put the carrier's name on a change it did not make, so staff only
  moderate: hide an offering from the catalogue (with a reason) or put it back, and
  close an abusive open RFQ (with a reason). Those services audit each change.

A service's refusal comes back as an error message and changes nothing (the change view
runs in a savepoint, see ServiceErrorsAsMessages); the forms run the services' own checks
first (`check_offering`, `check_tariff`), so that a contradiction is shown beside its
field with what was typed kept.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.postgres.forms import SimpleArrayField
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join

from apps.core.admin import ReadOnlyAdminMixin
from apps.core.errors import DomainError, ValidationFailed
from apps.core.money import minor_units
from apps.marketplace import services
from apps.marketplace.models import (
    HAZMAT_CLASSES,
    CargoType,
    Offer,
    OfferRevision,
    OfferStatus,
    OfferStatusChange,
    Rfq,
    RfqStatusChange,
    ServiceOffering,
    Tariff,
)
from apps.marketplace.services.catalog import OFFERING_FIELDS, TARIFF_FIELDS
from apps.tenancy.admin import ServiceErrorsAsMessages
from apps.tenancy.admin_site import OrganizationScopedAdmin, is_platform_staff
from apps.tenancy.roles import Actor

# Django's admin lays out `radiolist inline` choices side by side (its radio_fields HORIZONTAL).
CHOICES_ACROSS = {"class": "radiolist inline"}
WEEKDAYS = [(1, "Mon"), (2, "Tue"), (3, "Wed"), (4, "Thu"), (5, "Fri"), (6, "Sat"), (7, "Sun")]


def acting_for(request) -> Actor | None:
    """The organization admin as the services see them; None for platform staff, who act
    for no organization in the back-office."""
    membership = getattr(request, "admin_membership", None)
    if membership is None:
        return None
    return Actor.of(membership, user_id=request.user.id)


def amount_with_currency(amount: Decimal, currency: str) -> str:
    """`1850.00 EUR`, `0.0125 EUR`: the currency's minor units at least, no trailing zeros past them."""
    whole, _, fraction = f"{amount:f}".partition(".")
    fraction = fraction.rstrip("0").ljust(minor_units(currency), "0")
    return f"{whole}.{fraction} {currency}" if fraction else f"{whole} {currency}"


def list_display_for(request, columns: list[str]) -> list[str]:
    """The columns of a list; an organization admin's rows are all their organization's,
    so its name is left out for them."""
    return columns if is_platform_staff(request) else [column for column in columns if column != "organization_name"]


def _show_service_errors(form: forms.Form, error: ValidationFailed) -> None:
    for field, problems in error.details.items():
        form.add_error(field if field in form.fields else None, problems)
    if not error.details:
        form.add_error(None, error.message)


# --- Offerings and tariffs --------------------------------------------------------------------


class CountryListField(SimpleArrayField):
    """Comma-separated ISO 3166-1 alpha-2 codes (lower case accepted); empty means anywhere."""

    def __init__(self, **kwargs):
        super().__init__(forms.CharField(max_length=2), required=False, **kwargs)

    def clean(self, value):
        # Upper-cased here; unknown codes are the service's to refuse (check_offering).
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
            services.check_offering({field: cleaned[field] for field in OFFERING_FIELDS if field in cleaned})
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
            services.check_tariff(
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


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), error_messages={"required": "Say why."}
    )

    def __init__(self, *args, help_text: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = help_text


class StaffModerationMixin:
    """Actions only platform staff get (`permissions=["moderate"]`); the ones that need a
    reason ask for it on an intermediate page, as the KYC review asks why a document is
    rejected: no reason, nothing happens."""

    def has_moderate_permission(self, request):
        return is_platform_staff(request)

    def ask_reason(self, request, queryset, *, action: str, title: str, help_text: str, button: str):
        """The reason given with the confirmed action, or the page asking for it."""
        confirmed = "apply" in request.POST
        form = ReasonForm(request.POST if confirmed else None, help_text=help_text)
        if confirmed and form.is_valid():
            return form.cleaned_data["reason"]
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "queryset": queryset,
            "form": form,
            "action": action,
            "button": button,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/marketplace/action_reason.html", context)

    def moderate_each(self, request, queryset, change, *, done: str, nothing: str = "") -> None:
        """Apply `change` to each row, in primary-key order: the rows stay locked until the
        request's transaction ends, so two staff acting on overlapping rows lock them in one
        order and cannot deadlock. A refusal names its row and leaves the others done."""
        rows = list(queryset.order_by("pk"))
        if not rows:
            self.message_user(request, nothing or "Nothing to do.", messages.WARNING)
            return
        count = 0
        for row in rows:
            try:
                change(row)
            except DomainError as error:
                self.message_user(request, f"{row}: {error.message}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, done.format(count=count), messages.SUCCESS)


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
        ("Pricing", {"fields": [("pricing_model", "base_price", "currency")]}),
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

    # Staff act for no organization, and the services write for the actor's: see the module.

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
                offering_id=offering.pk, hidden=True, reason=reason, staff_user_id=request.user.id
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
                offering_id=offering.pk, hidden=False, reason="", staff_user_id=request.user.id
            ),
            done="{count} offering(s) back in the catalogue.",
            nothing="Nothing to do: the selected offerings are in the catalogue already.",
        )


# --- RFQs and offers --------------------------------------------------------------------------


class MarketplacePartInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Rows shown on their parent's page, read-only. Whoever may open the page may see them
    (row-level security limits the rows); Django's model permissions would hide them from
    organization admins."""

    extra = 0

    def has_view_permission(self, request, obj=None):
        return True


class OfferInline(MarketplacePartInline):
    model = Offer
    verbose_name_plural = "offers"
    fields = [
        "carrier_organization_name",
        "status",
        "version",
        "price",
        "currency",
        "transit_days",
        "valid_until",
        "decision_note",
    ]
    readonly_fields = fields
    ordering = ["created_at", "id"]
    show_change_link = True


class RfqStatusChangeInline(MarketplacePartInline):
    model = RfqStatusChange
    verbose_name_plural = "history"
    fields = ["created_at", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields
    ordering = ["created_at", "id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Rfq)
class RfqAdmin(StaffModerationMixin, ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """RFQs are written by their shipper through the API; here they are read, and staff
    close an abusive one."""

    org_admin_actions = frozenset({"view"})
    list_display = [
        "rfq_number",
        "title",
        "organization_name",
        "status",
        "audience",
        "weight_kg",
        "deadline",
        "live_offers",
    ]
    list_filter = ["status", "audience", "service_type"]
    search_fields = ["number", "title"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [OfferInline, RfqStatusChangeInline]
    actions = ["close_as_abusive"]
    fieldsets = [
        (None, {"fields": ["number", "title", "organization_name", "status", "description"]}),
        ("Audience", {"fields": ["audience", "invited_organization_ids", "service_type"]}),
        (
            "Cargo",
            {
                "fields": [
                    ("weight_kg", "volume_cbm", "pallet_count"),
                    ("length_cm", "width_cm", "height_cm"),
                    ("cargo_type", "hazmat_class"),
                    ("temperature_min_c", "temperature_max_c"),
                    ("declared_value", "currency"),
                ]
            },
        ),
        ("Route", {"fields": ["route"]}),
        (
            "Timeline",
            {
                "fields": [
                    ("created_at", "published_at", "deadline"),
                    ("closed_at", "close_reason"),
                    ("awarded_offer", "order"),
                ]
            },
        ),
    ]
    readonly_fields = [
        "route",
        *[field.name for field in Rfq._meta.fields if field.name not in {"id", "organization", "segments"}],
    ]

    def get_queryset(self, request):
        # The count of live offers in the query of the rows, not one query per row. A
        # subquery rather than a join: the page's count and date queries leave it out, and
        # the partial index of one live offer per carrier answers it.
        live = (
            Offer.objects.filter(rfq=OuterRef("pk"), status=OfferStatus.SUBMITTED)
            .order_by()
            .values("rfq")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return super().get_queryset(request).annotate(live_offer_count=Coalesce(Subquery(live), 0))

    def get_list_display(self, request):
        return list_display_for(request, self.list_display)

    @admin.display(description="number", ordering="number")
    def rfq_number(self, rfq):
        return format_html('<span style="white-space: nowrap">{}</span>', rfq.number)

    @admin.display(description="live offers", ordering="live_offer_count")
    def live_offers(self, rfq):
        return rfq.live_offer_count

    @admin.display(description="route")
    def route(self, rfq):
        def place(stop: dict) -> str:
            return ", ".join(part for part in (stop.get("city"), stop.get("country")) if part)

        legs = sorted(rfq.segments or [], key=lambda leg: leg.get("sequence") or 0)
        if not legs:
            return "-"
        return " → ".join([place(legs[0].get("origin") or {}), *(place(leg.get("destination") or {}) for leg in legs)])

    @admin.action(description="Close (abusive)", permissions=["moderate"])
    def close_as_abusive(self, request, queryset):
        reason = self.ask_reason(
            request,
            queryset,
            action="close_as_abusive",
            title="Close abusive RFQs",
            help_text="Required. The shipper and the carriers whose offers are rejected see it.",
            button="Close them",
        )
        if not isinstance(reason, str):
            return reason
        self.moderate_each(
            request,
            queryset,
            lambda rfq: services.rfq_close_by_staff(rfq_id=rfq.pk, staff_user_id=request.user.id, reason=reason),
            done="{count} RFQ(s) closed; their live offers were rejected.",
        )
        return None


class OfferRevisionInline(MarketplacePartInline):
    model = OfferRevision
    verbose_name_plural = "revisions"
    fields = ["version", "price", "currency", "transit_days", "valid_until", "conditions", "created_at"]
    readonly_fields = fields
    ordering = ["version"]


class OfferStatusChangeInline(MarketplacePartInline):
    model = OfferStatusChange
    verbose_name_plural = "history"
    fields = ["created_at", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields
    ordering = ["created_at", "id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Offer)
class OfferAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """Offers, read-only: their carrier and the RFQ's owner see them, no other carrier."""

    org_admin_actions = frozenset({"view"})
    list_display = [
        "rfq_number",
        "carrier_organization_name",
        "status",
        "version",
        "price",
        "currency",
        "valid_until",
    ]
    list_filter = ["status"]
    search_fields = ["rfq_number", "carrier_organization_name"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [OfferRevisionInline, OfferStatusChangeInline]
    fields = [
        ("rfq_number", "carrier_organization_name"),
        ("status", "version"),
        ("price", "currency", "transit_days"),
        "valid_until",
        "conditions",
        "breakdown",
        ("decided_at", "decision_note"),
        ("created_at", "updated_at"),
    ]
    # The RFQ, the offering and the two organizations are left out: once the RFQ closes,
    # row-level security hides it from a losing carrier; the names are copied onto the row.
    readonly_fields = [
        "breakdown",
        "rfq_number",
        "carrier_organization_name",
        "status",
        "version",
        "price",
        "currency",
        "transit_days",
        "valid_until",
        "conditions",
        "decided_at",
        "decision_note",
        "created_at",
        "updated_at",
    ]

    @admin.display(description="price breakdown")
    def breakdown(self, offer):
        """The quote the price was pre-filled from, line by line (apps.marketplace.pricing)."""
        quote = offer.price_breakdown or {}
        if not quote.get("lines"):
            return "None: the carrier gave the price."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td style='text-align:right'>{}</td></tr>",
            (
                (
                    line.get("name", ""),
                    line.get("quantity") or "",
                    line.get("unit", ""),
                    line.get("rate") or "",
                    line.get("multiplier") or "",
                    line.get("amount", ""),
                )
                for line in quote["lines"]
            ),
        )
        skipped = format_html_join(
            "", "<li>{}</li>", ((reason.get("message", ""),) for reason in quote.get("skipped_tariffs", []))
        )
        return format_html(
            "<table><tr><th>line</th><th>quantity</th><th>unit</th><th>rate</th><th>multiplier</th><th>amount</th></tr>"
            "{}<tr><th colspan='5'>total</th><th style='text-align:right'>{} {}</th></tr></table>{}",
            rows,
            quote.get("total", ""),
            quote.get("currency", ""),
            format_html("<p>Tariffs that did not apply:</p><ul>{}</ul>", skipped) if skipped else "",
        )
