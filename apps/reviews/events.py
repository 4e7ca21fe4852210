"""Domain events of reviews (payloads built here only), written to the outbox by the services:
points reward the review's author (`author_user_id`), notifications tell the reviewed party,
webhooks pass them on."""

from __future__ import annotations

from dataclasses import dataclass

from apps.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class ReviewEvent(DomainEvent):
    aggregate_type = "review"
    review_id: str
    subject_type: str
    subject_id: str
    subject_number: str
    reviewee_type: str
    reviewee_id: str
    # The reviewed organization, and the person the review is about when there is one (the
    # expert; the customer who ordered the service): notifications tell them.
    reviewee_organization_id: str
    reviewee_user_id: str | None
    rating: int
    # The author's organization and the reviewed one.
    party_organization_ids: list[str]

    def aggregate_id(self) -> str:
        return self.review_id


@dataclass(frozen=True, kw_only=True)
class ReviewCreated(ReviewEvent):
    """A party reviewed the other party of a completed order (once per party)."""

    event_type = "review.created"
    author_user_id: str | None
    offering_id: str | None
