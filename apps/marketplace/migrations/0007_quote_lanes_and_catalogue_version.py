# Quotes at scale (docs/marketplace.md):
# - OfferingLane: one row per (published offering, side, country), '*' for an empty list
#   (anywhere), kept by triggers in the transaction of the offering's own write. The quote
#   narrows its candidates by equality on (side, country) through its index: the arrays'
#   `@>` is not leakproof, so under row-level security it can never be an index condition.
# - CatalogueVersion: one row given a new random value just before the commit of every
#   transaction that wrote service offerings or tariffs. A deferred constraint trigger per row
#   does it once per transaction (a transaction-local flag) and at commit, after the
#   transaction's other locks, so it adds no lock-order deadlock; TRUNCATE (tests, the bench)
#   bumps it at once. Random, not a counter: a rolled-back transaction can never make a
#   later one reuse its value. A statement trigger also marks the writing transaction
#   (`marketplace.catalogue_written`, transaction-local): until it commits, its own quotes see
#   rows no version names yet, so they neither read nor fill the cache.

import django.db.models.deletion
import uuid
from django.db import migrations, models

LANES = """
CREATE OR REPLACE FUNCTION marketplace_offering_lanes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM marketplace_offeringlane WHERE offering_id = OLD.id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.is_active AND NOT NEW.is_hidden THEN
        INSERT INTO marketplace_offeringlane (offering_id, side, country)
        SELECT DISTINCT NEW.id, side, country FROM (
            SELECT 'o' AS side, unnest(CASE WHEN NEW.origin_countries = '{}' THEN '{*}'::varchar[]
                                            ELSE NEW.origin_countries END) AS country
            UNION ALL
            SELECT 'd', unnest(CASE WHEN NEW.destination_countries = '{}' THEN '{*}'::varchar[]
                                    ELSE NEW.destination_countries END)
        ) AS lane;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER offering_lanes
    AFTER INSERT OR UPDATE OF origin_countries, destination_countries, is_active, is_hidden
    ON marketplace_serviceoffering FOR EACH ROW EXECUTE FUNCTION marketplace_offering_lanes();
CREATE TRIGGER offering_lanes_delete BEFORE DELETE
    ON marketplace_serviceoffering FOR EACH ROW EXECUTE FUNCTION marketplace_offering_lanes();
-- The offerings there are already (the owner reads them in the bypass scope).
SELECT set_config('app.rls_bypass', 'on', true);
INSERT INTO marketplace_offeringlane (offering_id, side, country)
SELECT DISTINCT o.id, lane.side, lane.country
FROM marketplace_serviceoffering o
CROSS JOIN LATERAL (
    SELECT 'o' AS side, unnest(CASE WHEN o.origin_countries = '{}' THEN '{*}'::varchar[]
                                    ELSE o.origin_countries END) AS country
    UNION ALL
    SELECT 'd', unnest(CASE WHEN o.destination_countries = '{}' THEN '{*}'::varchar[]
                            ELSE o.destination_countries END)
) AS lane
WHERE o.is_active AND NOT o.is_hidden;
SELECT set_config('app.rls_bypass', '', true);
"""
DROP_LANES = """
DROP TRIGGER IF EXISTS offering_lanes ON marketplace_serviceoffering;
DROP TRIGGER IF EXISTS offering_lanes_delete ON marketplace_serviceoffering;
DROP FUNCTION IF EXISTS marketplace_offering_lanes();
"""
VERSION = """
CREATE OR REPLACE FUNCTION marketplace_catalogue_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_LEVEL = 'ROW' AND coalesce(current_setting('marketplace.catalogue_bumped', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    INSERT INTO marketplace_catalogueversion (id, version) VALUES (1, gen_random_uuid())
        ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version;
    IF TG_LEVEL = 'ROW' THEN
        PERFORM set_config('marketplace.catalogue_bumped', 'on', true);
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION marketplace_catalogue_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('marketplace.catalogue_written', 'on', true);
    RETURN NULL;
END $$;
INSERT INTO marketplace_catalogueversion (id, version) VALUES (1, gen_random_uuid()) ON CONFLICT DO NOTHING;
""" + "".join(
    f"""
CREATE CONSTRAINT TRIGGER catalogue_version AFTER INSERT OR UPDATE OR DELETE ON {table}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION marketplace_catalogue_changed();
CREATE TRIGGER catalogue_version_truncate AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION marketplace_catalogue_changed();
CREATE TRIGGER catalogue_written AFTER INSERT OR UPDATE OR DELETE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION marketplace_catalogue_written();
"""
    for table in ("marketplace_serviceoffering", "marketplace_tariff")
)
DROP_VERSION = "".join(
    f"""
DROP TRIGGER IF EXISTS catalogue_version ON {table};
DROP TRIGGER IF EXISTS catalogue_version_truncate ON {table};
DROP TRIGGER IF EXISTS catalogue_written ON {table};
"""
    for table in ("marketplace_serviceoffering", "marketplace_tariff")
) + "DROP FUNCTION IF EXISTS marketplace_catalogue_changed(); DROP FUNCTION IF EXISTS marketplace_catalogue_written();"


class Migration(migrations.Migration):

    dependencies = [
        ('marketplace', '0006_list_order_party_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='CatalogueVersion',
            fields=[
                ('id', models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ('version', models.UUIDField(default=uuid.uuid4)),
            ],
            options={
                'constraints': [models.CheckConstraint(condition=models.Q(('id', 1)), name='catalogue_version_single_row')],
            },
        ),
        migrations.CreateModel(
            name='OfferingLane',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('side', models.CharField(choices=[('o', 'origin'), ('d', 'destination')], max_length=1)),
                ('country', models.CharField(max_length=2)),
                ('offering', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='marketplace.serviceoffering')),
            ],
            options={
                'indexes': [models.Index(fields=['side', 'country', 'offering'], name='offering_lane_idx'), models.Index(fields=['offering'], name='offering_lane_offering_idx')],
            },
        ),
        migrations.RunSQL(LANES, reverse_sql=DROP_LANES),
        migrations.RunSQL(VERSION, reverse_sql=DROP_VERSION),
    ]
