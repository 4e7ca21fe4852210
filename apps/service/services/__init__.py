"""Every write of field service, one function per use case (split by group, one façade here)."""

from apps.service.services.dispatch import offer_rounds_due_organizations, service_order_offers_expire
from apps.service.services.experts import (
    CertificationInput,
    ExpertInput,
    expert_certification_add,
    expert_certification_remove,
    expert_membership_set,
    expert_register,
    expert_update,
    expert_work_status_change,
    membership_is_active,
    memberships_expire,
)
from apps.service.services.match_status import match_status_set
from apps.service.services.matching import service_order_match, service_order_rematch
from apps.service.services.orders import (
    ServiceOrderInput,
    service_order_assign,
    service_order_cancel,
    service_order_create,
    service_order_from_request,
    service_order_update,
)
from apps.service.services.ratings import expert_rating_set
from apps.service.services.work import (
    CompletionInput,
    service_order_accept,
    service_order_complete,
    service_order_decline,
    service_order_start,
)

__all__ = [
    "CertificationInput",
    "CompletionInput",
    "ExpertInput",
    "ServiceOrderInput",
    "expert_certification_add",
    "expert_certification_remove",
    "expert_membership_set",
    "expert_rating_set",
    "expert_register",
    "expert_update",
    "expert_work_status_change",
    "match_status_set",
    "membership_is_active",
    "memberships_expire",
    "offer_rounds_due_organizations",
    "service_order_accept",
    "service_order_assign",
    "service_order_cancel",
    "service_order_complete",
    "service_order_create",
    "service_order_decline",
    "service_order_from_request",
    "service_order_match",
    "service_order_offers_expire",
    "service_order_rematch",
    "service_order_start",
    "service_order_update",
]
