# The quote ranks offerings by a total computed in SQL (apps/marketplace/selectors.py),
# which must round each line exactly as apps.core.money.round_money does: half to even.
# PostgreSQL's round(numeric) rounds halves away from zero. One expression, no FROM, so
# that the planner inlines it.

from django.db import migrations

ROUND_HALF_EVEN = """
CREATE OR REPLACE FUNCTION marketplace_round_half_even(amount numeric, places integer) RETURNS numeric
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT round(
        CASE
            WHEN abs(amount * 10::numeric ^ places - trunc(amount * 10::numeric ^ places)) <> 0.5
                THEN round(amount * 10::numeric ^ places)
            WHEN trunc(amount * 10::numeric ^ places) % 2 = 0
                THEN trunc(amount * 10::numeric ^ places)
            ELSE trunc(amount * 10::numeric ^ places) + sign(amount)
        END / 10::numeric ^ places, places) $$;
"""


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0001_initial")]

    operations = [
        migrations.RunSQL(
            ROUND_HALF_EVEN, reverse_sql="DROP FUNCTION IF EXISTS marketplace_round_half_even(numeric, integer)"
        )
    ]
