"""Every organization-scoped admin page filters through its model's visibility declaration."""

from django.contrib import admin

from apps.core.rls import Visibility
from apps.tenancy.admin_site import OrganizationScopedAdmin


def test_every_organization_scoped_page_has_a_visibility_to_filter_by():
    pages = [page for page in admin.site._registry.values() if isinstance(page, OrganizationScopedAdmin)]
    assert pages
    undeclared = [
        type(page).__name__
        for page in pages
        if not page.organization_lookup
        and not (
            isinstance(getattr(page.model, "row_visibility", None), Visibility)
            and page.model.row_visibility.tenant_columns
        )
    ]
    assert undeclared == [], f"declare row_visibility on the model, or an organization_lookup on: {undeclared}"
