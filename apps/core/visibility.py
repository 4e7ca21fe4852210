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

The SQL lives here: `visible_rows` writes the filter, and `party_page` writes the page of an
ordered, sliced two-party list (what a paginator asks for: `queryset[offset:offset + limit]`)
as a UNION ALL of one arm per party column, each walked in the list's order along its
`(party column, ordering columns)` index and limited to offset + limit, merged and cut to
the page (docs/decisions/0004-two-party-lists.md). Every list follows without changing
shape. tests/core/test_visibility.py fails when a two-party filter is written anywhere else;
tests/core/test_list_plans.py checks the plans.
"""

from __future__ import annotations

from uuid import UUID

from django.db import models
from django.db.models import Q
from django.db.models.lookups import Exact
from django.db.models.query import ModelIterable
from django.db.models.sql.where import AND, OR, WhereNode


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
    queryset = queryset.filter(condition)
    if len(columns) > 1 and isinstance(queryset, VisibleQuerySet):
        queryset._parties = (organization_id, tuple(columns))
    return queryset


def _is_party(node, organization_id: UUID, columns: tuple[str, ...]) -> bool:
    """Whether `node` of a WHERE is `party column = organization`."""
    target = getattr(getattr(node, "lhs", None), "target", None)
    return (
        isinstance(node, Exact)
        and target is not None
        and target.column in columns
        and str(node.rhs) == str(organization_id)
    )


def _visibility_node(where, organization_id: UUID, columns: tuple[str, ...]):
    """The `col_1 = organization OR col_2 = organization ...` that visible_rows added to
    `where`, or None when the WHERE has another shape than `... AND (that OR) AND ...`."""
    if where.connector != AND or where.negated:
        return None
    for child in where.children:
        if (
            isinstance(child, WhereNode)
            and child.connector == OR
            and not child.negated
            and len(child.children) == len(columns)
            and all(_is_party(node, organization_id, columns) for node in child.children)
        ):
            return child
    return None


def party_page(queryset: VisibleQuerySet) -> models.QuerySet | None:
    """The page of an ordered, sliced two-party list as a UNION ALL of one arm per party
    column, or None when the queryset is not such a page (then it runs as written).

    Arm i keeps every filter of the list but the OR of the party columns, adds `column_i = organization` and leaves out
    the rows an earlier arm has (`column_j <> organization`, or NULL, for j < i: an
    organization on both sides of a row appears once), is ordered as the list is and
    limited to offset + limit. PostgreSQL walks each arm's `(column_i, ordering...)`
    index and merges the arms (Merge Append) without sorting the tenant's rows."""
    parties = getattr(queryset, "_parties", None)
    query = queryset.query
    if (
        parties is None
        or query.high_mark is None
        or query.combinator
        or query.is_empty()
        or query.select_for_update
        or query.distinct
        or query.group_by is not None
        or queryset._iterable_class is not ModelIterable
    ):
        return None
    ordering = list(query.order_by) or (list(queryset.model._meta.ordering) if query.default_ordering else [])
    if not ordering or not all(isinstance(term, str) for term in ordering):
        return None
    organization_id, columns = parties
    if any(_is_party(node, organization_id, columns) for node in query.where.children):
        return None  # the list's own filter names one side (`party=client`): that side's index serves it
    base = queryset._chain()
    base._parties = None
    base.query.clear_limits()
    base._prefetch_related_lookups = ()
    # Each arm names its side: the OR would only blur the planner's estimate of the arm's rows.
    visibility = _visibility_node(base.query.where, organization_id, columns)
    if visibility is None:
        return None
    base.query.where.children.remove(visibility)
    arms = []
    for index, column in enumerate(columns):
        arm = base.filter(**{column: organization_id})
        for earlier in columns[:index]:
            arm = arm.exclude(**{earlier: organization_id})  # NULL passes: Django adds IS NOT NULL
        arms.append(arm.order_by(*ordering)[: query.high_mark])
    return arms[0].union(*arms[1:], all=True).order_by(*ordering)[query.low_mark : query.high_mark]


class VisibleQuerySet(models.QuerySet):
    _parties: tuple[UUID, tuple[str, ...]] | None = None  # set by visible_rows on a two-party list

    def visible_to(self, organization_id: UUID) -> VisibleQuerySet:
        """The rows the organization holds: its own, or those of which it is a party."""
        return visible_rows(self, organization_id)

    def _clone(self):
        clone = super()._clone()
        clone._parties = self._parties
        return clone

    def _fetch_all(self):
        if self._result_cache is None and (page := party_page(self)) is not None:
            self._result_cache = list(page)
        super()._fetch_all()


class VisibleManager(models.Manager.from_queryset(VisibleQuerySet)):
    """The default manager of a model that declares `row_visibility` (installed by the declaration)."""
