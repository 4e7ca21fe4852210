"""Query-string filters of GET /passports."""

import django_filters
from django.db.models import Q

from apps.passports import codes
from apps.passports.models import DevicePassport, PassportStatus, ProductType


class PassportFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=PassportStatus.choices)
    product_type = django_filters.ChoiceFilter(choices=ProductType.choices)
    customer_id = django_filters.UUIDFilter(field_name="customer_id", label="The member the device is kept for")
    q = django_filters.CharFilter(
        method="filter_text", max_length=100, label="Code, serial number or device name contains"
    )

    class Meta:
        model = DevicePassport
        fields = ["status", "product_type", "customer_id", "q"]

    def filter_text(self, queryset, name, value):
        text = value.strip()
        return queryset.filter(
            Q(code__contains=codes.normalized(text)) | Q(serial_number__icontains=text) | Q(device_name__icontains=text)
        )
