"""Hooks that a higher app fills in from its ``AppConfig.ready()``, so this
app can hand work to it without importing it.

``telemetry_recorded``: called with ``accepted`` (event type -> the clean
events of a batch that were stored: not duplicates, not rejected) at the
end of ``telemetry_record_batch``, inside its transaction. A heartbeat that
brought a disconnected charge point back carries ``reconnected: True``. A
listener must be quick (a statement or two per batch, never one per event)
and must not swallow errors: an exception rolls the batch back.
"""

from __future__ import annotations

from collections.abc import Callable

telemetry_recorded: list[Callable[..., None]] = []


def telemetry_stored(*, accepted: dict[str, list[dict]]) -> None:
    if not any(accepted.values()):
        return
    for listener in telemetry_recorded:
        listener(accepted=accepted)
