"""Celery tasks for reports: thin wrappers that take ids and call the sweep."""

from celery import shared_task
from django.conf import settings

from reporting.health import sweep

# A chunk still queued after this long is superseded by the next sweep.
CHUNK_EXPIRES_SECONDS = 60


@shared_task(name="reporting.health_sweep")
def health_sweep() -> dict[str, int]:
    """Every minute (django-celery-beat): run the health checks. A fleet
    larger than one chunk is split by charge point id range into chunk tasks,
    so that more workers finish it sooner."""
    chunks = sweep.health_sweep_chunks(chunk_size=settings.HEALTH_CHECKS["sweep_chunk_size"])
    if len(chunks) == 1:
        first_id, last_id = chunks[0]
        return sweep.health_sweep(first_id=first_id, last_id=last_id).as_dict()
    for first_id, last_id in chunks:
        health_sweep_chunk.apply_async((first_id, last_id), expires=CHUNK_EXPIRES_SECONDS)
    return {"chunks": len(chunks)}


@shared_task(name="reporting.health_sweep_chunk")
def health_sweep_chunk(first_id: int, last_id: int) -> dict[str, int]:
    """The health checks over the charge points with ids in [first_id, last_id]."""
    return sweep.health_sweep(first_id=first_id, last_id=last_id).as_dict()


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
