# Russian text is the point here: Cyrillic letters that look Latin are meant.
# ruff: noqa: RUF001
"""Back-office: document templates with a preview rendered from a sample document, and the
generated documents, read-only. Organization admins edit their own templates; every write goes
through the documents services (audited)."""

from __future__ import annotations

import base64
from datetime import date
from decimal import Decimal

import pypdfium2
from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from apps.core.admin import ReadOnlyAdminMixin
from apps.core.errors import DomainError
from apps.documents import selectors, services
from apps.documents.content import DocumentType as ContentDocumentType
from apps.documents.content import LineItem, OptionalField, Party, ShipmentDocument
from apps.documents.models import DocumentTemplate, GeneratedDocument
from apps.documents.rendering import render_document
from apps.tenancy.admin_site import OrganizationScopedAdmin, admin_actor, admin_organization_id, is_platform_staff

OPTIONAL_FIELD_CHOICES = [(field.value, field.value.replace("_", " ")) for field in OptionalField]


def sample_document(template: DocumentTemplate) -> ShipmentDocument:
    """A made-up order's document, for previews: both alphabets, two items."""
    return ShipmentDocument(
        document_type=ContentDocumentType(template.document_type),
        number="SAMPLE-2026-000001",
        issue_date=date.today(),
        language=template.language,
        shipper=Party("Baltic Shippers GmbH", ("Kaistraße 1", "20457 Hamburg"), "DE", "DE123456789"),
        consignee=Party("ООО «Волга Карго»", ("ул. Сибирский тракт, 34", "420029 Казань"), "RU", "7707083893"),
        carrier=Party("Volga Carriers"),
        items=(
            LineItem("BRG-6204", "Подшипник 6204-2RS", Decimal(120), "pcs", Decimal("3.20"), "EUR", Decimal(24), "DE"),
            LineItem("GBX-55", "Helical gearbox 5.5 kW", Decimal(2), "pcs", Decimal(1450), "EUR", Decimal(180), "DE"),
        ),
        currency="EUR",
        verification_url="https://manifest.example/verify/sample",
        place_of_taking_over="Hamburg, DE",
        place_of_delivery="Kazan, RU",
    )


def preview_png(pdf: bytes, width: int = 800) -> bytes:
    """The PDF's first page as a PNG `width` pixels wide."""
    import io

    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        scale = width / page.get_width()
        image = page.render(scale=scale).to_pil()
    finally:
        document.close()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class DocumentTemplateForm(forms.ModelForm):
    visible_fields = forms.MultipleChoiceField(
        choices=OPTIONAL_FIELD_CHOICES, widget=forms.CheckboxSelectMultiple, required=False
    )
    logo_upload = forms.FileField(required=False, label="Logo (PNG)", help_text="At most 512 KiB.")
    remove_logo = forms.BooleanField(required=False)

    class Meta:
        model = DocumentTemplate
        fields = ["organization", "document_type", "language", "header_text", "footer_text", "visible_fields"]

    def clean_logo_upload(self):
        upload = self.cleaned_data.get("logo_upload")
        if not upload:
            return None
        data = upload.read()
        try:
            services.check_logo(data)
        except DomainError as error:
            raise forms.ValidationError(error.message) from error
        return data


@admin.register(DocumentTemplate)
class DocumentTemplateAdmin(OrganizationScopedAdmin):
    form = DocumentTemplateForm
    org_admin_actions = frozenset({"view", "add", "change"})
    list_display = ["document_type", "organization", "language", "updated_at"]
    list_filter = ["document_type", "language"]
    list_select_related = ["organization"]
    readonly_fields = ["preview"]

    def get_fields(self, request, obj=None):
        fields = ["document_type", "language", "header_text", "footer_text", "visible_fields"]
        fields += ["logo_upload", "remove_logo", "preview"]
        if is_platform_staff(request) and obj is None:
            fields.insert(0, "organization")
        return fields

    def get_readonly_fields(self, request, obj=None):
        return ["preview", "document_type"] if obj is not None else ["preview"]

    @admin.display(description="preview (a sample document with this template)")
    def preview(self, template):
        if template is None or template.pk is None or not template.document_type:
            return "Save the template to see a preview."
        options, _ = selectors.template_options(template)
        png = preview_png(render_document(sample_document(template), options))
        encoded = base64.b64encode(png).decode()
        return format_html(
            '<img src="data:image/png;base64,{}" style="max-width:800px;border:1px solid #ccc">', encoded
        )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        values = {name: data[name] for name in ("language", "header_text", "footer_text", "visible_fields")}
        if data.get("logo_upload"):
            values["logo"] = data["logo_upload"]
        elif data.get("remove_logo"):
            values["logo"] = b""
        try:
            if change:
                saved = services.template_update(
                    organization_id=obj.organization_id,
                    actor=admin_actor(request, organization_id=obj.organization_id),
                    template_id=obj.pk,
                    values=values,
                )
            else:
                organization_id = admin_organization_id(request) or data["organization"].id
                saved = services.template_create(
                    organization_id=organization_id,
                    actor=admin_actor(request, organization_id=organization_id),
                    document_type=data["document_type"],
                    values=values,
                )
        except DomainError as error:
            messages.error(request, error.message)
            return
        obj.pk, obj.id = saved.pk, saved.id

    def save_related(self, request, form, formsets, change):
        pass  # no relations: the service wrote everything (save_model)


@admin.register(GeneratedDocument)
class GeneratedDocumentAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """Documents, read-only: both parties of the order see its documents."""

    org_admin_actions = frozenset({"view"})
    # Ids, not joins: row-level security hides the other party's organization row from an
    # organization admin, and a join to it would hide the document too.
    list_display = ["created_at", "order_number", "document_type", "version", "status", "signed_at", "organization_id"]
    list_filter = ["document_type", "status", ("signed_at", admin.EmptyFieldListFilter)]
    search_fields = ["order_number", "sha256", "signature_sha256"]
    show_full_result_count = False
    readonly_fields = [
        field.attname for field in GeneratedDocument._meta.fields if field.name not in {"file", "signed_file"}
    ]
