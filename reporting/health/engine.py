"""The incremental health engine: each pass (every minute, from beat) looks
only at what changed or came due since the last one.

A pass, in one transaction holding the engine's row (``HealthEngineState``):

1. takes the marks telemetry left (``chargepoints.health_marks``): the
   charge points whose state or charges changed, and those with a new
   signal reading when it can matter (a weak latest reading, an open
   signal report); more marks waiting than a pass takes (after a long
   outage) make it a full evaluation instead;
2. reads the stored deadlines that have come (``deadlines.py``): a state
   that has now lasted past its threshold, a reading or a failed charge that
   left its window, a flapping report's hold-down ended;
3. adds the charge points a maintenance window silenced, when the window
   ended since the high-water mark;
4. runs the sweep (``sweep.py``: detection, filing, clearing, sites) over
   those charge points only, and stores their new deadlines;
5. moves the high-water mark to now.

With nothing changed and nothing due, a pass reads a few index entries and
writes nothing. A pass that was skipped or crashed (its transaction rolled
back, the marks with it) is caught up by the next: the marks wait and the
deadlines stay due. A second pass at once finds the row locked and returns
at once; even without that, filing is ``ON CONFLICT DO NOTHING``.

A change of thresholds or switches re-evaluates what it affects once: the
teams whose own settings changed, or the whole fleet when the defaults did
(``HealthConfig.digests``). The first pass ever evaluates the whole fleet,
on PostgreSQL in parts at the same time (``_full_pass``).

The hourly reconciliation (``health_reconcile``) runs today's set-based
checks over the fleet, compares them with the incremental state, logs and
counts every difference, and repairs them with a full pass.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from chargepoints.health_marks import health_marks_take
from chargepoints.models import ChargePoint
from core.db_threads import run_in_threads
from core.tasks import enqueue_coalesced
from reporting.catalogue import Reason
from reporting.maintenance import maintenance_window_is_active, maintenance_windows_active
from reporting.models import HealthEngineState, MaintenanceWindow, SilencedDetection
from reporting.teams import reports_teams_repair, reports_with_stale_teams

from .checks import CHECKS, IdRange, open_system_reports
from .deadlines import deadlines_due, deadlines_missing, deadlines_refresh
from .result import SweepResult
from .sites import site_outages_differences, sites_inhibited
from .sweep import health_sweep, health_sweep_chunks
from .thresholds import HealthConfig, health_config_load

logger = logging.getLogger(__name__)

# Charge points per sweep of a pass: bounded statements and memory.
SLICE = 5_000
# Charge point ids per sweep of a full evaluation (the first pass, a change
# of the defaults, a repair): it runs in one transaction in one process, so
# the Celery task's chunks would only repeat each check's per-chunk work;
# this bounds the rows a check's detection holds (1 % in trouble: 10,000).
FULL_CHUNK = 1_000_000
# Due deadlines read per pass; the rest wait for the next.
DUE_LIMIT = 50_000
STATE_ID = 1
# The reconciliation looks for reports filed with stale teams since its
# last run, less this (a filing still uncommitted then).
TEAMS_LOOKBACK = timedelta(hours=1)
# The engine's advisory lock key on PostgreSQL (any constant of the project's own).
ADVISORY_LOCK = 0x4845414C5448  # "HEALTH"


@dataclass
class PassResult:
    sweep: SweepResult = field(default_factory=SweepResult)
    changed: int = 0  # charge points marked by telemetry
    due: int = 0  # charge points with a deadline that came
    looked_at: int = 0  # charge points the pass evaluated (a full pass: 0, it looks at the trouble)
    full: str = ""  # "fleet" or "teams" when settings (or the first pass) asked for more
    busy: bool = False  # another pass held the engine

    def as_dict(self) -> dict:
        return {**self.sweep.as_dict(), "changed": self.changed, "due": self.due, "looked_at": self.looked_at,
                "full": self.full, "busy": self.busy}


def _state_lock() -> HealthEngineState | None:
    """The engine's row, for this transaction alone; None when another pass
    holds the engine. On PostgreSQL a transaction-scoped advisory lock
    (nothing written, unlike a row lock); SQLite's write transactions are
    one at a time anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [ADVISORY_LOCK])
            if not cursor.fetchone()[0]:
                return None
    state = HealthEngineState.objects.filter(pk=STATE_ID).first()
    if state is None:
        try:
            with transaction.atomic():
                state = HealthEngineState.objects.create(pk=STATE_ID)
        except IntegrityError:  # created by a pass that did not hold the lock (a reconciliation's)
            state = HealthEngineState.objects.get(pk=STATE_ID)
    return state


def health_pass(*, now: datetime | None = None) -> PassResult:
    """One incremental pass (see the module's docstring)."""
    now = now or timezone.now()
    # A full evaluation may run in parts that commit on their own only when
    # the pass is not part of a caller's transaction.
    own_transaction = not connection.in_atomic_block
    with transaction.atomic(), enqueue_coalesced():
        state = _state_lock()
        if state is None:
            return PassResult(busy=True)
        config = health_config_load()
        digests = config.digests()
        marks = health_marks_take()
        result = PassResult(changed=len(marks))
        if marks.backlog or state.high_water_mark is None or digests["*"] != state.settings_digest.get("*"):
            result.sweep = _full_pass(config, now, in_parts=own_transaction)
            result.full = "fleet"
        else:
            due = deadlines_due(now, limit=DUE_LIMIT)
            ended = _windows_ended(state.high_water_mark, now)
            candidates = marks.changed | _signal_matters(config, marks.signal_only) | due | ended
            teams = _teams_changed(state.settings_digest, digests)
            result.due, result.looked_at = len(due), len(candidates)
            if not candidates and not teams:
                return result
            ordered = sorted(candidates)
            for start in range(0, len(ordered), SLICE):
                scope = IdRange(charge_point_ids=frozenset(ordered[start:start + SLICE]))
                result.sweep.merge(health_sweep(now=now, config=config, scope=scope))
                deadlines_refresh(config, now, scope)
            if teams:
                scope = IdRange(team_ids=frozenset(teams))
                result.sweep.merge(health_sweep(now=now, config=config, scope=scope))
                deadlines_refresh(config, now, scope)
                result.full = "teams"
        state.high_water_mark = now
        state.settings_digest = digests
        state.save(update_fields=["high_water_mark", "settings_digest"])
    return result


def _full_pass(config: HealthConfig, now: datetime, *, in_parts: bool = False) -> SweepResult:
    """Every check over the whole fleet, id range by id range, and every
    deadline computed afresh.

    ``in_parts`` (PostgreSQL, ``HEALTH_CHECKS["full_pass_workers"]`` above
    one): the fleet is split into that many id ranges, evaluated at the
    same time, each in a thread, connection and transaction of its own that
    commits on its own. Safe because the parts share no charge point and
    the sweep is safe to run twice at once. Should a part fail, the pass
    fails and its state is not saved: the next pass evaluates the whole
    fleet again and finds open what the other parts filed."""
    workers = settings.HEALTH_CHECKS.get("full_pass_workers", 1)
    parts = _fleet_parts(workers if in_parts and connection.vendor == "postgresql" else 1)
    if len(parts) == 1:
        # In the pass's own transaction (the part's is a savepoint of it).
        return _evaluate_part(config, now, parts[0], forget_flips=True)
    results = run_in_threads([
        partial(_evaluate_part, config, now, part, forget_flips=index == 0) for index, part in enumerate(parts)
    ], name="health-part")
    total = SweepResult()
    for result in results:
        total.merge(result)
    return total


@dataclass(frozen=True)
class _Part:
    chunks: list[tuple[int | None, int | None]]  # id ranges of at most FULL_CHUNK ids
    deadlines: IdRange  # open-ended at the fleet's ends: stale rows beyond them go too


def _fleet_parts(count: int) -> list[_Part]:
    """The fleet as at most ``count`` parts of equal id span; one part is
    the whole fleet (an empty or small one too)."""
    if count < 2:
        return [_Part(health_sweep_chunks(chunk_size=FULL_CHUNK), IdRange())]
    ids = ChargePoint.objects.aggregate(first=Min("pk"), last=Max("pk"))
    if ids["first"] is None:
        return _fleet_parts(1)
    ranges = _id_ranges(ids["first"], ids["last"], -(-(ids["last"] - ids["first"] + 1) // count))
    return [_Part(_id_ranges(first, last, FULL_CHUNK),
                  IdRange(None if index == 0 else first, None if index == len(ranges) - 1 else last))
            for index, (first, last) in enumerate(ranges)]


def _id_ranges(first: int, last: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(start + size - 1, last)) for start in range(first, last + 1, size)]


def _evaluate_part(config: HealthConfig, now: datetime, part: _Part, *, forget_flips: bool) -> SweepResult:
    """One part of a full evaluation, in its own transaction: every check
    over its charge points chunk by chunk, then their deadlines. Of parts
    at the same time only one forgets the old flips (they would wait on
    each other's deletes)."""
    result = SweepResult()
    with transaction.atomic(), enqueue_coalesced():
        for first_id, last_id in part.chunks:
            result.merge(health_sweep(first_id=first_id, last_id=last_id, now=now, config=config,
                                      forget_flips=forget_flips))
        deadlines_refresh(config, now, part.deadlines)
    return result


def _signal_matters(config: HealthConfig, charge_point_ids: set[int]) -> set[int]:
    """Of charge points whose only news is a signal reading, those a signal
    check can answer differently for: the latest reading is weak by some
    team's threshold, or a signal report is open. (A good latest reading
    with no report open changes nothing.)"""
    if not charge_point_ids:
        return set()
    loosest = {reason: max(group.thresholds.dbm for group in config.groups(reason))
               for reason in (Reason.BAD_WIFI, Reason.BAD_CELL_SIGNAL)}
    reported = (open_system_reports(Reason.BAD_WIFI) | open_system_reports(Reason.BAD_CELL_SIGNAL)).filter(
        charge_point_id__in=sorted(charge_point_ids)).values("charge_point_id")
    matters = set()
    ids = sorted(charge_point_ids)
    for start in range(0, len(ids), SLICE):
        matters.update(ChargePoint.objects.filter(pk__in=ids[start:start + SLICE]).filter(
            Q(wifi_signal_dbm__lt=loosest[Reason.BAD_WIFI])
            | Q(cellular_signal_dbm__lt=loosest[Reason.BAD_CELL_SIGNAL])
            | Q(pk__in=reported)
        ).values_list("pk", flat=True))
    return matters


def _teams_changed(before: dict[str, str], now: dict[str, str]) -> set[int]:
    """Teams whose own settings changed, appeared or went back to the defaults."""
    keys = (set(before) | set(now)) - {"*"}
    return {int(key) for key in keys if before.get(key) != now.get(key)}


def _windows_ended(since: datetime, now: datetime) -> set[int]:
    """The charge points a maintenance window silenced, when the window was
    active at ``since`` and is not now: they file their reports now. One
    query over the windows with silenced detections that were in their
    period at ``since`` (there are few); the weekly test in Python."""
    windows = MaintenanceWindow.objects.filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=since), starts_at__lte=since,
        pk__in=SilencedDetection.objects.values("window_id"),
    )
    ended = [window.pk for window in windows
             if maintenance_window_is_active(window, since) and not maintenance_window_is_active(window, now)]
    if not ended:
        return set()
    return set(SilencedDetection.objects.filter(window_id__in=ended).values_list("charge_point_id", flat=True))


# --- Reconciliation -------------------------------------------------------------------


@dataclass
class Reconciliation:
    differences: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list] = field(default_factory=dict)
    repaired: SweepResult | None = None
    busy: bool = False

    @property
    def total(self) -> int:
        return sum(self.differences.values())

    def as_dict(self) -> dict:
        return {"differences": self.total, **{f"differences_{k}": v for k, v in self.differences.items()},
                "busy": self.busy, **({"repaired": self.repaired.as_dict()} if self.repaired else {})}


def health_reconcile(*, now: datetime | None = None) -> Reconciliation:
    """Bring the engine up to date (one pass), then run every check over the
    whole fleet and compare: a condition with no open report, an open
    report whose condition is gone or came back unnoticed, a site outage
    unfiled or over, a deadline missing, and a report filed since the last
    reconciliation with teams that are not its charge point's. Each
    difference is logged and counted
    (``HealthEngineState.reconciliation_differences``), then repaired: by a
    full pass, and the teams by rewriting them."""
    now = now or timezone.now()
    own_transaction = not connection.in_atomic_block
    health_pass(now=now)
    with transaction.atomic():
        state = _state_lock()
        if state is None:
            return Reconciliation(busy=True)
        config = health_config_load()
        found = _differences(config, now)
        # Reports filed with their charge point's former teams (a move
        # racing the filing): rewritten, no evaluation needed.
        stale_teams = reports_with_stale_teams(
            filed_since=(state.last_reconciled_at or now) - TEAMS_LOOKBACK)
        found["stale_teams"] = [report_id for report_id, _cp in stale_teams]
        outcome = Reconciliation(differences={kind: len(keys) for kind, keys in found.items()},
                                 examples={kind: keys[:10] for kind, keys in found.items() if keys})
        if outcome.total:
            logger.warning("Health reconciliation: %d difference(s) between the incremental state and a full "
                           "evaluation, repaired: %s", outcome.total, outcome.examples)
        if stale_teams:
            reports_teams_repair(cp_id for _report_id, cp_id in stale_teams)
        if outcome.total > len(stale_teams):
            outcome.repaired = _full_pass(config, now, in_parts=own_transaction)
        state.last_reconciled_at = now
        state.reconciliation_differences += outcome.total
        state.last_differences = outcome.differences
        state.save(update_fields=["last_reconciled_at", "reconciliation_differences", "last_differences"])
    return outcome


def _differences(config: HealthConfig, now: datetime) -> dict[str, list]:
    windows = maintenance_windows_active(now)
    inhibited = sites_inhibited()
    found: dict[str, list] = {"unfiled": [], "not_recurred": [], "not_cleared": []}
    everywhere = IdRange()
    for reason, check in CHECKS.items():
        reports = open_system_reports(reason).filter(charge_point__isnull=False)
        cleared_at = dict(reports.values_list("charge_point_id", "condition_cleared_at"))
        for group in config.groups(reason):
            if group.thresholds.enabled:
                offenders = check.detect(group.thresholds, now, everywhere).filter(group.charge_points())
                for row in offenders.values(*check.detail_fields):
                    cp_id = row["pk"]
                    if cp_id in cleared_at:
                        if cleared_at[cp_id] is not None:
                            found["not_recurred"].append((cp_id, reason))
                    elif reason == Reason.DISCONNECTED and row["site_id"] in inhibited:
                        continue
                    elif windows and windows.window_for(row) is not None:
                        continue
                    else:
                        found["unfiled"].append((cp_id, reason))
            gone = check.cleared(
                reports.filter(group.charge_points("charge_point__"), condition_cleared_at__isnull=True),
                group.thresholds, now,
            ).values_list("charge_point_id", flat=True)
            found["not_cleared"].extend((cp_id, reason) for cp_id in gone)
    sites_unfiled, sites_over = site_outages_differences(config, now, windows)
    found["sites_unfiled"] = sites_unfiled
    found["sites_over"] = sites_over
    found["deadlines_missing"] = deadlines_missing(config, now)
    return {kind: sorted(keys) for kind, keys in found.items()}


def health_engine_figures(*, now: datetime | None = None) -> dict:
    """What a monitor alerts on (``/healthz``): seconds since the last pass
    that did something and since the last reconciliation (None before the
    first), the marks waiting, the deadlines already due, and the
    differences the reconciliation found, at its last run and in all."""
    from chargepoints.health_marks import health_marks_pending
    from reporting.models import HealthDeadline

    now = now or timezone.now()
    state = HealthEngineState.objects.filter(pk=STATE_ID).first() or HealthEngineState()

    def age(moment):
        return None if moment is None else max(0, round((now - moment).total_seconds()))

    return {
        "high_water_mark_seconds": age(state.high_water_mark),
        "reconciled_seconds": age(state.last_reconciled_at),
        "marks_waiting": health_marks_pending(),
        "deadlines_due": HealthDeadline.objects.filter(due_at__lte=now).count(),
        "differences_last": sum(state.last_differences.values()),
        "differences_total": state.reconciliation_differences,
    }
