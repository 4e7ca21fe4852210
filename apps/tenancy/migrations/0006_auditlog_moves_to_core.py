"""The audit log now belongs to core (core 0004): tenancy forgets the model, the table stays."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0005_audit_erasure_redaction"),
        ("core", "0004_auditlog_from_tenancy"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditLog")], database_operations=[]
        ),
    ]
