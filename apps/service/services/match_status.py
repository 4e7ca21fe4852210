"""The expert's side of a matching result: marking an order proposed to them as viewed,
contacted or dismissed (the customer reads it next to the score)."""

from __future__ import annotations

from uuid import UUID

from django.db import transaction

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.errors import NotFound, ValidationFailed
from apps.service.models import ExpertPassport, MatchingResult, MatchStatus, MatchTargetType
from apps.tenancy.roles import Grant, actor_grant

# What the candidate may set; NEW is where every result starts.
SETTABLE = (MatchStatus.VIEWED, MatchStatus.CONTACTED, MatchStatus.DISMISSED)


@transaction.atomic
def match_status_set(*, actor: Actor, expert_id: UUID, match_id: UUID, status: str) -> MatchingResult:
    """Set the status of a matching result that names the expert (one of the organization's own;
    with an `:own` grant, the actor's own passport): VIEWED, CONTACTED or DISMISSED. 404 for
    any other result or expert. Changes nothing when the status is already that."""
    if status not in SETTABLE:
        raise ValidationFailed("Unknown match status.", details={"status": [f"One of {', '.join(SETTABLE)}."]})
    experts = ExpertPassport.objects.filter(organization_id=actor.organization_id, id=expert_id)
    if actor_grant(actor, "expert:manage") is not Grant.ALL:
        experts = experts.filter(user_id=actor.user_id)
    if not experts.exists():
        raise NotFound("Expert not found.")
    match = (
        MatchingResult.objects.select_for_update()
        .filter(
            id=match_id,
            target_organization_id=actor.organization_id,
            target_type=MatchTargetType.EXPERT,
            target_id=expert_id,
        )
        .first()
    )
    if match is None:
        raise NotFound("Match not found.")
    if match.status == status:
        return match
    previous = match.status
    match.status = status
    match.save(update_fields=["status", "updated_at"])
    audit_record(
        action="service.match_status_set",
        resource_type="matching_result",
        resource_id=match.id,
        old_values={"status": previous},
        new_values={"status": status},
        organization_id=actor.organization_id,
        actor=actor,
    )
    return match
