# Quotes (docs/marketplace.md, "Quotes at scale"):
# - a GIN index over the published offerings' coverage arrays, so the lane conditions of the
#   quote's narrowing (`origin_countries = '{}' OR origin_countries @> '{DE}'`, and the same
#   for the destination) are index conditions;
# - the catalogue's version: one row given a new random value just before the commit of every
#   transaction that wrote service offerings or tariffs. A deferred constraint trigger per row
#   does it once per transaction (a transaction-local flag) and at commit, after the
#   transaction's other locks, so it adds no lock-order deadlock; TRUNCATE (tests, the bench)
#   bumps it at once. Random, not a counter: a rolled-back transaction can never make a
#   later one reuse its value. A statement trigger also marks the writing transaction
#   (`marketplace.catalogue_written`, transaction-local): until it commits, its own quotes see
#   rows no version names yet, so they neither read nor fill the cache.

import uuid

import django.contrib.postgres.indexes
from django.db import migrations, models

TRIGGERS = """
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
"""
TABLES = ("marketplace_serviceoffering", "marketplace_tariff")
CREATE_TRIGGERS = "".join(
    f"""
CREATE CONSTRAINT TRIGGER catalogue_version AFTER INSERT OR UPDATE OR DELETE ON {table}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION marketplace_catalogue_changed();
CREATE TRIGGER catalogue_version_truncate AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION marketplace_catalogue_changed();
CREATE TRIGGER catalogue_written AFTER INSERT OR UPDATE OR DELETE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION marketplace_catalogue_written();
"""
    for table in TABLES
)
DROP_TRIGGERS = "".join(
    f"DROP TRIGGER IF EXISTS catalogue_version ON {table}; DROP TRIGGER IF EXISTS catalogue_version_truncate ON {table};"
    f"DROP TRIGGER IF EXISTS catalogue_written ON {table};"
    for table in TABLES
) + "DROP FUNCTION IF EXISTS marketplace_catalogue_changed(); DROP FUNCTION IF EXISTS marketplace_catalogue_written();"


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0005_status_history_on_core_lifecycle")]

    operations = [
        migrations.CreateModel(
            name="CatalogueVersion",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("version", models.UUIDField(default=uuid.uuid4)),
            ],
        ),
        migrations.AddConstraint(
            model_name="catalogueversion",
            constraint=models.CheckConstraint(condition=models.Q(("id", 1)), name="catalogue_version_single_row"),
        ),
        migrations.AddIndex(
            model_name="serviceoffering",
            index=django.contrib.postgres.indexes.GinIndex(
                condition=models.Q(("is_active", True), ("is_hidden", False)),
                fields=["origin_countries", "destination_countries"],
                name="offering_published_lane_gin",
            ),
        ),
        migrations.RunSQL(TRIGGERS + CREATE_TRIGGERS, reverse_sql=DROP_TRIGGERS),
    ]
