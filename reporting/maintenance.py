"""Maintenance windows (silences): who may create, change and delete them,
which are active at a moment, and the "would have filed" rows the health
sweep writes instead of reports for the charge points they cover.

Inside a window the checks still evaluate; a charge point without an open
report gets a ``SilencedDetection`` row on the window instead of a report.
A report already open when the window starts stays open and keeps counting
detections; it resolves as usual when the condition clears.
"""

from __future__ import annotations

import copy
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q

from accounts.audit import audit_diff, audit_record, audit_snapshot
from accounts.models import AuditAction, Team, User
from accounts.permissions import Capability, can_on_team
from chargepoints.health_marks import health_marks_add
from chargepoints.models import ChargePoint, Site
from core.errors import Invalid, NotAllowed

from .hooks import maintenance_changed
from .models import MaintenanceWindow, SilencedDetection

FIELDS = ("team", "site", "charge_point", "reason", "starts_at", "ends_at", "weekdays", "local_start",
          "duration_minutes", "time_zone")
EDITABLE = tuple(name for name in FIELDS if name != "team")
MAX_DURATION_MINUTES = 7 * 24 * 60


# --- Writes --------------------------------------------------------------------------


def _snapshot(window: MaintenanceWindow) -> dict:
    snapshot = audit_snapshot(window, FIELDS)
    if window.local_start is not None:
        snapshot["local_start"] = window.local_start.isoformat()
    return snapshot


def _require(by, team_id: int) -> None:
    if not can_on_team(by, Capability.EDIT_ASSETS, team_id=team_id):
        raise NotAllowed("You need the admin role in this team to manage its maintenance windows.")


def _normal_weekdays(value) -> str:
    if value in (None, ""):
        return ""
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    try:
        days = sorted({int(str(day).strip()) for day in items if str(day).strip() != ""})
    except ValueError:
        raise Invalid("Weekdays are numbers from 0 (Monday) to 6 (Sunday).", field="weekdays") from None
    if any(day < 0 or day > 6 for day in days):
        raise Invalid("Weekdays are numbers from 0 (Monday) to 6 (Sunday).", field="weekdays")
    return ",".join(str(day) for day in days)


def maintenance_window_validate(window: MaintenanceWindow) -> None:
    """Raise Invalid unless the window makes sense: an end after the start,
    a target of its team, a complete weekly recurrence."""
    if not window.team_id:
        raise Invalid("Choose the team the window belongs to.", field="team")
    if not (window.reason or "").strip():
        raise Invalid("Say why: the reason is shown wherever the window is.", field="reason")
    if window.starts_at is None:
        raise Invalid("Give the start.", field="starts_at")
    window.weekdays = _normal_weekdays(window.weekdays)
    if window.ends_at is None and not window.weekdays:
        raise Invalid("A one-off window needs an end.", field="ends_at")
    if window.ends_at is not None and window.ends_at <= window.starts_at:
        raise Invalid("The end must be after the start.", field="ends_at")
    if window.weekdays:
        if window.local_start is None:
            raise Invalid("A weekly window needs its local start time.", field="local_start")
        if not window.duration_minutes or not 1 <= window.duration_minutes <= MAX_DURATION_MINUTES:
            raise Invalid(f"A weekly window lasts from 1 to {MAX_DURATION_MINUTES} minutes.",
                          field="duration_minutes")
    elif window.local_start is not None or window.duration_minutes:
        raise Invalid("A start time and duration need weekdays (a weekly window).", field="weekdays")
    try:
        zoneinfo.ZoneInfo(window.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"Unknown time zone '{window.time_zone}'.", field="time_zone") from None
    if window.charge_point_id:
        cp = ChargePoint.objects.get(pk=window.charge_point_id)
        if window.team_id not in (cp.owner_id, cp.operator_id):
            raise Invalid("The charge point is not one the team owns or operates.", field="charge_point")
        if window.site_id and window.site_id != cp.site_id:
            raise Invalid("The charge point is not at that site; choose one or the other.", field="site")
        window.site_id = None  # the charge point is the target
    elif window.site_id:
        site_is_ours = Site.objects.filter(pk=window.site_id).filter(
            Q(team_id=window.team_id) | Q(charge_points__owner_id=window.team_id)
            | Q(charge_points__operator_id=window.team_id)
        ).exists()
        if not site_is_ours:
            raise Invalid("The site is not the team's, nor has it charge points the team owns or operates.",
                          field="site")


def maintenance_window_create(*, by, team: Team | int, reason: str, starts_at: datetime,
                              ends_at: datetime | None = None, site: Site | None = None,
                              charge_point: ChargePoint | None = None, weekdays="", local_start=None,
                              duration_minutes: int | None = None, time_zone: str | None = None
                              ) -> MaintenanceWindow:
    team_id = team.pk if isinstance(team, Team) else team
    _require(by, team_id)
    window = MaintenanceWindow(
        team_id=team_id, site=site, charge_point=charge_point, reason=(reason or "").strip(),
        starts_at=starts_at, ends_at=ends_at, weekdays=weekdays, local_start=local_start,
        duration_minutes=duration_minutes, created_by=by if isinstance(by, User) else None,
    )
    if time_zone:
        window.time_zone = time_zone
    maintenance_window_validate(window)
    with transaction.atomic():
        window.save()
        audit_record(by=by, action=AuditAction.CREATE, obj=window, team=team_id,
                     changes=audit_diff({}, _snapshot(window)))
        maintenance_changed(windows=[window])
    return window


def maintenance_window_update(*, window: MaintenanceWindow, by, **changes) -> MaintenanceWindow:
    """Change the window's fields (any of ``EDITABLE``); the team stays."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise Invalid(f"These cannot be changed: {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
    with transaction.atomic():
        current = MaintenanceWindow.objects.select_for_update().get(pk=window.pk)
        _require(by, current.team_id)
        before = _snapshot(current)
        was = copy.copy(current)
        for name, value in changes.items():
            setattr(current, name, value.strip() if name == "reason" and isinstance(value, str) else value)
        maintenance_window_validate(current)
        current.save()
        diff = audit_diff(before, _snapshot(current))
        if diff:
            audit_record(by=by, action=AuditAction.UPDATE, obj=current, team=current.team_id, changes=diff)
            maintenance_changed(windows=[was, current])
            _look_again(current)
    for field in MaintenanceWindow._meta.concrete_fields:
        setattr(window, field.attname, getattr(current, field.attname))
    return window


def maintenance_window_delete(*, window: MaintenanceWindow, by) -> None:
    _require(by, window.team_id)
    with transaction.atomic():
        audit_record(by=by, action=AuditAction.DELETE, obj=window, team=window.team_id,
                     changes=audit_diff(_snapshot(window), {}))
        maintenance_changed(windows=[window])
        _look_again(window)
        window.delete()


def _look_again(window: MaintenanceWindow) -> None:
    """A window shortened or deleted: the health engine looks again at the
    charge points it silenced (they may file now)."""
    health_marks_add(SilencedDetection.objects.filter(window_id=window.pk).values_list("charge_point_id", flat=True))


# --- Which windows are active ---------------------------------------------------------


def maintenance_window_is_active(window: MaintenanceWindow, now: datetime) -> bool:
    return bool(maintenance_window_occurrences(window, now, now + timedelta(microseconds=1)))


def maintenance_window_occurrences(window: MaintenanceWindow, start: datetime, end: datetime
                                   ) -> list[tuple[datetime, datetime]]:
    """The times within [start, end) in which the maintenance window was in
    force (a weekly window: each occurrence, in its own time zone)."""
    lo = max(start, window.starts_at)
    hi = end if window.ends_at is None else min(end, window.ends_at)
    if hi <= lo:
        return []
    if not window.weekdays:
        return [(lo, hi)]
    zone = zoneinfo.ZoneInfo(window.time_zone)
    duration = timedelta(minutes=window.duration_minutes or 0)
    days = set(window.weekday_list())
    spans = []
    day = (lo - duration).astimezone(zone).date() - timedelta(days=1)
    last = hi.astimezone(zone).date()
    while day <= last:
        if day.weekday() in days:
            occurrence = datetime.combine(day, window.local_start, tzinfo=zone)
            s, e = max(occurrence, lo), min(occurrence + duration, hi)
            if e > s:
                spans.append((s, e))
        day += timedelta(days=1)
    return spans


@dataclass(frozen=True)
class ActiveWindows:
    """The windows active at one moment, indexed by what they cover."""

    by_charge_point: dict[int, int]
    by_site: dict[int, int]
    by_team: dict[int, int]

    def __bool__(self) -> bool:
        return bool(self.by_charge_point or self.by_site or self.by_team)

    def window_for(self, row: dict) -> int | None:
        """The window covering an offender (a dict with ``pk``, ``site_id``,
        ``owner_id``, ``operator_id``), or None."""
        return (
            self.by_charge_point.get(row["pk"])
            or self.by_site.get(row["site_id"])
            or self.by_team.get(row["operator_id"])
            or self.by_team.get(row["owner_id"])
        )


NO_WINDOWS = ActiveWindows({}, {}, {})


def maintenance_windows_active(now: datetime) -> ActiveWindows:
    """The windows active now: one query over the windows whose period
    contains ``now`` (there are few), the weekly test in Python."""
    windows = MaintenanceWindow.objects.filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=now), starts_at__lte=now
    ).order_by("pk")
    by_cp, by_site, by_team = {}, {}, {}
    for window in windows:
        if not maintenance_window_is_active(window, now):
            continue
        if window.charge_point_id:
            by_cp.setdefault(window.charge_point_id, window.pk)
        elif window.site_id:
            by_site.setdefault(window.site_id, window.pk)
        else:
            by_team.setdefault(window.team_id, window.pk)
    return ActiveWindows(by_cp, by_site, by_team)


# --- What would have been filed -------------------------------------------------------


def maintenance_record_silenced(*, reason: str, hits: list[tuple[int, int]], now: datetime) -> int:
    """Record (window id, charge point id) detections the sweep did not file:
    a new row per window, charge point and reason, or one more detection on
    the row already there. One statement; the caller holds the transaction."""
    if not hits:
        return 0
    table = SilencedDetection._meta.db_table
    at = connection.ops.adapt_datetimefield_value(now)
    values = ", ".join(["(%s, %s, %s, %s, %s, 1)"] * len(hits))
    params = [value for window_id, cp_id in hits for value in (window_id, cp_id, reason, at, at)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (window_id, charge_point_id, reason, first_seen_at, last_seen_at, detections) "
            f"VALUES {values} ON CONFLICT (window_id, charge_point_id, reason) DO UPDATE SET "
            f"last_seen_at = excluded.last_seen_at, detections = {table}.detections + 1",
            params,
        )
    return len(hits)
