"""The thresholds each health check uses: the defaults in
settings.HEALTH_CHECKS, overridden per operator team (HealthCheckSettings).

A check runs one query per distinct set of thresholds: one for every team on
the defaults, and one per different override. Teams rarely override, so that
is one or two queries per check, each over the charge points in trouble.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields, replace

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q

from reporting.catalogue import Reason
from reporting.models import HealthCheckSettings, ReportSettings

from .checks import CHECKS, Thresholds

__all__ = ["SiteOutage", "Flapping", "Group", "HealthConfig", "Thresholds", "default_thresholds", "health_config_load"]


@dataclass(frozen=True)
class Group:
    """Charge points whose operator team is in ``team_ids`` (or, for the
    defaults, not in ``except_team_ids``) and the thresholds they get."""

    thresholds: Thresholds
    team_ids: tuple[int, ...] | None = None
    except_team_ids: tuple[int, ...] = ()

    def charge_points(self, prefix: str = "") -> Q:
        """A filter on the charge points of this group (``prefix`` reaches
        the charge point from another model, e.g. "charge_point__")."""
        if self.team_ids is not None:
            return Q(**{f"{prefix}operator_id__in": self.team_ids})
        if self.except_team_ids:
            return ~Q(**{f"{prefix}operator_id__in": self.except_team_ids})
        return Q()


@dataclass(frozen=True)
class Flapping:
    """More than ``flips`` changes between healthy and unhealthy within
    ``window_minutes`` is flapping; a flapping report resolves after
    ``hold_down_minutes`` without the condition (settings.HEALTH_CHECKS["flapping"])."""

    flips: int = 4
    window_minutes: int = 60
    hold_down_minutes: int = 30


@dataclass(frozen=True)
class SiteOutage:
    """At least ``percent`` % of a site's charge points and at least
    ``min_charge_points`` disconnected (settings.HEALTH_CHECKS["site_outage"])."""

    enabled: bool = True
    percent: int = 80
    min_charge_points: int = 2


@dataclass(frozen=True)
class HealthConfig:
    defaults: dict[str, Thresholds]
    overrides: dict[int, HealthCheckSettings]
    auto_resolve: bool
    # Teams that opted into self-healing (report settings): team id -> the
    # extra minutes the in-error check waits after the soft reset.
    self_heal: dict[int, int] = field(default_factory=dict)
    flapping: Flapping = Flapping()
    site_outage: SiteOutage = SiteOutage()

    def groups(self, reason: str) -> list[Group]:
        default = self.defaults[reason]
        by_thresholds: dict[Thresholds, list[int]] = {}
        healing = self.self_heal if reason == Reason.IN_ERROR else {}
        for team_id in sorted(set(self.overrides) | set(healing)):
            mine = self.thresholds_for(reason, team_id)
            if mine != default:
                by_thresholds.setdefault(mine, []).append(team_id)
        overridden = tuple(sorted(t for teams in by_thresholds.values() for t in teams))
        groups = [Group(thresholds=default, except_team_ids=overridden)]
        groups += [Group(thresholds=t, team_ids=tuple(sorted(ids))) for t, ids in by_thresholds.items()]
        return groups

    def thresholds_for(self, reason: str, team_id: int | None) -> Thresholds:
        """One check's thresholds for the charge points a team operates."""
        mine = self.defaults[reason]
        if team_id in self.overrides:
            mine = _override(mine, reason, self.overrides[team_id])
        if reason == Reason.IN_ERROR and team_id in self.self_heal:
            mine = replace(mine, self_heal=True, self_heal_minutes=self.self_heal[team_id])
        return mine

    def digests(self) -> dict[str, str]:
        """A digest of the settings in force: "*" for what every charge
        point shares (defaults, switches, flapping, site outages), and one
        per team with settings of its own. The incremental engine compares
        them between passes to re-evaluate what a change affects."""
        shared = {"defaults": {reason: asdict(t) for reason, t in self.defaults.items()},
                  "auto_resolve": self.auto_resolve, "flapping": asdict(self.flapping),
                  "site_outage": asdict(self.site_outage)}
        digests = {"*": _digest(shared)}
        for team_id in sorted(set(self.overrides) | set(self.self_heal)):
            digests[str(team_id)] = _digest({
                "thresholds": {reason: asdict(self.thresholds_for(reason, team_id)) for reason in self.defaults},
                "auto_resolve": self.auto_resolve_for(team_id),
            })
        return digests

    def auto_resolve_for(self, team_id: int) -> bool:
        team_settings = self.overrides.get(team_id)
        if team_settings is None or team_settings.auto_resolve is None:
            return self.auto_resolve
        return team_settings.auto_resolve


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def default_thresholds() -> dict[str, Thresholds]:
    """Each check's defaults from settings.HEALTH_CHECKS; a value a check
    reads (``Check.reads``) that is missing is a configuration error."""
    defaults = {}
    for reason, check in CHECKS.items():
        values = settings.HEALTH_CHECKS.get(reason) or {}
        missing = [name for name in check.reads if values.get(name) is None]
        if missing:
            raise ImproperlyConfigured(f"settings.HEALTH_CHECKS['{reason}'] needs {', '.join(missing)}.")
        defaults[reason] = Thresholds(**{name: values[name] for name in check.reads})
    return defaults


def _override(default: Thresholds, reason: str, team_settings: HealthCheckSettings) -> Thresholds:
    changes = {}
    for f in fields(Thresholds):
        value = getattr(team_settings, f"{reason}_{f.name}", None)
        if value is not None:
            changes[f.name] = value
    return replace(default, **changes)


def team_thresholds(reason: str, team_id: int | None) -> Thresholds:
    """One check's thresholds for the charge points a team operates, as they
    are now: the defaults with the team's overrides."""
    thresholds = default_thresholds()[reason]
    team_settings = HealthCheckSettings.objects.filter(team_id=team_id).first() if team_id else None
    return _override(thresholds, reason, team_settings) if team_settings is not None else thresholds


def health_config_load() -> HealthConfig:
    """Defaults and every team's overrides, read once per sweep."""
    return HealthConfig(
        defaults=default_thresholds(),
        overrides={s.team_id: s for s in HealthCheckSettings.objects.all()},
        auto_resolve=settings.HEALTH_CHECKS["auto_resolve"],
        self_heal=dict(ReportSettings.objects.filter(self_heal=True).values_list("team_id", "self_heal_minutes")),
        flapping=Flapping(**settings.HEALTH_CHECKS.get("flapping", {})),
        site_outage=SiteOutage(**settings.HEALTH_CHECKS.get("site_outage", {})),
    )
