"""Hooks that a higher app fills in from its ``AppConfig.ready()``, so this
app can hand work to it without importing it.

``telemetry_recorded``: called with ``accepted`` (event type -> the clean
events of a batch that were stored: not duplicates, not rejected) at the
end of ``telemetry_record_batch``, inside its transaction. A heartbeat that
brought a disconnected charge point back carries ``reconnected: True``. A
listener must be quick (a statement or two per batch, never one per event)
and must not swallow errors: an exception rolls the batch back.

``charge_point_moved``: called with ``charge_point=`` (as saved) inside
``chargepoints.assets.charge_point_update``'s transaction when its owner or
operator changed: reporting moves the charge point's reports to the new
teams (``reporting.teams``), so the move and its reports commit together.

``site_moved``: called with ``site=`` (as saved) inside
``chargepoints.assets.site_update``'s transaction when the site went to
another team: reporting moves its site reports.
"""

from __future__ import annotations

from collections.abc import Callable

telemetry_recorded: list[Callable[..., None]] = []
charge_point_moved: list[Callable[..., None]] = []
site_moved: list[Callable[..., None]] = []


def telemetry_stored(*, accepted: dict[str, list[dict]]) -> None:
    if not any(accepted.values()):
        return
    for listener in telemetry_recorded:
        listener(accepted=accepted)


def charge_point_changed_teams(*, charge_point) -> None:
    for listener in charge_point_moved:
        listener(charge_point=charge_point)


def site_changed_team(*, site) -> None:
    for listener in site_moved:
        listener(site=site)
