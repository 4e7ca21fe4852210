from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.core.api import views as core_views
from apps.documents import public as documents_public
from apps.passports import public as passports_public
from apps.tracking import public as tracking_public

handler400 = "apps.core.errors.handler400"
handler403 = "apps.core.errors.handler403"
handler404 = "apps.core.errors.handler404"
handler500 = "apps.core.errors.handler500"

urlpatterns = [
    path("health", core_views.health, name="health"),
    path("health/detailed", core_views.health_detailed, name="health-detailed"),
    path("ready", core_views.ready, name="ready"),
    path("metrics", core_views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file (?script): the CSP refuses inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("apps.accounts.api.urls")),
    path("api/v1/", include("apps.tenancy.api.urls")),
    path("api/v1/", include("apps.kyc.api.urls")),
    path("api/v1/", include("apps.orders.api.urls")),
    path("api/v1/", include("apps.documents.api.urls")),
    path("api/v1/", include("apps.marketplace.api.urls")),
    path("api/v1/", include("apps.escrow.api.urls")),
    path("api/v1/", include("apps.tracking.api.urls")),
    path("api/v1/", include("apps.chat.api.urls")),
    path("api/v1/", include("apps.disputes.api.urls")),
    path("api/v1/", include("apps.notifications.api.urls")),
    path("api/v1/", include("apps.webhooks.api.urls")),
    path("api/v1/", include("apps.passports.api.urls")),
    path("api/v1/", include("apps.passports.api.files_urls")),
    path("api/v1/", include("apps.passports.api.public_urls")),
    path("api/v1/", include("apps.service.api.urls")),
    path("api/v1/", include("apps.reviews.api.urls")),
    path("api/v1/", include("apps.integrations.api.urls")),
    path("api/v1/", include("apps.points.api.urls")),
    path("verify/<str:token>", documents_public.verify_page, name="document-public-verify"),
    path("t/<str:tracking_number>", tracking_public.tracking_page, name="tracking-public"),
    path("p/<str:code>", passports_public.passport_page, name="passport-public"),
    path("p/<str:code>/service-request", passports_public.service_request_form, name="passport-public-service-request"),
    # GS1 Digital Link (apps.passports.qr): the serial is percent-encoded and may hold a slash.
    path(
        "01/<str:gtin>/21/<path:serial_number>",
        passports_public.passport_digital_link_page,
        name="passport-public-digital-link",
    ),
]

if settings.DEBUG or getattr(settings, "BENCHMARK_BARE_VIEW", False):
    urlpatterns.append(path("bench/bare", core_views.bare, name="bench-bare"))

# Last: any other path answers the 404 envelope, with DEBUG on too (Django's debug
# 404 page would otherwise replace handler404 and list every route).
urlpatterns.append(re_path(r"^(?!admin/|static/).*$", core_views.not_found, name="not-found"))
