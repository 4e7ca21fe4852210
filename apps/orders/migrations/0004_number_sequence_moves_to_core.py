# Order numbers now come from the shared per-organization counters of apps.core
# (NumberSequence, name "order"); the counters reached so far move there unchanged.

from django.db import migrations

# Migrations run as the owner, whom forced row-level security binds too: the copy runs in
# the audited all-tenants scope of the migration's own transaction.
COPY_COUNTERS = """
SELECT set_config('app.rls_bypass', 'on', true);
INSERT INTO core_numbersequence (organization_id, name, year, last_value)
    SELECT organization_id, 'order', year, last_value FROM orders_ordernumbersequence;
"""

COPY_COUNTERS_BACK = """
SELECT set_config('app.rls_bypass', 'on', true);
INSERT INTO orders_ordernumbersequence (organization_id, year, last_value)
    SELECT organization_id, year, last_value FROM core_numbersequence WHERE name = 'order';
DELETE FROM core_numbersequence WHERE name = 'order';
"""


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_party_pair_indexes"),
        ("core", "0003_numbersequence"),
    ]

    operations = [
        # Reversed, DeleteModel makes the table again first, then the counters go back into it.
        migrations.RunSQL(COPY_COUNTERS, reverse_sql=COPY_COUNTERS_BACK),
        migrations.DeleteModel(name="OrderNumberSequence"),
    ]
