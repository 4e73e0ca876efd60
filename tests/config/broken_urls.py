"""A URL that fails, for the 500 page's test."""

from django.urls import path


def broken(request):
    raise RuntimeError("a bug")


urlpatterns = [path("broken/", broken)]
