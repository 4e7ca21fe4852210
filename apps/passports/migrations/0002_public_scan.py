"""The public scan's one read (and write): `passports_public_scan(...)`.

Anyone holding a device (its label's QR code, its code typed in) may see what it is, whether it
is under warranty and what happened to it lately; nothing about who owns it, where it is, whom
it is kept for, its serial number or the notes of its steps (issue 21 "Public scan", DESIGN.md
§3 "Pages without a login"). The page has no login and no tenant, so row-level security shows
it no passport at all; this SECURITY DEFINER function (owned by the tables' owner) is the one
path by which it sees any.

How it reads. A code (or a GTIN-14 and serial number) names no organization, so the function
first finds which passport it is and its owner: one indexed lookup of two ids under the owner's
all-tenants policy, nothing returned from it. Everything it reads and writes after that it does
in the owner's tenant scope, under the same policies as the owner's members, and the previous
settings are put back before it returns.

It returns only the columns of its RETURNS TABLE, which equal
`apps.passports.selectors_public.PUBLIC_COLUMNS` (a test holds them equal): code, device name,
manufacturer, model, product type, country of origin, status, warranty end, and the last
`p_steps` public lifecycle steps (newest first) as jsonb, each its kind and the UTC date it
happened on; never the step's time, place, notes, links or who recorded it.

Counting the scan in the same call keeps a page view to one database round trip: with
`p_record` it adds the owner's PassportScan row (now, the channel, a country only when it is two
capital letters, coordinates only when both are given and on the globe, rounded here to 0.1°,
and whether the caller was signed in), committed without waiting for the WAL flush
(`synchronous_commit` off for that transaction: a count, not a record anyone relies on). The
caller's address is not a parameter: it cannot be
stored. `search_path` is pinned; EXECUTE is revoked from PUBLIC and granted to the application
role.
"""

from django.conf import settings
from django.db import migrations
from psycopg import sql

FUNCTION = "passports_public_scan(text, text, text, integer, boolean, text, text, numeric, numeric, boolean)"

CREATE_SQL = r"""
CREATE OR REPLACE FUNCTION passports_public_scan(
    p_code text,
    p_gtin text,
    p_serial text,
    p_steps integer,
    p_record boolean,
    p_channel text,
    p_country text,
    p_latitude numeric,
    p_longitude numeric,
    p_signed_in boolean
)
RETURNS TABLE (
    code text,
    device_name text,
    manufacturer text,
    model text,
    product_type text,
    origin_country text,
    status text,
    warranty_until date,
    steps jsonb
)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
    previous_tenant text := coalesce(current_setting('app.current_tenant', true), '');
    previous_user text := coalesce(current_setting('app.current_user', true), '');
    previous_bypass text := coalesce(current_setting('app.rls_bypass', true), '');
    found_passport uuid;
    found_owner uuid;
BEGIN
    IF length(coalesce(p_code, '')) > 24 OR length(coalesce(p_gtin, '')) > 14
       OR length(coalesce(p_serial, '')) > 80 THEN
        RETURN;
    END IF;
    IF p_record AND coalesce(p_channel, '') NOT IN ('code', 'digital_link', 'api') THEN
        RAISE EXCEPTION 'unknown scan channel %', p_channel USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Which passport and whose: two ids, read across tenants, never returned. An empty code
    -- is looked up like any other (it matches nothing), so a malformed code costs what an
    -- unknown one does.
    PERFORM set_config('app.rls_bypass', 'on', true);
    IF coalesce(p_gtin, '') <> '' AND coalesce(p_code, '') = '' THEN
        SELECT p.id, p.organization_id INTO found_passport, found_owner
          FROM passports_devicepassport p
         WHERE p.gtin <> '' AND p.gtin = p_gtin AND p.serial_number = coalesce(p_serial, '');
    ELSE
        SELECT p.id, p.organization_id INTO found_passport, found_owner
          FROM passports_devicepassport p
         WHERE p.code = coalesce(p_code, '');
    END IF;
    -- From here on the owner's rows only, for no user, as its members see them.
    PERFORM set_config('app.rls_bypass', '', true);
    PERFORM set_config('app.current_tenant', coalesce(found_owner::text, ''), true);
    PERFORM set_config('app.current_user', '', true);
    IF found_passport IS NOT NULL THEN
        IF p_record THEN
            -- A scan is a count: its transaction commits without waiting for the WAL flush
            -- (a crash may lose the last fraction of a second of counts, never corrupt them).
            PERFORM set_config('synchronous_commit', 'off', true);
            INSERT INTO passports_passportscan
                (passport_id, organization_id, scanned_at, channel, country, latitude, longitude, signed_in)
            VALUES (
                found_passport,
                found_owner,
                now(),
                p_channel,
                CASE WHEN p_country ~ '^[A-Z]{2}$' THEN p_country ELSE '' END,
                CASE WHEN p_latitude BETWEEN -90 AND 90 AND p_longitude BETWEEN -180 AND 180
                     THEN round(p_latitude, 1) END,
                CASE WHEN p_latitude BETWEEN -90 AND 90 AND p_longitude BETWEEN -180 AND 180
                     THEN round(p_longitude, 1) END,
                coalesce(p_signed_in, false)
            );
        END IF;
        RETURN QUERY
        SELECT p.code::text,
               p.device_name::text,
               p.manufacturer::text,
               p.model::text,
               p.product_type::text,
               p.origin_country::text,
               p.status::text,
               p.warranty_until,
               (SELECT coalesce(jsonb_agg(jsonb_build_object('kind', last_steps.kind, 'date', last_steps.day)
                                          ORDER BY last_steps.occurred_at DESC, last_steps.at DESC, last_steps.id DESC),
                                '[]'::jsonb)
                  FROM (SELECT e.kind, (e.occurred_at AT TIME ZONE 'UTC')::date AS day, e.occurred_at, e.at, e.id
                          FROM passports_passportevent e
                         WHERE e.passport_id = found_passport AND e.is_public
                         ORDER BY e.occurred_at DESC, e.at DESC, e.id DESC
                         LIMIT least(greatest(coalesce(p_steps, 0), 0), 50)) last_steps)
          FROM passports_devicepassport p
         WHERE p.id = found_passport;
    END IF;
    PERFORM set_config('app.current_tenant', previous_tenant, true);
    PERFORM set_config('app.current_user', previous_user, true);
    PERFORM set_config('app.rls_bypass', previous_bypass, true);
END $$;
REVOKE ALL ON FUNCTION passports_public_scan(text, text, text, integer, boolean, text, text, numeric, numeric, boolean)
    FROM PUBLIC;
"""

DROP_SQL = f"DROP FUNCTION IF EXISTS {FUNCTION};"


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
    dependencies = [("passports", "0001_initial")]

    operations = [
        migrations.RunSQL(CREATE_SQL, DROP_SQL),
        migrations.RunPython(grant_to_application_role, migrations.RunPython.noop),
    ]
