"""Reviews in the back-office, read-only: platform staff see every organization's and may hide an
abusive review (with a reason) or put it back, which recomputes the reviewee's rating;
organization admins see the reviews their organization wrote or received (a hidden one only
when they wrote it), and their organization's rating summaries."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Q
from django.template.response import TemplateResponse

from apps.core.admin import ReadOnlyAdminMixin
from apps.core.errors import DomainError
from apps.reviews import services
from apps.reviews.models import Review, ReviewSummary
from apps.tenancy.admin_site import OrganizationScopedAdmin, admin_organization_id, is_platform_staff
from apps.tenancy.roles import Actor


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        error_messages={"required": "Say why."},
        help_text="Required. Kept with the review and in the audit log; its author sees it.",
    )


class ReadOnlyScopedAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """Nobody adds, edits or deletes here: reviews are written through the API only."""


@admin.register(Review)
class ReviewAdmin(ReadOnlyScopedAdmin):
    list_display = [
        "created_at",
        "subject_type",
        "subject_number",
        "reviewee_type",
        "reviewee_organization_name",
        "author_organization_name",
        "rating",
        "is_hidden",
    ]
    list_filter = ["subject_type", "reviewee_type", "rating", "is_hidden"]
    search_fields = ["subject_number", "author_organization_name", "reviewee_organization_name"]
    show_full_result_count = False
    actions = ["hide_reviews", "show_reviews"]
    fields = [
        ("subject_type", "subject_number", "subject_id"),
        ("reviewee_type", "reviewee_id", "reviewee_organization_name"),
        "offering_id",
        ("author", "author_organization_name"),
        "rating",
        "text",
        "created_at",
        ("is_hidden", "hidden_at", "hidden_by"),
        "hidden_reason",
    ]
    readonly_fields = [name for row in fields for name in (row if isinstance(row, tuple) else (row,))]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("author", "hidden_by")
        if is_platform_staff(request):
            return queryset
        # As in the API: a hidden review stays with its author only.
        return queryset.filter(Q(is_hidden=False) | Q(author_organization_id=admin_organization_id(request)))

    def has_moderate_permission(self, request):
        return is_platform_staff(request)

    def _reason(self, request, queryset):
        """The reason given with the confirmed action, or the page asking for it."""
        confirmed = "apply" in request.POST
        form = ReasonForm(request.POST if confirmed else None)
        if confirmed and form.is_valid():
            return form.cleaned_data["reason"]
        context = {
            **self.admin_site.each_context(request),
            "title": "Hide reviews",
            "opts": self.model._meta,
            "rows": [
                {"pk": row.pk, "label": str(row), "detail": f" ({row.author_organization_name})"} for row in queryset
            ],
            "form": form,
            "action": "hide_reviews",
            "button": "Hide them",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/action_reason.html", context)

    def _moderate(self, request, queryset, *, hidden: bool, reason: str, done: str) -> None:
        # In primary-key order: two staff acting on overlapping rows lock them in one order.
        count = 0
        for review in queryset.order_by("pk"):
            try:
                services.review_set_hidden(
                    actor=Actor.staff(request.user.id), review_id=review.pk, hidden=hidden, reason=reason
                )
            except DomainError as error:
                self.message_user(request, f"{review}: {error.message}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, done.format(count=count), messages.SUCCESS)
        else:
            self.message_user(request, "Nothing to do.", messages.WARNING)

    @admin.action(description="Hide (abusive): leaves the rating", permissions=["moderate"])
    def hide_reviews(self, request, queryset):
        reason = self._reason(request, queryset)
        if not isinstance(reason, str):
            return reason
        self._moderate(
            request, queryset.filter(is_hidden=False), hidden=True, reason=reason, done="{count} review(s) hidden."
        )
        return None

    @admin.action(description="Put back: counts in the rating again", permissions=["moderate"])
    def show_reviews(self, request, queryset):
        self._moderate(
            request, queryset.filter(is_hidden=True), hidden=False, reason="", done="{count} review(s) put back."
        )


@admin.register(ReviewSummary)
class ReviewSummaryAdmin(ReadOnlyScopedAdmin):
    """Each reviewee's rating as the reviews services last computed it."""

    list_display = ["reviewee_type", "reviewee_id", "rating_average", "review_count", "updated_at"]
    list_filter = ["reviewee_type"]
    search_fields = ["=reviewee_id"]
    show_full_result_count = False
    readonly_fields = [
        "reviewee_type",
        "reviewee_id",
        "rating_average",
        "review_count",
        "count_1",
        "count_2",
        "count_3",
        "count_4",
        "count_5",
        "updated_at",
    ]
    fields = readonly_fields
