"""The helper functions every row-level security policy calls (apps.core.rls)."""

from django.db import migrations

from apps.core.rls import DROP_HELPER_FUNCTIONS_SQL, HELPER_FUNCTIONS_SQL


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [migrations.RunSQL(HELPER_FUNCTIONS_SQL, DROP_HELPER_FUNCTIONS_SQL)]
