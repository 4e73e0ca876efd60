"""Settings of keeping telemetry: how long the history rows stay
(docs/operations.md, "Telemetry retention"). Read into base.py; a value
that would lose what the product needs stops the process at start-up."""

from django.core.exceptions import ImproperlyConfigured

from .env import env

# Heartbeats and signal readings: the health checks look back minutes and a
# report's evidence a day around the detection (reporting/selectors.py), so
# a few days would do; 30 keep a month to look into by hand.
TELEMETRY_RETENTION_DAYS = env.int("TELEMETRY_RETENTION_DAYS", default=30)
# State changes and charges: the performance figures (docs/performance.md)
# reach back 365 days, and a day is recomputed from this history when a late
# event, an exclusion or a maintenance window marks it; the quarterly
# submittal rebuilds a whole past quarter from it. 400 = 365 + a quarter's
# slack for late corrections and the state in force before the window.
TELEMETRY_HISTORY_RETENTION_DAYS = env.int("TELEMETRY_HISTORY_RETENTION_DAYS", default=400)
# How far ahead the beat task creates the (PostgreSQL) partitions.
TELEMETRY_PARTITIONS_AHEAD_DAYS = env.int("TELEMETRY_PARTITIONS_AHEAD_DAYS", default=7)

# The shortest values that keep the checks, the evidence and the 365-day
# uptime figures right.
TELEMETRY_MIN_RETENTION_DAYS = 2
TELEMETRY_MIN_HISTORY_RETENTION_DAYS = 366

if TELEMETRY_RETENTION_DAYS < TELEMETRY_MIN_RETENTION_DAYS:
    raise ImproperlyConfigured(
        f"TELEMETRY_RETENTION_DAYS is {TELEMETRY_RETENTION_DAYS}; it must be at least "
        f"{TELEMETRY_MIN_RETENTION_DAYS}: a report's evidence shows the day around its detection."
    )
if TELEMETRY_HISTORY_RETENTION_DAYS < max(TELEMETRY_MIN_HISTORY_RETENTION_DAYS, TELEMETRY_RETENTION_DAYS):
    raise ImproperlyConfigured(
        f"TELEMETRY_HISTORY_RETENTION_DAYS is {TELEMETRY_HISTORY_RETENTION_DAYS}; it must be at least "
        f"{TELEMETRY_MIN_HISTORY_RETENTION_DAYS} (the performance figures cover 365 days) and at least "
        "TELEMETRY_RETENTION_DAYS."
    )
if not 1 <= TELEMETRY_PARTITIONS_AHEAD_DAYS <= 62:
    raise ImproperlyConfigured(
        f"TELEMETRY_PARTITIONS_AHEAD_DAYS is {TELEMETRY_PARTITIONS_AHEAD_DAYS}; it must be from 1 to 62."
    )
