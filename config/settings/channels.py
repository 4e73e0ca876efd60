"""Settings of the real channels in: the OCPP gateway (chargers), the
drivers' public report page and support e-mail. Read into base.py."""

from pathlib import Path

from .env import VAR_DIR, env

# --- OCPP gateway (gateway/, `manage.py ocpp_gateway`) ---------------------------
_BROKER = env.str("CELERY_BROKER_URL", default="")
_REDIS_BROKER = _BROKER if _BROKER.startswith(("redis://", "rediss://")) else ""
OCPP = {
    # Seconds between the heartbeats a charger is asked for (BootNotification).
    "heartbeat_interval": env.int("OCPP_HEARTBEAT_INTERVAL", default=300),
    # No message for this many heartbeat intervals: the socket is closed and
    # the charge point is disconnected.
    "disconnect_after_intervals": env.float("OCPP_DISCONNECT_AFTER_INTERVALS", default=2),
    # A frame larger than this closes the connection (1009, message too big).
    "max_frame_bytes": env.int("OCPP_MAX_FRAME_BYTES", default=65536),
    # Flood control per connection: messages per second, and the burst allowed.
    "messages_per_second": env.float("OCPP_MESSAGES_PER_SECOND", default=10),
    "message_burst": env.int("OCPP_MESSAGE_BURST", default=50),
    # Failed handshakes from one address before each further one is delayed
    # (doubling, at most auth_max_delay seconds), counted over auth_window seconds.
    "auth_free_failures": env.int("OCPP_AUTH_FREE_FAILURES", default=5),
    "auth_max_delay": env.float("OCPP_AUTH_MAX_DELAY", default=10),
    "auth_window": env.float("OCPP_AUTH_WINDOW", default=300),
    # DataTransfer vendorId of the signal strength message (docs/ocpp.md).
    "signal_vendor_id": env.str("OCPP_SIGNAL_VENDOR_ID", default="ChargePointReports"),
    # Remote commands (Reset, TriggerMessage, ...; docs/ocpp.md): a command
    # not answered within this many seconds is marked timed out.
    "command_timeout": env.float("OCPP_COMMAND_TIMEOUT_SECONDS", default=30),
    # How often a gateway process looks in the database for commands to send
    # and renews its lease.
    "command_poll_interval": env.float("OCPP_COMMAND_POLL_SECONDS", default=1),
    # A gateway process whose lease was not renewed for this many seconds is
    # gone: its connections are marked disconnected, its commands timed out.
    "process_lease": env.float("OCPP_PROCESS_LEASE_SECONDS", default=60),
    # With Redis, a new command also wakes the gateway process that holds the
    # charger at once (pub/sub) instead of at its next poll. Empty: poll only.
    # Defaults to the Celery broker when that is Redis.
    "command_redis_url": env.str("OCPP_COMMAND_REDIS_URL", default=_REDIS_BROKER),
}
# What `simulate_fleet --ocpp URL` sends the demo fleet through.
SIMULATOR_OCPP_LINK = "gateway.simulation.OcppFleetLink"

# --- Drivers: public report page, QR stickers, platform key, inbound e-mail ---
# (drivers/, reporting/reporters.py, notifications/inbound.py)
# Report attachments (drivers' photos, e-mail attachments) live here, outside
# any public URL; only a view that checks the viewer serves them.
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private")))
DRIVER_REPORTS = {
    # A request bigger than this is refused before its body is read.
    "max_request_bytes": env.int("DRIVER_REPORT_MAX_REQUEST_BYTES", default=6 * 1024 * 1024),
    "max_photo_bytes": 5 * 1024 * 1024,
    # Larger images are refused (a small file can decode to a huge image).
    "max_photo_pixels": 40_000_000,
    # Filings allowed per window (seconds): per client address, per charge point.
    "rate_per_address": env.int("DRIVER_REPORT_RATE_PER_ADDRESS", default=10),
    "rate_per_charge_point": env.int("DRIVER_REPORT_RATE_PER_CHARGE_POINT", default=30),
    "rate_window_seconds": env.int("DRIVER_REPORT_RATE_WINDOW_SECONDS", default=3600),
}
# Drivers' reviews of a charge (reporting/reviews.py, docs/drivers.md "Reviews").
DRIVER_REVIEWS = {
    # A review is tied to the latest charge on its charge point that ended
    # within this many hours.
    "charge_window_hours": env.int("DRIVER_REVIEW_CHARGE_WINDOW_HOURS", default=12),
    # A rating of this or less is low: with a comment it files a report, and
    # so does the n-th low rating on one charge point within 24 hours.
    "low_rating": 2,
    "low_ratings_per_day": env.int("DRIVER_REVIEW_LOW_RATINGS_PER_DAY", default=3),
    # Reviews allowed per window (seconds): per client address, per charge point.
    "rate_per_address": env.int("DRIVER_REVIEW_RATE_PER_ADDRESS", default=5),
    "rate_per_charge_point": env.int("DRIVER_REVIEW_RATE_PER_CHARGE_POINT", default=30),
    "rate_window_seconds": env.int("DRIVER_REVIEW_RATE_WINDOW_SECONDS", default=3600),
}
# Support conversations by e-mail (Postmark's inbound webhook, through
# anymail, at /anymail/postmark/inbound/, behind ANYMAIL_WEBHOOK_SECRET).
# Replies go out from this address, with a per-report reply address
# <local>+<token>@<domain> so the driver's answer finds its report.
SUPPORT_EMAIL_ADDRESS = env.str("SUPPORT_EMAIL_ADDRESS", default="support@localhost")
INBOUND_EMAIL = {
    "max_attachment_bytes": env.int("INBOUND_EMAIL_MAX_ATTACHMENT_BYTES", default=10 * 1024 * 1024),
    "max_attachments": env.int("INBOUND_EMAIL_MAX_ATTACHMENTS", default=10),
    "attachment_types": ["image/jpeg", "image/png", "image/gif", "image/heic", "application/pdf", "text/plain"],
}

# --- Personal data (privacy/, docs/privacy.md) ---
# Days after a report is resolved before its drivers' contact details, words,
# photos and the e-mails to them are erased by the daily retention task.
PRIVACY_DRIVER_DATA_DAYS = env.int("PRIVACY_DRIVER_DATA_DAYS", default=90)
# Days after a support report is resolved before its e-mail conversation
# (bodies, attachments, senders' names) is erased.
PRIVACY_SUPPORT_EMAIL_DAYS = env.int("PRIVACY_SUPPORT_EMAIL_DAYS", default=180)
# Who is responsible for the drivers' data (the privacy notice, /privacy/):
# the operator of this installation and where a driver writes to ask for a
# copy of their data or its erasure.
PRIVACY_CONTROLLER_NAME = env.str("PRIVACY_CONTROLLER_NAME", default="The charging network's operator")
PRIVACY_CONTROLLER_EMAIL = env.str("PRIVACY_CONTROLLER_EMAIL", default=SUPPORT_EMAIL_ADDRESS)
# Calls per minute per client address to the e-mail provider's webhooks
# (tracking and inbound); a provider sends in bursts after an outage, so
# the default is generous (core/ratelimit.py).
EMAIL_WEBHOOK_RATE_PER_MINUTE = env.int("EMAIL_WEBHOOK_RATE_PER_MINUTE", default=600)
