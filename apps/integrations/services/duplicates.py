"""The staff's review of probable duplicates across platforms: confirmed or not, never merged (a
confirmed duplicate is cancelled on its platform by the seller; ours follows the platform)."""

from __future__ import annotations

from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.core.audit import audit_record
from apps.core.errors import InvalidStateTransition, NotFound, ValidationFailed
from apps.integrations.models import DuplicateFlag, DuplicateStatus


@transaction.atomic
def duplicate_review(*, flag_id: UUID, reviewer_id: UUID | None, status: str, note: str = "") -> DuplicateFlag:
    if status not in (DuplicateStatus.DUPLICATE, DuplicateStatus.NOT_DUPLICATE):
        raise ValidationFailed("A review says DUPLICATE or NOT_DUPLICATE.", details={"status": ["Invalid."]})
    flag = DuplicateFlag.objects.select_for_update().filter(pk=flag_id).first()
    if flag is None:
        raise NotFound("Duplicate flag not found.")
    if flag.status != DuplicateStatus.OPEN:
        raise InvalidStateTransition("This flag was reviewed already.", details={"status": [flag.status]})
    flag.status, flag.reviewed_by_id, flag.reviewed_at, flag.review_note = status, reviewer_id, timezone.now(), note
    flag.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    audit_record(
        action="integration.duplicate_reviewed",
        resource_type="duplicate_flag",
        resource_id=flag.id,
        new_values={"status": status, "note": note},
        organization_id=flag.organization_id,
        actor_id=reviewer_id,
    )
    return flag
