"""Celery tasks of the charge points: thin wrappers that call one service."""

from celery import shared_task

from .services import telemetry_retention_apply


@shared_task(name="chargepoints.telemetry_retention")
def telemetry_retention() -> dict:
    """Daily (django-celery-beat): create the coming telemetry partitions
    and drop or delete what is past retention (docs/operations.md)."""
    return telemetry_retention_apply().as_dict()
