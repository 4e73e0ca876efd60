"""Settings of e-mail: where it is sent (SMTP or a provider's API through
django-anymail), the sender addresses, the provider's tracking webhook, and
the notification outbox (leases, sweeps, retries, digests). Read into base.py."""

from .env import env

# --- E-mail -------------------------------------------------------------------
# EMAIL_URL says where Django's SMTP backend sends, host, port, user, password
# and TLS in one value: smtp+tls://user:password@smtp.example.com:587 (STARTTLS),
# smtp+ssl://...:465 (TLS from the first byte), smtp://...:25 (plain); an
# optional ?timeout=20 sets EMAIL_TIMEOUT. Percent-encode @ : / in the
# password. The default prints e-mails on the console.
_email = env.email_url("EMAIL_URL", default="consolemail://")
# A provider's API through django-anymail instead of SMTP, e.g.
# EMAIL_BACKEND=anymail.backends.postmark.EmailBackend; it wins over EMAIL_URL.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default=_email["EMAIL_BACKEND"])
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_PORT = _email["EMAIL_PORT"] or (465 if EMAIL_USE_SSL else 587 if EMAIL_USE_TLS else 25)
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
# Seconds one SMTP conversation may take; Django's SMTP backend would
# otherwise wait forever. The notification outbox's lease
# (NOTIFICATIONS_LEASE_SECONDS) must cover one attempt (a system check says so).
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=_email.get("OPTIONS", {}).get("TIMEOUT", 30))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="reports@localhost")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
# Provider settings for django-anymail, one environment variable each:
# ANYMAIL_<NAME> becomes ANYMAIL["<NAME>"], e.g. with
# EMAIL_BACKEND=anymail.backends.postmark.EmailBackend set
# ANYMAIL_POSTMARK_SERVER_TOKEN. ANYMAIL_WEBHOOK_SECRET ("user:password") is
# the basic auth the provider's tracking webhook must send to
# /anymail/<provider>/tracking/; without it those webhooks answer 403.
ANYMAIL = {
    key.removeprefix("ANYMAIL_"): env.str(key)
    for key in sorted(env.ENVIRON)
    if key.startswith("ANYMAIL_") and env.ENVIRON[key]
}
# The provider whose delivery-tracking webhook is mounted at
# /anymail/<provider>/tracking/ (anymail's name, e.g. postmark, amazon_ses):
# by default the one EMAIL_BACKEND sends through; empty mounts none.
_backend_provider = EMAIL_BACKEND.split(".")[2] if EMAIL_BACKEND.startswith("anymail.backends.") else ""
EMAIL_TRACKING_PROVIDER = env.str(
    "EMAIL_TRACKING_PROVIDER", default="" if _backend_provider in {"test", "console"} else _backend_provider
)
# Seconds before a provider's API call times out (the same bound as EMAIL_TIMEOUT).
ANYMAIL["REQUESTS_TIMEOUT"] = env.float("ANYMAIL_REQUESTS_TIMEOUT", default=30)
# The outbox (docs/delivery.md). A row being sent belongs to its worker for
# NOTIFICATIONS_LEASE_SECONDS; a worker that dies mid-send loses its rows to
# the first sweep after that, so with the sweep every minute they go out
# again within lease + 60 s. The system check notifications.E001 refuses a
# lease shorter than one attempt (twice the send timeout: connecting, then
# waiting for the answer).
NOTIFICATIONS_LEASE_SECONDS = env.int("NOTIFICATIONS_LEASE_SECONDS", default=60)
# How long one sweep keeps sending batch after batch (it runs every minute;
# sweeps that overlap are harmless), and how early a retry may be taken so
# that the sweep after its backoff, not the one after that, sends it.
NOTIFICATIONS_SWEEP_SECONDS = env.float("NOTIFICATIONS_SWEEP_SECONDS", default=50)
NOTIFICATIONS_SWEEP_TOLERANCE_SECONDS = env.float("NOTIFICATIONS_SWEEP_TOLERANCE_SECONDS", default=10)
# Digests (docs/delivery.md): more than NOTIFICATIONS_BURST_THRESHOLD new
# reports for one team within NOTIFICATIONS_BURST_WINDOW_SECONDS go out as one
# digest, sent when the window is over, even for a team that has immediate
# e-mails (a team's report settings may set its own threshold).
NOTIFICATIONS_BURST_THRESHOLD = env.int("NOTIFICATIONS_BURST_THRESHOLD", default=20)
NOTIFICATIONS_BURST_WINDOW_SECONDS = env.int("NOTIFICATIONS_BURST_WINDOW_SECONDS", default=60)


# The wait before the first retry of a failed send; each further retry waits
# twice as long, at most an hour. The sweep tolerance must stay below it.
NOTIFICATIONS_FIRST_BACKOFF_SECONDS = env.float("NOTIFICATIONS_FIRST_BACKOFF_SECONDS", default=60)
