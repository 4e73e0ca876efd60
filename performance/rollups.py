"""Daily rollups per port and per charge point, kept up to date from what
changed, never by a pass over all history.

- Recording telemetry marks each (charge point, day) its stored state
  changes and charges fall on (a charge on the day it started), and the
  day of a heartbeat that ended a disconnection, as dirty: one
  ``INSERT ... ON CONFLICT DO NOTHING`` per batch (``telemetry_mark_dirty``,
  through ``chargepoints.hooks``). A late or corrected event marks its own
  day. Exclusions, site outage causes and maintenance windows mark the
  days they cover.
- ``rollups_refresh`` (a Celery beat task every few minutes) claims the
  dirty days and recomputes each from the outage ledger and the charges of
  that day. When a recomputed day ends in another state than before, the
  next day is marked too, so a change carries forward as far as it
  matters. Days computed while they were today are marked again once they
  are over (the roll-over).
- A period's figures are sums of the rows; today's row covers the day up
  to when it was computed, and a port down at that moment counts as down
  until now (``performance.uptime``).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from chargepoints.charging import SUCCESS, charge_attempts, charge_failure_cause
from chargepoints.models import ChargePoint, ChargePointState, StateChange

from .ledger import ledgers_for
from .models import ChargePointDay, DirtyDay, PortDay

DAY = timedelta(days=1)
ROW_FIELDS = ["outage_seconds", "excluded_seconds", "attempts", "successes", "failed", "failures", "port_charges",
              "covered_until", "complete", "end_state", "ports_down_at_end", "owner_team", "operator_team"]
# Days claimed per transaction by the refresh.
CLAIM_CHUNK = 200


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def utc_day(at: datetime) -> date:
    return at.astimezone(UTC).date()


# --- Marking -------------------------------------------------------------------------

def rollups_mark_days(pairs) -> None:
    """Mark these (charge point id, day) pairs dirty: one statement."""
    pairs = set(pairs)
    if not pairs:
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        # One statement from one JSON document, as the telemetry batch writes
        # its rows (no model instance per row, no per-value quoting).
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {DirtyDay._meta.db_table} (charge_point_id, day, marked_at) "
                "SELECT r.cp, r.day, %s FROM jsonb_to_recordset(%s::jsonb) AS r(cp bigint, day date) "
                "ORDER BY r.cp, r.day ON CONFLICT DO NOTHING",
                [now, json.dumps([{"cp": cp_id, "day": day.isoformat()} for cp_id, day in sorted(pairs)])],
            )
        return
    DirtyDay.objects.bulk_create(
        [DirtyDay(charge_point_id=cp_id, day=day, marked_at=now) for cp_id, day in sorted(pairs)],
        ignore_conflicts=True, batch_size=5000,
    )


def rollups_mark_dirty(*, charge_point_ids, start: datetime, end: datetime) -> None:
    """Mark every day of [start, end] (up to today) of these charge points."""
    first, last = utc_day(start), min(utc_day(end), utc_day(timezone.now()))
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    rollups_mark_days((cp_id, day) for cp_id in charge_point_ids for day in days)


def telemetry_mark_dirty(*, accepted: dict[str, list[dict]]) -> None:
    """The ``chargepoints.hooks.telemetry_recorded`` listener: the days the
    batch's state changes, charges and reconnecting heartbeats fall on."""
    pairs = {(c["charge_point_id"], utc_day(c["occurred_at"])) for c in accepted.get("state_change", ())}
    pairs |= {(c["charge_point_id"], utc_day(c["started_at"])) for c in accepted.get("charge", ())}
    pairs |= {(c["charge_point_id"], utc_day(c["occurred_at"]))
              for kind in ("heartbeat", "boot") for c in accepted.get(kind, ()) if c.get("reconnected")}
    rollups_mark_days(pairs)


def maintenance_window_mark_dirty(*, windows) -> None:
    """The ``reporting.hooks.maintenance_windows_changed`` listener: every
    day a changed window covered, for the charge points it covers."""
    now = timezone.now()
    for window in windows:
        cps = ChargePoint.objects.all()
        if window.charge_point_id:
            cps = cps.filter(pk=window.charge_point_id)
        elif window.site_id:
            cps = cps.filter(site_id=window.site_id)
        else:
            cps = cps.filter(Q(owner_id=window.team_id) | Q(operator_id=window.team_id))
        start = min(window.starts_at, now)
        end = min(window.ends_at or now, now)
        rollups_mark_dirty(charge_point_ids=list(cps.values_list("pk", flat=True)), start=start, end=end)


# --- Computing one day ------------------------------------------------------------------

def _failure_causes(failed: list[dict]) -> dict[int, Counter]:
    """Failed attempts by cause per charge point; the error code of an error
    during the charge comes from the history (one query for all)."""
    causes: dict[int, Counter] = defaultdict(Counter)
    if not failed:
        return causes
    errors: dict[int, list] = defaultdict(list)
    for cp_id, at, code in StateChange.objects.filter(
        charge_point_id__in={c["charge_point_id"] for c in failed}, state=ChargePointState.ERROR,
        occurred_at__gte=min(c["started_at"] for c in failed), occurred_at__lte=max(c["ended_at"] for c in failed),
    ).order_by("occurred_at").values_list("charge_point_id", "occurred_at", "error_code"):
        errors[cp_id].append((at, code))
    for charge in failed:
        during = [code for at, code in errors[charge["charge_point_id"]]
                  if charge["started_at"] <= at <= charge["ended_at"]]
        causes[charge["charge_point_id"]][charge_failure_cause(
            energy_wh=charge["energy_wh"], stop_reason=charge["stop_reason"],
            error_code=during[0] if during else None)] += 1
    return causes


def _port_charges(charges: list[dict]) -> dict[str, list[int]]:
    """Attempts and successes per port, of the charges that know theirs."""
    ports: dict[str, list[int]] = {}
    for charge in charges:
        if charge["connector"]:
            counts = ports.setdefault(str(charge["connector"]), [0, 0])
            counts[0] += 1
            counts[1] += 1 if charge["success"] else 0
    return dict(sorted(ports.items(), key=lambda item: int(item[0])))


def rollup_days(*, charge_points: list[ChargePoint], day: date, now: datetime | None = None
                ) -> dict[int, ChargePointDay | None]:
    """Recompute one day of these charge points (their ports' rows and their
    own) from the history, in a handful of statements whatever their number;
    charge point id -> its row (None: the day is before it existed or after
    now). The caller holds the transaction."""
    now = now or timezone.now()
    start = day_start(day)
    end = min(start + DAY, now)
    ids = [cp.pk for cp in charge_points]
    PortDay.objects.filter(charge_point_id__in=ids, day=day).delete()
    alive = [cp for cp in charge_points if end > max(start, cp.created_at)]
    gone = [cp.pk for cp in charge_points if cp not in alive]
    if gone:
        ChargePointDay.objects.filter(charge_point_id__in=gone, day=day).delete()
    result: dict[int, ChargePointDay | None] = dict.fromkeys(gone)
    if not alive:
        return result
    ledgers = ledgers_for(charge_points=alive, start=start, end=end)
    port_rows = []
    for cp in alive:
        for port, outages in ledgers[cp.pk].ports.items():
            if not outages:
                continue  # no row: a port without one was up all day (the dashboard reads only trouble)
            causes: dict[str, float] = defaultdict(float)
            for outage in outages:
                for segment in outage.segments:
                    causes[segment.cause.key] += (segment.end - segment.start).total_seconds()
            port_rows.append(PortDay(
                charge_point_id=cp.pk, connector=port, day=day,
                owner_team_id=cp.owner_id, operator_team_id=cp.operator_id,
                outage_seconds=round(sum(o.seconds for o in outages)),
                excluded_seconds=round(sum(o.excluded_seconds for o in outages)),
                causes={key: round(seconds) for key, seconds in causes.items()},
            ))
    PortDay.objects.bulk_create(port_rows)
    charges: dict[int, list[dict]] = defaultdict(list)
    for charge in (charge_attempts(started_from=start, started_before=start + DAY)
                   .filter(charge_point_id__in=[cp.pk for cp in alive]).annotate(success=Q(SUCCESS))
                   .values("charge_point_id", "started_at", "ended_at", "energy_wh", "stop_reason", "connector",
                           "success")):
        charges[charge["charge_point_id"]].append(charge)
    failures = _failure_causes([c for rows in charges.values() for c in rows if not c["success"]])
    rows = []
    for cp in alive:
        ledger, mine = ledgers[cp.pk], charges[cp.pk]
        rows.append(ChargePointDay(
            charge_point_id=cp.pk, day=day, owner_team_id=cp.owner_id, operator_team_id=cp.operator_id,
            outage_seconds=round(sum(o.seconds for o in ledger.charge_point)),
            excluded_seconds=round(sum(o.excluded_seconds for o in ledger.charge_point)),
            attempts=len(mine),
            successes=sum(1 for c in mine if c["success"]),
            failed=sum(1 for c in mine if not c["success"]),
            failures=dict(failures.get(cp.pk, {})),
            port_charges=_port_charges(mine),
            covered_until=end,
            complete=end >= start + DAY,
            end_state={str(port): cause.key if cause else "" for port, cause in ledger.end_state.items()},
            ports_down_at_end=sum(1 for cause in ledger.end_state.values() if cause),
        ))
    # One upsert for all (update_or_create is a savepoint, a locking read and a write per row).
    ChargePointDay.objects.bulk_create(rows, update_conflicts=True, unique_fields=["charge_point", "day"],
                                       update_fields=ROW_FIELDS)
    result.update({row.charge_point_id: row for row in rows})
    return result


def rollup_day(*, charge_point: ChargePoint, day: date, now: datetime | None = None) -> ChargePointDay | None:
    """Recompute one charge point's day (``rollup_days`` for one)."""
    return rollup_days(charge_points=[charge_point], day=day, now=now)[charge_point.pk]


# --- The refresh ---------------------------------------------------------------------------

def rollups_roll_over(*, now: datetime) -> int:
    """Mark the days computed before they were over: they are recomputed
    whole. Proportional to yesterday's changes (a partial index)."""
    today = utc_day(now)
    stale = list(ChargePointDay.objects.filter(complete=False, day__lt=today).values_list("charge_point_id", "day"))
    rollups_mark_days(stale)
    return len(stale)


def rollups_refresh(*, now: datetime | None = None, max_days: int | None = None) -> int:
    """Recompute the dirty days (after the roll-over), oldest first, each
    claimed under a lock that skips what another worker holds; returns how
    many were recomputed. Safe to run twice at once."""
    now = now or timezone.now()
    today = utc_day(now)
    rollups_roll_over(now=now)
    done = 0
    while max_days is None or done < max_days:
        with transaction.atomic():
            claimed = list(
                DirtyDay.objects.select_for_update(skip_locked=True).order_by("day", "charge_point_id")
                .values_list("pk", "charge_point_id", "day")[:CLAIM_CHUNK]
            )
            if not claimed:
                break
            charge_points = _locked_charge_points({cp_id for _pk, cp_id, _day in claimed})
            previous = {
                (row.charge_point_id, row.day): row.end_state for row in ChargePointDay.objects.filter(
                    charge_point_id__in=list(charge_points), day__in={day for _pk, _cp, day in claimed})
                .only("charge_point_id", "day", "end_state")
            }
            carry, down = [], []
            by_day: dict[date, list[ChargePoint]] = defaultdict(list)
            for _pk, cp_id, day in claimed:
                if cp_id in charge_points and day <= today:
                    by_day[day].append(charge_points[cp_id])
            for day, day_charge_points in sorted(by_day.items()):
                rows = rollup_days(charge_points=day_charge_points, day=day, now=now)
                done += len(rows)
                for cp_id, row in rows.items():
                    if row is None or day >= today:
                        continue
                    if _down(row.end_state) != _down(previous.get((cp_id, day))):
                        carry.append((cp_id, day + DAY))
                    elif row.ports_down_at_end:
                        down.append((cp_id, day + DAY))
            DirtyDay.objects.filter(pk__in=[pk for pk, _cp, _day in claimed]).delete()
            rollups_mark_days(carry + _missing(down))
    return done


def _locked_charge_points(ids: set[int]) -> dict[int, ChargePoint]:
    """The charge points, read after a lock that only a move between teams
    waits for (PostgreSQL's FOR KEY SHARE: telemetry's updates of the live
    state do not): the rows written carry the teams they have when the
    transaction commits (``performance.teams``). Elsewhere writes are
    serialised."""
    if connection.vendor == "postgresql" and ids:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {ChargePoint._meta.db_table} WHERE id = ANY(%s) ORDER BY id FOR KEY SHARE",
                           [sorted(ids)])
    return ChargePoint.objects.in_bulk(ids)


def _down(end_state: dict | None) -> dict:
    return {port: cause for port, cause in (end_state or {}).items() if cause}


def _missing(pairs: list[tuple[int, date]]) -> list[tuple[int, date]]:
    """The (charge point, day) pairs without a row: a port down at the end of
    a day is down the next day too even when nothing happens then."""
    if not pairs:
        return []
    have = set(ChargePointDay.objects.filter(
        charge_point_id__in={cp for cp, _day in pairs}, day__in={day for _cp, day in pairs},
    ).values_list("charge_point_id", "day"))
    return [pair for pair in pairs if pair not in have]
