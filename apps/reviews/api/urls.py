"""Routes of the reviews API under /api/v1/reviews."""

from django.urls import path

from apps.reviews.api import views

urlpatterns = [
    path("reviews", views.ReviewListView.as_view(), name="review-list"),
    path("reviews/summary", views.ReviewSummaryView.as_view(), name="review-summary"),
    path("reviews/<uuid:review_id>", views.ReviewDetailView.as_view(), name="review-detail"),
]
