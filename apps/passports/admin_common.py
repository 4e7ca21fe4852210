"""What the back-office pages of device passports share: the feature gate, read-only inlines,
file and PDF downloads."""

from __future__ import annotations

from django.contrib import admin
from django.http import FileResponse, HttpResponse
from django.utils.html import format_html

from apps.core.admin import ReadOnlyAdminMixin
from apps.passports.models import (
    PassportAttachment,
)
from apps.tenancy.admin_site import (
    admin_organization_id,
    is_platform_staff,
)
from apps.tenancy.selectors import feature_is_active

FEATURE = "device_passports"


def stream_file(stored, *, filename: str, content_type: str) -> FileResponse:
    """A private file as a download (the storage is private: the back-office streams it)."""
    response = FileResponse(stored.open("rb"), as_attachment=True, filename=filename, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    return response


def download_link(url: str, attachment: PassportAttachment) -> str:
    return format_html('<a class="download" href="{}">{}</a>', url, attachment.filename)


class PassportsSwitchedOn:
    """Hides a page from an organization admin whose organization has device passports off
    (staff see it whatever the organization's flags)."""

    def _passports_on(self, request) -> bool:
        return is_platform_staff(request) or feature_is_active(
            organization_id=admin_organization_id(request), name=FEATURE
        )

    def has_module_permission(self, request):
        return self._passports_on(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._passports_on(request) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._passports_on(request) and super().has_change_permission(request, obj)


class PartInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Rows shown on their parent's page, read-only. Whoever may open the page may see them
    (row-level security limits the rows); Django's model permissions would hide them from
    organization admins."""

    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request, obj=None):
        return True


def pdf_response(pdf: bytes, *, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
