from django.urls import path
from django.views.generic import RedirectView

from config.admin_sites import operator_site, support_site

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", support_site.urls),
    path("operator/", operator_site.urls),
]
