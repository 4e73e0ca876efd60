"""/favicon.ico: browsers ask for it at the root whatever the page says; it
points to the static file (served by WhiteNoise in production, under its
hashed name)."""

from django.http import HttpResponseRedirect
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe


@require_safe
@cache_control(max_age=86400, public=True)
def favicon(request):
    return HttpResponseRedirect(static("favicon.ico"))
