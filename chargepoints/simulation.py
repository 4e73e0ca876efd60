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

``opening=True`` (the demo, ``simulate_fleet``) starts one episode of every
kind on its first tick (a lost connection, a fault, failed charges, weak
Wi-Fi and a weak cellular signal), so that every system reason appears
within minutes of start; random episodes follow. Episodes last relative to
the checks' thresholds (settings.HEALTH_CHECKS), which the development
settings shorten by ``DEMO_SPEED``; ``speed`` shortens the simulator's own
margins and intervals alike.
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
from .services.batch import telemetry_record_batch

logger = logging.getLogger(__name__)

EPISODES = ("disconnect", "fault", "failed_charges", "weak_signal")
# What the demo starts with: one problem of every kind (the last one on the second tick).
OPENING = [("weak_signal", Connectivity.WIFI), ("weak_signal", Connectivity.CELLULAR), ("fault", None),
           ("failed_charges", None), ("disconnect", None)]
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
    passive: bool = False


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
    # How many times faster than real life the demo runs (DEMO_SPEED).
    speed: float = 1.0
    # Start one episode of every kind on the first tick.
    opening: bool = False
    # Whether a lost connection may be reported late (the telemetry API
    # takes its time; over OCPP the gateway notices when the socket closes).
    late_disconnects: bool = True
    _opened: bool = False
    sent: int = 0
    rejected: int = 0
    log: list[str] = field(default_factory=list)

    @classmethod
    def for_demo(cls, *, limit: int = 100, seed: int | None = None, realtime: bool = False,
                 speed: float = 1.0, opening: bool = False) -> FleetSimulator:
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
                cp.episode_ends_at = now + timedelta(seconds=rng.uniform(60, 240) / speed)
            cp.passive = state == ChargePointState.PASSIVE
            simulated.append(cp)
        return cls(charge_points=simulated, rng=rng, realtime=realtime, speed=speed, opening=opening,
                   heartbeat_every=timedelta(seconds=30 / speed), signal_every=timedelta(seconds=30 / speed))

    def tick(self, *, now: datetime | None = None, tick: timedelta = timedelta(seconds=10)) -> int:
        """Advance the fleet by one tick and send what happened; the number
        of events sent."""
        now = now or timezone.now()
        events: list[dict] = []
        if self.opening:
            # A lost connection on the second tick: over OCPP a charger must
            # be connected (the first tick's heartbeat) before it can drop.
            first = not self._opened
            events += self._open(now, OPENING[:-1] if first else OPENING[-1:])
            self._opened, self.opening = True, first
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

    def _open(self, now: datetime, wanted) -> list[dict]:
        """One episode of every kind, each on its own healthy charge point
        (weak Wi-Fi on a Wi-Fi one, weak cell on a cellular one)."""
        free = [cp for cp in self.charge_points if cp.episode is None and not cp.passive]
        events = []
        for episode, connectivity in wanted:
            cp = next((cp for cp in free if connectivity in (None, cp.connectivity)), None)
            if cp is None:
                logger.warning("Simulator: no charge point left to show %s%s", episode,
                               f" ({connectivity})" if connectivity else "")
                continue
            free.remove(cp)
            cp.charging_since = cp.charging_until = None
            events += self._start(cp, episode, now)
        return events

    def _minutes(self, check: str, key: str = "minutes") -> float:
        return float(settings.HEALTH_CHECKS[check][key])

    def _margin(self, low: float, high: float) -> timedelta:
        """A few minutes of real life, shortened by ``speed``."""
        return timedelta(minutes=self.rng.uniform(low, high) / self.speed)

    def _episodes_for(self, cp: SimulatedChargePoint) -> list[str]:
        if cp.connectivity == Connectivity.ETHERNET:
            return [e for e in EPISODES if e != "weak_signal"]
        return list(EPISODES)

    def _event(self, cp: SimulatedChargePoint, event_type: str, at: datetime, **fields) -> dict:
        return {"event_id": uuid.uuid4().hex, "type": event_type, "ocpp_id": cp.ocpp_id,
                "occurred_at": at.isoformat(), **fields}

    def _status(self, cp, at, status: str, **fields) -> dict:
        return self._event(cp, "state_change", at, status=status, **fields)

    def _start(self, cp: SimulatedChargePoint, episode: str, now: datetime) -> list[dict]:
        cp.episode = episode
        self.log.append(f"{now:%H:%M:%S} {cp.ocpp_id}: {episode.replace('_', ' ')}")
        if episode in ("disconnect", "fault"):
            # Long enough to pass the check's threshold by a few minutes:
            # reported late, most of the threshold has passed already.
            threshold = timedelta(minutes=self._minutes("disconnected" if episode == "disconnect" else "in_error"))
            late = not self.realtime and (episode == "fault" or self.late_disconnects)
            lead = threshold * 0.8 if late else timedelta(0)
            cp.episode_ends_at = now + threshold - lead + self._margin(3, 6)
            began = now - lead
            if episode == "disconnect":
                return [self._event(cp, "state_change", began, state=ChargePointState.DISCONNECTED)]
            return [self._status(cp, began, "Faulted", error_code=self.rng.choice(FAULT_CODES),
                                 vendor_error_code=f"E{self.rng.randint(100, 999)}")]
        if episode == "failed_charges":
            # Uploaded from the charger's offline log: late, they ended half
            # the check's window ago, so the report clears within minutes too,
            # and the sweep still has half the window to see all three (with
            # less, a busy worker's sweep could miss them at a high DEMO_SPEED).
            window = timedelta(minutes=self._minutes("failed_charges", "window_minutes"))
            lead = timedelta(0) if self.realtime else window * 0.5
            step = min(timedelta(seconds=20), window * 0.1 / 3)
            events = []
            for i in range(3):
                ended = now - lead - step * (3 - i)
                started = ended - min(timedelta(minutes=self.rng.uniform(1, 4)), window * 0.05)
                failure = self.rng.choice([{"energy_wh": 0, "stop_reason": "EVDisconnected"},
                                           {"energy_wh": self.rng.randint(50, 900), "stop_reason": "EmergencyStop"}])
                events.append(self._event(cp, "charge", ended, started_at=started.isoformat(),
                                          ended_at=ended.isoformat(), **failure))
            cp.episode_ends_at = now + timedelta(seconds=30 / self.speed)
            return events
        # weak_signal: the weak readings come in through _routine meanwhile,
        # for longer than the checks' window (settings.HEALTH_CHECKS): every
        # reading in it must be weak before a report is filed.
        window = max(self._minutes(key, "window_minutes") for key in ("bad_wifi", "bad_cell_signal"))
        cp.episode_ends_at = now + timedelta(minutes=window) + self._margin(2, 5)
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
            cp.charging_since, cp.charging_until = now, now + self._margin(3, 12)
            events.append(self._status(cp, now, "Charging"))
        return events
