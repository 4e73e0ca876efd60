"""The report catalogue: sources, reasons, which reasons each source may use,
and which party a new report goes to first. Straight from the product brief."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    SYSTEM = "system", _("System")
    USER = "user", _("User")
    SUPPORT = "support", _("Support")


class Reason(models.TextChoices):
    # system: the health checks
    DISCONNECTED = "disconnected", _("Charge point disconnected for a while")
    IN_ERROR = "in_error", _("Charge point in error for a while")
    FAILED_CHARGES = "failed_charges", _("Charge point had 3 failed charges last 1 hour")
    BAD_WIFI = "bad_wifi", _("Charge point is having a bad wifi strength")
    BAD_CELL_SIGNAL = "bad_cell_signal", _("Charge point is having a bad cell signal")
    # system, about a whole site: ours, not in the brief's list (health
    # checks' site outage; docs/health-checks.md)
    SITE_OFFLINE = "site_offline", _("Charging site offline")
    # user: filed by drivers
    NOT_WORKING = "not_working", _("Charge point is not working")
    NOT_IN_LOCATION = "not_in_location", _("Charge point is not in location")
    INACCESSIBLE = "inaccessible", _("Charge point is unaccessible")
    BROKEN = "broken", _("Charge point is broken")
    CHARGE_INTERRUPTED = "charge_interrupted", _("Charge interrupted")
    PARKING_BLOCKED = "parking_blocked", _("Car blocking the parking space")
    OTHER = "other", _("Something else")
    TAX_REFUND = "tax_refund", _("Tax refund issue (Only in Denmark)")
    # user, from drivers' reviews of their charge: ours, not in the brief's
    # list (reporting/reviews.py files it; docs/drivers.md "Reviews")
    CUSTOMER_EXPERIENCE = "customer_experience", _("Customer experience")
    # support: a conversation with a driver
    CONVERSATION = "conversation", _("Support conversation")


class Party(models.TextChoices):
    OPERATOR = "operator", _("Operator")
    OWNER = "owner", _("Team owner")
    SUPPORT = "support", _("Support")


# The system reasons: one health check each (reporting/health/checks.py
# builds its CHECKS from this tuple and fails to import if one is missing),
# in the order the sweep runs them. The one list of them.
SYSTEM_REASONS: tuple[Reason, ...] = (
    Reason.DISCONNECTED,
    Reason.IN_ERROR,
    Reason.FAILED_CHARGES,
    Reason.BAD_WIFI,
    Reason.BAD_CELL_SIGNAL,
)

# Reasons of system reports about a site rather than one charge point (the
# site-outage step of the sweep files them; routed like a disconnect). Ours:
# the brief's reason list is the tuple above.
SITE_REASONS: tuple[Reason, ...] = (Reason.SITE_OFFLINE,)

REASONS_BY_SOURCE: dict[str, frozenset[str]] = {
    Source.SYSTEM: frozenset(SYSTEM_REASONS),
    Source.USER: frozenset(
        {
            Reason.NOT_WORKING,
            Reason.NOT_IN_LOCATION,
            Reason.INACCESSIBLE,
            Reason.BROKEN,
            Reason.CHARGE_INTERRUPTED,
            Reason.PARKING_BLOCKED,
            Reason.OTHER,
            Reason.TAX_REFUND,
            Reason.CUSTOMER_EXPERIENCE,
        }
    ),
    Source.SUPPORT: frozenset({Reason.CONVERSATION}),
}

# Reasons that only make sense in some countries (ISO codes).
REASON_COUNTRIES: dict[str, frozenset[str]] = {
    Reason.TAX_REFUND: frozenset({"DK"}),
}


def first_party(*, source: str, charge_point) -> Party:
    """Who a new report is assigned to, by the table in the brief."""
    if source == Source.SUPPORT:
        return Party.SUPPORT
    # System and user reports go to the operator. Where the operator is the
    # owner, that is the same team; it is recorded as the owner.
    if source == Source.USER and charge_point.operator_id == charge_point.owner_id:
        return Party.OWNER
    return Party.OPERATOR


# The user reasons as drivers read them, in the product's own wording (the
# public report page, the app and the e-mails to drivers show these).
DRIVER_REASON_LABELS: dict[str, str] = {
    Reason.NOT_WORKING: _("Charge point is not working"),
    Reason.NOT_IN_LOCATION: _("Charge point is not in location"),
    Reason.INACCESSIBLE: _("Charge point is unaccessible"),
    Reason.BROKEN: _("Charge point is broken"),
    Reason.CHARGE_INTERRUPTED: _("Charge interrupted"),
    Reason.PARKING_BLOCKED: _("Car blocking the parking space"),
    Reason.OTHER: _("Something else"),
    Reason.TAX_REFUND: _("Tax refund issue (Only in Denmark)"),
}


def driver_reasons(*, country: str) -> list[tuple[str, str]]:
    """The user reasons offered for a charge point in this country, in the
    brief's order: a reason limited to some countries only where it applies."""
    return [
        (reason, label)
        for reason, label in DRIVER_REASON_LABELS.items()
        if country in REASON_COUNTRIES.get(reason, frozenset({country}))
    ]
