"""Row-level security generated from a visibility class declared on each model.

A tenant model says who may see its rows:

    class Warehouse(models.Model):
        row_visibility = Owned()

and one of its migrations applies it:

    ApplyRowLevelSecurity(model_name="warehouse", visibility=Owned())

The operation enables and *forces* RLS (so even the table owner is subject to it),
replaces the table's policies with the generated ones, and comments each policy
with the visibility's signature; tests/tenancy/test_rls.py compares
those comments with the declarations, so a declaration that changed without a
migration fails the suite.

The declaration also gives the model its default manager (apps.core.visibility), so that
`Model.objects.visible_to(organization_id)` filters on the same columns in the ORM.

Policies call the helper functions through `(select ...)` so PostgreSQL evaluates
them once per query rather than once per row.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.migrations.operations.base import Operation
from django.utils.deconstruct import deconstructible

from apps.core.visibility import VisibleManager

TENANT = "(select app_current_tenant())"
USER = "(select app_current_user_id())"
BYPASS = "(select app_rls_bypass())"

HELPER_FUNCTIONS_SQL = """
CREATE OR REPLACE FUNCTION app_current_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('app.current_tenant', true), '')::uuid $$;
CREATE OR REPLACE FUNCTION app_current_user_id() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('app.current_user', true), '')::uuid $$;
CREATE OR REPLACE FUNCTION app_rls_bypass() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(current_setting('app.rls_bypass', true), '') = 'on' $$;
"""

DROP_HELPER_FUNCTIONS_SQL = """
DROP FUNCTION IF EXISTS app_current_tenant();
DROP FUNCTION IF EXISTS app_current_user_id();
DROP FUNCTION IF EXISTS app_rls_bypass();
"""


@dataclass(frozen=True)
class Policy:
    name: str
    command: str  # ALL, SELECT, INSERT, UPDATE, DELETE
    using: str | None
    check: str | None = None


def _any_column_is_tenant(columns: tuple[str, ...]) -> str:
    return " OR ".join(f"{column} = {TENANT}" for column in columns)


class Visibility:
    """Base of the visibility classes of DESIGN.md §3."""

    def policies(self, table: str) -> list[Policy]:
        raise NotImplementedError

    @property
    def columns(self) -> tuple[str, ...]:
        """Columns the policies compare with the tenant or user: each must be indexed."""
        raise NotImplementedError

    @property
    def tenant_columns(self) -> tuple[str, ...]:
        """Columns that name the organization(s) holding a row (empty: the row is a person's);
        `Model.objects.visible_to` filters on them."""
        raise NotImplementedError

    def contribute_to_class(self, cls, name):
        """Django calls this for `row_visibility = ...` in a model's body: the declaration stays
        on the class, and the model's default manager becomes a VisibleManager (unless the
        model declared its own `objects` above, which then must build on VisibleQuerySet)."""
        setattr(cls, name, self)
        if not any(manager.name == "objects" for manager in cls._meta.local_managers):
            cls.add_to_class("objects", VisibleManager())

    def signature(self) -> str:
        path, args, kwargs = self.deconstruct()
        arguments = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in sorted(kwargs.items())]
        return f"{path.rsplit('.', 1)[-1]}({', '.join(arguments)})"

    def __eq__(self, other):
        return type(self) is type(other) and self.deconstruct() == other.deconstruct()

    def __hash__(self):
        return hash(self.signature())

    def __repr__(self):
        return self.signature()


@deconstructible(path="apps.core.rls.Owned")
class Owned(Visibility):
    """Rows of one organization; optionally also readable by the person in `personal`.

    `open_insert`: any tenant may insert a row for another organization, never read or
    change it. Ledger accounts need it: a release by the client credits the supplier's
    account, which the client must be able to open but never see.
    """

    def __init__(self, column: str = "organization_id", personal: str | None = None, open_insert: bool = False):
        self.column = column
        self.personal = personal
        self.open_insert = open_insert

    @property
    def columns(self):
        return (self.column, self.personal) if self.personal else (self.column,)

    @property
    def tenant_columns(self):
        return (self.column,)

    def policies(self, table):
        tenant = f"{self.column} = {TENANT} OR {BYPASS}"
        policies = [Policy("tenant_rows", "ALL", tenant, tenant)]
        if self.personal:
            policies.append(Policy("personal_read", "SELECT", f"{self.personal} = {USER}"))
        if self.open_insert:
            policies.append(Policy("open_insert", "INSERT", None, f"{TENANT} IS NOT NULL"))
        return policies


@deconstructible(path="apps.core.rls.Personal")
class Personal(Visibility):
    """Rows that belong to a person rather than an organization (sessions, preferences)."""

    def __init__(self, column: str = "user_id"):
        self.column = column

    @property
    def columns(self):
        return (self.column,)

    @property
    def tenant_columns(self):
        return ()

    def policies(self, table):
        own = f"{self.column} = {USER} OR {BYPASS}"
        return [Policy("personal_rows", "ALL", own, own)]


@deconstructible(path="apps.core.rls.TenantRoot")
class TenantRoot(Visibility):
    """The organizations table itself: the tenant's own row, and the rows of a user's memberships."""

    def __init__(self, membership_table: str):
        self.membership_table = membership_table

    @property
    def columns(self):
        return ("id",)

    @property
    def tenant_columns(self):
        return ("id",)

    def policies(self, table):
        own = f"id = {TENANT} OR {BYPASS}"
        member = (
            f'EXISTS (SELECT 1 FROM {self.membership_table} m WHERE m.organization_id = "{table}".id'
            f" AND m.user_id = {USER} AND m.is_active)"
        )
        return [Policy("tenant_rows", "ALL", own, own), Policy("member_read", "SELECT", member)]


@deconstructible(path="apps.core.rls.Published")
class Published(Visibility):
    """Owner reads and writes; every tenant reads while `published_condition` holds."""

    def __init__(self, column: str = "organization_id", published_condition: str = "is_active"):
        self.column = column
        self.published_condition = published_condition

    @property
    def columns(self):
        return (self.column,)

    @property
    def tenant_columns(self):
        # The owner's rows; the rows others published are read through the context's own
        # selectors (a catalogue, an RFQ's audience), not as rows the organization holds.
        return (self.column,)

    def policies(self, table):
        owner = f"{self.column} = {TENANT} OR {BYPASS}"
        published = f"({self.published_condition}) AND {TENANT} IS NOT NULL"
        return [Policy("tenant_rows", "ALL", owner, owner), Policy("published_read", "SELECT", published)]


@deconstructible(path="apps.core.rls.SharedByParties")
class SharedByParties(Visibility):
    """Rows shared by two or more organizations, one per party column (client/supplier...)."""

    def __init__(self, *party_columns: str):
        if len(party_columns) < 2:
            raise ValueError("SharedByParties needs at least two party columns")
        self.party_columns = tuple(party_columns)

    @property
    def columns(self):
        return self.party_columns

    @property
    def tenant_columns(self):
        return self.party_columns

    def policies(self, table):
        parties = f"{_any_column_is_tenant(self.party_columns)} OR {BYPASS}"
        return [Policy("party_rows", "ALL", parties, parties)]


@deconstructible(path="apps.core.rls.Derived")
class Derived(SharedByParties):
    """Rows of a parent shared by parties; the party columns are copied onto the row (no joins)."""

    def __init__(self, *party_columns: str):
        self.party_columns = tuple(party_columns)

    def policies(self, table):
        parties = f"{_any_column_is_tenant(self.party_columns)} OR {BYPASS}"
        return [Policy("derived_rows", "ALL", parties, parties)]


# Set (transaction-locally) only by the owner's SECURITY DEFINER erasure function of an
# append-only table; the application role has no UPDATE grant on such a table anyway.
ERASURE = "(select coalesce(current_setting('app.audit_erasure', true), '') = 'on')"


@deconstructible(path="apps.core.rls.AppendOnly")
class AppendOnly(Visibility):
    """An append-only log: the tenant reads its rows; anyone may append rows of their own
    tenant or of no tenant (auth events); DELETE has no policy at all.

    `erasable`: the one documented exception, a person's erasure (docs/accounts.md): an
    UPDATE policy open only while `app.audit_erasure` is on, which only the table's
    SECURITY DEFINER erasure function sets; its triggers keep the act and refuse the rest.
    """

    def __init__(self, column: str = "organization_id", erasable: bool = False):
        self.column = column
        self.erasable = erasable

    @property
    def columns(self):
        return (self.column,)

    @property
    def tenant_columns(self):
        return (self.column,)

    def policies(self, table):
        read = f"{self.column} = {TENANT} OR {BYPASS}"
        append = f"{self.column} IS NULL OR {self.column} = {TENANT} OR {BYPASS}"
        policies = [Policy("tenant_read", "SELECT", read), Policy("append", "INSERT", None, append)]
        if self.erasable:
            policies.append(Policy("erasure", "UPDATE", ERASURE, ERASURE))
        return policies


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def forward_sql(table: str, visibility: Visibility) -> list[str]:
    statements = [
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY',
        # Replace whatever policies the table had, so a changed declaration applies cleanly.
        "DO $$ DECLARE p record; BEGIN FOR p IN SELECT policyname FROM pg_policies"
        f" WHERE schemaname = current_schema() AND tablename = {_quote_literal(table)} LOOP"
        f" EXECUTE format('DROP POLICY %I ON %I', p.policyname, {_quote_literal(table)}); END LOOP; END $$",
    ]
    for policy in visibility.policies(table):
        sql = f'CREATE POLICY "{policy.name}" ON "{table}" FOR {policy.command}'
        if policy.using:
            sql += f" USING ({policy.using})"
        if policy.check:
            sql += f" WITH CHECK ({policy.check})"
        statements.append(sql)
        statements.append(f'COMMENT ON POLICY "{policy.name}" ON "{table}" IS {_quote_literal(visibility.signature())}')
    return statements


def backward_sql(table: str, visibility: Visibility) -> list[str]:
    statements = [f'DROP POLICY IF EXISTS "{policy.name}" ON "{table}"' for policy in visibility.policies(table)]
    statements += [
        f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY',
    ]
    return statements


class ApplyRowLevelSecurity(Operation):
    """Migration operation: enable + force RLS on a model's table with its visibility's policies."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, model_name: str, visibility: Visibility):
        self.model_name = model_name
        self.visibility = visibility

    def state_forwards(self, app_label, state):
        pass  # policies are not part of Django's model state

    def _table(self, app_label, state) -> str:
        return state.apps.get_model(app_label, self.model_name)._meta.db_table

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        for statement in forward_sql(self._table(app_label, to_state), self.visibility):
            schema_editor.execute(statement, params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        for statement in backward_sql(self._table(app_label, from_state), self.visibility):
            schema_editor.execute(statement, params=None)

    def describe(self):
        return f"Row-level security {self.visibility.signature()} on {self.model_name}"

    @property
    def migration_name_fragment(self):
        return f"rls_{self.model_name.lower()}"

    def deconstruct(self):
        return (
            "apps.core.rls.ApplyRowLevelSecurity",
            [],
            {"model_name": self.model_name, "visibility": self.visibility},
        )
