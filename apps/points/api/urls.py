"""Routes of the points and referrals API under /api/v1/."""

from django.urls import path

from apps.points.api import views

urlpatterns = [
    path("points/balance", views.BalanceView.as_view(), name="points-balance"),
    path("points/transactions", views.TransactionListView.as_view(), name="points-transactions"),
    path("points/rules", views.RuleListView.as_view(), name="points-rules"),
    path("referrals", views.ReferralListView.as_view(), name="referral-list"),
    path("referrals/code", views.ReferralCodeView.as_view(), name="referral-code"),
    path("referrals/claim", views.ReferralClaimView.as_view(), name="referral-claim"),
]
