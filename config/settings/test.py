"""Settings for the test suite."""

from .base import *  # noqa: F403

SECRET_KEY = "test-only-not-secret"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
# The tests exercise Postmark's tracking webhook.
EMAIL_TRACKING_PROVIDER = "postmark"
