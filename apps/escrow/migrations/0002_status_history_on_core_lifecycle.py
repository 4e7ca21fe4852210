"""Status history on the core lifecycle model (apps.core.lifecycle.StatusChange): the same
columns everywhere (from_status, to_status, by, at, reason). Renames only: every existing
row is kept."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("escrow", "0001_initial")]

    operations = [
        migrations.RenameField(model_name="escrowstatuschange", old_name="actor", new_name="by"),
        migrations.RenameField(model_name="escrowstatuschange", old_name="created_at", new_name="at"),
        migrations.AlterModelOptions(name="escrowstatuschange", options={"ordering": ["at", "id"]}),
    ]
