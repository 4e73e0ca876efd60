"""Settings of watching reports: the defaults of the system health checks
and the response-time targets. Read into base.py."""

from .env import env

# --- Health checks ------------------------------------------------------------
# Defaults for the system health checks (reporting/health/). Support staff
# override them per operator team, or switch a check off, in /admin/.
# "minutes": how long the state must last (more than); "dbm": the signal is
# bad below this; "window_minutes"/"min_readings": what "sustained" means.
HEALTH_CHECKS = {
    # Resolve a system report when its condition clears (unless a person took it).
    "auto_resolve": env.bool("HEALTH_AUTO_RESOLVE", default=True),
    # The incremental engine's full evaluation (its first pass, a change of
    # the defaults, a repair) on PostgreSQL: the fleet split into this many
    # id ranges evaluated at the same time, each on a database connection
    # of its own (1: one after the other, in the pass's transaction).
    "full_pass_workers": env.int("HEALTH_FULL_PASS_WORKERS", default=2),
    # A charge point that changes between healthy and unhealthy more than
    # ``flips`` times within ``window_minutes`` (for one check) keeps one
    # report open, marked flapping; it resolves once the condition has been
    # gone for ``hold_down_minutes``.
    # A site outage: at least ``percent`` % of a site's charge points, and at
    # least ``min_charge_points``, disconnected (as the disconnected check
    # defines it) is one "site offline" report, not one per charge point.
    "site_outage": {
        "enabled": env.bool("HEALTH_SITE_OUTAGE_ENABLED", default=True),
        "percent": env.int("HEALTH_SITE_OUTAGE_PERCENT", default=80),
        "min_charge_points": env.int("HEALTH_SITE_OUTAGE_MIN_CHARGE_POINTS", default=2),
    },
    "flapping": {
        "flips": env.int("HEALTH_FLAPPING_FLIPS", default=4),
        "window_minutes": env.int("HEALTH_FLAPPING_WINDOW_MINUTES", default=60),
        "hold_down_minutes": env.int("HEALTH_FLAPPING_HOLD_DOWN_MINUTES", default=30),
    },
    "disconnected": {"enabled": True, "minutes": 10},
    "in_error": {"enabled": True, "minutes": 10},
    "failed_charges": {"enabled": True, "count": 3, "window_minutes": 60},
    "bad_wifi": {"enabled": True, "dbm": -80, "window_minutes": 15, "min_readings": 3},
    "bad_cell_signal": {"enabled": True, "dbm": -105, "window_minutes": 15, "min_readings": 3},
}


# Response-time targets (docs/response-targets.md): a report is "at risk" when
# less than this share of its target is left; a missed target whose
# escalation is "e-mail support" goes to RESPONSE_TARGETS_SUPPORT_EMAIL
# (empty: nobody is e-mailed, the timeline still says so).
RESPONSE_TARGETS_AT_RISK_SHARE = env.float("RESPONSE_TARGETS_AT_RISK_SHARE", default=0.2)
RESPONSE_TARGETS_SUPPORT_EMAIL = env.str("RESPONSE_TARGETS_SUPPORT_EMAIL", default="")
