"""reviews: models (filled in by issue 22)."""
