"""History of KYC documents and verifications, on the core lifecycle model; visible to the
organization that owns the document (row-level security declared like the parents)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import apps.core.rls


class Migration(migrations.Migration):
    dependencies = [
        ("kyc", "0004_document_preview_drawn_by_worker"),
        ("tenancy", "0005_audit_erasure_redaction"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="KycDocumentStatusChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("from_status", models.CharField(blank=True, max_length=32)),
                ("to_status", models.CharField(max_length=32)),
                ("at", models.DateTimeField(auto_now_add=True)),
                ("reason", models.TextField(blank=True)),
                (
                    "by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "document",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="status_changes", to="kyc.kycdocument"
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="tenancy.organization"
                    ),
                ),
            ],
            options={
                "verbose_name": "KYC document status change",
                "ordering": ["at", "id"],
                "abstract": False,
                "indexes": [models.Index(fields=["organization", "document"], name="kyc_doc_change_org_idx")],
            },
        ),
        migrations.CreateModel(
            name="VerificationStatusChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("from_status", models.CharField(blank=True, max_length=32)),
                ("to_status", models.CharField(max_length=32)),
                ("at", models.DateTimeField(auto_now_add=True)),
                ("reason", models.TextField(blank=True)),
                (
                    "by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="tenancy.organization"
                    ),
                ),
                (
                    "verification",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="status_changes",
                        to="kyc.organizationverification",
                    ),
                ),
            ],
            options={
                "verbose_name": "verification status change",
                "ordering": ["at", "id"],
                "abstract": False,
                "indexes": [models.Index(fields=["organization", "verification"], name="kyc_verif_change_org_idx")],
            },
        ),
        apps.core.rls.ApplyRowLevelSecurity(model_name="kycdocumentstatuschange", visibility=apps.core.rls.Owned()),
        apps.core.rls.ApplyRowLevelSecurity(model_name="verificationstatuschange", visibility=apps.core.rls.Owned()),
    ]
