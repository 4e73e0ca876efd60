"""Settings of teams' webhooks (webhooks/, docs/webhooks.md): timeouts,
leases, retries, switching an endpoint off, secret rotation, and the SSRF
guard. Read into base.py."""

from .env import env

# Webhooks (docs/webhooks.md). Each attempt: connect within
# WEBHOOKS_CONNECT_TIMEOUT_SECONDS, an answer within WEBHOOKS_READ_TIMEOUT_SECONDS;
# a row being sent belongs to its worker for WEBHOOKS_LEASE_SECONDS (longer
# than one attempt). Retries after 5 s, 10 s, 20 s ... at most an hour apart
# (with jitter), for at most WEBHOOKS_MAX_ATTEMPTS; an endpoint whose every
# attempt failed for WEBHOOKS_DISABLE_AFTER_SECONDS is switched off.
WEBHOOKS_CONNECT_TIMEOUT_SECONDS = env.float("WEBHOOKS_CONNECT_TIMEOUT_SECONDS", default=5)
WEBHOOKS_READ_TIMEOUT_SECONDS = env.float("WEBHOOKS_READ_TIMEOUT_SECONDS", default=15)
WEBHOOKS_LEASE_SECONDS = env.int("WEBHOOKS_LEASE_SECONDS", default=60)
WEBHOOKS_FIRST_RETRY_SECONDS = env.float("WEBHOOKS_FIRST_RETRY_SECONDS", default=5)
WEBHOOKS_MAX_RETRY_SECONDS = env.float("WEBHOOKS_MAX_RETRY_SECONDS", default=3600)
WEBHOOKS_MAX_ATTEMPTS = env.int("WEBHOOKS_MAX_ATTEMPTS", default=40)
WEBHOOKS_DISABLE_AFTER_SECONDS = env.int("WEBHOOKS_DISABLE_AFTER_SECONDS", default=24 * 3600)
WEBHOOKS_SWEEP_SECONDS = env.float("WEBHOOKS_SWEEP_SECONDS", default=50)
# After a rotation both the former and the new secret sign for this long.
WEBHOOKS_SECRET_GRACE_SECONDS = env.int("WEBHOOKS_SECRET_GRACE_SECONDS", default=24 * 3600)
# SSRF: never send to private, loopback, link-local, reserved or multicast
# addresses, and only over https. Tests with a local receiver override both.
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", default=False)
WEBHOOKS_REQUIRE_HTTPS = env.bool("WEBHOOKS_REQUIRE_HTTPS", default=True)
