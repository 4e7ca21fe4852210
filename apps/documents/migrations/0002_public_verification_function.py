"""The public verification page's one read: `documents_public_verification(document, organization, token)`.

A stranger holding a document's QR code may see what identifies the paper in hand and its
signature, nothing else (docs/architecture.md, "Public read paths"). The application role has
no tenant on that page, so row-level security shows it no generated document at all; this
SECURITY DEFINER function (owned by the table's owner) reads the one row whose stored
verification token is the one presented, scoped to the organization the signed token names,
and returns only the columns listed in its RETURNS TABLE, which equal
`apps.documents.selectors.PUBLIC_VERIFICATION_COLUMNS` (a test holds them equal).
`search_path` is pinned; EXECUTE is revoked from PUBLIC and granted to the application role.
"""

from django.conf import settings
from django.db import migrations
from psycopg import sql

FUNCTION = "documents_public_verification(uuid, uuid, text)"

CREATE_SQL = r"""
CREATE OR REPLACE FUNCTION documents_public_verification(p_document uuid, p_organization uuid, p_token text)
RETURNS TABLE (
    document_type text,
    order_number text,
    version integer,
    latest_version integer,
    status text,
    sha256 text,
    signed_at timestamptz,
    signer_name text,
    signed_file text,
    created_at timestamptz
)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
    previous_tenant text := coalesce(current_setting('app.current_tenant', true), '');
    previous_user text := coalesce(current_setting('app.current_user', true), '');
    previous_bypass text := coalesce(current_setting('app.rls_bypass', true), '');
BEGIN
    IF p_document IS NULL OR p_organization IS NULL OR coalesce(p_token, '') = '' THEN
        RETURN;
    END IF;
    -- The issuing organization's rows only (never a bypass), for no user.
    PERFORM set_config('app.current_tenant', p_organization::text, true);
    PERFORM set_config('app.current_user', '', true);
    PERFORM set_config('app.rls_bypass', '', true);
    RETURN QUERY
        SELECT d.document_type::text,
               d.order_number::text,
               d.version::integer,
               (SELECT max(other.version)::integer
                  FROM documents_generateddocument other
                 WHERE other.order_id = d.order_id AND other.document_type = d.document_type),
               d.status::text,
               -- the fingerprint shown: of the signed PDF once signed, else of the rendered one
               (CASE WHEN d.signed_at IS NOT NULL THEN d.signature_sha256 ELSE d.sha256 END)::text,
               d.signed_at,
               d.signer_name::text,
               -- where the signed PDF is stored: read to check its signature, never shown
               (CASE WHEN d.signed_at IS NOT NULL THEN d.signed_file ELSE '' END)::text,
               d.created_at
          FROM documents_generateddocument d
         WHERE d.id = p_document AND d.organization_id = p_organization AND d.verification_token = p_token;
    PERFORM set_config('app.current_tenant', previous_tenant, true);
    PERFORM set_config('app.current_user', previous_user, true);
    PERFORM set_config('app.rls_bypass', previous_bypass, true);
END $$;
REVOKE ALL ON FUNCTION documents_public_verification(uuid, uuid, text) FROM PUBLIC;
"""

DROP_SQL = "DROP FUNCTION IF EXISTS documents_public_verification(uuid, uuid, text);"


def grant_to_application_role(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [settings.APP_DB_USER])
        if cursor.fetchone() is None:
            return  # made later by setup_database; grant_application_role grants EXECUTE then
        cursor.execute(
            sql.SQL("GRANT EXECUTE ON FUNCTION {} TO {}")
            .format(sql.SQL(FUNCTION), sql.Identifier(settings.APP_DB_USER))
            .as_string(cursor.cursor)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0001_documents_and_templates"),
    ]

    operations = [
        migrations.RunSQL(CREATE_SQL, DROP_SQL),
        migrations.RunPython(grant_to_application_role, migrations.RunPython.noop),
    ]
