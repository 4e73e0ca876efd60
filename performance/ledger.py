"""The outage ledger: when each port (connector) of a charge point, and the
charge point as a whole, could not deliver a charge, from the stored state
history (never from the live state alone).

A charge point's history has a stream of states per connector (OCPP
StatusNotification with a connector id; 0 is the charger as a whole) and
one of states reported without a connector (the CSMS's "disconnected" when
a connection drops, or a sender that reports no connectors). A port is
down while its own state, connector 0's or the connector-less state is an
outage state: ``error`` (Faulted), ``passive`` (Unavailable) or
``disconnected``. A disconnection ends at the first sign of life after it:
a heartbeat or any status. The charge point is down while every port is.

Outage time is excluded (``Outage.excluded_seconds``) where it falls inside
an exclusion of the port or of the whole charge point, inside an
occurrence of a maintenance window covering the charge point, or inside a
site outage whose cause a person marked as outside the operator's control.
Times are UTC; a window never starts before the charge point was created.
Reading the history is ``history.py``; a weekly maintenance window's
occurrences come from ``reporting.maintenance``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q

from chargepoints.models import ChargePoint
from reporting.maintenance import maintenance_window_occurrences
from reporting.maintenance_models import MaintenanceWindow
from reporting.models import Report

from .history import WHOLE, Event, S, history_load, history_streams
from .models import Exclusion, SiteOutageCause

OUTAGE_STATES = frozenset({S.ERROR, S.PASSIVE, S.DISCONNECTED})


@dataclass(frozen=True)
class Cause:
    state: str
    error_code: str = ""

    @property
    def key(self) -> str:
        return f"{self.state}:{self.error_code}" if self.error_code else self.state


@dataclass
class Segment:
    start: datetime
    end: datetime
    cause: Cause


@dataclass
class Outage:
    """One interval in which a port (or the charge point) could not charge."""

    start: datetime
    end: datetime
    segments: list[Segment] = field(default_factory=list)
    excluded_seconds: float = 0.0
    exclusions: list[str] = field(default_factory=list)  # the reasons (labels) that excluded time of it
    reports: list = field(default_factory=list)
    ongoing: bool = False  # still down at the end of the window

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def cause(self) -> Cause:
        return self.segments[0].cause

    def causes(self) -> list[Cause]:
        seen: list[Cause] = []
        for segment in self.segments:
            if segment.cause not in seen:
                seen.append(segment.cause)
        return seen


@dataclass
class Ledger:
    charge_point_id: int
    start: datetime
    end: datetime
    ports: dict[int, list[Outage]]
    charge_point: list[Outage]
    # Each port's cause at the end of the window (None: up): what the next
    # window starts from.
    end_state: dict[int, Cause | None]

    @property
    def minutes(self) -> float:
        return max((self.end - self.start).total_seconds(), 0) / 60


# --- Spans ---------------------------------------------------------------------------

Span = tuple[datetime, datetime]


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[list[datetime]] = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def _overlap_seconds(start: datetime, end: datetime, spans: list[Span]) -> float:
    total = 0.0
    for s, e in spans:
        lo, hi = max(start, s), min(end, e)
        if hi > lo:
            total += (hi - lo).total_seconds()
    return total


# --- The sweep over time -----------------------------------------------------------------

def _down(state: str | None, error_code: str) -> Cause | None:
    return Cause(state, error_code) if state in OUTAGE_STATES else None


def _segments(streams: dict[object, list[Event]], ports: list[int], start: datetime, end: datetime
              ) -> tuple[dict[int, list[Segment]], list[Segment], dict[int, Cause | None]]:
    """Each port's down segments and the charge point's (every port down)."""
    times = sorted({start, end, *(e.at for events in streams.values() for e in events if start < e.at < end)})
    current: dict[object, tuple[str, str] | None] = {key: None for key in streams}
    pointers = {key: 0 for key in streams}
    by_port: dict[int, list[Segment]] = {port: [] for port in ports}
    whole: list[Segment] = []
    state_at_end: dict[int, Cause | None] = {}
    for t0, t1 in zip(times, times[1:], strict=False):
        for key, events in streams.items():
            while pointers[key] < len(events) and events[pointers[key]].at <= t0:
                current[key] = (events[pointers[key]].state, events[pointers[key]].error_code)
                pointers[key] += 1
        whole_cause = _down(*(current.get(0) or (None, ""))) or _down(*(current.get(WHOLE) or (None, "")))
        causes = {}
        for port in ports:
            own = _down(*(current.get(port) or (None, ""))) if port != 0 else None
            causes[port] = own or whole_cause
            if causes[port] is not None:
                _extend(by_port[port], t0, t1, causes[port])
        if ports and all(causes[port] is not None for port in ports):
            _extend(whole, t0, t1, whole_cause or causes[ports[0]])
        state_at_end = causes
    return by_port, whole, state_at_end


def _extend(segments: list[Segment], t0: datetime, t1: datetime, cause: Cause) -> None:
    if segments and segments[-1].end == t0 and segments[-1].cause == cause:
        segments[-1].end = t1
    else:
        segments.append(Segment(t0, t1, cause))


def _outages(segments: list[Segment], end: datetime) -> list[Outage]:
    outages: list[Outage] = []
    for segment in segments:
        if outages and outages[-1].end == segment.start:
            outages[-1].end = segment.end
            outages[-1].segments.append(segment)
        else:
            outages.append(Outage(start=segment.start, end=segment.end, segments=[segment]))
    if outages and outages[-1].end == end:
        outages[-1].ongoing = True
    return outages


# --- Exclusions --------------------------------------------------------------------------

@dataclass
class _Exclusions:
    every_port: list[tuple[Span, str]]
    by_port: dict[int, list[tuple[Span, str]]]

    def for_port(self, port: int | None) -> list[tuple[Span, str]]:
        return self.every_port + (self.by_port.get(port, []) if port is not None else [])


def _exclusions(charge_points: list[ChargePoint], starts: dict[int, datetime], end: datetime
                ) -> dict[int, _Exclusions]:
    """Each charge point's exclusion spans within its window: three
    statements for all of them (its own exclusions, the maintenance windows
    of it, its site or its teams, its site's marked outages)."""
    lo = min(starts.values())
    ids = [cp.pk for cp in charge_points]
    sites = {cp.site_id for cp in charge_points}
    teams = {cp.owner_id for cp in charge_points} | {cp.operator_id for cp in charge_points}
    every: dict[int, list[tuple[Span, str]]] = defaultdict(list)
    by_port: dict[int, dict[int, list[tuple[Span, str]]]] = defaultdict(lambda: defaultdict(list))
    for row in Exclusion.objects.filter(charge_point_id__in=ids, starts_at__lt=end, ends_at__gt=lo):
        span = ((row.starts_at, row.ends_at), str(row.get_reason_display()))
        (every[row.charge_point_id] if row.connector is None else by_port[row.charge_point_id][row.connector]
         ).append(span)
    windows = MaintenanceWindow.objects.filter(
        Q(charge_point_id__in=ids) | Q(site_id__in=sites, charge_point__isnull=True)
        | Q(team_id__in=teams, site__isnull=True, charge_point__isnull=True),
        Q(ends_at__isnull=True) | Q(ends_at__gt=lo), starts_at__lt=end,
    )
    by_site: dict[int, list[tuple[Span, str]]] = defaultdict(list)
    by_team: dict[int, list[tuple[Span, str]]] = defaultdict(list)
    for window in windows:
        spans = [(span, f"Maintenance window: {window.reason}") for span in maintenance_window_occurrences(window, lo, end)]
        if window.charge_point_id:
            every[window.charge_point_id].extend(spans)
        elif window.site_id:
            by_site[window.site_id].extend(spans)
        else:
            by_team[window.team_id].extend(spans)
    causes = SiteOutageCause.objects.filter(
        report__site_id__in=sites, report__charge_point__isnull=True, starts_at__lt=end,
    ).filter(Q(report__resolved_at__isnull=True) | Q(report__resolved_at__gt=lo)).select_related("report")
    for cause in causes:
        by_site[cause.report.site_id].append(
            ((cause.starts_at, cause.report.resolved_at or end), f"Site outage: {cause.get_reason_display()}"))
    result = {}
    for cp in charge_points:
        start = starts[cp.pk]

        def clip(spans, start=start):
            return [((max(s, start), min(e, end)), label) for (s, e), label in spans if s < end and e > start]

        mine = every[cp.pk] + by_site[cp.site_id] + by_team[cp.owner_id]
        if cp.operator_id != cp.owner_id:
            mine += by_team[cp.operator_id]
        result[cp.pk] = _Exclusions(clip(mine), {port: clip(spans) for port, spans in by_port[cp.pk].items()})
    return result


def _apply_exclusions(outages: list[Outage], exclusions: list[tuple[Span, str]]) -> None:
    if not exclusions:
        return
    spans = _merge([span for span, _label in exclusions])
    for outage in outages:
        outage.excluded_seconds = _overlap_seconds(outage.start, outage.end, spans)
        outage.exclusions = sorted({label for (s, e), label in exclusions if s < outage.end and e > outage.start})


# --- The ledger ---------------------------------------------------------------------------

def ports_of(streams: dict[object, list[Event]]) -> list[int]:
    ports = sorted(key for key in streams if key != WHOLE and key != 0)
    return ports or [0]


def ledgers_for(*, charge_points: list[ChargePoint], start: datetime, end: datetime) -> dict[int, Ledger]:
    """The outage ledgers of several charge points over [start, end), read
    in a handful of statements whatever their number (a charge point's
    window starts at its creation when it was created later)."""
    ledgers: dict[int, Ledger] = {}
    starts: dict[int, datetime] = {}
    for cp in charge_points:
        cp_start = max(start, cp.created_at)
        if end <= cp_start:
            ledgers[cp.pk] = Ledger(cp.pk, cp_start, cp_start, {}, [], {})
        else:
            starts[cp.pk] = cp_start
    if not starts:
        return ledgers
    alive = [cp for cp in charge_points if cp.pk in starts]
    loaded = history_load(starts, end)
    exclusions = _exclusions(alive, starts, end)
    for cp in alive:
        cp_start = starts[cp.pk]
        streams = history_streams(cp.pk, cp_start, end, loaded)
        ports = ports_of(streams)
        by_port, whole, state_at_end = _segments(streams, ports, cp_start, end)
        ledger_ports = {}
        for port, segments in by_port.items():
            outages = _outages(segments, end)
            _apply_exclusions(outages, exclusions[cp.pk].for_port(port))
            ledger_ports[port] = outages
        cp_outages = _outages(whole, end)
        _apply_exclusions(cp_outages, exclusions[cp.pk].for_port(None))
        ledgers[cp.pk] = Ledger(cp.pk, cp_start, end, ledger_ports, cp_outages, state_at_end)
    return ledgers


def ledger_for(*, charge_point: ChargePoint, start: datetime, end: datetime) -> Ledger:
    """The outage ledger of a charge point over [start, end): ``start`` moves
    to its creation when it was created later."""
    return ledgers_for(charge_points=[charge_point], start=start, end=end)[charge_point.pk]


def ledger_attach_reports(ledger: Ledger, *, charge_point: ChargePoint) -> None:
    """The reports filed during each outage (about the charge point or its
    site), for showing; one query."""
    every = [o for outages in ledger.ports.values() for o in outages] + ledger.charge_point
    if not every:
        return
    reports = list(
        Report.objects.filter(Q(charge_point_id=charge_point.pk)
                              | Q(site_id=charge_point.site_id, charge_point__isnull=True),
                              created_at__gte=min(o.start for o in every), created_at__lte=max(o.end for o in every))
        .order_by("created_at").only("pk", "reason", "state", "created_at", "charge_point_id", "site_id")
    )
    for outage in every:
        outage.reports = [r for r in reports if outage.start <= r.created_at <= outage.end]
