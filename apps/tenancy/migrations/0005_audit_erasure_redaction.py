"""The one exception to the append-only audit log: a person's erasure (docs/accounts.md).

`tenancy_auditlog_erase_person(person, identifiers, replacement)` is SECURITY DEFINER
(it runs as the owner: the application role has no UPDATE grant on the table). It
rewrites the person's identifiers (e-mail, phone) out of every row's values, and drops
the address and user agent of the rows the person acted in or that are about them.
The statement trigger lets an UPDATE through only while the function runs
(`app.audit_erasure`, transaction-local), and a row trigger refuses any change to the
act itself: who (actor id), what, on which resource, when, for which organization.
"""

from django.db import migrations

from apps.core.rls import AppendOnly, forward_sql

TABLE = "tenancy_auditlog"

ERASURE_SQL = r"""
CREATE OR REPLACE FUNCTION tenancy_auditlog_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A person's erasure, through tenancy_auditlog_erase_person() only (see below).
    IF TG_OP = 'UPDATE' AND coalesce(current_setting('app.audit_erasure', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE OR REPLACE FUNCTION tenancy_auditlog_erasure_keeps_the_act() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.id, NEW.occurred_at, NEW.actor_id, NEW.organization_id, NEW.action, NEW.resource_type,
        NEW.resource_id, NEW.request_id)
       IS DISTINCT FROM
       (OLD.id, OLD.occurred_at, OLD.actor_id, OLD.organization_id, OLD.action, OLD.resource_type,
        OLD.resource_id, OLD.request_id) THEN
        RAISE EXCEPTION 'audit log erasure keeps the act: only values, address and user agent change'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER tenancy_auditlog_erasure_keeps_the_act
    BEFORE UPDATE ON tenancy_auditlog
    FOR EACH ROW EXECUTE FUNCTION tenancy_auditlog_erasure_keeps_the_act();

CREATE OR REPLACE FUNCTION tenancy_auditlog_erase_person(person uuid, identifiers text[], replacement text)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    pattern text;
    changed integer;
    previous_bypass text := coalesce(current_setting('app.rls_bypass', true), '');
BEGIN
    IF person IS NULL OR replacement IS NULL OR replacement !~ '^[A-Za-z0-9@._-]+$' THEN
        RAISE EXCEPTION 'erasure needs a person and a plain replacement' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Identifiers are matched literally (regex-escaped), case-insensitively, and only when
    -- long enough to be the person's own text (an e-mail address, a phone number).
    SELECT string_agg(regexp_replace(identifier, '([.^$*+?()\[\]{}|\\-])', '\\\1', 'g'), '|')
      INTO pattern
      FROM unnest(identifiers) AS identifier
     WHERE length(identifier) >= 6;
    PERFORM set_config('app.audit_erasure', 'on', true);
    PERFORM set_config('app.rls_bypass', 'on', true);
    UPDATE tenancy_auditlog SET
        old_values = CASE WHEN pattern IS NOT NULL AND old_values::text ~* pattern
                          THEN regexp_replace(old_values::text, pattern, replacement, 'gi')::jsonb
                          ELSE old_values END,
        new_values = CASE WHEN pattern IS NOT NULL AND new_values::text ~* pattern
                          THEN regexp_replace(new_values::text, pattern, replacement, 'gi')::jsonb
                          ELSE new_values END,
        ip_address = CASE WHEN actor_id = person OR (resource_type = 'user' AND resource_id = person::text)
                          THEN NULL ELSE ip_address END,
        user_agent = CASE WHEN actor_id = person OR (resource_type = 'user' AND resource_id = person::text)
                          THEN '' ELSE user_agent END
     WHERE actor_id = person
        OR (resource_type = 'user' AND resource_id = person::text)
        OR (pattern IS NOT NULL AND (old_values::text ~* pattern OR new_values::text ~* pattern));
    GET DIAGNOSTICS changed = ROW_COUNT;
    PERFORM set_config('app.audit_erasure', '', true);
    PERFORM set_config('app.rls_bypass', previous_bypass, true);
    RETURN changed;
END $$;
REVOKE EXECUTE ON FUNCTION tenancy_auditlog_erase_person(uuid, text[], text) FROM PUBLIC;
"""

DROP_ERASURE_SQL = """
DROP FUNCTION IF EXISTS tenancy_auditlog_erase_person(uuid, text[], text);
DROP TRIGGER IF EXISTS tenancy_auditlog_erasure_keeps_the_act ON tenancy_auditlog;
DROP FUNCTION IF EXISTS tenancy_auditlog_erasure_keeps_the_act();
CREATE OR REPLACE FUNCTION tenancy_auditlog_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0004_merge_names_refuse_bidi_controls_invitations"),
    ]

    operations = [
        # The declaration changes (AppendOnly() -> AppendOnly(erasable=True)); backwards the
        # old policies come back (ApplyRowLevelSecurity's backwards would drop RLS entirely).
        migrations.RunSQL(forward_sql(TABLE, AppendOnly(erasable=True)), forward_sql(TABLE, AppendOnly())),
        migrations.RunSQL(ERASURE_SQL, DROP_ERASURE_SQL),
    ]
