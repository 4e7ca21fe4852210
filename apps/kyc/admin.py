"""The KYC review queue: staff see each document beside its automated checks and decide,
with a reason when they reject; organization admins see their own documents, read-only."""

from __future__ import annotations

import base64
from datetime import timedelta
from uuid import UUID

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from apps.core.actors import Actor
from apps.core.admin import ReadOnlyAdminMixin
from apps.core.errors import DomainError
from apps.kyc import services
from apps.kyc.models import DocumentStatus, KycDocument, OrganizationVerification, PreviewStatus
from apps.tenancy.admin_site import OrganizationScopedAdmin, is_platform_staff
from apps.tenancy.selectors import organization_names

PREVIEW_PENDING = mark_safe(
    '<p class="kyc-preview-pending">Preview pending: it is being drawn in the background. Reload in a moment.</p>'
)


class AgeFilter(admin.SimpleListFilter):
    title = "waiting for"
    parameter_name = "age"
    BUCKETS = {"today": (None, 1), "week": (1, 7), "older": (7, None)}

    def lookups(self, request, model_admin):
        return [("today", "less than a day"), ("week", "1 to 7 days"), ("older", "more than 7 days")]

    def queryset(self, request, queryset):
        if self.value() not in self.BUCKETS:
            return queryset
        newest_days, oldest_days = self.BUCKETS[self.value()]
        now = timezone.now()
        if newest_days is not None:
            queryset = queryset.filter(created_at__lte=now - timedelta(days=newest_days))
        if oldest_days is not None:
            queryset = queryset.filter(created_at__gt=now - timedelta(days=oldest_days))
        return queryset


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")], widget=forms.RadioSelect)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Required to reject: the organization sees it.",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "reject" and not cleaned.get("reason", "").strip():
            self.add_error("reason", "Say why the document is rejected.")
        return cleaned


@admin.register(KycDocument)
class KycDocumentAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    org_admin_actions = frozenset({"view"})
    list_display = [
        "created_at",
        "organization",
        "document_type",
        "version",
        "status",
        "flagged_for_review",
        "checks_summary",
    ]
    list_filter = ["status", "document_type", "flagged_for_review", "organization__verification_level", AgeFilter]
    list_select_related = ["organization"]
    search_fields = ["organization__name", "number", "original_filename"]
    ordering = ["created_at"]
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["review_link", "organization", "document_type", "status", "version", "previous_version"]}),
        ("The document", {"fields": ["preview", "original_filename", "content_type", "size_bytes", "sha256"]}),
        ("What it says", {"fields": ["number", "fields", "issued_on", "expires_on"]}),
        (
            "Automated checks",
            {"fields": ["checks_table", "staff_findings_table", "flagged_for_review", "checks_completed_at"]},
        ),
        ("Review", {"fields": ["reviewer", "reviewed_at", "review_note", "uploaded_by", "created_at"]}),
    ]
    readonly_fields = [
        "review_link",
        "preview",
        "checks_table",
        "staff_findings_table",
        *[
            field.name
            for field in KycDocument._meta.fields
            if field.name not in {"file", "check_results", "staff_findings", "preview_file", "id"}
        ],
    ]
    # Other tenants' identities, for platform staff only (an organization admin reads this page too).
    STAFF_ONLY_FIELDS = frozenset({"staff_findings_table"})

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if is_platform_staff(request):
            return fieldsets
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in self.STAFF_ONLY_FIELDS]})
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if is_platform_staff(request):
            return readonly
        return [field for field in readonly if field not in self.STAFF_ONLY_FIELDS]

    @admin.display(description="checks")
    def checks_summary(self, document):
        failed = [check["name"] for check in document.check_results if not check["passed"]]
        if not document.check_results:
            return "-"
        return f"{len(document.check_results) - len(failed)} passed" + (
            f", failed: {', '.join(failed)}" if failed else ""
        )

    @admin.display(description="automated checks")
    def checks_table(self, document):
        if not document.check_results:
            return "Not run yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((c["name"], "passed" if c["passed"] else "FAILED", c["message"]) for c in document.check_results),
        )
        return format_html("<table><tr><th>check</th><th>result</th><th>message</th></tr>{}</table>", rows)

    @admin.display(description="staff only")
    def staff_findings_table(self, document):
        if not document.staff_findings:
            return "Nothing."
        names = organization_names(
            organization_ids={o for finding in document.staff_findings for o in finding.get("organization_ids", ())}
        )
        items = []
        for finding in document.staff_findings:
            holders = format_html_join(
                ", ",
                '<a href="{}">{}</a> ({})',
                (
                    (reverse("admin:tenancy_organization_change", args=[o]), names.get(UUID(o), "unknown"), o)
                    for o in finding.get("organization_ids", ())
                ),
            )
            items.append((finding["check"], finding["message"], holders))
        rows = format_html_join("", "<tr><td>{}</td><td>{} {}</td></tr>", items)
        return format_html("<table><tr><th>check</th><th>finding</th></tr>{}</table>", rows)

    @admin.display(description="preview")
    def preview(self, document):
        # Never drawn here: a worker draws it in a limited child process
        # (apps/core/preview_sandbox.py), so a hostile file cannot hold or crash a web process.
        # A page view only reads: a preview never requested (a document stored before previews
        # moved to a worker) is asked for by the beat job `kyc-previews-resubmit`.
        if document.preview_status in (PreviewStatus.NOT_REQUESTED, PreviewStatus.PENDING):
            return PREVIEW_PENDING
        if document.preview_status == PreviewStatus.UNAVAILABLE or not document.preview_file:
            return format_html(
                '<p class="kyc-preview-unavailable">Preview unavailable: {} Download the file to look at it.</p>',
                document.preview_note,
            )
        try:
            with document.preview_file.open("rb") as stored:
                png = stored.read()
        except OSError:
            return "Preview unavailable: the stored preview cannot be read."
        encoded = base64.b64encode(png).decode()
        return format_html(
            '<img src="data:image/png;base64,{}" style="max-width:800px;border:1px solid #ccc">', encoded
        )

    @admin.display(description="decision")
    def review_link(self, document):
        if document.status != DocumentStatus.PENDING_REVIEW:
            return document.get_status_display()
        url = reverse("admin:kyc_kycdocument_review", args=[document.pk])
        return format_html('<a class="button" href="{}">Approve or reject</a>', url)

    def get_urls(self):
        review = self.admin_site.admin_view(self.review_view)
        return [path("<uuid:object_id>/review/", review, name="kyc_kycdocument_review"), *super().get_urls()]

    def review_view(self, request, object_id):
        if not is_platform_staff(request):
            raise PermissionDenied
        document = self.get_queryset(request).filter(pk=object_id).first()
        if document is None:
            raise PermissionDenied
        form = ReviewForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.document_review(
                    document_id=document.pk,
                    actor=Actor.staff(request.user.id),
                    approve=form.cleaned_data["decision"] == "approve",
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, f"{document}: {form.cleaned_data['decision']}d.")
                return HttpResponseRedirect(reverse("admin:kyc_kycdocument_changelist") + "?status=pending_review")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Review: {document.get_document_type_display()} of {document.organization}",
            "opts": self.model._meta,
            "original": document,
            "form": form,
            "preview": self.preview(document),
            "checks": self.checks_table(document),
            "staff_findings": self.staff_findings_table(document),
        }
        return TemplateResponse(request, "admin/kyc/kycdocument/review.html", context)


@admin.register(OrganizationVerification)
class OrganizationVerificationAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    org_admin_actions = frozenset({"view"})
    list_display = ["organization", "status", "target_level", "verified_level", "submitted_at", "decided_at"]
    list_filter = ["status", "target_level", "verified_level"]
    list_select_related = ["organization"]
    search_fields = ["organization__name"]
