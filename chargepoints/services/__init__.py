"""Writes on charge points: recording telemetry. One module per concern;
every name is also importable from here (``from chargepoints.services import
telemetry_record_batch``):

- ``batch``: ``telemetry_record_batch``, the one way telemetry gets in (the
  API's ingest endpoint, the OCPP gateway, the fleet simulator and the tests
  call it), and its per-event ``TelemetryResult``.
- ``history``: storing the history rows of state changes, heartbeats and
  signal readings, each event once.
- ``charges``: the failed-charge rule (``charge_failure_reason``) and
  storing charges with their outcome.
- ``rows``: on PostgreSQL, the one ``INSERT ... SELECT ... ON CONFLICT DO
  NOTHING RETURNING`` per table that stores a batch's new rows without a
  model instance per event (history and charges alike).
- ``retention``: ``telemetry_retention_apply``, keeping telemetry for its
  retention (PostgreSQL partitions created ahead and dropped, rows deleted
  elsewhere).

A batch stores the history rows and moves each charge point's live state
forward (``chargepoints/live_state.py``, ``chargepoints/connectors.py``) in
one transaction, with a handful of queries per batch whatever its size.
Sites and charge points themselves are written in ``chargepoints/assets.py``.
"""

from .batch import (
    ACCEPTED,
    DUPLICATE,
    REJECTED,
    UNKNOWN_CHARGE_POINT,
    TelemetryResult,
    telemetry_record_batch,
)
from .charges import charge_failure_reason
from .retention import RetentionReport, telemetry_retention_apply

__all__ = [
    "ACCEPTED",
    "DUPLICATE",
    "REJECTED",
    "RetentionReport",
    "UNKNOWN_CHARGE_POINT",
    "TelemetryResult",
    "charge_failure_reason",
    "telemetry_record_batch",
    "telemetry_retention_apply",
]
