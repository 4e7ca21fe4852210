"""Status history on the core lifecycle model (apps.core.lifecycle.StatusChange): the same
columns everywhere (from_status, to_status, by, at, reason). Renames only: every existing
row is kept."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0004_names_refuse_bidi_controls")]

    operations = [
        migrations.RenameField(model_name="rfqstatuschange", old_name="actor", new_name="by"),
        migrations.RenameField(model_name="rfqstatuschange", old_name="created_at", new_name="at"),
        migrations.RenameField(model_name="rfqstatuschange", old_name="note", new_name="reason"),
        migrations.AlterField(
            model_name="rfqstatuschange", name="from_status", field=models.CharField(blank=True, max_length=32)
        ),
        migrations.AlterField(model_name="rfqstatuschange", name="to_status", field=models.CharField(max_length=32)),
        migrations.RenameField(model_name="offerstatuschange", old_name="actor", new_name="by"),
        migrations.RenameField(model_name="offerstatuschange", old_name="created_at", new_name="at"),
        migrations.RenameField(model_name="offerstatuschange", old_name="note", new_name="reason"),
        migrations.AlterField(
            model_name="offerstatuschange", name="from_status", field=models.CharField(blank=True, max_length=32)
        ),
        migrations.AlterField(model_name="offerstatuschange", name="to_status", field=models.CharField(max_length=32)),
        migrations.AlterModelOptions(name="rfqstatuschange", options={"ordering": ["at", "id"]}),
        migrations.AlterModelOptions(name="offerstatuschange", options={"ordering": ["at", "id"]}),
    ]
