"""Re-applies every table's row-level security policies in their planner-friendly shape.

The tenant policies lose their `OR (select app_rls_bypass())` arm, which kept
`organization_id = tenant` from being an index condition; the all-tenants scope becomes
a policy of its own (`all_tenants`) for the all-tenants role and the owner
(docs/decisions/0006-rls-bypass-role.md). The declarations are the models' own,
unchanged: tests/tenancy/test_rls.py compares each table's policies with them.

One migration in core rather than one per app: the change is the generator's
(apps/core/rls.py), not any context's declaration, and core depends on each context's
latest migration so every table exists. Unapplying it leaves the policies as they are.

`app.rls_bypass` now opens rows only to the all-tenants role and the owner, no longer to
the application role that sets it. escrow's balance check (escrow 0001), a deferred
trigger that runs as whoever commits and sets the bypass for its two counting queries,
therefore becomes SECURITY DEFINER (the owner's, like the other functions that set it:
the audit erasure and the public document verification).
"""

from django.db import migrations

import apps.core.rls


BALANCE_CHECK_AS_OWNER = (
    "ALTER FUNCTION escrow_entry_must_balance() SECURITY DEFINER SET search_path = public, pg_temp"
)
BALANCE_CHECK_AS_INVOKER = "ALTER FUNCTION escrow_entry_must_balance() SECURITY INVOKER RESET search_path"


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_auditlog_from_tenancy"),
        ("accounts", "0004_names_refuse_bidi_controls"),
        ("documents", "0002_public_verification_function"),
        ("escrow", "0002_status_history_on_core_lifecycle"),
        ("kyc", "0005_status_history"),
        ("marketplace", "0005_status_history_on_core_lifecycle"),
        ("orders", "0006_status_history_on_core_lifecycle"),
        ("tenancy", "0006_auditlog_moves_to_core"),
    ]

    operations = [
        migrations.RunSQL(BALANCE_CHECK_AS_OWNER, BALANCE_CHECK_AS_INVOKER),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="core", model_name="outboxevent", visibility=apps.core.rls.Owned(), reapply=True
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="core", model_name="idempotencyrecord", visibility=apps.core.rls.Personal(), reapply=True
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="core", model_name="numbersequence", visibility=apps.core.rls.Owned(), reapply=True
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="core", model_name="auditlog", visibility=apps.core.rls.AppendOnly(erasable=True), reapply=True
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="accounts", model_name="authsession", visibility=apps.core.rls.Personal(), reapply=True
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="accounts", model_name="refreshtoken", visibility=apps.core.rls.Personal(), reapply=True
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="accounts", model_name="personaldataexport", visibility=apps.core.rls.Personal(), reapply=True
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="accounts", model_name="erasurerequest", visibility=apps.core.rls.Personal(), reapply=True
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="tenancy",
            model_name="organization",
            visibility=apps.core.rls.TenantRoot(membership_table="tenancy_membership"),
            reapply=True,
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="tenancy",
            model_name="membership",
            visibility=apps.core.rls.Owned(personal="user_id"),
            reapply=True,
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="tenancy",
            model_name="invitation",
            visibility=apps.core.rls.Owned(personal="invitee_id"),
            reapply=True,
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="tenancy", model_name="organizationfeature", visibility=apps.core.rls.Owned(), reapply=True
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="kyc", model_name="organizationverification", visibility=apps.core.rls.Owned(), reapply=True
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="kyc", model_name="kycdocument", visibility=apps.core.rls.Owned(), reapply=True
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="kyc", model_name="kycdocumentstatuschange", visibility=apps.core.rls.Owned(), reapply=True
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="kyc", model_name="verificationstatuschange", visibility=apps.core.rls.Owned(), reapply=True
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="orders", model_name="warehouse", visibility=apps.core.rls.Owned(), reapply=True
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="orders", model_name="product", visibility=apps.core.rls.Owned(), reapply=True
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="orders",
            model_name="order",
            visibility=apps.core.rls.SharedByParties("client_organization_id", "supplier_organization_id"),
            reapply=True,
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="orders",
            model_name="orderitem",
            visibility=apps.core.rls.Derived("client_organization_id", "supplier_organization_id"),
            reapply=True,
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="orders",
            model_name="orderstatuschange",
            visibility=apps.core.rls.Derived("client_organization_id", "supplier_organization_id"),
            reapply=True,
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="orders",
            model_name="package",
            visibility=apps.core.rls.Derived("client_organization_id", "supplier_organization_id"),
            reapply=True,
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="orders", model_name="unmatchedarrival", visibility=apps.core.rls.Owned(), reapply=True
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="orders",
            model_name="orderreturn",
            visibility=apps.core.rls.Derived("client_organization_id", "supplier_organization_id"),
            reapply=True,
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="orders",
            model_name="returnitem",
            visibility=apps.core.rls.Derived("client_organization_id", "supplier_organization_id"),
            reapply=True,
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="orders",
            model_name="returnphoto",
            visibility=apps.core.rls.Derived("client_organization_id", "supplier_organization_id"),
            reapply=True,
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="orders",
            model_name="returnstatuschange",
            visibility=apps.core.rls.Derived("client_organization_id", "supplier_organization_id"),
            reapply=True,
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="documents", model_name="documenttemplate", visibility=apps.core.rls.Owned(), reapply=True
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="documents",
            model_name="generateddocument",
            visibility=apps.core.rls.Derived("client_organization_id", "supplier_organization_id"),
            reapply=True,
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="marketplace",
            model_name="serviceoffering",
            visibility=apps.core.rls.Published(published_condition="is_active AND NOT is_hidden"),
            reapply=True,
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="marketplace",
            model_name="tariff",
            visibility=apps.core.rls.Published(published_condition="is_active AND offering_is_published"),
            reapply=True,
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="marketplace",
            model_name="rfq",
            visibility=apps.core.rls.Published(
                published_condition="status <> 'draft' AND (audience = 'public' OR invited_organization_ids @> ARRAY[(select app_current_tenant())])"
            ),
            reapply=True,
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="marketplace", model_name="rfqstatuschange", visibility=apps.core.rls.Owned(), reapply=True
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="marketplace",
            model_name="offer",
            visibility=apps.core.rls.SharedByParties("carrier_organization_id", "shipper_organization_id"),
            reapply=True,
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="marketplace",
            model_name="offerrevision",
            visibility=apps.core.rls.Derived("carrier_organization_id", "shipper_organization_id"),
            reapply=True,
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="marketplace",
            model_name="offerstatuschange",
            visibility=apps.core.rls.Derived("carrier_organization_id", "shipper_organization_id"),
            reapply=True,
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="escrow",
            model_name="escrow",
            visibility=apps.core.rls.SharedByParties("client_organization_id", "supplier_organization_id"),
            reapply=True,
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="escrow",
            model_name="escrowstatuschange",
            visibility=apps.core.rls.Derived("client_organization_id", "supplier_organization_id"),
            reapply=True,
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="escrow",
            model_name="paymenttransaction",
            visibility=apps.core.rls.Derived("client_organization_id", "supplier_organization_id"),
            reapply=True,
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="escrow",
            model_name="ledgeraccount",
            visibility=apps.core.rls.Owned(open_insert=True),
            reapply=True,
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="escrow",
            model_name="journalentry",
            visibility=apps.core.rls.Derived("client_organization_id", "supplier_organization_id"),
            reapply=True,
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="escrow",
            model_name="posting",
            visibility=apps.core.rls.Derived("client_organization_id", "supplier_organization_id"),
            reapply=True,
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            app_label="escrow", model_name="webhookevent", visibility=apps.core.rls.Owned(), reapply=True
        ),
    ]
