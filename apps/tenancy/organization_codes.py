"""The three-letter organization codes that open device passport codes (seed 002
organizations.code): given once, from the organization's name, when its first passport is issued."""

from __future__ import annotations

import string
import unicodedata
from uuid import UUID

from django.db import IntegrityError, transaction

from apps.core.audit import audit_record
from apps.core.errors import DomainError, ErrorCode
from apps.tenancy.models import Organization
from apps.tenancy.roles import Actor


def _code_candidates(name: str):
    """Three-letter codes for a name, most telling first: the initials of its words, its first
    letters, its first letter with two of its consonants, then its first letter with any two."""
    letters = "".join(ch for ch in unicodedata.normalize("NFKD", name.upper()) if "A" <= ch <= "Z" or ch == " ")
    words = letters.split()
    compact = "".join(words)
    initials = "".join(word[0] for word in words)
    if len(initials) >= 3:
        yield initials[:3]
    if len(compact) >= 3:
        yield compact[:3]
    first = compact[:1] or "X"
    consonants = [ch for ch in compact[1:] if ch not in "AEIOU"]
    for i, second in enumerate(consonants):
        for third in consonants[i + 1 :]:
            yield first + second + third
    alphabet = string.ascii_uppercase
    for second in alphabet:
        for third in alphabet:
            yield first + second + third
    for a in alphabet:
        for b in alphabet:
            for c in alphabet:
                yield a + b + c


def organization_code_ensure(*, organization_id: UUID) -> str:
    """The organization's three-letter code, given now from its name when it has none.

    Part of the caller's transaction, in the organization's own scope (its row is its own).
    Codes are unique across organizations: a code another took first is skipped (its unique
    constraint decides, inside a savepoint each), so two organizations never share one."""
    code = Organization.objects.filter(id=organization_id).values_list("code", flat=True).first()
    if code:
        return code  # no lock: every registration of the organization reads it
    # NO KEY: a concurrent registration's foreign key to the organization (KEY SHARE) must not
    # wait for this lock while this transaction waits for its month counter (a deadlock).
    organization = Organization.objects.select_for_update(no_key=True).get(id=organization_id)
    if organization.code:
        return organization.code
    for candidate in _code_candidates(organization.name):
        try:
            with transaction.atomic():
                updated = Organization.objects.filter(id=organization_id, code__isnull=True).update(code=candidate)
        except IntegrityError:
            continue
        if updated:
            audit_record(
                action="organization.code_assigned",
                resource_type="organization",
                resource_id=organization_id,
                new_values={"code": candidate},
                organization_id=organization_id,
                actor=Actor.system(organization_id=organization_id),
            )
            return candidate
    raise DomainError(
        "No three-letter code is left for this organization.", code=ErrorCode.VALIDATION_CONSTRAINT_VIOLATION
    )
