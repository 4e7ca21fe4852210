"""Query-string filters of the alerts list."""

import django_filters

from apps.tracking.models import Alert, AlertStatus, AlertType, Severity


class AlertFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AlertStatus.choices)
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    alert_type = django_filters.ChoiceFilter(choices=AlertType.choices)
    order_id = django_filters.UUIDFilter(field_name="shipment__order_id", label="Alerts of this order's shipment")
    package_id = django_filters.UUIDFilter(field_name="shipment__package_id", label="Alerts of this package's shipment")

    class Meta:
        model = Alert
        fields = ["status", "severity", "alert_type", "order_id", "package_id"]
