import django_filters

from apps.orders.models import Order, OrderKind, OrderStatus


class OrderFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=OrderKind.choices)
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    party = django_filters.ChoiceFilter(
        choices=[("client", "We are the client"), ("supplier", "We are the supplier")], method="filter_party"
    )
    search = django_filters.CharFilter(field_name="number", lookup_expr="icontains", label="Order number contains")

    class Meta:
        model = Order
        fields = ["kind", "status", "created_after", "created_before", "party", "search"]

    def filter_party(self, queryset, name, value):
        organization_id = self.request.membership.organization_id
        if value == "client":
            return queryset.filter(client_organization_id=organization_id)
        return queryset.filter(supplier_organization_id=organization_id)
