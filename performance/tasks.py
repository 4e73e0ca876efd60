"""Celery tasks of the performance figures: thin wrappers over one service."""

from celery import shared_task

from performance.rollups import rollups_refresh


@shared_task(name="performance.rollups_refresh")
def refresh_rollups() -> int:
    """Every five minutes (django-celery-beat): recompute the dirty days."""
    return rollups_refresh()


@shared_task(name="performance.monthly_emails")
def monthly_emails() -> int:
    """Early on the 1st of each month (django-celery-beat): last month's
    performance e-mail to every team's contacts."""
    from performance.monthly import monthly_emails_send

    return monthly_emails_send()
