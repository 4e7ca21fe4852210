"""The public tracking page's one read: `tracking_public_shipment(tracking_number)`.

Anyone holding a tracking number (the recipient of a parcel, a consignee) may see where the
goods are at city level, when they arrive and what happened on the way; nothing about the
parties, the goods, the money or an address (docs/architecture.md, "Public read paths"). The
page has no login and no tenant, so row-level security shows it no shipment at all; this
SECURITY DEFINER function (owned by the tables' owner) is the one path by which it sees any.

How it reads. A tracking number names no organization (unlike a document's signed token), so
the function first finds which shipment carries the number and its client organization: one
indexed lookup of two ids under the owner's all-tenants policy, nothing returned from it.
Everything it returns it then reads in that organization's tenant scope, under the same
policies as the organization's own members, and the previous settings are put back.

It returns only the columns of its RETURNS TABLE, which equal
`apps.tracking.public.PUBLIC_COLUMNS` (a test holds them equal), each coarse on purpose:
- the place: the shipment's city and country, else the city of the waypoint nearest to its
  last position; never the position itself;
- the route's waypoints: kind, city, country and coordinates rounded to 0.01° (about 1 km);
- the travelled track: plausible positions rounded the same way, consecutive repeats dropped,
  thinned evenly to at most 500 points (first and last kept);
- the milestones: moment, event type and a code (a milestone's or a status's name, or the
  waypoint a geofence entry is of), codes limited to [a-z0-9_]; never the description,
  address or metadata, which carry free text.
`search_path` is pinned; EXECUTE is revoked from PUBLIC and granted to the application role.
"""

from django.conf import settings
from django.db import migrations
from psycopg import sql

FUNCTION = "tracking_public_shipment(text)"

CREATE_SQL = r"""
CREATE OR REPLACE FUNCTION tracking_public_shipment(p_tracking_number text)
RETURNS TABLE (
    tracking_number text,
    kind text,
    status text,
    location_city text,
    location_country text,
    last_position_at timestamptz,
    eta_at timestamptz,
    promised_at timestamptz,
    completed_at timestamptz,
    waypoints jsonb,
    track jsonb,
    milestones jsonb
)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
    previous_tenant text := coalesce(current_setting('app.current_tenant', true), '');
    previous_user text := coalesce(current_setting('app.current_user', true), '');
    previous_bypass text := coalesce(current_setting('app.rls_bypass', true), '');
    found_shipment uuid;
    found_client uuid;
BEGIN
    IF coalesce(p_tracking_number, '') = '' OR length(p_tracking_number) > 16 THEN
        RETURN;
    END IF;
    -- Which shipment and whose: two ids, read across tenants, never returned.
    PERFORM set_config('app.rls_bypass', 'on', true);
    SELECT s.id, s.client_organization_id INTO found_shipment, found_client
      FROM tracking_trackedshipment s
     WHERE s.tracking_number = p_tracking_number;
    -- From here on the client organization's rows only, for no user, as its members see them.
    PERFORM set_config('app.rls_bypass', '', true);
    PERFORM set_config('app.current_tenant', coalesce(found_client::text, ''), true);
    PERFORM set_config('app.current_user', '', true);
    IF found_shipment IS NOT NULL THEN
        RETURN QUERY
        WITH route AS (
            SELECT r.ordinality AS position,
                   left(coalesce(r.waypoint->>'kind', ''), 32) AS kind,
                   left(coalesce(r.waypoint->>'city', ''), 100) AS city,
                   left(coalesce(r.waypoint->>'country', ''), 2) AS country,
                   CASE WHEN r.waypoint->>'latitude' ~ '^-?[0-9]{1,3}(\.[0-9]+)?$'
                        THEN round((r.waypoint->>'latitude')::numeric, 2) END AS latitude,
                   CASE WHEN r.waypoint->>'longitude' ~ '^-?[0-9]{1,3}(\.[0-9]+)?$'
                        THEN round((r.waypoint->>'longitude')::numeric, 2) END AS longitude
              FROM tracking_trackedshipment s,
                   jsonb_array_elements(CASE WHEN jsonb_typeof(s.route) = 'array' THEN s.route ELSE '[]' END)
                       WITH ORDINALITY AS r(waypoint, ordinality)
             WHERE s.id = found_shipment
        ),
        points AS (
            SELECT round(e.latitude, 2) AS latitude, round(e.longitude, 2) AS longitude, e.occurred_at,
                   lag(round(e.latitude, 2)) OVER (ORDER BY e.occurred_at, e.id) AS previous_latitude,
                   lag(round(e.longitude, 2)) OVER (ORDER BY e.occurred_at, e.id) AS previous_longitude
              FROM tracking_trackingevent e
             WHERE e.shipment_id = found_shipment
               AND e.event_type = 'location_update'
               AND NOT e.is_implausible
               AND e.latitude IS NOT NULL AND e.longitude IS NOT NULL
        ),
        moves AS (
            SELECT p.latitude, p.longitude, p.occurred_at,
                   row_number() OVER (ORDER BY p.occurred_at) AS n, count(*) OVER () AS total
              FROM points p
             WHERE p.previous_latitude IS NULL
                OR p.latitude <> p.previous_latitude OR p.longitude <> p.previous_longitude
        ),
        marks AS (
            SELECT e.occurred_at, e.event_type,
                   CASE e.event_type
                        WHEN 'milestone' THEN e.metadata->>'milestone'
                        WHEN 'status_change' THEN coalesce(e.metadata->>'status', e.metadata->>'to_status')
                        ELSE coalesce(e.metadata->>'geofence_id', e.metadata->>'geofence')
                   END AS code
              FROM tracking_trackingevent e
             WHERE e.shipment_id = found_shipment
               AND e.event_type IN ('milestone', 'status_change', 'geofence_enter')
             ORDER BY e.occurred_at DESC
             LIMIT 200
        )
        SELECT s.tracking_number::text,
               s.kind::text,
               s.status::text,
               coalesce(nullif(s.last_city, ''), nearest.city)::text,
               CASE WHEN s.last_city <> '' THEN s.last_country ELSE coalesce(nearest.country, '') END::text,
               s.last_position_at,
               s.eta_at,
               s.promised_at,
               s.completed_at,
               (SELECT coalesce(jsonb_agg(jsonb_build_object(
                        'kind', route.kind, 'city', route.city, 'country', route.country,
                        'latitude', route.latitude, 'longitude', route.longitude) ORDER BY route.position), '[]')
                  FROM route),
               (SELECT coalesce(jsonb_agg(jsonb_build_array(moves.latitude, moves.longitude) ORDER BY moves.n), '[]')
                  FROM moves
                 WHERE moves.total <= 500 OR moves.n = 1 OR moves.n = moves.total
                    OR (moves.n - 1) % ceil(moves.total / 500.0)::bigint = 0),
               (SELECT coalesce(jsonb_agg(jsonb_build_object(
                        'at', marks.occurred_at, 'type', marks.event_type,
                        'code', CASE WHEN marks.code ~ '^[a-z0-9_]{1,40}$' THEN marks.code ELSE '' END,
                        'waypoint', CASE WHEN marks.code ~ '^waypoint:[0-9]{1,4}$'
                                         THEN substr(marks.code, 10)::integer END)
                        ORDER BY marks.occurred_at), '[]')
                  FROM marks
                 WHERE marks.event_type <> 'geofence_enter' OR marks.code ~ '^waypoint:[0-9]{1,4}$')
          FROM tracking_trackedshipment s
          LEFT JOIN LATERAL (
                SELECT route.city, route.country
                  FROM route
                 WHERE route.latitude IS NOT NULL AND route.longitude IS NOT NULL
                   AND s.last_latitude IS NOT NULL AND s.last_longitude IS NOT NULL
                 ORDER BY power(route.latitude - s.last_latitude, 2)
                          + power((route.longitude - s.last_longitude) * cos(radians(s.last_latitude)), 2)
                 LIMIT 1
          ) nearest ON true
         WHERE s.id = found_shipment;
    END IF;
    PERFORM set_config('app.current_tenant', previous_tenant, true);
    PERFORM set_config('app.current_user', previous_user, true);
    PERFORM set_config('app.rls_bypass', previous_bypass, true);
END $$;
REVOKE ALL ON FUNCTION tracking_public_shipment(text) FROM PUBLIC;
"""

DROP_SQL = "DROP FUNCTION IF EXISTS tracking_public_shipment(text);"


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
    dependencies = [("tracking", "0004_carrier_polling")]

    operations = [
        migrations.RunSQL(CREATE_SQL, DROP_SQL),
        migrations.RunPython(grant_to_application_role, migrations.RunPython.noop),
    ]
