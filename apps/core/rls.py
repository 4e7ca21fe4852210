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

The all-tenants scope (`system_scope`) is not an arm of the tenant policies: it is a
policy of its own, `all_tenants`, for two roles only (docs/decisions/0006-rls-bypass-role.md):
the all-tenants role (`<APP_DB_USER>_all_tenants`, NOLOGIN, not BYPASSRLS), which the
application role reaches only by `SET LOCAL ROLE` inside `system_scope`, and the owner
that applied the policy (its SECURITY DEFINER functions and data migrations set
`app.rls_bypass`). A policy for other roles is dropped when a query is planned, so for
the application role a tenant policy is a plain equality, `organization_id = (select
app_current_tenant())`, which the planner uses as an index condition.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.migrations.operations.base import Operation
from django.utils.deconstruct import deconstructible

from apps.core.visibility import VisibleManager

TENANT = "(select app_current_tenant())"
USER = "(select app_current_user_id())"
BYPASS = "(select app_rls_bypass())"


def all_tenants_role() -> str:
    """The NOLOGIN role `system_scope` switches the application role to (SET LOCAL ROLE)."""
    return f"{settings.APP_DB_USER}_all_tenants"


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


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
    for_all_tenants: bool = False  # TO the all-tenants role and the owner; else TO PUBLIC


def _all_tenants(name: str = "all_tenants", command: str = "ALL") -> Policy:
    """Every tenant's rows, for the all-tenants role and the owner, while app.rls_bypass is on."""
    using = BYPASS if command != "INSERT" else None
    check = BYPASS if command not in {"SELECT", "DELETE"} else None
    return Policy(name, command, using, check, for_all_tenants=True)


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
        tenant = f"{self.column} = {TENANT}"
        policies = [Policy("tenant_rows", "ALL", tenant, tenant), _all_tenants()]
        if self.personal:
            policies.append(Policy("personal_read", "SELECT", f"{self.personal} = {USER}"))
        if self.open_insert:
            policies.append(Policy("open_insert", "INSERT", None, f"{TENANT} IS NOT NULL"))
        return policies


@deconstructible(path="apps.core.rls.Personal")
class Personal(Visibility):
    """Rows that belong to a person rather than an organization (sessions, preferences).

    `open_insert`: a transaction acting for an organization may add a row addressed to any
    person, never read or change it: a mailbox. The notifications fan-out writes a person's
    notification while it relays another organization's event; only the person reads it.
    """

    def __init__(self, column: str = "user_id", open_insert: bool = False):
        self.column = column
        self.open_insert = open_insert

    @property
    def columns(self):
        return (self.column,)

    @property
    def tenant_columns(self):
        return ()

    def policies(self, table):
        own = f"{self.column} = {USER}"
        policies = [Policy("personal_rows", "ALL", own, own), _all_tenants()]
        if self.open_insert:
            policies.append(Policy("open_insert", "INSERT", None, f"{TENANT} IS NOT NULL"))
        return policies


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
        own = f"id = {TENANT}"
        member = (
            f'EXISTS (SELECT 1 FROM {self.membership_table} m WHERE m.organization_id = "{table}".id'
            f" AND m.user_id = {USER} AND m.is_active)"
        )
        return [Policy("tenant_rows", "ALL", own, own), Policy("member_read", "SELECT", member), _all_tenants()]


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
        owner = f"{self.column} = {TENANT}"
        published = f"({self.published_condition}) AND {TENANT} IS NOT NULL"
        return [
            Policy("tenant_rows", "ALL", owner, owner),
            Policy("published_read", "SELECT", published),
            _all_tenants(),
        ]


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
        parties = _any_column_is_tenant(self.party_columns)
        return [Policy("party_rows", "ALL", parties, parties), _all_tenants()]


@deconstructible(path="apps.core.rls.Derived")
class Derived(SharedByParties):
    """Rows of a parent shared by parties; the party columns are copied onto the row (no joins)."""

    def __init__(self, *party_columns: str):
        self.party_columns = tuple(party_columns)

    def policies(self, table):
        parties = _any_column_is_tenant(self.party_columns)
        return [Policy("derived_rows", "ALL", parties, parties), _all_tenants()]


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
        read = f"{self.column} = {TENANT}"
        append = f"{self.column} IS NULL OR {self.column} = {TENANT}"
        policies = [
            Policy("tenant_read", "SELECT", read),
            Policy("append", "INSERT", None, append),
            # read and append only: no UPDATE or DELETE for the all-tenants scope either
            _all_tenants("all_tenants_read", "SELECT"),
            _all_tenants("all_tenants_append", "INSERT"),
        ]
        if self.erasable:
            policies.append(Policy("erasure", "UPDATE", ERASURE, ERASURE))
        return policies


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# The same advisory lock as apps.core.provisioning takes for its role changes (advisory
# locks are per database: it orders migrations of one database; `setup_database` has made
# the role before parallel test workers migrate their own databases).
_ROLE_LOCK = 7_245_311


def ensure_all_tenants_role_sql() -> str:
    """Create the all-tenants role if `setup_database` has not yet (policies name it).

    apps.core.provisioning.ensure_application_role sets its attributes and grants it to
    the application role; this only makes `migrate` independent of the order of the two.
    """
    role = all_tenants_role()
    return (
        f"DO $$ BEGIN PERFORM pg_advisory_xact_lock({_ROLE_LOCK});"
        f" IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {_quote_literal(role)}) THEN"
        f" CREATE ROLE {_quote_identifier(role)} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT; END IF; END $$"
    )


def forward_sql(table: str, visibility: Visibility) -> list[str]:
    statements = [
        ensure_all_tenants_role_sql(),
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY',
        # Replace whatever policies the table had, so a changed declaration applies cleanly.
        "DO $$ DECLARE p record; BEGIN FOR p IN SELECT policyname FROM pg_policies"
        f" WHERE schemaname = current_schema() AND tablename = {_quote_literal(table)} LOOP"
        f" EXECUTE format('DROP POLICY %I ON %I', p.policyname, {_quote_literal(table)}); END LOOP; END $$",
    ]
    for policy in visibility.policies(table):
        sql = f'CREATE POLICY "{policy.name}" ON "{table}" FOR {policy.command}'
        if policy.for_all_tenants:
            # The all-tenants role, and the owner applying the policy (migrations run as the
            # owner; its SECURITY DEFINER functions set app.rls_bypass). Both still need
            # app.rls_bypass on, which system_scope sets.
            sql += f" TO {_quote_identifier(all_tenants_role())}, CURRENT_USER"
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
    """Migration operation: enable + force RLS on a model's table with its visibility's policies.

    `app_label` names the model's app when the operation sits in another app's migration
    (core's re-application of every declaration, core 0005). `reapply`: the table had
    policies already and gets them regenerated; unapplying leaves them as they are (the
    previous shape cannot be regenerated by this code), rather than dropping them.
    """

    reversible = True
    reduces_to_sql = True

    def __init__(self, model_name: str, visibility: Visibility, app_label: str | None = None, reapply: bool = False):
        self.model_name = model_name
        self.visibility = visibility
        self.app_label = app_label
        self.reapply = reapply

    def state_forwards(self, app_label, state):
        pass  # policies are not part of Django's model state

    def _table(self, app_label, state) -> str:
        return state.apps.get_model(self.app_label or app_label, self.model_name)._meta.db_table

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        for statement in forward_sql(self._table(app_label, to_state), self.visibility):
            schema_editor.execute(statement, params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if self.reapply:
            return
        for statement in backward_sql(self._table(app_label, from_state), self.visibility):
            schema_editor.execute(statement, params=None)

    def describe(self):
        verb = "Re-applied row-level security" if self.reapply else "Row-level security"
        return f"{verb} {self.visibility.signature()} on {self.model_name}"

    @property
    def migration_name_fragment(self):
        return f"rls_{self.model_name.lower()}"

    def deconstruct(self):
        kwargs = {"model_name": self.model_name, "visibility": self.visibility}
        if self.app_label:
            kwargs["app_label"] = self.app_label
        if self.reapply:
            kwargs["reapply"] = True
        return ("apps.core.rls.ApplyRowLevelSecurity", [], kwargs)
