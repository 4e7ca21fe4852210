"""Device passports: the tables, their row-level security, the append-only lifecycle, and
`passports_locate`, the one narrow path to a device whoever owns it.

`passports_locate(code, gtin, serial)` is SECURITY DEFINER (owned by the tables' owner): given
an exact passport code, or a GTIN-14 and serial number, it returns the device's id, owner (id and
name), code, serial number, name and status, reading across tenants for that one indexed lookup
(app.rls_bypass, put back before it returns). The services that call it show their caller no
more than they are for (apps/passports/locate.py). `search_path` is pinned; EXECUTE is revoked
from PUBLIC and granted to the application role.

The lifecycle is append-only: a trigger refuses DELETE, and any UPDATE but the two the platform
makes: a takeover moving the rows to the new owner (organization_id), and a deleted user's
steps keeping no reference to them (by_id set to NULL).
"""

import apps.passports.models
import django.db.models.deletion
import django.db.models.functions.text
import uuid
from django.conf import settings
from django.db import migrations, models
from psycopg import sql

import apps.core.rls


LOCATE_FUNCTION = "passports_locate(text, text, text)"

LOCATE_SQL = r"""
CREATE OR REPLACE FUNCTION passports_locate(p_code text, p_gtin text, p_serial text)
RETURNS TABLE (
    passport_id uuid,
    organization_id uuid,
    organization_name text,
    code text,
    serial_number text,
    device_name text,
    status text
)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
    previous_bypass text := coalesce(current_setting('app.rls_bypass', true), '');
BEGIN
    IF length(coalesce(p_code, '')) > 24 OR length(coalesce(p_gtin, '')) > 14
       OR length(coalesce(p_serial, '')) > 80 THEN
        RETURN;
    END IF;
    PERFORM set_config('app.rls_bypass', 'on', true);
    IF coalesce(p_code, '') <> '' THEN
        RETURN QUERY
        SELECT p.id, p.organization_id, o.name::text, p.code::text, p.serial_number::text,
               p.device_name::text, p.status::text
          FROM passports_devicepassport p
          JOIN tenancy_organization o ON o.id = p.organization_id
         WHERE p.code = p_code;
    ELSIF coalesce(p_gtin, '') <> '' AND coalesce(p_serial, '') <> '' THEN
        RETURN QUERY
        SELECT p.id, p.organization_id, o.name::text, p.code::text, p.serial_number::text,
               p.device_name::text, p.status::text
          FROM passports_devicepassport p
          JOIN tenancy_organization o ON o.id = p.organization_id
         WHERE p.gtin <> '' AND p.gtin = p_gtin AND p.serial_number = p_serial;
    END IF;
    PERFORM set_config('app.rls_bypass', previous_bypass, true);
END $$;
REVOKE ALL ON FUNCTION passports_locate(text, text, text) FROM PUBLIC;
"""

APPEND_ONLY_SQL = r"""
CREATE OR REPLACE FUNCTION passports_event_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'a device passport''s lifecycle is append-only'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (to_jsonb(NEW) - 'organization_id' - 'by_id') IS DISTINCT FROM (to_jsonb(OLD) - 'organization_id' - 'by_id')
       OR (NEW.by_id IS DISTINCT FROM OLD.by_id AND NEW.by_id IS NOT NULL) THEN
        RAISE EXCEPTION 'a device passport''s lifecycle is append-only: only a takeover moves it to the new owner'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER passports_event_append_only
    BEFORE UPDATE OR DELETE ON passports_passportevent
    FOR EACH ROW EXECUTE FUNCTION passports_event_append_only();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS passports_event_append_only ON passports_passportevent;
DROP FUNCTION IF EXISTS passports_event_append_only();
DROP FUNCTION IF EXISTS passports_locate(text, text, text);
"""


def grant_to_application_role(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [settings.APP_DB_USER])
        if cursor.fetchone() is None:
            return  # made later by setup_database; grant_application_role grants EXECUTE then
        cursor.execute(
            sql.SQL("GRANT EXECUTE ON FUNCTION {} TO {}")
            .format(sql.SQL(LOCATE_FUNCTION), sql.Identifier(settings.APP_DB_USER))
            .as_string(cursor.cursor)
        )


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('tenancy', '0007_organization_code'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='DevicePassport',
            fields=[
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('code', models.CharField(max_length=24, unique=True)),
                ('company_code', models.CharField(max_length=3)),
                ('year_month', models.CharField(help_text='YYMM the code was issued.', max_length=4)),
                ('product_type', models.CharField(choices=[('MO', 'Electric motor'), ('DR', 'Drive / inverter'), ('PL', 'PLC / controller'), ('SE', 'Sensor'), ('HM', 'Operator panel (HMI)'), ('RB', 'Robot'), ('PU', 'Pump'), ('CO', 'Compressor'), ('VA', 'Valve / actuator'), ('GB', 'Gearbox'), ('SW', 'Switchgear'), ('GE', 'Generator'), ('MC', 'Machine tool'), ('OT', 'Other equipment')], max_length=2)),
                ('origin_country', models.CharField(help_text='ISO 3166-1 alpha-2 country of manufacture.', max_length=2)),
                ('sequence', models.PositiveIntegerField()),
                ('checksum', models.CharField(max_length=2)),
                ('device_name', models.CharField(max_length=200)),
                ('manufacturer', models.CharField(max_length=200)),
                ('model', models.CharField(blank=True, max_length=120)),
                ('serial_number', models.CharField(max_length=80)),
                ('gtin', models.CharField(blank=True, max_length=14, verbose_name='GTIN-14')),
                ('description', models.TextField(blank=True)),
                ('status', models.CharField(choices=[('manufactured', 'Manufactured'), ('qc_passed', 'QC passed'), ('qc_failed', 'QC failed'), ('shipped', 'Shipped'), ('received', 'Received'), ('installed', 'Installed'), ('decommissioned', 'Decommissioned')], default='manufactured', max_length=16)),
                ('status_changed_at', models.DateTimeField(blank=True, null=True)),
                ('current_location', models.CharField(blank=True, max_length=200)),
                ('latitude', models.DecimalField(blank=True, decimal_places=6, max_digits=9, null=True)),
                ('longitude', models.DecimalField(blank=True, decimal_places=6, max_digits=9, null=True)),
                ('warranty_until', models.DateField(blank=True, null=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('customer', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('issuer_organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenancy.organization')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenancy.organization')),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='PassportEvent',
            fields=[
                ('from_status', models.CharField(blank=True, max_length=32)),
                ('to_status', models.CharField(max_length=32)),
                ('at', models.DateTimeField(auto_now_add=True)),
                ('reason', models.TextField(blank=True)),
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('recorded_by_organization_id', models.UUIDField(blank=True, null=True)),
                ('recorded_by_organization_name', models.CharField(blank=True, max_length=200)),
                ('kind', models.CharField(choices=[('manufactured', 'Manufactured'), ('qc_passed', 'QC passed'), ('qc_failed', 'QC failed'), ('shipped', 'Shipped'), ('received', 'Received'), ('installed', 'Installed'), ('serviced', 'Serviced'), ('transferred', 'Ownership transferred'), ('decommissioned', 'Decommissioned')], max_length=16)),
                ('occurred_at', models.DateTimeField()),
                ('location', models.CharField(blank=True, max_length=200)),
                ('latitude', models.DecimalField(blank=True, decimal_places=6, max_digits=9, null=True)),
                ('longitude', models.DecimalField(blank=True, decimal_places=6, max_digits=9, null=True)),
                ('is_public', models.BooleanField(default=True)),
                ('order_id', models.UUIDField(blank=True, null=True)),
                ('order_number', models.CharField(blank=True, max_length=32)),
                ('tracking_number', models.CharField(blank=True, max_length=32)),
                ('service_order_id', models.UUIDField(blank=True, null=True)),
                ('details', models.JSONField(blank=True, default=dict)),
                ('by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenancy.organization')),
                ('passport', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='events', to='passports.devicepassport')),
            ],
            options={
                'ordering': ['occurred_at', 'at', 'id'],
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='PassportScan',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('scanned_at', models.DateTimeField()),
                ('channel', models.CharField(choices=[('code', 'Passport code link (/p/<code>)'), ('digital_link', 'GS1 Digital Link'), ('api', 'API')], max_length=12)),
                ('country', models.CharField(blank=True, max_length=2)),
                ('latitude', models.DecimalField(blank=True, decimal_places=1, max_digits=4, null=True)),
                ('longitude', models.DecimalField(blank=True, decimal_places=1, max_digits=4, null=True)),
                ('signed_in', models.BooleanField(default=False)),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.organization')),
                ('passport', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='passports.devicepassport')),
            ],
            options={
                'ordering': ['-scanned_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='PassportServiceRequest',
            fields=[
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('number', models.CharField(max_length=32)),
                ('passport_code', models.CharField(max_length=24)),
                ('source', models.CharField(choices=[('public', 'Public page'), ('member', 'Member')], max_length=8)),
                ('contact_name', models.CharField(max_length=200)),
                ('contact_email', models.EmailField(blank=True, max_length=254)),
                ('contact_phone', models.CharField(blank=True, max_length=32)),
                ('description', models.TextField()),
                ('status', models.CharField(choices=[('open', 'Open'), ('acknowledged', 'Acknowledged'), ('closed', 'Closed')], default='open', max_length=14)),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenancy.organization')),
                ('passport', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='passports.devicepassport')),
                ('requested_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='PassportAttachment',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('kind', models.CharField(choices=[('document', 'Document'), ('photo', 'Photo')], max_length=10)),
                ('file', models.FileField(max_length=200, upload_to=apps.passports.models.attachment_path)),
                ('filename', models.CharField(max_length=200)),
                ('content_type', models.CharField(max_length=100)),
                ('size', models.PositiveIntegerField()),
                ('sha256', models.CharField(max_length=64)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenancy.organization')),
                ('passport', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='attachments', to='passports.devicepassport')),
                ('uploaded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('event', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='attachments', to='passports.passportevent')),
                ('service_request', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='attachments', to='passports.passportservicerequest')),
            ],
            options={
                'ordering': ['created_at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='PassportTakeover',
            fields=[
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('passport_code', models.CharField(max_length=24)),
                ('device_name', models.CharField(max_length=200)),
                ('from_organization_name', models.CharField(max_length=200)),
                ('to_organization_name', models.CharField(max_length=200)),
                ('message', models.TextField(blank=True)),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('approved', 'Approved'), ('rejected', 'Rejected'), ('cancelled', 'Cancelled')], default='pending', max_length=10)),
                ('decided_at', models.DateTimeField(blank=True, null=True)),
                ('decision_reason', models.TextField(blank=True)),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('from_organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenancy.organization')),
                ('passport', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='passports.devicepassport')),
                ('requested_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('to_organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenancy.organization')),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='ServiceRequestStatusChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('from_status', models.CharField(blank=True, max_length=32)),
                ('to_status', models.CharField(max_length=32)),
                ('at', models.DateTimeField(auto_now_add=True)),
                ('reason', models.TextField(blank=True)),
                ('by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenancy.organization')),
                ('service_request', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='status_changes', to='passports.passportservicerequest')),
            ],
            options={
                'ordering': ['at', 'id'],
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='TakeoverStatusChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('from_status', models.CharField(blank=True, max_length=32)),
                ('to_status', models.CharField(max_length=32)),
                ('at', models.DateTimeField(auto_now_add=True)),
                ('reason', models.TextField(blank=True)),
                ('by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('from_organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenancy.organization')),
                ('takeover', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='status_changes', to='passports.passporttakeover')),
                ('to_organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenancy.organization')),
            ],
            options={
                'ordering': ['at', 'id'],
                'abstract': False,
            },
        ),
        migrations.AddIndex(
            model_name='devicepassport',
            index=models.Index(fields=['organization', 'created_at', 'id'], name='passport_org_created_idx'),
        ),
        migrations.AddIndex(
            model_name='devicepassport',
            index=models.Index(fields=['organization', 'status'], name='passport_org_status_idx'),
        ),
        migrations.AddIndex(
            model_name='devicepassport',
            index=models.Index(fields=['organization', 'customer'], name='passport_org_customer_idx'),
        ),
        migrations.AddConstraint(
            model_name='devicepassport',
            constraint=models.UniqueConstraint(fields=('issuer_organization', 'year_month', 'sequence'), name='passport_issuer_month_sequence_unique'),
        ),
        migrations.AddConstraint(
            model_name='devicepassport',
            constraint=models.UniqueConstraint(django.db.models.functions.text.Lower('manufacturer'), models.F('serial_number'), name='passport_manufacturer_serial_unique'),
        ),
        migrations.AddConstraint(
            model_name='devicepassport',
            constraint=models.UniqueConstraint(condition=models.Q(('gtin', ''), _negated=True), fields=('gtin', 'serial_number'), name='passport_gtin_serial_unique'),
        ),
        migrations.AddConstraint(
            model_name='devicepassport',
            constraint=models.CheckConstraint(condition=models.Q(('gtin', ''), ('gtin__regex', '^[0-9]{14}$'), _connector='OR'), name='passport_gtin_14_digits'),
        ),
        migrations.AddConstraint(
            model_name='devicepassport',
            constraint=models.CheckConstraint(condition=models.Q(('sequence__gte', 1), ('sequence__lte', 999999)), name='passport_sequence_range'),
        ),
        migrations.AddIndex(
            model_name='passportevent',
            index=models.Index(fields=['organization', 'passport', 'occurred_at'], name='passport_event_org_idx'),
        ),
        migrations.AddIndex(
            model_name='passportevent',
            index=models.Index(fields=['passport', 'occurred_at', 'id'], name='passport_event_hist_idx'),
        ),
        migrations.AddIndex(
            model_name='passportscan',
            index=models.Index(fields=['organization', 'passport', 'scanned_at'], name='passport_scan_idx'),
        ),
        migrations.AddIndex(
            model_name='passportservicerequest',
            index=models.Index(fields=['organization', 'created_at', 'id'], name='srq_org_created_idx'),
        ),
        migrations.AddIndex(
            model_name='passportservicerequest',
            index=models.Index(fields=['organization', 'status'], name='srq_org_status_idx'),
        ),
        migrations.AddIndex(
            model_name='passportservicerequest',
            index=models.Index(fields=['organization', 'requested_by'], name='srq_org_user_idx'),
        ),
        migrations.AddConstraint(
            model_name='passportservicerequest',
            constraint=models.UniqueConstraint(fields=('organization', 'number'), name='passport_service_request_number_unique'),
        ),
        migrations.AddConstraint(
            model_name='passportservicerequest',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('contact_email', ''), _negated=True), models.Q(('contact_phone', ''), _negated=True), ('requested_by__isnull', False), _connector='OR'), name='passport_service_request_reachable'),
        ),
        migrations.AddIndex(
            model_name='passportattachment',
            index=models.Index(fields=['organization', 'passport', 'created_at'], name='passport_attachment_idx'),
        ),
        migrations.AddIndex(
            model_name='passporttakeover',
            index=models.Index(fields=['from_organization', 'created_at', 'id'], name='takeover_from_created_idx'),
        ),
        migrations.AddIndex(
            model_name='passporttakeover',
            index=models.Index(fields=['to_organization', 'created_at', 'id'], name='takeover_to_created_idx'),
        ),
        migrations.AddIndex(
            model_name='passporttakeover',
            index=models.Index(fields=['status', 'created_at'], name='takeover_status_created_idx'),
        ),
        migrations.AddConstraint(
            model_name='passporttakeover',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'pending')), fields=('passport', 'to_organization'), name='passport_takeover_one_pending_per_claimant'),
        ),
        migrations.AddConstraint(
            model_name='passporttakeover',
            constraint=models.CheckConstraint(condition=models.Q(('from_organization', models.F('to_organization')), _negated=True), name='passport_takeover_not_to_self'),
        ),
        migrations.AddIndex(
            model_name='servicerequeststatuschange',
            index=models.Index(fields=['service_request', 'at'], name='srq_history_idx'),
        ),
        migrations.AddIndex(
            model_name='takeoverstatuschange',
            index=models.Index(fields=['takeover', 'at'], name='takeover_history_idx'),
        ),
            # Row-level security from each model's declared visibility (apps/core/rls.py).
        apps.core.rls.ApplyRowLevelSecurity(model_name="devicepassport", visibility=apps.core.rls.Owned()),
        apps.core.rls.ApplyRowLevelSecurity(
            model_name="passportevent", visibility=apps.core.rls.Derived("organization_id")
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            model_name="passportattachment", visibility=apps.core.rls.Derived("organization_id")
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            model_name="passporttakeover",
            visibility=apps.core.rls.SharedByParties("from_organization_id", "to_organization_id"),
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            model_name="takeoverstatuschange",
            visibility=apps.core.rls.Derived("from_organization_id", "to_organization_id"),
        ),
        apps.core.rls.ApplyRowLevelSecurity(model_name="passportservicerequest", visibility=apps.core.rls.Owned()),
        apps.core.rls.ApplyRowLevelSecurity(
            model_name="servicerequeststatuschange", visibility=apps.core.rls.Derived("organization_id")
        ),
        apps.core.rls.ApplyRowLevelSecurity(model_name="passportscan", visibility=apps.core.rls.Owned()),
        migrations.RunSQL(APPEND_ONLY_SQL + LOCATE_SQL, DROP_SQL),
        migrations.RunPython(grant_to_application_role, migrations.RunPython.noop),
    ]
