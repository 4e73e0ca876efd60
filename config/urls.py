from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.admin_sites import operator_site, support_site

urlpatterns = [
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
]
