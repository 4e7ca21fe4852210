"""Back-office of notifications, for platform staff: the templates (checked and previewed on the
type's sample payload when saved) and the delivery log of every channel."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html, linebreaks

from apps.core.admin import ReadOnlyAdminMixin
from apps.core.errors import ValidationFailed
from apps.notifications import services
from apps.notifications.catalogue import BY_KEY
from apps.notifications.models import Delivery, DeliveryAttempt, NotificationTemplate
from apps.tenancy.admin_site import admin_actor, is_platform_staff


class StaffOnlyAdmin(admin.ModelAdmin):
    def has_module_permission(self, request):
        return is_platform_staff(request)

    def has_view_permission(self, request, obj=None):
        return is_platform_staff(request)

    def has_add_permission(self, request):
        return is_platform_staff(request)

    def has_change_permission(self, request, obj=None):
        return is_platform_staff(request)

    def has_delete_permission(self, request, obj=None):
        return is_platform_staff(request)


class NotificationTemplateForm(forms.ModelForm):
    type = forms.ChoiceField(choices=[(key, f"{key} — {kind.label}") for key, kind in sorted(BY_KEY.items())])

    class Meta:
        model = NotificationTemplate
        fields = ["type", "channel", "language", "subject", "body", "is_active"]

    def clean(self):
        cleaned = super().clean()
        type_key = cleaned.get("type") or getattr(self.instance, "type", "")
        if type_key and cleaned.get("subject") is not None and cleaned.get("body") is not None:
            try:
                services.template_preview(type_key=type_key, subject=cleaned["subject"], body=cleaned["body"])
            except ValidationFailed as refused:
                for field, messages in refused.details.items():
                    self.add_error(field if field in self.fields else None, messages)
        return cleaned


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(StaffOnlyAdmin):
    form = NotificationTemplateForm
    list_display = ["type", "channel", "language", "subject", "is_active", "updated_at"]
    list_filter = ["channel", "language", "is_active", "type"]
    search_fields = ["type", "subject"]
    readonly_fields = ["preview", "sample"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "type", "channel", "language"] if obj is not None else fields

    @admin.display(description="Preview on the sample")
    def preview(self, obj):
        if obj is None or not obj.pk:
            return "Saved templates are previewed here."
        try:
            rendered = services.template_preview(type_key=obj.type, subject=obj.subject, body=obj.body)
        except ValidationFailed as refused:
            return f"Does not render: {refused.details}"
        return format_html("<strong>{}</strong>{}", rendered.subject, linebreaks(rendered.body))

    @admin.display(description="Sample payload (what a template may use)")
    def sample(self, obj):
        kind = BY_KEY.get(obj.type) if obj is not None else None
        return ", ".join(sorted(kind.sample)) if kind else ""

    def save_model(self, request, obj, form, change):
        actor = admin_actor(request)
        data = form.cleaned_data
        if change:
            saved = services.template_update(
                actor=actor, template_id=obj.pk, subject=data["subject"], body=data["body"], is_active=data["is_active"]
            )
        else:
            saved = services.template_create(
                actor=actor,
                type_key=data["type"],
                channel=data["channel"],
                language=data["language"],
                subject=data["subject"],
                body=data["body"],
                is_active=data["is_active"],
            )
        obj.pk = saved.pk


class DeliveryAttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DeliveryAttempt
    fields = ["number", "status", "provider_id", "error", "attempted_at", "updated_at"]
    readonly_fields = fields
    extra = 0


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, StaffOnlyAdmin):
    list_display = ["created_at", "channel", "status", "address", "subject", "attempts", "due_at", "sent_at"]
    list_filter = ["channel", "status", "digest"]
    search_fields = ["provider_id", "address", "notification__id"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [DeliveryAttemptInline]
    list_select_related = ["notification"]
