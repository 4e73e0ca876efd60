"""What a charging attempt and a successful charge are, in one place: the
failed-charges health check and the charging success rate both read them
from here, so they cannot disagree.

- An **attempt** is an authorised start: every recorded charge, including
  one that never delivered energy.
- A **success** delivered energy and ended normally: not by a fault stop
  reason, and without the charge point going to error during it. That is
  the charge's ``outcome``, decided once when it is recorded (and again
  when an error reported late falls inside it) by
  ``chargepoints.services.charge_failure_reason``.
- A start that was never stopped is an attempt too, and a failure, once it
  is clearly **abandoned**: no stop within ``ABANDONED_AFTER`` of the start,
  or another start on the same connector before that (a connector holds one
  session at a time). The gateway then records it as a charge stopped for
  ``ABANDONED_STOP_REASON``, ending at that moment (``start_abandoned_at``),
  so the rate and the health check count it like any other failed charge.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q, QuerySet

from .models import Charge, ChargeOutcome
from .telemetry_validation import FAULT_STOP_REASONS

# Longer than any charge a driver leaves plugged in over a weekend night
# would plausibly need without the charger sending its stop.
ABANDONED_AFTER = timedelta(hours=48)
# Not an OCPP 1.6 Reason: what a start never stopped is recorded with.
ABANDONED_STOP_REASON = "Abandoned"

SUCCESS = Q(outcome=ChargeOutcome.COMPLETED)
FAILURE = Q(outcome=ChargeOutcome.FAILED)


def charge_attempts(*, started_from: datetime | None = None, started_before: datetime | None = None,
                    ended_after: datetime | None = None) -> QuerySet[Charge]:
    """The charging attempts, narrowed by when they started or ended; filter
    with ``SUCCESS`` / ``FAILURE`` for the successes and failures."""
    attempts = Charge.objects.all()
    if started_from is not None:
        attempts = attempts.filter(started_at__gte=started_from)
    if started_before is not None:
        attempts = attempts.filter(started_at__lt=started_before)
    if ended_after is not None:
        attempts = attempts.filter(ended_at__gt=ended_after)
    return attempts


def charge_failures(**when) -> QuerySet[Charge]:
    """The attempts that were not a success (``charge_attempts``' arguments)."""
    return charge_attempts(**when).filter(FAILURE)


def start_abandoned_at(*, started_at: datetime, next_start_at: datetime | None = None) -> datetime:
    """When a start without a stop counts as abandoned: ``ABANDONED_AFTER``
    after it, or at the next start on the same connector when that came
    first. Before that moment it is a charge in progress, not an attempt."""
    deadline = started_at + ABANDONED_AFTER
    if next_start_at is not None and started_at <= next_start_at < deadline:
        return next_start_at
    return deadline


def charge_failure_cause(*, energy_wh: int, stop_reason: str, error_code: str | None) -> str:
    """A failed attempt's cause, for the breakdown of failures: the fault
    stop reason, no energy, or the error the charge point went to
    (``error_code``: "" for an error without a code)."""
    if stop_reason == ABANDONED_STOP_REASON:
        return "abandoned"
    if stop_reason in FAULT_STOP_REASONS:
        return f"stop:{stop_reason}"
    if energy_wh <= 0:
        return "no_energy"
    if error_code is not None:
        return f"error:{error_code}" if error_code else "error"
    return "other"
