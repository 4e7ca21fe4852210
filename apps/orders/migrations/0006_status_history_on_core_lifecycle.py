"""Status history on the core lifecycle model (apps.core.lifecycle.StatusChange): the same
columns everywhere (from_status, to_status, by, at, reason). Renames only: every existing
row is kept."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders", "0005_money_three_decimal_places")]

    operations = [
        migrations.RenameField(model_name="orderstatuschange", old_name="actor", new_name="by"),
        migrations.RenameField(model_name="orderstatuschange", old_name="created_at", new_name="at"),
        migrations.RenameField(model_name="orderstatuschange", old_name="note", new_name="reason"),
        migrations.AlterField(
            model_name="orderstatuschange", name="from_status", field=models.CharField(blank=True, max_length=32)
        ),
        migrations.AlterField(model_name="orderstatuschange", name="to_status", field=models.CharField(max_length=32)),
        migrations.RenameField(model_name="returnstatuschange", old_name="actor", new_name="by"),
        migrations.RenameField(model_name="returnstatuschange", old_name="created_at", new_name="at"),
        migrations.RenameField(model_name="returnstatuschange", old_name="note", new_name="reason"),
        migrations.AlterField(
            model_name="returnstatuschange", name="from_status", field=models.CharField(blank=True, max_length=32)
        ),
        migrations.AlterField(model_name="returnstatuschange", name="to_status", field=models.CharField(max_length=32)),
        migrations.AlterModelOptions(name="orderstatuschange", options={"ordering": ["at", "id"]}),
        migrations.AlterModelOptions(name="returnstatuschange", options={"ordering": ["at", "id"]}),
    ]
