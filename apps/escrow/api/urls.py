from django.urls import path

from apps.escrow.api import views

urlpatterns = [
    path("payments/escrow", views.EscrowListView.as_view(), name="escrow-list"),
    path("payments/escrow/create", views.EscrowCreateView.as_view(), name="escrow-create"),
    path("payments/escrow/<uuid:escrow_id>/fund", views.EscrowFundView.as_view(), name="escrow-fund"),
    path("payments/escrow/<uuid:escrow_id>/release", views.EscrowReleaseView.as_view(), name="escrow-release"),
    path("payments/escrow/<uuid:escrow_id>/status", views.EscrowStatusView.as_view(), name="escrow-status"),
    path("payments/refunds", views.RefundView.as_view(), name="payment-refunds"),
    path("payments/balances", views.BalancesView.as_view(), name="payment-balances"),
    path("payments/statement", views.StatementView.as_view(), name="payment-statement"),
    path("payments/exchange-rates", views.ExchangeRateListView.as_view(), name="exchange-rates"),
    path("payments/webhooks/<slug:provider>", views.WebhookView.as_view(), name="payment-webhook"),
]
