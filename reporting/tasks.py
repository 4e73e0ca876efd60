"""Celery tasks for reports: thin wrappers around the health engine."""

from celery import shared_task

from reporting.health import engine


@shared_task(name="reporting.health_sweep")
def health_sweep() -> dict:
    """Every minute (django-celery-beat): one pass of the incremental health
    engine over what changed or came due since the last one."""
    return engine.health_pass().as_dict()


@shared_task(name="reporting.health_reconcile")
def health_reconcile() -> dict:
    """Hourly (django-celery-beat): every check over the whole fleet,
    compared with the engine's state; differences logged, counted, repaired."""
    return engine.health_reconcile().as_dict()


@shared_task(name="reporting.response_targets_check")
def response_targets_check() -> dict[str, int]:
    """Every minute (django-celery-beat): record the response-time targets
    reports have missed since the last run (reporting/response_targets.py)."""
    from reporting.response_target_services import response_targets_check as check

    return check()


@shared_task(name="reporting.tallies_fold")
def tallies_fold() -> int:
    """Every minute (django-celery-beat): add the reports changed since the
    last run to the dashboards' tallies (reporting/tallies.py)."""
    from reporting.tallies import tallies_fold as fold

    return fold()
