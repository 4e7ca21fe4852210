"""Every write of device passports, one function per use case (split by group below, one façade here)."""

from apps.passports.services.field_service import passport_serviced_by_order
from apps.passports.services.imports import ImportReport, passports_import, passports_import_template
from apps.passports.services.passports import (
    LifecycleInput,
    PassportInput,
    passport_attachment_add,
    passport_event_record,
    passport_register,
    passport_status_change,
    passport_update,
)
from apps.passports.services.service_requests import (
    ServiceRequestInput,
    service_request_change_status,
    service_request_create,
    service_request_submit_public,
)
from apps.passports.services.takeovers import takeover_cancel, takeover_decide, takeover_request

__all__ = [
    "ImportReport",
    "LifecycleInput",
    "PassportInput",
    "ServiceRequestInput",
    "passport_attachment_add",
    "passport_event_record",
    "passport_register",
    "passport_serviced_by_order",
    "passport_status_change",
    "passport_update",
    "passports_import",
    "passports_import_template",
    "service_request_change_status",
    "service_request_create",
    "service_request_submit_public",
    "takeover_cancel",
    "takeover_decide",
    "takeover_request",
]
