"""Routes of the device passports member API under /api/v1/passports (the fixed words before
`passports/<uuid:passport_id>`)."""

from django.urls import path

from apps.passports.api import views

urlpatterns = [
    path("passports", views.PassportListView.as_view(), name="passport-list"),
    path("passports/codes/validate", views.CodeValidateView.as_view(), name="passport-code-validate"),
    path("passports/takeovers", views.TakeoverListView.as_view(), name="passport-takeover-list"),
    path("passports/takeovers/<uuid:takeover_id>", views.TakeoverDetailView.as_view(), name="passport-takeover"),
    path(
        "passports/takeovers/<uuid:takeover_id>/approve",
        views.TakeoverApproveView.as_view(),
        name="passport-takeover-approve",
    ),
    path(
        "passports/takeovers/<uuid:takeover_id>/reject",
        views.TakeoverRejectView.as_view(),
        name="passport-takeover-reject",
    ),
    path(
        "passports/takeovers/<uuid:takeover_id>/cancel",
        views.TakeoverCancelView.as_view(),
        name="passport-takeover-cancel",
    ),
    path("passports/service-requests", views.ServiceRequestListView.as_view(), name="passport-service-request-list"),
    path(
        "passports/service-requests/<uuid:service_request_id>",
        views.ServiceRequestDetailView.as_view(),
        name="passport-service-request",
    ),
    path(
        "passports/service-requests/<uuid:service_request_id>/status",
        views.ServiceRequestStatusView.as_view(),
        name="passport-service-request-status",
    ),
    path("passports/attachments/<str:token>", views.AttachmentFileView.as_view(), name="passport-attachment-file"),
    path("passports/<uuid:passport_id>", views.PassportDetailView.as_view(), name="passport-detail"),
    path("passports/<uuid:passport_id>/status", views.PassportStatusView.as_view(), name="passport-status"),
    path("passports/<uuid:passport_id>/events", views.PassportEventListView.as_view(), name="passport-events"),
    path(
        "passports/<uuid:passport_id>/attachments",
        views.PassportAttachmentView.as_view(),
        name="passport-attachments",
    ),
    path(
        "passports/<uuid:passport_id>/service-requests",
        views.PassportServiceRequestView.as_view(),
        name="passport-service-requests",
    ),
]
