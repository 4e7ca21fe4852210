"""What points and referrals hold about a person (docs/accounts.md, "Personal data"): their ledger
and the referrals they made or that name them. Read in the export's audited all-tenants scope."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Q

from apps.points.models import PointTransaction, Referral


def points_of_person(*, user_id: UUID, **_) -> list[dict]:
    return [
        {**line, "id": str(line["id"]), "created_at": line["created_at"].isoformat()}
        for line in PointTransaction.objects.filter(user_id=user_id)
        .order_by("sequence")
        .values("id", "sequence", "type", "category", "amount", "balance", "description", "created_at")
    ]


def referrals_of_person(*, user_id: UUID, **_) -> list[dict]:
    rows = (
        Referral.objects.filter(Q(referrer_id=user_id) | Q(referred_id=user_id))
        .order_by("created_at")
        .values("id", "referrer_id", "referred_id", "status", "source", "created_at", "rewarded_at")
    )
    return [
        {
            "id": str(row["id"]),
            "role": "referrer" if row["referrer_id"] == user_id else "referred",
            "status": row["status"],
            "source": row["source"],
            "created_at": row["created_at"].isoformat(),
            "rewarded_at": row["rewarded_at"].isoformat() if row["rewarded_at"] else None,
        }
        for row in rows
    ]
