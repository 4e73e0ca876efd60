"""The five health checks, one small function each, all set-based.

A check's ``detect`` returns the charge points in trouble as one query that
starts from an index over the troubled rows only (state and state_since, the
latest signal, failed charges by end time), so its cost grows with the
trouble, not with the fleet. ``cleared`` narrows a queryset of a reason's
open system reports to those whose condition is gone: that query starts from
the few open reports. The sweep (``sweep.py``) turns both into reports.

``due`` says when a check's answer for a charge point can next change with
no new telemetry (a state lasting past its threshold, a reading or a failed
charge leaving the window), as queries of (charge point id, reason, moment)
rows: the incremental engine (``engine.py``) stores these deadlines, with
one ``INSERT ... SELECT`` on PostgreSQL, and looks at the charge point again
only then, or when new telemetry marks it changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL

from chargepoints.charging import charge_failures
from chargepoints.models import (
    Charge,
    ChargePoint,
    ChargePointState,
    SignalKind,
    SignalReading,
)
from core.pg_arrays import int_array
from reporting.catalogue import SYSTEM_REASONS, Reason, Source
from reporting.models import Report, ReportState

# What the sweep reads of every offender (routing, maintenance windows); each
# check adds what its description needs (``Check.details``).
DETAIL_FIELDS = ("pk", "operator_id", "owner_id", "site_id")


@dataclass(frozen=True)
class IdRange:
    """The charge points a sweep (or a chunk of one) covers: ids in
    [first, last] (None: open), and, when given, only these charge point ids
    (the incremental engine's candidates) or only the charge points these
    teams operate (a settings change)."""

    first: int | None = None
    last: int | None = None
    charge_point_ids: frozenset[int] | None = None
    team_ids: frozenset[int] | None = None

    @property
    def narrow(self) -> bool:
        """Some charge points, not an id range of the fleet."""
        return self.charge_point_ids is not None or self.team_ids is not None

    def q(self, field_name: str = "pk") -> Q:
        q = Q()
        if self.first is not None:
            q &= Q(**{f"{field_name}__gte": self.first})
        if self.last is not None:
            q &= Q(**{f"{field_name}__lte": self.last})
        if self.charge_point_ids is not None:
            q &= Q(**{f"{field_name}__in": ids_in(self.charge_point_ids)})
        if self.team_ids is not None:
            q &= Q(**{f"{field_name}__in": ChargePoint.objects.filter(
                operator_id__in=sorted(self.team_ids)).values("pk")})
        return q


def ids_in(ids) -> list[int] | RawSQL:
    """The right side of ``field__in`` for many ids: on PostgreSQL one array
    parameter (a thousand placeholders cost more to parse and send than the
    query takes to run), elsewhere the list."""
    ids = sorted(ids)
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", (int_array(ids),))
    return ids


ALL = IdRange()


@dataclass(frozen=True)
class Thresholds:
    """One check's thresholds. Which fields matter depends on the check
    (``Check.reads``): ``minutes`` (disconnected, in error), ``count`` +
    ``window_minutes`` (failed charges), ``dbm`` + ``window_minutes`` +
    ``min_readings`` (signal)."""

    enabled: bool = True
    minutes: int | None = None
    count: int | None = None
    window_minutes: int | None = None
    dbm: int | None = None
    min_readings: int | None = None
    # In error only, from the team's report settings (opt-in): a soft reset
    # first (sent by the OCPP gateway), then this many more minutes before filing.
    self_heal: bool = False
    self_heal_minutes: int | None = None

    @property
    def wait_minutes(self) -> int:
        return (self.minutes or 0) + ((self.self_heal_minutes or 0) if self.self_heal else 0)


@dataclass(frozen=True)
class Check:
    reason: str
    reads: tuple[str, ...]  # the Thresholds fields it needs from settings.HEALTH_CHECKS
    detect: Callable[[Thresholds, datetime, IdRange], QuerySet[ChargePoint]]
    cleared: Callable[[QuerySet[Report], Thresholds, datetime], QuerySet[Report]]
    describe: Callable[[dict, Thresholds], str]
    cleared_note: Callable[[Thresholds], str]
    # (thresholds, now, scope, the group's charge point filter) -> queries of
    # (charge point id, reason, the first moment its answer may change) rows
    # (``due_rows``).
    due: Callable[[Thresholds, datetime, IdRange, Callable[[str], Q]], list[QuerySet]]
    # The offender's fields its description (and routing) reads besides DETAIL_FIELDS.
    details: tuple[str, ...] = ()

    @property
    def detail_fields(self) -> tuple[str, ...]:
        return DETAIL_FIELDS + self.details


def _minutes(n: int | None) -> timedelta:
    return timedelta(minutes=n or 0)


# The state checks ask "state_since < now - minutes": true from one
# microsecond (the databases' resolution) after state_since + minutes.
_AFTER = timedelta(microseconds=1)


def due_rows(rows: QuerySet, pk: str, reason, at) -> QuerySet:
    """``rows`` as (charge point id, reason, moment) tuples, the shape every
    deadline query has: ``pk`` names the charge point id, ``reason`` is a
    reason or an expression, ``at`` an expression computed by the database
    (so the engine can store the deadlines without reading them)."""
    reason = Value(str(reason)) if isinstance(reason, str) else reason
    return rows.order_by().values_list(pk, reason, ExpressionWrapper(at, output_field=DateTimeField()))


def open_system_reports(reason: str | None = None) -> QuerySet[Report]:
    """The unresolved system reports (of one reason when given)."""
    reports = Report.objects.filter(source=Source.SYSTEM).exclude(state=ReportState.RESOLVED)
    return reports.filter(reason=reason) if reason is not None else reports


def _open_uncleared(reason: str, scope: IdRange, group_q: Callable[[str], Q]) -> QuerySet[Report]:
    """The charge point ids of ``reason``'s open system reports in scope
    whose condition has not cleared."""
    return (open_system_reports(reason).filter(condition_cleared_at__isnull=True)
            .filter(scope.q("charge_point_id"), group_q("charge_point__"))
            .values("charge_point_id"))


# --- Disconnected / in error: a state that has lasted too long -------------------

def disconnected(t: Thresholds, now: datetime, ids: IdRange = ALL) -> QuerySet[ChargePoint]:
    """Disconnected for more than ``minutes`` (index cp_state_since_idx)."""
    return ChargePoint.objects.filter(
        ids.q(), state=ChargePointState.DISCONNECTED, state_since__lt=now - _minutes(t.minutes)
    )


def in_error(t: Thresholds, now: datetime, ids: IdRange = ALL) -> QuerySet[ChargePoint]:
    """In error for more than ``minutes`` (plus the self-healing wait when
    the team opted in; index cp_state_since_idx)."""
    return ChargePoint.objects.filter(ids.q(), state=ChargePointState.ERROR,
                                      state_since__lt=now - _minutes(t.wait_minutes))


def _state_due(reason: str, state: str, wait: Callable[[Thresholds], int | None]):
    def due(t: Thresholds, now: datetime, ids: IdRange, group_q) -> list[QuerySet]:
        """In the state, not yet for long enough: due when it will have been."""
        delay = _minutes(wait(t))
        rows = ChargePoint.objects.filter(ids.q(), group_q(""), state=state, state_since__gte=now - delay)
        return [due_rows(rows, "pk", reason, F("state_since") + (delay + _AFTER))]

    return due


def _state_left(state: str):
    def cleared(reports: QuerySet[Report], t: Thresholds, now: datetime) -> QuerySet[Report]:
        return reports.exclude(charge_point__state=state)

    return cleared


def _since(row: dict) -> str:
    return f"{row['state_since']:%Y-%m-%d %H:%M} UTC"


# --- Failed charges ---------------------------------------------------------------

def _failures_since(since: datetime) -> QuerySet[Charge]:
    """The attempts that were not a success (``chargepoints.charging``, the
    definition the charging success rate uses too) ended since ``since``."""
    return charge_failures(ended_after=since)


def failed_charges(t: Thresholds, now: datetime, ids: IdRange = ALL) -> QuerySet[ChargePoint]:
    """``count`` or more failed charges ended within the last
    ``window_minutes`` (partial index charge_failed_ended_idx)."""
    # The id range narrows the failures, not the charge points: on the
    # charge point table PostgreSQL would walk the whole id range to join.
    offenders = (
        _failures_since(now - _minutes(t.window_minutes))
        .filter(ids.q("charge_point_id"))
        .order_by()
        .values("charge_point_id")
        .annotate(failures=Count("id"))
        .filter(failures__gte=t.count)
        .values("charge_point_id")
    )
    return ChargePoint.objects.filter(pk__in=offenders)


def failed_charges_due(t: Thresholds, now: datetime, ids: IdRange, group_q) -> list[QuerySet]:
    """An open report: due when its last failed charge leaves the window.
    (Only new charges can make the check true.)"""
    window = _minutes(t.window_minutes)
    rows = (
        _failures_since(now - window)
        .filter(charge_point_id__in=_open_uncleared(Reason.FAILED_CHARGES, ids, group_q))
        .order_by().values("charge_point_id").annotate(last=Max("ended_at"))
    )
    return [due_rows(rows, "charge_point_id", Reason.FAILED_CHARGES, F("last") + window)]


def failed_charges_cleared(reports: QuerySet[Report], t: Thresholds, now: datetime) -> QuerySet[Report]:
    """No failed charge at all within the window."""
    recent = _failures_since(now - _minutes(t.window_minutes)).filter(charge_point_id=OuterRef("charge_point_id"))
    return reports.filter(~Exists(recent))


# --- Signal: sustained, not one bad reading ----------------------------------------

def _readings(kind: str, since: datetime, charge_point) -> QuerySet[SignalReading]:
    return SignalReading.objects.filter(charge_point_id=charge_point, kind=kind, occurred_at__gt=since)


def _count(readings: QuerySet[SignalReading]) -> Subquery:
    return Subquery(readings.order_by().values("charge_point_id").annotate(n=Count("id")).values("n"))


def _bad_signal(kind: str):
    def detect(t: Thresholds, now: datetime, ids: IdRange = ALL) -> QuerySet[ChargePoint]:
        """The latest reading is below ``dbm`` (a range scan on the partial
        signal index) and so is every reading of the last
        ``window_minutes``, of which there are at least ``min_readings``."""
        since = now - _minutes(t.window_minutes)
        readings = _readings(kind, since, OuterRef("pk"))
        return (
            ChargePoint.objects.filter(ids.q(), **{f"{kind}_signal_dbm__lt": t.dbm, f"{kind}_signal_at__gt": since})
            .annotate(readings_in_window=_count(readings))
            .filter(readings_in_window__gte=t.min_readings)
            .filter(~Exists(readings.filter(dbm__gte=t.dbm)))
        )

    def cleared(reports: QuerySet[Report], t: Thresholds, now: datetime) -> QuerySet[Report]:
        """Back at or above ``dbm`` for the window, by the same standard of
        proof: at least ``min_readings`` readings, none of them weak. No
        readings (the charger went quiet) proves nothing either way."""
        since = now - _minutes(t.window_minutes)
        readings = _readings(kind, since, OuterRef("charge_point_id"))
        return (
            reports.annotate(readings_in_window=_count(readings))
            .filter(readings_in_window__gte=t.min_readings)
            .filter(~Exists(readings.filter(dbm__lt=t.dbm)))
        )

    def due(t: Thresholds, now: datetime, ids: IdRange, group_q) -> list[QuerySet]:
        """The latest reading weak: due when the last good one leaves the
        window. An open report: due when the last weak one leaves it.
        (Otherwise only new readings can change the answer.)"""
        window = _minutes(t.window_minutes)
        since = now - window
        weak_now = ChargePoint.objects.filter(
            ids.q(), group_q(""), **{f"{kind}_signal_dbm__lt": t.dbm, f"{kind}_signal_at__gt": since}
        ).values("pk")
        reported = _open_uncleared(reason, ids, group_q)
        readings = SignalReading.objects.filter(kind=kind, occurred_at__gt=since).order_by()
        last_good = (readings.filter(charge_point_id__in=weak_now, dbm__gte=t.dbm).values("charge_point_id")
                     .annotate(last=Max("occurred_at")))
        last_weak = (readings.filter(charge_point_id__in=reported, dbm__lt=t.dbm).values("charge_point_id")
                     .annotate(last=Max("occurred_at")))
        return [due_rows(rows, "charge_point_id", reason, F("last") + window) for rows in (last_good, last_weak)]

    reason = Reason.BAD_WIFI if kind == SignalKind.WIFI else Reason.BAD_CELL_SIGNAL
    return detect, cleared, due


_wifi_detect, _wifi_cleared, _wifi_due = _bad_signal(SignalKind.WIFI)
_cell_detect, _cell_cleared, _cell_due = _bad_signal(SignalKind.CELLULAR)


_SIGNAL = ("enabled", "dbm", "window_minutes", "min_readings")

_CHECKS = [
    Check(
        reason=Reason.DISCONNECTED,
        reads=("enabled", "minutes"),
        detect=disconnected,
        cleared=_state_left(ChargePointState.DISCONNECTED),
        describe=lambda row, t: f"Disconnected since {_since(row)}: more than {t.minutes} minutes.",
        cleared_note=lambda t: "The charge point is back online.",
        due=_state_due(Reason.DISCONNECTED, ChargePointState.DISCONNECTED, lambda t: t.minutes),
        details=("state_since",),
    ),
    Check(
        reason=Reason.IN_ERROR,
        reads=("enabled", "minutes"),
        detect=in_error,
        cleared=_state_left(ChargePointState.ERROR),
        describe=lambda row, t: (
            f"In error since {_since(row)}: more than {t.wait_minutes} minutes. "
            f"Error code: {row['error_code'] or 'none'}; vendor error code: {row['vendor_error_code'] or 'none'}."
        ),
        cleared_note=lambda t: "The charge point is out of error.",
        due=_state_due(Reason.IN_ERROR, ChargePointState.ERROR, lambda t: t.wait_minutes),
        # The error hint's routing reads the vendor, model and codes (reporting.services.filing).
        details=("state_since", "error_code", "vendor_error_code", "vendor", "model"),
    ),
    Check(
        reason=Reason.FAILED_CHARGES,
        reads=("enabled", "count", "window_minutes"),
        detect=failed_charges,
        cleared=failed_charges_cleared,
        describe=lambda row, t: f"{t.count} or more failed charges within the last {t.window_minutes} minutes.",
        cleared_note=lambda t: f"No failed charge in the last {t.window_minutes} minutes.",
        due=failed_charges_due,
    ),
    Check(
        reason=Reason.BAD_WIFI,
        reads=_SIGNAL,
        detect=_wifi_detect,
        cleared=_wifi_cleared,
        describe=lambda row, t: (
            f"Wi-Fi signal below {t.dbm} dBm in every reading of the last {t.window_minutes} minutes "
            f"(at least {t.min_readings}); latest {row['wifi_signal_dbm']} dBm."
        ),
        cleared_note=lambda t: f"Wi-Fi signal at or above {t.dbm} dBm for {t.window_minutes} minutes.",
        due=_wifi_due,
        details=("wifi_signal_dbm",),
    ),
    Check(
        reason=Reason.BAD_CELL_SIGNAL,
        reads=_SIGNAL,
        detect=_cell_detect,
        cleared=_cell_cleared,
        describe=lambda row, t: (
            f"Cellular signal below {t.dbm} dBm in every reading of the last {t.window_minutes} minutes "
            f"(at least {t.min_readings}); latest {row['cellular_signal_dbm']} dBm."
        ),
        cleared_note=lambda t: f"Cellular signal at or above {t.dbm} dBm for {t.window_minutes} minutes.",
        due=_cell_due,
        details=("cellular_signal_dbm",),
    ),
]


def _by_reason(checks: list[Check]) -> dict[str, Check]:
    """One check per system reason of the catalogue, in its order."""
    by_reason = {check.reason: check for check in checks}
    if set(by_reason) != set(SYSTEM_REASONS) or len(by_reason) != len(checks):
        raise ImportError(
            f"The health checks ({sorted(by_reason)}) must be exactly one per system reason "
            f"of reporting.catalogue.SYSTEM_REASONS ({sorted(SYSTEM_REASONS)})."
        )
    return {reason: by_reason[reason] for reason in SYSTEM_REASONS}


CHECKS: dict[str, Check] = _by_reason(_CHECKS)
