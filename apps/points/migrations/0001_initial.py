"""Points and referrals: the tables, their row-level security (every row is a person's), the
append-only ledger, and `points_referral_code_owner`, the one narrow path to a referral code.

The ledger is append-only: a trigger refuses every UPDATE and DELETE of a point transaction, the
owner's included (a person's erasure keeps the user row as a tombstone, so the lines stay as
they are, like the escrow journal). `points_referral_code_owner(code)` is SECURITY DEFINER (owned
by the tables' owner): given an exact code it returns the id of the active person who holds it,
reading across people for that one indexed lookup (app.rls_bypass, put back before it returns);
sign-up (no one signed in yet) and a claim use it. `search_path` is pinned; EXECUTE is revoked
from PUBLIC and granted to the application role.
"""

import apps.core.rls
import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models
from psycopg import sql

CODE_OWNER_FUNCTION = "points_referral_code_owner(text)"

CODE_OWNER_SQL = r"""
CREATE OR REPLACE FUNCTION points_referral_code_owner(p_code text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    previous_bypass text := coalesce(current_setting('app.rls_bypass', true), '');
    holder uuid;
BEGIN
    IF length(coalesce(p_code, '')) NOT BETWEEN 1 AND 16 THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('app.rls_bypass', 'on', true);
    SELECT c.user_id INTO holder
      FROM points_referralcode c
      JOIN accounts_user u ON u.id = c.user_id
     WHERE c.code = p_code AND u.is_active;
    PERFORM set_config('app.rls_bypass', previous_bypass, true);
    RETURN holder;
END $$;
REVOKE ALL ON FUNCTION points_referral_code_owner(text) FROM PUBLIC;
"""

APPEND_ONLY_SQL = r"""
CREATE OR REPLACE FUNCTION points_transaction_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    RAISE EXCEPTION 'the points ledger is append-only: record a CREDIT or PENALTY instead'
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER points_transaction_append_only
    BEFORE UPDATE OR DELETE ON points_pointtransaction
    FOR EACH ROW EXECUTE FUNCTION points_transaction_append_only();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS points_transaction_append_only ON points_pointtransaction;
DROP FUNCTION IF EXISTS points_transaction_append_only();
DROP FUNCTION IF EXISTS points_referral_code_owner(text);
"""


def grant_to_application_role(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [settings.APP_DB_USER])
        if cursor.fetchone() is None:
            return  # made later by setup_database; grant_application_role grants EXECUTE then
        cursor.execute(
            sql.SQL("GRANT EXECUTE ON FUNCTION {} TO {}")
            .format(sql.SQL(CODE_OWNER_FUNCTION), sql.Identifier(settings.APP_DB_USER))
            .as_string(cursor.cursor)
        )


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0005_phone_verified_at'),
        ('tenancy', '0007_organization_code'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='PointAccount',
            fields=[
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, primary_key=True, related_name='+', serialize=False, to=settings.AUTH_USER_MODEL)),
                ('balance', models.BigIntegerField(default=0)),
                ('transaction_count', models.PositiveIntegerField(default=0)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.CreateModel(
            name='ReferralCode',
            fields=[
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to=settings.AUTH_USER_MODEL)),
                ('code', models.CharField(max_length=16, unique=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.CreateModel(
            name='PointRule',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('key', models.SlugField(help_text='A stable name, e.g. service-order-completed.', max_length=64, unique=True)),
                ('event_type', models.CharField(help_text='A domain event type, e.g. service_order.completed.', max_length=100)),
                ('recipient', models.CharField(help_text='The payload field that holds the person\'s id (e.g. expert_user_id), or "actor" for the person whose action published the event.', max_length=64)),
                ('conditions', models.JSONField(blank=True, default=dict, help_text='Payload fields and the values that qualify, e.g. {"to_level": ["SILVER", "GOLD"]}: every field must hold one of its values. Empty: every event of the type.')),
                ('transaction_type', models.CharField(choices=[('REWARD', 'Reward'), ('CREDIT', 'Credit'), ('PENALTY', 'Penalty')], default='REWARD', max_length=8)),
                ('category', models.CharField(choices=[('SERVICE', 'Service'), ('REVIEW', 'Review'), ('REFERRAL', 'Referral'), ('DEVICE', 'Device'), ('MEMBERSHIP', 'Membership')], max_length=10)),
                ('amount', models.PositiveIntegerField(help_text='Points; a PENALTY subtracts them.')),
                ('allows_negative', models.BooleanField(default=False, help_text='A penalty may take the balance below zero (otherwise it is not applied).')),
                ('description', models.CharField(help_text='What people read on their ledger line.', max_length=200)),
                ('is_active', models.BooleanField(default=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'ordering': ['event_type', 'key'],
                'indexes': [models.Index(fields=['event_type', 'is_active'], name='point_rule_event_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(('amount__gte', 1)), name='point_rule_amount_positive')],
            },
        ),
        migrations.CreateModel(
            name='Referral',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('code', models.CharField(max_length=16)),
                ('source', models.CharField(choices=[('SIGN_UP', 'Code given at sign-up'), ('CLAIM', 'Code claimed after sign-up')], max_length=8)),
                ('referred_name', models.CharField(blank=True, max_length=200)),
                ('referred_organization_name', models.CharField(blank=True, max_length=200)),
                ('status', models.CharField(choices=[('PENDING', 'Pending (no completed order yet)'), ('QUALIFIED', 'Qualified (first order completed)'), ('REWARDED', 'Rewarded'), ('REFUSED', 'Refused')], default='PENDING', max_length=10)),
                ('refusal_reason', models.CharField(blank=True, max_length=300)),
                ('qualified_at', models.DateTimeField(blank=True, null=True)),
                ('qualifying_event_id', models.UUIDField(blank=True, null=True)),
                ('rewarded_at', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('referred', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('referred_organization', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenancy.organization')),
                ('referrer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='ReferralStatusChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('from_status', models.CharField(blank=True, max_length=32)),
                ('to_status', models.CharField(max_length=32)),
                ('at', models.DateTimeField(auto_now_add=True)),
                ('reason', models.TextField(blank=True)),
                ('by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('referral', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='status_changes', to='points.referral')),
                ('referrer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['at', 'id'],
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='PointTransaction',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('sequence', models.PositiveIntegerField(help_text="The line's number in the person's ledger, from 1.")),
                ('type', models.CharField(choices=[('REWARD', 'Reward'), ('CREDIT', 'Credit'), ('PENALTY', 'Penalty')], max_length=8)),
                ('category', models.CharField(blank=True, choices=[('SERVICE', 'Service'), ('REVIEW', 'Review'), ('REFERRAL', 'Referral'), ('DEVICE', 'Device'), ('MEMBERSHIP', 'Membership')], max_length=10)),
                ('amount', models.IntegerField(help_text='Signed: a PENALTY is negative.')),
                ('balance', models.BigIntegerField(help_text='The balance after this line.')),
                ('description', models.CharField(max_length=200)),
                ('source_key', models.CharField(max_length=200)),
                ('source_event_id', models.UUIDField(blank=True, null=True)),
                ('actor_id', models.UUIDField(blank=True, null=True)),
                ('metadata', models.JSONField(blank=True, default=dict)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('rule', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='points.pointrule')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-sequence'],
                'constraints': [models.UniqueConstraint(fields=('user', 'sequence'), name='point_tx_user_sequence_unique'), models.UniqueConstraint(fields=('user', 'source_key'), name='point_tx_user_source_unique'), models.CheckConstraint(condition=models.Q(models.Q(('amount__lt', 0), ('type', 'PENALTY')), models.Q(models.Q(('type', 'PENALTY'), _negated=True), ('amount__gt', 0)), _connector='OR'), name='point_tx_amount_sign'), models.CheckConstraint(condition=models.Q(('sequence__gte', 1)), name='point_tx_sequence_from_one')],
            },
        ),
        migrations.AddIndex(
            model_name='referral',
            index=models.Index(fields=['referrer', 'created_at', 'id'], name='referral_referrer_idx'),
        ),
        migrations.AddIndex(
            model_name='referral',
            index=models.Index(fields=['referred_organization', 'status'], name='referral_org_status_idx'),
        ),
        migrations.AddConstraint(
            model_name='referral',
            constraint=models.CheckConstraint(condition=models.Q(('referrer', models.F('referred')), _negated=True), name='referral_not_self'),
        ),
        migrations.AddConstraint(
            model_name='referral',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'REFUSED'), _negated=True), fields=('referred_organization',), name='referral_one_per_organization'),
        ),
        migrations.AddIndex(
            model_name='referralstatuschange',
            index=models.Index(fields=['referrer', 'at'], name='referral_history_referrer_idx'),
        ),
        migrations.AddIndex(
            model_name='referralstatuschange',
            index=models.Index(fields=['referral', 'at'], name='referral_history_idx'),
        ),
        # Row-level security from each model's declared visibility (apps/core/rls.py).
        apps.core.rls.ApplyRowLevelSecurity(model_name="pointaccount", visibility=apps.core.rls.Personal()),
        apps.core.rls.ApplyRowLevelSecurity(model_name="pointtransaction", visibility=apps.core.rls.Personal()),
        apps.core.rls.ApplyRowLevelSecurity(model_name="referralcode", visibility=apps.core.rls.Personal()),
        apps.core.rls.ApplyRowLevelSecurity(
            model_name="referral", visibility=apps.core.rls.Personal("referrer_id")
        ),
        apps.core.rls.ApplyRowLevelSecurity(
            model_name="referralstatuschange", visibility=apps.core.rls.Personal("referrer_id")
        ),
        migrations.RunSQL(APPEND_ONLY_SQL + CODE_OWNER_SQL, DROP_SQL),
        migrations.RunPython(grant_to_application_role, migrations.RunPython.noop),
    ]
