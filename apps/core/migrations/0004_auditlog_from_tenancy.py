"""The audit log moves from tenancy to core, in the migration state only.

The table keeps its name (tenancy_auditlog) and every row: its row-level security policies,
the append-only triggers (tenancy 0001) and the SECURITY DEFINER erasure function (tenancy
0005) name it, and renaming would only rewrite them. The content type moves with the model,
so that admin log entries and permissions follow it.
"""

import uuid

from django.db import migrations, models


def move_content_type(apps, schema_editor, source="tenancy", target="core"):
    # migrate runs as the owner (apps.core.management.commands.migrate): its connection, not default's.
    content_types = apps.get_model("contenttypes", "ContentType").objects.using(schema_editor.connection.alias)
    if not content_types.filter(app_label=target, model="auditlog").exists():
        content_types.filter(app_label=source, model="auditlog").update(app_label=target)


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, source="core", target="tenancy")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0003_numbersequence"),
        ("tenancy", "0005_audit_erasure_redaction"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditLog",
                    fields=[
                        ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ("occurred_at", models.DateTimeField(auto_now_add=True)),
                        ("actor_id", models.UUIDField(blank=True, null=True)),
                        ("organization_id", models.UUIDField(blank=True, null=True)),
                        ("action", models.CharField(max_length=60)),
                        ("resource_type", models.CharField(blank=True, max_length=60)),
                        ("resource_id", models.CharField(blank=True, max_length=64)),
                        ("old_values", models.JSONField(blank=True, null=True)),
                        ("new_values", models.JSONField(blank=True, null=True)),
                        ("ip_address", models.GenericIPAddressField(blank=True, null=True)),
                        ("user_agent", models.CharField(blank=True, max_length=500)),
                        ("request_id", models.CharField(blank=True, max_length=128)),
                    ],
                    options={
                        "db_table": "tenancy_auditlog",
                        "ordering": ["-occurred_at"],
                        "indexes": [
                            models.Index(fields=["organization_id", "occurred_at"], name="audit_org_time_idx"),
                            models.Index(fields=["resource_type", "resource_id"], name="audit_resource_idx"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
