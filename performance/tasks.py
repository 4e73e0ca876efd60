"""Celery tasks of the performance figures: thin wrappers over one service."""

from celery import shared_task

from performance.rollups import rollups_refresh


@shared_task(name="performance.rollups_refresh")
def refresh_rollups() -> int:
    """Every five minutes (django-celery-beat): recompute the dirty days."""
    return rollups_refresh()
