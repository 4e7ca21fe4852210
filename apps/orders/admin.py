"""Back-office for orders and warehouses. Orders are read here (their lifecycle moves
through the API, where the party and permission rules live); warehouses are edited
through the orders services."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from apps.core.actors import Actor
from apps.core.admin import ReadOnlyAdminMixin
from apps.core.errors import DomainError
from apps.orders import services
from apps.orders.models import (
    Order,
    OrderItem,
    OrderReturn,
    OrderStatusChange,
    Package,
    Shipment,
    ShipmentAmendment,
    UnmatchedArrival,
    Warehouse,
)
from apps.tenancy.admin_site import (
    OrganizationScopedAdmin,
    ServiceErrorsAsMessages,
    admin_actor,
    admin_organization_id,
    is_platform_staff,
)


class OrderPartInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Parts of an order shown on its page. Whoever may open the page (OrderAdmin decides,
    row-level security limits the rows) may see them; Django's model permissions, which
    organization admins do not hold, would hide them."""

    extra = 0

    def has_view_permission(self, request, obj=None):
        return True


class OrderItemInline(OrderPartInline):
    model = OrderItem
    fields = ["sku", "name", "quantity", "unit_price", "currency"]
    readonly_fields = fields


class OrderStatusChangeInline(OrderPartInline):
    model = OrderStatusChange
    verbose_name_plural = "history"
    fields = ["at", "from_status", "to_status", "by", "acting_organization", "reason"]
    readonly_fields = fields
    ordering = ["at", "id"]


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """Orders, read-only: either party's organization admin sees them."""

    list_display = [
        "number",
        "kind",
        "status",
        "payment_status",
        "client_organization_name",
        "supplier_organization_name",
        "total_amount",
        "currency",
        "created_at",
    ]
    list_filter = ["status", "kind", "payment_status"]
    search_fields = ["number", "client_organization_name", "supplier_organization_name"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [OrderItemInline, OrderStatusChangeInline]
    readonly_fields = [
        field.name for field in Order._meta.fields if field.name not in {"client_organization", "supplier_organization"}
    ]
    exclude = ["client_organization", "supplier_organization"]


class ShipmentAmendmentInline(OrderPartInline):
    model = ShipmentAmendment
    fields = ["amended_at", "amended_by", "acting_organization", "order_status", "changed_fields"]
    fields += ["old_values", "new_values"]
    readonly_fields = fields


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """Freight orders' shipments, read-only (the parties edit them through the API, where the
    part and stage rules live), with their amendments after loading."""

    list_display = ["order", "taking_over_place", "delivery_place", "vehicle_plate", "updated_at"]
    list_select_related = ["order"]
    search_fields = ["order__number", "customer_reference", "booking_reference", "vehicle_plate"]
    show_full_result_count = False
    inlines = [ShipmentAmendmentInline]
    exclude = ["client_organization", "supplier_organization"]
    readonly_fields = [
        field.name
        for field in Shipment._meta.fields
        if field.name not in {"client_organization", "supplier_organization"}
    ]

    @admin.display(description="taking over")
    def taking_over_place(self, shipment):
        return _place(shipment.taking_over)

    @admin.display(description="delivery")
    def delivery_place(self, shipment):
        return _place(shipment.delivery)


def _place(place: dict) -> str:
    return ", ".join(value for value in (place.get("city"), place.get("country")) if value)


class ReceiveForm(forms.Form):
    tracking_number = forms.CharField(max_length=64, widget=forms.TextInput(attrs={"autofocus": True}))
    weight_g = forms.IntegerField(min_value=1, label="Weight (g)")
    length_cm = forms.IntegerField(min_value=1, label="Length (cm)")
    width_cm = forms.IntegerField(min_value=1, label="Width (cm)")
    height_cm = forms.IntegerField(min_value=1, label="Height (cm)")


@admin.register(Warehouse)
class WarehouseAdmin(ServiceErrorsAsMessages, OrganizationScopedAdmin):
    org_admin_actions = frozenset({"view", "add", "change"})
    list_display = ["name", "code", "organization", "country", "city", "timezone", "is_active", "receive_link"]
    list_filter = ["is_active", "country"]
    search_fields = ["name", "code", "city"]
    list_select_related = ["organization"]

    def get_fields(self, request, obj=None):
        fields = list(services.WAREHOUSE_FIELDS)
        return ["organization", *fields] if is_platform_staff(request) and obj is None else fields

    def has_delete_permission(self, request, obj=None):
        return False  # orders point at warehouses: switch one off (is_active) instead

    @admin.display(description="receiving")
    def receive_link(self, warehouse):
        url = reverse("admin:orders_warehouse_receive", args=[warehouse.pk])
        return format_html('<a href="{}">Receive parcels</a>', url)

    # The receiving screen: scan a tracking number, weigh and measure, and the parcel is
    # matched to its order (or kept as an unmatched arrival) by services.warehouse_receive.

    def get_urls(self):
        receive = self.admin_site.admin_view(self.receive_view)
        return [path("<uuid:object_id>/receive/", receive, name="orders_warehouse_receive"), *super().get_urls()]

    def receive_view(self, request, object_id):
        membership = getattr(request, "admin_membership", None)
        warehouse = self.get_queryset(request).filter(pk=object_id).first()
        if warehouse is None:
            raise PermissionDenied
        if membership is None or membership.organization_id != warehouse.organization_id:
            # Receiving acts for the warehouse's organization: platform staff look, members receive.
            raise PermissionDenied
        form = ReceiveForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            actor = Actor.of(membership, user_id=request.user.id)
            try:
                result = services.warehouse_receive(
                    warehouse=warehouse,
                    actor=actor,
                    tracking_number=data["tracking_number"],
                    measurements=services.Measurements(
                        weight_g=data["weight_g"],
                        length_cm=data["length_cm"],
                        width_cm=data["width_cm"],
                        height_cm=data["height_cm"],
                    ),
                )
            except DomainError as error:
                messages.error(request, error.message)
            else:
                level = messages.SUCCESS if result.outcome == "matched" else messages.WARNING
                messages.add_message(request, level, f"{data['tracking_number']}: {result.message}")
                return HttpResponseRedirect(request.path)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Receive parcels at {warehouse}",
            "opts": self.model._meta,
            "original": warehouse,
            "form": form,
            "recent": Package.objects.filter(current_warehouse=warehouse).order_by("-received_at")[:10],
            "unmatched": UnmatchedArrival.objects.filter(warehouse=warehouse, resolved_at__isnull=True)[:10],
        }
        return TemplateResponse(request, "admin/orders/warehouse/receive.html", context)

    def save_model(self, request, obj, form, change):
        data = {field: form.cleaned_data[field] for field in form.changed_data if field in services.WAREHOUSE_FIELDS}
        if change:
            original = Warehouse.objects.get(pk=obj.pk)
            actor = admin_actor(request, organization_id=original.organization_id)
            services.warehouse_update(actor=actor, warehouse=original, data=data)
            return
        organization_id = form.cleaned_data["organization"].id if "organization" in form.cleaned_data else None
        organization_id = organization_id or admin_organization_id(request)
        created = services.warehouse_create(
            actor=admin_actor(request, organization_id=organization_id),
            organization_id=organization_id,
            data={field: form.cleaned_data[field] for field in services.WAREHOUSE_FIELDS if field in form.cleaned_data},
        )
        obj.pk = created.pk
        obj._state.adding = False


@admin.register(Package)
class PackageAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    list_display = ["tracking_number", "order", "status", "current_warehouse", "weight_g", "received_at"]
    list_filter = ["status", "current_warehouse"]
    search_fields = ["tracking_number", "order__number"]
    list_select_related = ["order", "current_warehouse"]


@admin.register(UnmatchedArrival)
class UnmatchedArrivalAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """Parcels no order claimed: what staff must sort out (kept, never dropped)."""

    org_admin_actions = frozenset({"view"})
    list_display = ["created_at", "tracking_number", "warehouse", "weight_g", "note", "resolved_at"]
    list_filter = ["warehouse", ("resolved_at", admin.EmptyFieldListFilter)]
    search_fields = ["tracking_number"]
    list_select_related = ["warehouse"]


@admin.register(OrderReturn)
class OrderReturnAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    list_display = ["created_at", "order", "status", "reason"]
    list_filter = ["status"]
    search_fields = ["order__number", "reason"]
    list_select_related = ["order"]
