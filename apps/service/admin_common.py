"""What the back-office pages of field service share: the feature gate, read-only inlines, file
downloads, names of other organizations, and a matching breakdown as people read it."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.http import FileResponse
from django.utils.html import format_html, format_html_join

from apps.core.admin import ReadOnlyAdminMixin
from apps.tenancy.admin_site import admin_organization_id, is_platform_staff
from apps.tenancy.selectors import feature_is_active, organization_names

FEATURE = "expert_services"


class ServiceSwitchedOn:
    """Hides a page from an organization admin whose organization has expert services off
    (staff see it whatever the organization's flags)."""

    def _service_on(self, request) -> bool:
        return is_platform_staff(request) or feature_is_active(
            organization_id=admin_organization_id(request), name=FEATURE
        )

    def has_module_permission(self, request):
        return self._service_on(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._service_on(request) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._service_on(request) and super().has_change_permission(request, obj)


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


def stream_file(stored, *, filename: str, content_type: str) -> FileResponse:
    """A private file as a download (the storage is private: the back-office streams it)."""
    response = FileResponse(stored.open("rb"), as_attachment=True, filename=filename, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    return response


def download_link(url: str, filename: str) -> str:
    return format_html('<a class="download" href="{}">{}</a>', url, filename)


class PageChangeList(ChangeList):
    """A change list that hands its page of rows to the admin's `rows_loaded(rows)` once they are
    read, so that what the rows only name by id (another organization, an expert) is read in one
    query for the page, whatever its size."""

    def get_results(self, request):
        super().get_results(request)
        self.model_admin.rows_loaded(request, self.result_list)


def names_attach(rows, *, columns: tuple[str, ...]) -> None:
    """Attach to each row the public names of the organizations its `columns` hold, read in one
    query: an organization admin may not read another organization's row (row-level security),
    but may read its name."""
    ids = {getattr(row, column) for row in rows for column in columns} - {None}
    names = organization_names(organization_ids=ids) if ids else {}
    for row in rows:
        row.organization_names = names


def organization_name(row, column: str) -> str:
    """The name read for the page (names_attach), or on a detail page by itself."""
    organization_id = getattr(row, column)
    if organization_id is None:
        return "-"
    names = getattr(row, "organization_names", None)
    if names is None:
        names = organization_names(organization_ids=[organization_id])
    return names.get(organization_id, "-")


def _number(value) -> str:
    try:
        return f"{Decimal(str(value)).normalize():f}"
    except (InvalidOperation, ValueError):
        return str(value)


def breakdown_html(breakdown) -> str:
    """A matching breakdown as a small table: each factor, its value (0..1), its weight, the
    points it gave, and the matcher's sentence of why (apps/service/matching.py writes it).
    A factor stored as a bare number is shown as its points."""
    if not isinstance(breakdown, dict) or not breakdown:
        return "-"
    rows = []
    for factor, part in breakdown.items():
        if isinstance(part, dict):
            rows.append(
                (
                    str(factor),
                    _number(part.get("value", "")),
                    _number(part.get("weight", "")),
                    _number(part.get("points", "")),
                    str(part.get("why", "")),
                )
            )
        else:
            rows.append((str(factor), "", "", _number(part), ""))
    return format_html(
        '<table class="matching-breakdown"><thead><tr><th>factor</th><th>value</th><th>weight</th>'
        "<th>points</th><th>why</th></tr></thead><tbody>{}</tbody></table>",
        format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        error_messages={"required": "Say why."},
    )

    def __init__(self, *args, help_text: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = help_text
