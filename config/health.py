"""GET /healthz: can this process reach the database and the broker? And
how is the e-mail outbox doing (the oldest e-mail still waiting, e-mails
failed in the last hour), and the health checks' engine (how far behind it
is, what waits for it, what its hourly reconciliation found)?

For load balancers and monitors: no login, JSON, 200 when every check
passes and 503 otherwise. Each check is one round trip with a short
timeout, so a probe every few seconds costs nothing worth measuring. The
answer names the checks and says ok or unavailable, never why: the reason
(host names, user names in an error message) goes to the log.
"""

import logging
import time

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

# Seconds a check may take before it counts as unavailable.
BROKER_TIMEOUT = 2.0


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker() -> None:
    from config.celery import app

    # Its own connection with short timeouts, never the publishing pool: a
    # broker that accepts TCP and then hangs must fail the probe, not hold it.
    with app.connection_for_write(
        connect_timeout=BROKER_TIMEOUT,
        transport_options={"socket_timeout": BROKER_TIMEOUT, "socket_connect_timeout": BROKER_TIMEOUT},
    ) as conn:
        # Connecting is a round trip on every transport: an AMQP handshake,
        # and kombu's Redis transport pings the server on its first channel.
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT)


CHECKS = {"database": check_database, "broker": check_broker}


def health_engine() -> dict | None:
    """The health engine's figures (``reporting.health.engine``): informative,
    like the outbox's; a monitor alerts on a stale high-water mark or on
    differences found."""
    from reporting.health.engine import health_engine_figures

    try:
        return health_engine_figures()
    except Exception:
        logger.exception("Health engine figures unavailable")
        return None


def outbox() -> dict | None:
    """The e-mail outbox's figures for a monitor to alert on (a stuck or
    failing outbox); informative only: a backlog of e-mail is no reason for
    a load balancer to take this process out of rotation."""
    from notifications.selectors import outbox_health

    try:
        return outbox_health()
    except Exception:
        logger.exception("Outbox figures unavailable")
        return None


@never_cache
@require_safe
def healthz(request):
    results = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception:
            logger.exception("Health check %s failed", name)
            results[name] = {"status": "unavailable"}
        else:
            results[name] = {"status": "ok"}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    healthy = all(result["status"] == "ok" for result in results.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": results, "outbox": outbox(),
         "health_engine": health_engine()},
        status=200 if healthy else 503,
    )
