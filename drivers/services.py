"""Writes for drivers: filing from the public page (or the app), with the
confirmation e-mail in the same transaction (the outbox)."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from accounts.permissions import Actor
from chargepoints.models import ChargePoint
from notifications.drivers import notification_to_driver
from notifications.models import NotificationKind
from reporting.reporters import Driver, DriverFiling, Upload, report_file_by_driver


@transaction.atomic
def driver_report_submit(
    *,
    charge_point: ChargePoint,
    reason: str,
    description: str,
    driver: Driver,
    status_url: Callable[[str], str],
    photo: Upload | None = None,
    by: Actor | None = None,
) -> DriverFiling:
    """File (or add to) a user report for a driver. With an e-mail, the
    driver gets a confirmation with their private status link
    (``status_url(token)``); once per report and address."""
    filing = report_file_by_driver(
        charge_point=charge_point, reason=reason, description=description, driver=driver, by=by, photo=photo
    )
    if driver.email:
        notification_to_driver(
            event=filing.event,
            kind=NotificationKind.DRIVER_CONFIRMATION,
            email=driver.email,
            name=driver.name,
            language=driver.language,
            status_url=status_url(filing.status_token),
        )
    return filing
