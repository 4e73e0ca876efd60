"""Celery tasks: thin wrappers that call one service."""

from celery import shared_task

from . import services


@shared_task(name="privacy.erase_expired_personal_data")
def erase_expired_personal_data() -> dict[str, dict[str, int]]:
    """Daily (django-celery-beat): erase the personal data whose retention
    period has ended (docs/privacy.md)."""
    runs = services.privacy_erase_expired()
    return {scope: {"erased": run.erased, "left": run.left} for scope, run in runs.items()}
