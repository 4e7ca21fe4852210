# marketplace_round_half_even, same rule, in PL/pgSQL. As a one-expression SQL function it
# names `amount` and `round(amount, places)` several times, so the planner does not inline it
# when the argument is an expression (every call in the quote's totals is one): each call then
# ran through the SQL-function executor. PL/pgSQL evaluates the argument and the rounding
# once, and its expression evaluation is cached per session: the quote's totals over 3,821
# offerings went from ~200 ms to ~70 ms of PostgreSQL time (docs/benchmarks.md, quote).
# tests/marketplace/test_quote_ranking.py proves the totals still equal apps.core.money's.

import importlib

from django.db import migrations

previous = importlib.import_module("apps.marketplace.migrations.0002_round_half_even")

ROUND_HALF_EVEN = """
CREATE OR REPLACE FUNCTION marketplace_round_half_even(amount numeric, places integer, unit numeric)
    RETURNS numeric LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
DECLARE
    rounded numeric := round(amount, places);
BEGIN
    IF abs(amount - rounded) * 2 = unit AND mod(rounded / unit, 2) <> 0 THEN
        RETURN rounded - sign(amount) * unit;
    END IF;
    RETURN rounded;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0007_quote_lanes_and_catalogue_version")]

    operations = [migrations.RunSQL(ROUND_HALF_EVEN, reverse_sql=previous.ROUND_HALF_EVEN)]
