"""Settings for the test suite."""

from .base import *  # noqa: F403

SECRET_KEY = "test-only-not-secret"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
# The tests exercise Postmark's tracking webhook.
EMAIL_TRACKING_PROVIDER = "postmark"
# Login throttling (axes) stays on, with its database handler: each test's
# rollback (or a browser test's flush) forgets the failed attempts, so one
# test's wrong passwords never lock out another test's login.
