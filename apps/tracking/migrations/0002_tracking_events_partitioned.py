"""The tracking events table: partitioned by month of `occurred_at`, created by hand (Django
does not make partitioned tables), with the functions that add and drop its partitions.

Django's state is the model (apps.tracking.models.TrackingEvent); the database gets the same
columns, indexes and constraints on a table `PARTITION BY RANGE (occurred_at)` whose primary
key is (id, occurred_at): a partitioned table's unique keys must include the partition key.

The application role owns no table and cannot create partitions, so two SECURITY DEFINER
functions owned by the migrating role do it (apps/tracking/partitions.py calls them):
- `tracking_event_partitions_ensure(from, months)`: one partition per month from `from`'s
  month on, made if missing; each partition gets row-level security forced with no policy and
  no grant, so the rows are reachable only through the parent and its policies;
- `tracking_event_partitions_drop_before(before)`: detaches and drops every partition whose
  month ends on or before `before` (the retention).
Both pin `search_path`; EXECUTE is revoked from PUBLIC (the application role gets it with
every function after migrate, apps/core/provisioning.py).
"""

import uuid

from django.db import migrations, models

import apps.core.rls

CREATE_TABLE = """
CREATE TABLE tracking_trackingevent (
    id uuid NOT NULL,
    shipment_id uuid NOT NULL,
    client_organization_id uuid NOT NULL,
    supplier_organization_id uuid NOT NULL,
    event_type varchar(16) NOT NULL,
    source varchar(16) NOT NULL,
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    latitude numeric(9, 6) NULL,
    longitude numeric(9, 6) NULL,
    address varchar(300) NOT NULL,
    speed_kmh numeric(6, 1) NULL,
    heading smallint NULL CHECK (heading >= 0),
    temperature_c numeric(5, 1) NULL,
    device_id uuid NULL,
    created_by_id uuid NULL,
    is_implausible boolean NOT NULL,
    description varchar(300) NOT NULL,
    metadata jsonb NOT NULL,
    CONSTRAINT tracking_trackingevent_pkey PRIMARY KEY (id, occurred_at),
    CONSTRAINT tracking_event_device_moment_unique UNIQUE (device_id, occurred_at),
    CONSTRAINT tracking_event_latitude_range CHECK (latitude >= -90 AND latitude <= 90),
    CONSTRAINT tracking_event_longitude_range CHECK (longitude >= -180 AND longitude <= 180)
) PARTITION BY RANGE (occurred_at);
CREATE INDEX tracking_event_shipment_idx ON tracking_trackingevent (shipment_id, occurred_at DESC);
CREATE INDEX tracking_event_client_idx ON tracking_trackingevent (client_organization_id, occurred_at);
CREATE INDEX tracking_event_supplier_idx ON tracking_trackingevent (supplier_organization_id, occurred_at);
"""

PARTITION_FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION tracking_event_partitions_ensure(p_from date, p_months integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    first_month date := date_trunc('month', p_from)::date;
    month_start date;
    partition_name text;
    made integer := 0;
BEGIN
    IF p_from IS NULL OR p_months IS NULL OR p_months < 1 OR p_months > 60 THEN
        RAISE EXCEPTION 'tracking partitions: from % for % months is out of range', p_from, p_months;
    END IF;
    FOR step IN 0 .. p_months - 1 LOOP
        month_start := (first_month + make_interval(months => step))::date;
        partition_name := 'tracking_trackingevent_' || to_char(month_start, 'YYYYMM');
        CONTINUE WHEN to_regclass(partition_name) IS NOT NULL;
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF tracking_trackingevent FOR VALUES FROM (%L) TO (%L)',
            partition_name,
            to_char(month_start, 'YYYY-MM-DD') || ' 00:00:00+00',
            to_char((month_start + interval '1 month')::date, 'YYYY-MM-DD') || ' 00:00:00+00'
        );
        -- Only through the parent: forced row-level security with no policy shows nothing.
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', partition_name);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', partition_name);
        EXECUTE format('REVOKE ALL ON %I FROM PUBLIC', partition_name);
        made := made + 1;
    END LOOP;
    RETURN made;
END;
$$;

CREATE OR REPLACE FUNCTION tracking_event_partitions_drop_before(p_before date) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    partition record;
    month_start date;
    dropped integer := 0;
BEGIN
    IF p_before IS NULL THEN
        RAISE EXCEPTION 'tracking partitions: no date to drop before';
    END IF;
    FOR partition IN
        SELECT child.relname AS name
          FROM pg_inherits
          JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
          JOIN pg_class child ON child.oid = pg_inherits.inhrelid
         WHERE parent.relname = 'tracking_trackingevent'
           AND child.relname ~ '^tracking_trackingevent_[0-9]{6}$'
    LOOP
        month_start := to_date(right(partition.name, 6), 'YYYYMM');
        CONTINUE WHEN (month_start + interval '1 month')::date > p_before;
        EXECUTE format('ALTER TABLE tracking_trackingevent DETACH PARTITION %I', partition.name);
        EXECUTE format('DROP TABLE %I', partition.name);
        dropped := dropped + 1;
    END LOOP;
    RETURN dropped;
END;
$$;

REVOKE ALL ON FUNCTION tracking_event_partitions_ensure(date, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION tracking_event_partitions_drop_before(date) FROM PUBLIC;
-- Two months back (late and backfilled pings), this month and the next three; the beat job
-- keeps the months ahead coming (apps/tracking/partitions.py).
SELECT tracking_event_partitions_ensure((now() - interval '2 months')::date, 6);
"""

DROP_PARTITION_FUNCTIONS = """
DROP FUNCTION IF EXISTS tracking_event_partitions_ensure(date, integer);
DROP FUNCTION IF EXISTS tracking_event_partitions_drop_before(date);
"""


class Migration(migrations.Migration):
    dependencies = [("tracking", "0001_tracking")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                    migrations.CreateModel(
                name='TrackingEvent',
                fields=[
                    ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                    ('shipment_id', models.UUIDField()),
                    ('client_organization_id', models.UUIDField()),
                    ('supplier_organization_id', models.UUIDField()),
                    ('event_type', models.CharField(choices=[('location_update', 'Location update'), ('status_change', 'Status change'), ('milestone', 'Milestone'), ('warehouse_scan', 'Warehouse scan'), ('temperature', 'Temperature reading'), ('geofence_enter', 'Geofence entered'), ('geofence_exit', 'Geofence left')], max_length=16)),
                    ('source', models.CharField(choices=[('manual', 'Manual'), ('driver_app', "Driver's app"), ('device', 'Telematics device'), ('carrier_api', "Carrier's tracking API"), ('warehouse_scan', 'Warehouse scan')], max_length=16)),
                    ('occurred_at', models.DateTimeField(help_text="When it happened: the device's or the carrier's time.")),
                    ('received_at', models.DateTimeField(help_text='When the platform took it.')),
                    ('latitude', models.DecimalField(blank=True, decimal_places=6, max_digits=9, null=True)),
                    ('longitude', models.DecimalField(blank=True, decimal_places=6, max_digits=9, null=True)),
                    ('address', models.CharField(blank=True, max_length=300)),
                    ('speed_kmh', models.DecimalField(blank=True, decimal_places=1, max_digits=6, null=True)),
                    ('heading', models.PositiveSmallIntegerField(blank=True, null=True)),
                    ('temperature_c', models.DecimalField(blank=True, decimal_places=1, max_digits=5, null=True)),
                    ('device_id', models.UUIDField(blank=True, null=True)),
                    ('created_by_id', models.UUIDField(blank=True, null=True)),
                    ('is_implausible', models.BooleanField(default=False)),
                    ('description', models.CharField(blank=True, max_length=300)),
                    ('metadata', models.JSONField(blank=True, default=dict)),
                ],
                options={
                    'ordering': ['-occurred_at', '-id'],
                    'indexes': [models.Index(fields=['shipment_id', '-occurred_at'], name='tracking_event_shipment_idx'), models.Index(fields=['client_organization_id', 'occurred_at'], name='tracking_event_client_idx'), models.Index(fields=['supplier_organization_id', 'occurred_at'], name='tracking_event_supplier_idx')],
                    'constraints': [models.UniqueConstraint(fields=('device_id', 'occurred_at'), name='tracking_event_device_moment_unique'), models.CheckConstraint(condition=models.Q(('latitude__gte', -90), ('latitude__lte', 90)), name='tracking_event_latitude_range'), models.CheckConstraint(condition=models.Q(('longitude__gte', -180), ('longitude__lte', 180)), name='tracking_event_longitude_range')],
                },
            ),
            ],
            database_operations=[
                migrations.RunSQL(CREATE_TABLE, "DROP TABLE IF EXISTS tracking_trackingevent CASCADE"),
            ],
        ),
        migrations.RunSQL(PARTITION_FUNCTIONS, DROP_PARTITION_FUNCTIONS),
        apps.core.rls.ApplyRowLevelSecurity(
            model_name="trackingevent",
            visibility=apps.core.rls.Derived("client_organization_id", "supplier_organization_id"),
        ),
    ]
