"""Routes of the field-service API under /api/v1: experts and service orders (the fixed words
before `<uuid:...>`)."""

from django.urls import path

from apps.service.api import expert_views, order_views

urlpatterns = [
    path("experts", expert_views.ExpertListView.as_view(), name="expert-list"),
    path("experts/skills", expert_views.ExpertSkillsView.as_view(), name="expert-skills"),
    path("experts/codes/validate", expert_views.ExpertCodeValidateView.as_view(), name="expert-code-validate"),
    path(
        "experts/certifications/<str:token>",
        expert_views.CertificationFileView.as_view(),
        name="expert-certification-file",
    ),
    path("experts/<uuid:expert_id>", expert_views.ExpertDetailView.as_view(), name="expert-detail"),
    path(
        "experts/<uuid:expert_id>/work-status", expert_views.ExpertWorkStatusView.as_view(), name="expert-work-status"
    ),
    path("experts/<uuid:expert_id>/matches", expert_views.ExpertMatchListView.as_view(), name="expert-matches"),
    path(
        "experts/<uuid:expert_id>/matches/<uuid:match_id>",
        expert_views.ExpertMatchDetailView.as_view(),
        name="expert-match",
    ),
    path(
        "experts/<uuid:expert_id>/service-records",
        expert_views.ExpertServiceRecordListView.as_view(),
        name="expert-service-records",
    ),
    path(
        "experts/<uuid:expert_id>/certifications",
        expert_views.ExpertCertificationListView.as_view(),
        name="expert-certifications",
    ),
    path(
        "experts/<uuid:expert_id>/certifications/<uuid:certification_id>",
        expert_views.ExpertCertificationDetailView.as_view(),
        name="expert-certification",
    ),
    path("service-orders", order_views.ServiceOrderListView.as_view(), name="service-order-list"),
    path(
        "service-orders/attachments/<str:token>",
        order_views.AttachmentFileView.as_view(),
        name="service-order-attachment-file",
    ),
    path("service-orders/<uuid:service_order_id>", order_views.ServiceOrderDetailView.as_view(), name="service-order"),
    *(
        path(f"service-orders/<uuid:service_order_id>/{action}", view.as_view(), name=f"service-order-{action}")
        for action, view in (
            ("assign", order_views.ServiceOrderAssignView),
            ("accept", order_views.ServiceOrderAcceptView),
            ("decline", order_views.ServiceOrderDeclineView),
            ("start", order_views.ServiceOrderStartView),
            ("complete", order_views.ServiceOrderCompleteView),
            ("cancel", order_views.ServiceOrderCancelView),
        )
    ),
    path(
        "service-orders/<uuid:service_order_id>/matches",
        order_views.ServiceOrderMatchListView.as_view(),
        name="service-order-matches",
    ),
]
