"""Celery tasks of the OCPP gateway: thin wrappers around its services."""

from dataclasses import asdict

from celery import shared_task

from gateway import commands


@shared_task(name="gateway.sweep")
def gateway_sweep() -> dict[str, int]:
    """Every 15 seconds (django-celery-beat): time out unanswered remote
    commands, disconnect the chargers of dead gateway processes, send the
    self-healing resets."""
    return asdict(commands.gateway_sweep())
