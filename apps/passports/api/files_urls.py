"""Routes of the passport files API under /api/v1/passports: QR codes, labels, the CSV import."""

from django.urls import path

from apps.passports.api import files_views as views

urlpatterns = [
    path("passports/<uuid:passport_id>/qr.svg", views.PassportQrSvgView.as_view(), name="passport-qr-svg"),
    path("passports/<uuid:passport_id>/qr.png", views.PassportQrPngView.as_view(), name="passport-qr-png"),
    path("passports/<uuid:passport_id>/label.pdf", views.PassportLabelView.as_view(), name="passport-label"),
    path("passports/labels", views.PassportLabelsView.as_view(), name="passport-labels"),
    path("passports/imports", views.PassportImportView.as_view(), name="passport-import"),
    path("passports/imports/template", views.PassportImportTemplateView.as_view(), name="passport-import-template"),
]
