"""A fleet simulator for demos: it plays the part of a CSMS sending telemetry
for the demo charge points, through the same service as the API
(``telemetry_record_batch``), so the health checks file system reports and
resolve them while a newcomer watches.

Each charge point is healthy most of the time (heartbeats, good signal
readings, completed charges) and now and then goes through an *episode*:
a lost connection, a fault, a series of failed charges or a weak signal,
after which it recovers.

The checks need a problem to last (more than 10 minutes disconnected or in
error, three failures in an hour, 15 minutes of weak signal). So that the
demo shows reports within minutes, episodes start as a CSMS would report
them late: a lost connection stamped with the last heartbeat before it, a
fault noticed some minutes after it began, failed charges uploaded from the
charger's offline log. ``realtime=True`` turns that off.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from .models import ChargePoint, ChargePointState, Connectivity
from .services import telemetry_record_batch

logger = logging.getLogger(__name__)

EPISODES = ("disconnect", "fault", "failed_charges", "weak_signal")
# Prefixes of the bulk fleets (seed_demo --charge-points, benchmarks): not demo charge points.
BULK_PREFIXES = ("FLEET-", "BENCH-")

GOOD_DBM = {Connectivity.WIFI: (-65, -50), Connectivity.CELLULAR: (-90, -75)}
WEAK_DBM = {Connectivity.WIFI: (-92, -84), Connectivity.CELLULAR: (-118, -109)}
FAULT_CODES = ("GroundFailure", "OverVoltage", "HighTemperature", "PowerSwitchFailure", "WeakSignal")


@dataclass
class SimulatedChargePoint:
    ocpp_id: str
    connectivity: str
    episode: str | None = None
    episode_ends_at: datetime | None = None
    next_heartbeat_at: datetime | None = None
    next_signal_at: datetime | None = None
    # A driver's session: Charging until then, a completed charge at the end.
    charging_since: datetime | None = None
    charging_until: datetime | None = None


@dataclass
class FleetSimulator:
    charge_points: list[SimulatedChargePoint]
    rng: random.Random
    realtime: bool = False
    # How many episodes start per minute across the fleet, on average.
    episodes_per_minute: float = 0.5
    heartbeat_every: timedelta = timedelta(seconds=30)
    signal_every: timedelta = timedelta(seconds=30)
    # Where events go: the telemetry service (default), or e.g. a link that
    # sends them through the OCPP gateway (``simulate_fleet --ocpp``).
    send: Callable[[list[dict]], list] | None = None
    sent: int = 0
    rejected: int = 0
    log: list[str] = field(default_factory=list)

    @classmethod
    def for_demo(cls, *, limit: int = 100, seed: int | None = None, realtime: bool = False) -> FleetSimulator:
        """The demo charge points (not the bulk fleets), as they are now:
        one already disconnected or in error recovers within a few minutes."""
        rng = random.Random(seed)
        qs = ChargePoint.objects.order_by("pk")
        for prefix in BULK_PREFIXES:
            qs = qs.exclude(ocpp_id__startswith=prefix)
        now = timezone.now()
        simulated = []
        for ocpp_id, connectivity, state in qs.values_list("ocpp_id", "connectivity", "state")[:limit]:
            cp = SimulatedChargePoint(ocpp_id=ocpp_id, connectivity=connectivity)
            if state in (ChargePointState.DISCONNECTED, ChargePointState.ERROR):
                cp.episode = "disconnect" if state == ChargePointState.DISCONNECTED else "fault"
                cp.episode_ends_at = now + timedelta(seconds=rng.uniform(60, 240))
            simulated.append(cp)
        return cls(charge_points=simulated, rng=rng, realtime=realtime)

    def tick(self, *, now: datetime | None = None, tick: timedelta = timedelta(seconds=10)) -> int:
        """Advance the fleet by one tick and send what happened; the number
        of events sent."""
        now = now or timezone.now()
        events: list[dict] = []
        healthy = [cp for cp in self.charge_points if cp.episode is None]
        start_chance = self.episodes_per_minute * tick.total_seconds() / 60 / max(len(healthy), 1)
        for cp in self.charge_points:
            if cp.episode is not None and now >= cp.episode_ends_at:
                events += self._recover(cp, now)
            elif cp.episode is None and cp.charging_since is None and self.rng.random() < start_chance:
                events += self._start(cp, self.rng.choice(self._episodes_for(cp)), now)
            events += self._routine(cp, now)
        if events:
            results = self.send(events) if self.send else telemetry_record_batch(events=events)
            rejected = [r for r in results if r.status == "rejected"]
            self.rejected += len(rejected)
            if rejected:  # a bug in the simulator, not bad luck: say so
                logger.warning("Simulator: %d events rejected, e.g. %s", len(rejected), rejected[0].errors)
        self.sent += len(events)
        return len(events)

    # --- what a charge point does ---

    def _episodes_for(self, cp: SimulatedChargePoint) -> list[str]:
        if cp.connectivity == Connectivity.ETHERNET:
            return [e for e in EPISODES if e != "weak_signal"]
        return list(EPISODES)

    def _event(self, cp: SimulatedChargePoint, event_type: str, at: datetime, **fields) -> dict:
        return {"event_id": uuid.uuid4().hex, "type": event_type, "ocpp_id": cp.ocpp_id,
                "occurred_at": at.isoformat(), **fields}

    def _status(self, cp, at, status: str, **fields) -> dict:
        return self._event(cp, "state_change", at, status=status, **fields)

    def _lead(self, minutes: float) -> timedelta:
        return timedelta(0) if self.realtime else timedelta(minutes=minutes)

    def _start(self, cp: SimulatedChargePoint, episode: str, now: datetime) -> list[dict]:
        cp.episode = episode
        self.log.append(f"{now:%H:%M:%S} {cp.ocpp_id}: {episode.replace('_', ' ')}")
        if episode in ("disconnect", "fault"):
            # Long enough to pass the 10-minute threshold: reported 8 minutes
            # late it lasts 3-6 minutes more; in real time, 13-16 minutes.
            cp.episode_ends_at = now + timedelta(minutes=self.rng.uniform(3, 6) + (10 if self.realtime else 0))
            began = now - self._lead(8)
            if episode == "disconnect":
                return [self._event(cp, "state_change", began, state=ChargePointState.DISCONNECTED)]
            return [self._status(cp, began, "Faulted", error_code=self.rng.choice(FAULT_CODES),
                                 vendor_error_code=f"E{self.rng.randint(100, 999)}")]
        if episode == "failed_charges":
            # Uploaded from the charger's offline log, they ended most of an
            # hour ago, so the report clears within minutes too.
            events = []
            for i in range(3):
                ended = now - self._lead(52) - timedelta(seconds=20 * (3 - i))
                started = ended - timedelta(minutes=self.rng.uniform(1, 4))
                failure = self.rng.choice([{"energy_wh": 0, "stop_reason": "EVDisconnected"},
                                           {"energy_wh": self.rng.randint(50, 900), "stop_reason": "EmergencyStop"}])
                events.append(self._event(cp, "charge", ended, started_at=started.isoformat(),
                                          ended_at=ended.isoformat(), **failure))
            cp.episode_ends_at = now + timedelta(seconds=30)
            return events
        # weak_signal: the weak readings come in through _routine meanwhile,
        # for longer than the checks' window (settings.HEALTH_CHECKS): every
        # reading in it must be weak before a report is filed.
        window = max(settings.HEALTH_CHECKS[key]["window_minutes"] for key in ("bad_wifi", "bad_cell_signal"))
        cp.episode_ends_at = now + timedelta(minutes=window + self.rng.uniform(2, 5))
        return []

    def _recover(self, cp: SimulatedChargePoint, now: datetime) -> list[dict]:
        episode, cp.episode, cp.episode_ends_at = cp.episode, None, None
        self.log.append(f"{now:%H:%M:%S} {cp.ocpp_id}: recovered from {episode.replace('_', ' ')}")
        if episode == "disconnect":
            cp.next_heartbeat_at = now + self.heartbeat_every
            return [self._event(cp, "heartbeat", now), self._status(cp, now, "Available")]
        if episode == "fault":
            return [self._status(cp, now, "Available", error_code="NoError")]
        return []

    def _routine(self, cp: SimulatedChargePoint, now: datetime) -> list[dict]:
        if cp.episode == "disconnect":
            return []
        events = []
        if cp.next_heartbeat_at is None or now >= cp.next_heartbeat_at:
            events.append(self._event(cp, "heartbeat", now))
            cp.next_heartbeat_at = now + self.heartbeat_every
        if cp.connectivity != Connectivity.ETHERNET and (cp.next_signal_at is None or now >= cp.next_signal_at):
            low, high = (WEAK_DBM if cp.episode == "weak_signal" else GOOD_DBM)[cp.connectivity]
            events.append(self._event(cp, "signal", now, kind=cp.connectivity, dbm=self.rng.randint(low, high)))
            cp.next_signal_at = now + self.signal_every
        if cp.charging_since is not None and now >= cp.charging_until:
            minutes = (now - cp.charging_since).total_seconds() / 60
            events.append(self._event(cp, "charge", now, started_at=cp.charging_since.isoformat(),
                                      ended_at=now.isoformat(), energy_wh=int(minutes * self.rng.randint(120, 180)),
                                      stop_reason=self.rng.choice(["Local", "EVDisconnected", "Remote"])))
            events.append(self._status(cp, now, "Available"))
            cp.charging_since = cp.charging_until = None
        elif cp.episode is None and cp.charging_since is None and self.rng.random() < 0.02:
            cp.charging_since, cp.charging_until = now, now + timedelta(minutes=self.rng.uniform(3, 12))
            events.append(self._status(cp, now, "Charging"))
        return events
