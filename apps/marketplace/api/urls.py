from django.urls import path

from apps.marketplace.api import booking_views, views

urlpatterns = [
    path("catalog/offerings", views.OfferingListView.as_view(), name="offering-list"),
    path("catalog/offerings/<uuid:offering_id>", views.OfferingDetailView.as_view(), name="offering-detail"),
    path("catalog/offerings/<uuid:offering_id>/tariffs", views.TariffListView.as_view(), name="tariff-list"),
    path(
        "catalog/offerings/<uuid:offering_id>/tariffs/<uuid:tariff_id>",
        views.TariffDetailView.as_view(),
        name="tariff-detail",
    ),
    path("pricing/quote", views.QuoteView.as_view(), name="pricing-quote"),
    path("rfqs", views.RfqListView.as_view(), name="rfq-list"),
    path("rfqs/<uuid:rfq_id>", views.RfqDetailView.as_view(), name="rfq-detail"),
    path("rfqs/<uuid:rfq_id>/publish", views.RfqPublishView.as_view(), name="rfq-publish"),
    path("rfqs/<uuid:rfq_id>/cancel", views.RfqCancelView.as_view(), name="rfq-cancel"),
    path("rfqs/<uuid:rfq_id>/offers", views.RfqOffersView.as_view(), name="rfq-offers"),
    path("offers", views.OfferListView.as_view(), name="offer-list"),
    path("offers/<uuid:offer_id>", views.OfferDetailView.as_view(), name="offer-detail"),
    path("offers/<uuid:offer_id>/withdraw", views.OfferWithdrawView.as_view(), name="offer-withdraw"),
    path("offers/<uuid:offer_id>/accept", views.OfferAcceptView.as_view(), name="offer-accept"),
    path("offers/<uuid:offer_id>/reject", views.OfferRejectView.as_view(), name="offer-reject"),
    path("bookings", booking_views.BookingListView.as_view(), name="booking-list"),
    path("bookings/<uuid:booking_id>", booking_views.BookingDetailView.as_view(), name="booking-detail"),
    path("bookings/<uuid:booking_id>/confirm", booking_views.BookingConfirmView.as_view(), name="booking-confirm"),
    path("bookings/<uuid:booking_id>/decline", booking_views.BookingDeclineView.as_view(), name="booking-decline"),
]
