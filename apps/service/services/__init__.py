"""Every write of field service, one function per use case (split by group, one façade here)."""

from apps.service.services.ratings import expert_rating_set

__all__ = ["expert_rating_set"]
