"""What the list-plan tests read in PostgreSQL's plan of a two-party list's page (EXPLAIN (FORMAT
JSON), nothing forced), and the properties they hold it to (apps/core/visibility.py `party_page`,
docs/decisions/0004-two-party-lists.md):

- a first page, filtered or not, walks the `(party column, ordering...)` index of each side
  backward, in the list's order, and merges the walks: no Sort anywhere, the list's table read
  through those two indexes only;
- a deep page (offset 5,000) is still the merge of the arms in order (Merge Append under the
  page's Limit); an arm may take a top-N sort of its rows when walking offset + limit entries
  costs more (bounded by the window; `?cursor=` is the answer for depth);
- a filter on one parent (an RFQ's offers, an order's documents) reads that parent's rows
  through an index on the parent's column: a Sort then sorts a handful of rows, not the tenant's;
- nothing large is read sequentially: a Seq Scan is allowed only of a table under SMALL_TABLE
  rows by its statistics (the seed's few users, joined for a document's signer), whose reading
  does not grow with the tenant's rows;
- the page holds the same rows, in the same order, as the plain `OR` filter (`values_list()` is
  not rewritten by party_page)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import QuerySet

from apps.core.visibility import party_page

PAGE = 20
DEEP = 5_000
SMALL_TABLE = 1_000  # rows: below this a sequential read is the planner's cheap choice, not a scaling risk


@dataclass(frozen=True)
class Shape:
    """One way the list is asked for: its filters (the API's, as the view applies them), its
    offset, and for a filter on one parent the column that bounds the rows read."""

    filters: dict = field(default_factory=dict)
    offset: int = 0
    bounded_by: str | None = None


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def describe(plan: dict, depth: int = 0) -> str:
    """The plan as an indented outline (node, relation, index, direction), for failure messages."""
    details = [plan.get(key) for key in ("Relation Name", "Index Name", "Scan Direction") if plan.get(key)]
    line = "  " * depth + plan["Node Type"] + (f" ({', '.join(details)})" if details else "")
    return "\n".join([line, *(describe(child, depth + 1) for child in plan.get("Plans", []))])


def explain(queryset: QuerySet) -> list[dict]:
    """The nodes of the statement's plan, root first."""
    sql, params = queryset.query.get_compiler(using="default").as_sql()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        return list(nodes(cursor.fetchone()[0][0]["Plan"]))


def party_indexes(queryset: QuerySet) -> set[str]:
    """The names of the model's `(party column, the list's ordering columns)` indexes, one per side."""
    model = queryset.model
    ordering = tuple(term.removeprefix("-") for term in queryset.query.order_by)
    columns = model.row_visibility.party_columns
    names = set()
    for index in model._meta.indexes:
        indexed = tuple(model._meta.get_field(name).column for name in index.fields)
        if not index.condition and indexed[0] in columns and indexed[1:] == ordering:
            names.add(index.name)
    assert len(names) == len(columns), f"{model._meta.label}: party indexes {names}"
    return names


def _estimated_rows(table: str) -> float:
    """The table's rows by its statistics (-1: never analysed)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        return cursor.fetchone()[0]


def assert_nothing_large_read_sequentially(plan: list[dict], table: str) -> None:
    sequential = {node["Relation Name"] for node in plan if node["Node Type"] == "Seq Scan"}
    assert table not in sequential, f"{table} is read sequentially"
    large = {name for name in sequential if not 0 <= _estimated_rows(name) < SMALL_TABLE}
    assert not large, f"read sequentially: {large} (not analysed, or {SMALL_TABLE} rows or more)"


def assert_walks_the_party_indexes(plan: list[dict], table: str, indexes: set[str]) -> None:
    """No sort anywhere; every read of `table` is a backward walk of one of `indexes`."""
    kinds = [node["Node Type"] for node in plan]
    scans = [node for node in plan if node.get("Relation Name") == table]
    assert "Sort" not in kinds and "Incremental Sort" not in kinds
    assert scans and all(node["Node Type"] == "Index Scan" for node in scans)
    assert {node["Index Name"] for node in scans} <= indexes
    assert all(node["Scan Direction"] == "Backward" for node in scans)
    assert_nothing_large_read_sequentially(plan, table)


def assert_merged_in_order(plan: list[dict], table: str) -> None:
    """A deep page: the arms merged in order under the page's Limit, nothing large read sequentially."""
    kinds = [node["Node Type"] for node in plan]
    assert kinds[:2] == ["Limit", "Merge Append"]
    assert_nothing_large_read_sequentially(plan, table)


def assert_reads_one_parent(plan: list[dict], table: str, column: str) -> None:
    """Every read of `table` looks up rows by `column` in an index (alone or with a party
    column), so whatever is sorted is one parent's rows."""
    scans = [node for node in plan if node.get("Relation Name") == table]
    assert scans
    for node in scans:
        condition = node.get("Index Cond") if "Index" in node["Node Type"] else node.get("Recheck Cond")
        assert node["Node Type"] in {"Index Scan", "Index Only Scan", "Bitmap Heap Scan"}, node["Node Type"]
        assert column in (condition or ""), f"{node['Node Type']} on {condition!r}, not by {column}"
    assert_nothing_large_read_sequentially(plan, table)


def same_rows_as_the_or_filter(queryset: QuerySet, offset: int, *, whole_page: bool = True) -> None:
    """The page party_page serves holds the rows of the plain `OR` filter, in the same order."""
    expected = list(queryset.values_list("id", flat=True)[offset : offset + PAGE])
    if whole_page:
        assert len(expected) == PAGE, f"the seed has fewer than {offset + PAGE} rows for this shape"
    assert expected, "the seed has no row for this shape"
    assert [row.id for row in queryset[offset : offset + PAGE]] == expected


def check_page(queryset: QuerySet, shape: Shape) -> None:
    """The page of a two-party list in `shape` is the UNION ALL of its sides, served as the
    module's docstring says, and equal to the `OR` filter's."""
    table = queryset.model._meta.db_table
    page = party_page(queryset[shape.offset : shape.offset + PAGE])
    assert page is not None and page.query.combinator == "union", "the page is not the UNION ALL of its sides"
    plan = explain(page)
    try:
        if shape.bounded_by:
            assert_reads_one_parent(plan, table, shape.bounded_by)
        elif shape.offset >= DEEP:
            assert_merged_in_order(plan, table)
        else:
            assert_walks_the_party_indexes(plan, table, party_indexes(queryset))
    except AssertionError as error:
        raise AssertionError(f"{error}\n{describe(plan[0])}") from error
    same_rows_as_the_or_filter(queryset, shape.offset, whole_page=not shape.bounded_by)


def check_shapes(make_list, shapes: dict[str, Shape]) -> None:
    """check_page for each shape of the list `make_list()` (in the caller's tenant scope)."""
    for name, shape in shapes.items():
        try:
            check_page(make_list().filter(**shape.filters), shape)
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from error


def check_one_side(queryset: QuerySet, index: str) -> None:
    """A list whose own filter names one side (`?party=client`, `?side=carrier`) runs as
    written, walking that side's index alone, in order."""
    window = queryset[:PAGE]
    assert party_page(window) is None
    plan = explain(window)
    table = queryset.model._meta.db_table
    try:
        assert_walks_the_party_indexes(plan, table, {index})
        assert {node["Index Name"] for node in plan if node.get("Relation Name") == table} == {index}
    except AssertionError as error:
        raise AssertionError(f"{index}: {error}\n{describe(plan[0])}") from error
