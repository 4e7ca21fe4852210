"""The device key's lookup: `tracking_device_for_key(digest)`, before any tenant is known.

A telematics device presents its key (`Authorization: Device <key>`); the request has no user
and no organization yet, so row-level security shows the application role no device at all.
This SECURITY DEFINER function (owned by the table's owner, like
apps/documents/migrations/0002_public_verification_function.py) reads the one non-revoked
device whose key digest is the one presented and returns its id and organization, nothing
else; the request then runs in that organization's tenant scope (apps/tracking/device_auth.py).
The owner's `all_tenants` policy admits it while `app.rls_bypass` is on, which the function
sets for its one query and puts back. `search_path` is pinned; EXECUTE is revoked from PUBLIC
and granted to the application role.
"""

from django.conf import settings
from django.db import migrations
from psycopg import sql

FUNCTION = "tracking_device_for_key(text)"

CREATE_SQL = r"""
CREATE OR REPLACE FUNCTION tracking_device_for_key(p_digest text)
RETURNS TABLE (device_id uuid, organization_id uuid)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
    previous_bypass text := coalesce(current_setting('app.rls_bypass', true), '');
BEGIN
    -- A SHA-256 hex digest or nothing: no pattern, no scan, no surprise.
    IF p_digest IS NULL OR p_digest !~ '^[0-9a-f]{64}$' THEN
        RETURN;
    END IF;
    PERFORM set_config('app.rls_bypass', 'on', true);
    RETURN QUERY
        SELECT d.id, d.organization_id
          FROM tracking_device d
         WHERE d.key_digest = p_digest AND d.revoked_at IS NULL;
    PERFORM set_config('app.rls_bypass', previous_bypass, true);
END $$;
REVOKE ALL ON FUNCTION tracking_device_for_key(text) FROM PUBLIC;
"""

DROP_SQL = "DROP FUNCTION IF EXISTS tracking_device_for_key(text);"


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
    dependencies = [("tracking", "0002_tracking_events_partitioned")]

    operations = [
        migrations.RunSQL(CREATE_SQL, DROP_SQL),
        migrations.RunPython(grant_to_application_role, migrations.RunPython.noop),
    ]
