"""The matching prefilter's own table: `service_expertarea`, one row per published expert with a
location (its area's bounding box), kept by a trigger on the passports table in the transaction
of the passport's own write, with a GiST index over the box.

Why not a GiST index on the passports table itself (the first design): under row-level
security PostgreSQL only makes *leakproof* operators index conditions below a policy's quals,
and no geometric operator is leakproof (`box_contain` included), so a tenant's query (and the
all-tenants role's, and a non-superuser owner's: the policies are forced) reads the passports
table sequentially whatever index it has. This table holds what every tenant reads on the
public profile already (published experts' areas), names no organization, and has no policy:
its index serves the query, which then joins the passports by primary key (a leakproof uuid
equality) under their policies. It also holds the expert's industries (the main one and those of
every skill), so that the experts of another trade are left out before that join. Backfilled
from the passports that exist.
"""

import django.contrib.postgres.fields
import django.db.models.deletion
from django.db import migrations, models

SYNC_SQL = r"""
CREATE OR REPLACE FUNCTION service_expert_industries(main varchar, skills varchar[]) RETURNS varchar[]
LANGUAGE sql IMMUTABLE SET search_path = public, pg_temp AS $$
    SELECT ARRAY(
        SELECT DISTINCT industry FROM (
            SELECT main AS industry
            UNION ALL
            SELECT split_part(skill, '-', 1) FROM unnest(skills) AS skill
        ) AS industries
        ORDER BY industry
    )::varchar[]
$$;
CREATE OR REPLACE FUNCTION service_expert_area_sync() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM service_expertarea WHERE expert_id = OLD.id;
        RETURN OLD;
    END IF;
    IF NEW.is_published AND NEW.area_min_latitude IS NOT NULL AND NEW.area_max_latitude IS NOT NULL
       AND NEW.area_min_longitude IS NOT NULL AND NEW.area_max_longitude IS NOT NULL THEN
        INSERT INTO service_expertarea
            (expert_id, area_min_latitude, area_max_latitude, area_min_longitude, area_max_longitude, industries)
        VALUES (NEW.id, NEW.area_min_latitude, NEW.area_max_latitude, NEW.area_min_longitude, NEW.area_max_longitude,
                service_expert_industries(NEW.industry_code, NEW.skills))
        ON CONFLICT (expert_id) DO UPDATE SET
            area_min_latitude = EXCLUDED.area_min_latitude,
            area_max_latitude = EXCLUDED.area_max_latitude,
            area_min_longitude = EXCLUDED.area_min_longitude,
            area_max_longitude = EXCLUDED.area_max_longitude,
            industries = EXCLUDED.industries;
    ELSIF TG_OP = 'UPDATE' THEN
        DELETE FROM service_expertarea WHERE expert_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER expert_area_sync
    AFTER INSERT OR DELETE
       OR UPDATE OF is_published, area_min_latitude, area_max_latitude, area_min_longitude, area_max_longitude,
                    industry_code, skills
    ON service_expertpassport
    FOR EACH ROW EXECUTE FUNCTION service_expert_area_sync();
CREATE INDEX expert_area_box_gist ON service_expertarea USING gist
    (box(point(area_min_longitude, area_min_latitude), point(area_max_longitude, area_max_latitude)));
SELECT set_config('app.rls_bypass', 'on', true);
INSERT INTO service_expertarea
    (expert_id, area_min_latitude, area_max_latitude, area_min_longitude, area_max_longitude, industries)
SELECT id, area_min_latitude, area_max_latitude, area_min_longitude, area_max_longitude,
       service_expert_industries(industry_code, skills)
  FROM service_expertpassport
 WHERE is_published AND area_min_latitude IS NOT NULL AND area_max_latitude IS NOT NULL
   AND area_min_longitude IS NOT NULL AND area_max_longitude IS NOT NULL;
SELECT set_config('app.rls_bypass', '', true);
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS expert_area_sync ON service_expertpassport;
DROP FUNCTION IF EXISTS service_expert_area_sync();
DROP FUNCTION IF EXISTS service_expert_industries(varchar, varchar[]);
DROP INDEX IF EXISTS expert_area_box_gist;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("service", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="ExpertArea",
            fields=[
                (
                    "expert",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="service.expertpassport",
                    ),
                ),
                ("area_min_latitude", models.FloatField()),
                ("area_max_latitude", models.FloatField()),
                ("area_min_longitude", models.FloatField()),
                ("area_max_longitude", models.FloatField()),
                (
                    "industries",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.CharField(max_length=2), default=list, size=None
                    ),
                ),
            ],
        ),
        migrations.RunSQL(SYNC_SQL, DROP_SQL),
    ]
