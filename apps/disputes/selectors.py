"""Reads of disputes: the cases of the caller's organization, one case with its history and evidence."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Prefetch, Q, QuerySet

from apps.core.actors import Actor
from apps.core.errors import NotFound
from apps.disputes.models import Dispute, DisputeEvidence, DisputeResolution, DisputeStatusChange
from apps.tenancy.roles import Grant, actor_grant


def own_customer_id(actor: Actor) -> UUID | None:
    """With an `:own` dispute grant (a buyer), the user's id: only cases they opened or about
    orders they are the customer of; None with a full grant."""
    return actor.user_id if actor_grant(actor, "dispute:read") is Grant.OWN else None


def dispute_list(*, organization_id: UUID, own_user: UUID | None = None) -> QuerySet[Dispute]:
    """The cases about the organization's orders (either side), newest first."""
    queryset = Dispute.objects.visible_to(organization_id).order_by("-created_at", "-id")
    if own_user is not None:
        queryset = queryset.filter(opened_by_id=own_user) | queryset.filter(order__customer_id=own_user)
    return queryset


def dispute_staff_list(*, status: str | None = None, mediator_id: UUID | None = None) -> QuerySet[Dispute]:
    """Every case, for platform staff (in the all-tenants scope), newest first; optionally those
    in one status or of one mediator."""
    queryset = Dispute.objects.order_by("-created_at", "-id")
    if status:
        queryset = queryset.filter(status=status)
    if mediator_id:
        queryset = queryset.filter(mediator_id=mediator_id)
    return queryset


def acting_for_staff(actor: Actor) -> bool:
    """Platform staff acting for no organization of their own (the mediators)."""
    return actor.is_staff and actor.organization_id is None


def dispute_for_actor(*, actor: Actor, dispute_id: UUID, for_update: bool = False) -> Dispute:
    """The case, when the actor's organization is a party (or the actor is platform staff, in
    the all-tenants scope); NotFound otherwise (the same answer as for a case that does not
    exist)."""
    if acting_for_staff(actor):
        queryset = Dispute.objects.filter(pk=dispute_id)
    else:
        queryset = dispute_list(organization_id=actor.organization_id, own_user=own_customer_id(actor)).filter(
            pk=dispute_id
        )
    if for_update:
        queryset = Dispute.objects.select_for_update().filter(pk__in=queryset.values("pk"))
    dispute = queryset.first()
    if dispute is None:
        raise NotFound("Dispute not found.")
    return dispute


def dispute_detail(*, actor: Actor, dispute_id: UUID) -> Dispute:
    """The case with its history, evidence and resolutions, oldest first."""
    dispute_for_actor(actor=actor, dispute_id=dispute_id)
    return (
        Dispute.objects.filter(pk=dispute_id)
        .prefetch_related(
            Prefetch("status_changes", queryset=DisputeStatusChange.objects.order_by("at", "id")),
            Prefetch("evidence", queryset=DisputeEvidence.objects.order_by("created_at", "id")),
            Prefetch("resolutions", queryset=DisputeResolution.objects.order_by("created_at", "id")),
        )
        .get()
    )


def evidence_for_download(*, evidence_id: UUID) -> DisputeEvidence:
    """A file of a case, in the scope the signed link names; NotFound otherwise."""
    evidence = DisputeEvidence.objects.filter(pk=evidence_id).exclude(file="").first()
    if evidence is None:
        raise NotFound("Evidence not found.")
    return evidence


def resolution_current(*, dispute: Dispute) -> DisputeResolution | None:
    """The resolution the parties answer: the decision once there is one, else the open
    proposal (not superseded), else None."""
    resolutions = DisputeResolution.objects.filter(dispute=dispute)
    return resolutions.filter(kind="decision").first() or (
        resolutions.filter(kind="proposal", superseded_at__isnull=True).order_by("-created_at").first()
    )


def disputes_to_close(*, now) -> QuerySet[Dispute]:
    """Resolved cases past their appeal window whose decision nobody appealed."""
    appealed = DisputeResolution.objects.filter(kind="decision").filter(
        Q(client_answer="rejected") | Q(supplier_answer="rejected")
    )
    return Dispute.objects.filter(status="resolved", appeal_until__lte=now).exclude(
        pk__in=appealed.values("dispute_id")
    )
