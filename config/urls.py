from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.admin_sites import operator_site, support_site
from config.favicon import favicon
from config.health import healthz
from core.rest.errors import api_not_found
from drivers.views import privacy_notice
from notifications.views import unsubscribe

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", support_site.urls),
    path("operator/", operator_site.urls),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("anymail/", include("notifications.webhooks.urls")),
    path("reports/", include("reporting.urls")),
    # The public report page behind the charge points' QR stickers.
    path("r/", include("drivers.urls")),
    # What is kept about drivers and their rights (linked from the page and every e-mail to a driver).
    path("privacy/", privacy_notice, name="privacy-notice"),
    # One-click unsubscribe from drivers' status e-mails (RFC 8058).
    path("unsubscribe/<str:token>/", unsubscribe, name="unsubscribe"),
    # Anything else under /api/ (another version, a typo) is the API's JSON 404.
    re_path(r"^api/", api_not_found),
]
