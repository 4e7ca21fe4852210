"""Which rows an organization holds, in the ORM: `Model.objects.visible_to(organization_id)`.

Every model that declares a `row_visibility` (apps.core.rls) gets a `VisibleManager` as its
default manager, so its lists and admin pages read

    Order.objects.visible_to(organization_id)

instead of spelling out the party columns (`Q(client_organization_id=…) | Q(supplier_organization_id=…)`)
in each selector. The columns come from the declaration (`Visibility.tenant_columns`): the
owner's column of Owned, Published and AppendOnly rows, `id` of the organizations table, each
party column of SharedByParties and Derived rows. Personal rows belong to a person, not an
organization: asking for them is a mistake and raises.

Row-level security already limits what PostgreSQL returns; these filters repeat it, so that a
list is right in the all-tenants scope too (platform staff) and the planner can use the party
indexes. A context's own rules (an RFQ's audience, an `:own` grant's customer) stay in its
selectors, applied on top.

The SQL lives in one function, `visible_rows`: change it there (a UNION ALL of index scans for
the two-party lists, say) and every list follows. tests/core/test_visibility.py fails when a
two-party filter is written anywhere else.
"""

from __future__ import annotations

from uuid import UUID

from django.db import models
from django.db.models import Q


def visible_rows(queryset: models.QuerySet, organization_id: UUID) -> models.QuerySet:
    """The rows of `queryset` the organization holds, from its model's `row_visibility`: the one
    place that turns a visibility declaration into a filter."""
    model = queryset.model
    columns = model.row_visibility.tenant_columns
    if not columns:
        raise TypeError(f"{model._meta.label} rows belong to a person, not an organization ({model.row_visibility}).")
    condition = Q()
    for column in columns:
        condition |= Q(**{column: organization_id})
    return queryset.filter(condition)


class VisibleQuerySet(models.QuerySet):
    def visible_to(self, organization_id: UUID) -> VisibleQuerySet:
        """The rows the organization holds: its own, or those of which it is a party."""
        return visible_rows(self, organization_id)


class VisibleManager(models.Manager.from_queryset(VisibleQuerySet)):
    """The default manager of a model that declares `row_visibility` (installed by the declaration)."""
