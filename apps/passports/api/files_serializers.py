"""Input and output of the passport files API: QR codes, label sheets, the CSV batch import."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from apps.core.api.fields import StrictCharField


class PassportQrPngQuery(serializers.Serializer):
    scale = serializers.IntegerField(
        min_value=1, max_value=20, default=8, help_text="Pixels per module of the QR code (1-20; 8 by default)."
    )


class PassportLabelsInput(serializers.Serializer):
    passport_ids = serializers.ListField(
        child=serializers.UUIDField(),
        min_length=1,
        max_length=settings.PASSPORTS["LABEL_DOWNLOAD_MAX_PASSPORTS"],
        help_text="The passports to print, in the order of the labels (21 to an A4 sheet); an id given twice "
        "prints twice.",
    )


class PassportImportInput(serializers.Serializer):
    file = serializers.FileField(
        help_text="The CSV file (UTF-8, comma- or semicolon-separated, a header row naming the columns; "
        "GET /passports/imports/template gives one)."
    )
    dry_run = serializers.BooleanField(
        default=False, help_text="Check every row (registration included) and keep nothing: 200 instead of 201."
    )


class PassportImportedOutput(serializers.Serializer):
    row = serializers.IntegerField(help_text="The row's line in the file (the header is line 1).")
    id = serializers.UUIDField()
    code = StrictCharField()


class PassportImportOutput(serializers.Serializer):
    dry_run = serializers.BooleanField()
    rows = serializers.IntegerField(help_text="Rows read (blank lines are skipped).")
    created = serializers.IntegerField(help_text="Passports registered: every row, or 0 on a dry run.")
    passports = PassportImportedOutput(many=True, help_text="In row order, with consecutive codes; empty on a dry run.")
