# The quote ranks offerings by a total computed in SQL (apps/marketplace/selectors.py),
# which must round each line exactly as apps.core.money.round_money does: half to even.
# PostgreSQL's round(numeric) rounds halves away from zero, so an exact half that it
# rounded to an odd last digit is brought back one unit towards zero. The caller passes the
# currency's unit (10^-places, e.g. 0.01) so that no power is computed per line; one
# expression, no FROM, so that the planner inlines it.

from django.db import migrations

ROUND_HALF_EVEN = """
CREATE OR REPLACE FUNCTION marketplace_round_half_even(amount numeric, places integer, unit numeric)
    RETURNS numeric LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT CASE
        WHEN abs(amount - round(amount, places)) * 2 = unit AND mod(round(amount, places) / unit, 2) <> 0
            THEN round(amount, places) - sign(amount) * unit
        ELSE round(amount, places)
    END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0001_initial")]

    operations = [
        migrations.RunSQL(
            ROUND_HALF_EVEN,
            reverse_sql="DROP FUNCTION IF EXISTS marketplace_round_half_even(numeric, integer, numeric)",
        )
    ]
