"""Disputes in the back-office: the cases, and each case's mediation page.

The mediation page (a case's page in the admin) puts before the mediator what they decide on: the
case, its order, the escrow's balances, the evidence of each side side by side (client, supplier,
then staff's), with previews drawn by a worker and the files to download, the resolutions, the
history, and the forms staff act with. Every form calls one service; nothing here writes a model.
A service's refusal (a 422) comes back on its form, with what was typed, and changes nothing.

Who sees what:
- platform staff see every case (their admin requests run in the audited all-tenants scope) and
  act as `Actor.staff(...)`;
- an organization admin sees the cases of which their organization is a party (row-level security
  and `OrganizationScopedAdmin`), with the evidence and the history, read-only: no forms.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from apps.core.actors import Actor
from apps.core.admin import ReadOnlyAdminMixin, money, show_service_error
from apps.core.errors import DomainError
from apps.core.money import round_money
from apps.disputes import services
from apps.disputes.models import (
    ENDED,
    Dispute,
    DisputeEvidence,
    DisputeResolution,
    DisputeStatus,
    DisputeStatusChange,
    PreviewStatus,
    Side,
)
from apps.disputes.timeline import dispute_timeline
from apps.escrow.selectors import EscrowBalances, escrow_balances
from apps.tenancy.admin_site import OrganizationScopedAdmin, admin_organization_id, is_platform_staff

STAFF = "staff"
PREVIEW_NOTES = {
    PreviewStatus.PENDING: "Preview pending: a worker is drawing it. Reload in a moment.",
    PreviewStatus.NONE: "No preview for this type of file.",
    PreviewStatus.FAILED: "No preview: the file could not be drawn. Download it to look at it.",
}


# --- Forms (staff only) -------------------------------------------------------------------------


class AssignMediatorForm(forms.Form):
    mediator = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(), empty_label="Choose a mediator", help_text="Platform staff only."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mediator"].queryset = (
            get_user_model().objects.filter(is_staff=True, is_active=True).order_by("email")
        )


class RequestInformationForm(forms.Form):
    side = forms.ChoiceField(choices=Side.choices, widget=forms.RadioSelect)
    question = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), help_text="Both parties see it in the case's history."
    )
    due_at = forms.DateTimeField(
        required=False,
        label="Answer due",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M"],
        help_text="Leave empty for the usual response window.",
    )


class ChangeStatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            (DisputeStatus.UNDER_REVIEW, "Under review"),
            (DisputeStatus.IN_MEDIATION, "In mediation"),
            (DisputeStatus.CLOSED, "Closed"),
        ]
    )
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}))


class ResolutionForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("proposal", "Propose (the parties accept or reject)"), ("decision", "Decide (moves the money)")],
        widget=forms.RadioSelect,
        initial="proposal",
    )
    outcome = forms.ChoiceField(
        choices=[("release", "Release to the supplier"), ("refund", "Refund to the client"), ("split", "Split")]
    )
    release_amount = forms.DecimalField(min_value=0, decimal_places=3, max_digits=15, label="To the supplier")
    refund_amount = forms.DecimalField(min_value=0, decimal_places=3, max_digits=15, label="To the client")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), help_text="Both parties see it with the resolution."
    )


def resolution_initial(dispute: Dispute, balances: EscrowBalances | None) -> dict:
    """The claimant's ask as the starting point: the amount claimed (at most what is held) to the
    side that opened the case, the rest to the other; the two add up to what is held."""
    held = balances.held if balances is not None else (dispute.amount_claimed or Decimal(0))
    claimed = min(dispute.amount_claimed or held, held)
    to_client = claimed if dispute.opened_by_side == Side.CLIENT else held - claimed
    to_supplier = held - to_client
    outcome = "split" if to_client and to_supplier else ("refund" if to_client else "release")
    currency = dispute.currency
    return {
        "kind": "proposal",
        "outcome": outcome,
        "release_amount": round_money(to_supplier, currency),
        "refund_amount": round_money(to_client, currency),
    }


# --- What the page shows ------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceCard:
    """One piece of evidence as the mediation page shows it."""

    evidence: DisputeEvidence
    added_by: str
    preview_url: str | None
    preview_note: str
    file_url: str | None
    linked: list[tuple[str, str]]


def _evidence_url(dispute: Dispute, evidence: DisputeEvidence, part: str) -> str:
    return reverse("admin:disputes_dispute_evidence", args=[dispute.pk, evidence.pk, part])


def evidence_cards(dispute: Dispute, evidence: list[DisputeEvidence]) -> dict[str, list[EvidenceCard]]:
    """The evidence by who added it: client, supplier, staff; oldest first in each."""
    columns: dict[str, list[EvidenceCard]] = {Side.CLIENT: [], Side.SUPPLIER: [], STAFF: []}
    for item in evidence:
        has_preview = bool(item.file) and item.preview_status == PreviewStatus.READY and bool(item.preview)
        card = EvidenceCard(
            evidence=item,
            added_by=str(item.added_by) if item.added_by_id else "-",
            preview_url=_evidence_url(dispute, item, "preview") if has_preview else None,
            preview_note="" if has_preview or not item.file else PREVIEW_NOTES.get(item.preview_status, ""),
            file_url=_evidence_url(dispute, item, "file") if item.file else None,
            linked=[(str(key).replace("_", " "), str(value)) for key, value in (item.linked_summary or {}).items()],
        )
        columns.setdefault(item.added_by_side, []).append(card)
    return columns


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    from_status: str
    to_status: str
    by: str
    reason: str


class MediatorFilter(admin.SimpleListFilter):
    title = "mediator"
    parameter_name = "mediator"

    def lookups(self, request, model_admin):
        assigned = (
            model_admin.get_queryset(request)
            .exclude(mediator=None)
            .values_list("mediator_id", "mediator__email")
            .distinct()
            .order_by("mediator__email")
        )
        return [("none", "nobody yet"), *((str(user_id), email) for user_id, email in assigned)]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(mediator__isnull=True)
        if value:
            try:
                return queryset.filter(mediator_id=UUID(value))
            except ValueError:
                return queryset.none()
        return queryset


# --- The admin ----------------------------------------------------------------------------------


class StaffStatementForm(forms.Form):
    statement = forms.CharField(
        max_length=settings.DISPUTES["MAX_STATEMENT_CHARACTERS"],
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Evidence of the mediator's own (what was checked, with whom): both parties read it.",
    )


ACTIONS = {
    "mediator": AssignMediatorForm,
    "request-information": RequestInformationForm,
    "statement": StaffStatementForm,
    "status": ChangeStatusForm,
    "resolution": ResolutionForm,
}


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """The cases; a case's page is its mediation page (staff act there, organization admins read)."""

    show_full_result_count = False
    list_display = ["number", "order_number", "parties", "status", "mediator", "response_due_at", "created_at"]
    list_filter = ["status", MediatorFilter]
    list_select_related = ["mediator"]
    search_fields = ["number", "order_number"]
    ordering = ["-created_at", "-id"]

    @admin.display(description="client / supplier")
    def parties(self, dispute):
        return format_html(
            "{}<br><span class='quiet'>{}</span>", dispute.client_organization_name, dispute.supplier_organization_name
        )

    def get_urls(self):
        return [
            path(
                "<uuid:object_id>/mediation/<str:action>/",
                self.admin_site.admin_view(require_POST(self.action_view)),
                name="disputes_dispute_act",
            ),
            path(
                "<uuid:object_id>/evidence/<uuid:evidence_id>/<str:part>/",
                self.admin_site.admin_view(self.evidence_file_view),
                name="disputes_dispute_evidence",
            ),
            *super().get_urls(),
        ]

    def _dispute(self, request, object_id) -> Dispute:
        if not self.has_view_permission(request):
            raise PermissionDenied
        dispute = self.get_queryset(request).select_related("mediator", "opened_by").filter(pk=object_id).first()
        if dispute is None:
            raise Http404("No such dispute.")
        return dispute

    def change_view(self, request, object_id, form_url="", extra_context=None):
        try:
            dispute_id = UUID(str(object_id))
        except ValueError as error:
            raise Http404("No such dispute.") from error
        return self.mediation_page(request, self._dispute(request, dispute_id))

    def mediation_page(self, request, dispute: Dispute, bound: tuple[str, forms.Form] | None = None):
        staff = is_platform_staff(request)
        balances = escrow_balances(escrow_id=dispute.escrow_id) if dispute.escrow_id else None
        evidence = list(
            DisputeEvidence.objects.filter(dispute_id=dispute.pk)
            .select_related("added_by")
            .order_by("created_at", "id")
        )
        history = [
            HistoryRow(
                change.at, change.from_status, change.to_status, str(change.by) if change.by else "-", change.reason
            )
            for change in DisputeStatusChange.objects.filter(dispute_id=dispute.pk)
            .select_related("by")
            .order_by("at", "id")
        ]
        resolutions = list(
            DisputeResolution.objects.filter(dispute_id=dispute.pk).select_related("decided_by").order_by("created_at")
        )
        columns = evidence_cards(dispute, evidence)
        # Staff read everything in the all-tenants scope; an organization admin what their
        # organization sees of the case (its chat messages included, as on the thread's page).
        timeline = dispute_timeline(dispute=dispute, organization_id=None if staff else admin_organization_id(request))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Dispute {dispute.number}",
            "subtitle": dispute.order_number,
            "opts": self.model._meta,
            "original": dispute,
            "dispute": dispute,
            "order_url": reverse("admin:orders_order_change", args=[dispute.order_id]),
            "claimed": money(dispute.amount_claimed, dispute.currency) if dispute.amount_claimed else "-",
            "escrow": balances,
            "escrow_url": reverse("admin:escrow_escrow_change", args=[dispute.escrow_id]) if balances else "",
            "escrow_money": self._escrow_money(balances),
            "client_evidence": columns[Side.CLIENT],
            "supplier_evidence": columns[Side.SUPPLIER],
            "staff_evidence": columns[STAFF],
            "history": history,
            # The entries carry ISO times (the API's form): parsed back for the page's date format.
            "timeline": [
                {**entry, "at": datetime.fromisoformat(entry["at"]), "kind": entry["type"].replace("_", " ")}
                for entry in timeline
            ],
            "resolutions": resolutions,
            "forms": self._forms(dispute, balances, bound) if staff else {},
        }
        return TemplateResponse(request, "admin/disputes/dispute/mediation.html", context)

    @staticmethod
    def _escrow_money(balances: EscrowBalances | None) -> dict:
        if balances is None:
            return {}
        currency = balances.currency
        return {
            "amount": money(balances.amount, currency),
            "held": money(balances.held, currency),
            "released": money(balances.released, currency),
            "refunded": money(balances.refunded, currency),
            "commission": money(balances.commission_taken, currency),
        }

    def _forms(self, dispute: Dispute, balances, bound) -> dict:
        """The staff's forms the case's status allows (the services refuse the rest anyway)."""
        if dispute.status in ENDED:
            return {}
        forms_shown = {
            "mediator": AssignMediatorForm(initial={"mediator": dispute.mediator_id}),
            "status": ChangeStatusForm(),
        }
        if dispute.status != DisputeStatus.RESOLVED:
            forms_shown["request-information"] = RequestInformationForm()
            forms_shown["statement"] = StaffStatementForm()
            forms_shown["resolution"] = ResolutionForm(initial=resolution_initial(dispute, balances))
        if bound is not None:
            forms_shown[bound[0]] = bound[1]
        return forms_shown

    def action_view(self, request, object_id, action):
        if not is_platform_staff(request):
            raise PermissionDenied
        if action not in ACTIONS:
            raise Http404("No such action.")
        dispute = self._dispute(request, object_id)
        form = ACTIONS[action](request.POST)
        if form.is_valid():
            try:
                done = self._act(request, dispute, action, form.cleaned_data)
            except DomainError as error:
                show_service_error(form, error)
            else:
                messages.success(request, f"{dispute.number}: {done}")
                return HttpResponseRedirect(reverse("admin:disputes_dispute_change", args=[dispute.pk]))
        # The service rolled back whatever it began: the page shows the case as it still is.
        return self.mediation_page(request, dispute, bound=(action, form))

    def _act(self, request, dispute: Dispute, action: str, data: dict) -> str:
        """Call the one service behind the form, as platform staff (the admin request already runs
        in the audited all-tenants scope); returns what happened, for the message."""
        actor = Actor.staff(request.user.id)
        if action == "mediator":
            services.dispute_assign_mediator(actor=actor, dispute_id=dispute.pk, mediator_id=data["mediator"].pk)
            return f"{data['mediator']} mediates the case."
        if action == "request-information":
            asked = services.dispute_request_information(
                actor=actor, dispute_id=dispute.pk, side=data["side"], question=data["question"], due_at=data["due_at"]
            )
            return f"the {asked.response_side} is asked to answer by {asked.response_due_at:%Y-%m-%d %H:%M}."
        if action == "statement":
            services.evidence_add(actor=actor, dispute_id=dispute.pk, statement=data["statement"])
            return "the mediator's statement is added to the evidence."
        if action == "status":
            moved = services.dispute_change_status(
                actor=actor, dispute_id=dispute.pk, status=data["status"], reason=data["reason"]
            )
            return f"now {moved.get_status_display().lower()}."
        resolution = services.dispute_resolve(
            actor=actor,
            dispute_id=dispute.pk,
            data=services.ResolutionInput(
                kind=data["kind"],
                outcome=data["outcome"],
                release_amount=data["release_amount"],
                refund_amount=data["refund_amount"],
                reason=data["reason"],
            ),
        )
        return (
            f"{resolution.get_kind_display().lower()} recorded: {resolution.release_amount} {resolution.currency} to "
            f"the supplier, {resolution.refund_amount} {resolution.currency} to the client."
        )

    def evidence_file_view(self, request, object_id, evidence_id, part):
        """An evidence's file (a download) or its preview (a PNG for the page), to whoever may
        read the case here; the file storage is private, so the back-office streams it."""
        if part not in ("file", "preview"):
            raise Http404("No such part.")
        dispute = self._dispute(request, object_id)
        evidence = DisputeEvidence.objects.filter(pk=evidence_id, dispute_id=dispute.pk).first()
        stored = getattr(evidence, part, None) if evidence is not None else None
        if not stored:
            raise Http404("No such file.")
        handle = stored.open("rb")
        if part == "preview":
            response = FileResponse(handle, content_type="image/png")
        else:
            response = FileResponse(
                handle, as_attachment=True, filename=evidence.filename, content_type=evidence.content_type
            )
        response["Cache-Control"] = "private, no-store"
        return response
