"""Settings for build steps that need no secret and no service:
`make collectstatic` (DJANGO_SETTINGS_MODULE=config.settings.build) writes
the static files production serves. production.py takes STORAGES from here,
so the manifest the build writes is the one the web server reads."""

from .base import *  # noqa: F403

# WhiteNoise serves the collected files: names carry a hash of the content
# (cached for a year by browsers and proxies), each with a compressed copy.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
