"""Hooks that a higher app fills in from its ``AppConfig.ready()``, so this
app can hand work to it without importing it.

``timeline_listeners``: called with ``event_ids`` (the new timeline rows)
and their ``kind`` inside the transaction that writes them, by the two
places that write a report's timeline (``reporting.services.timeline._event`` and
``report_system_events_bulk``). A listener that writes its own rows there
(the webhooks' deliveries) commits or rolls back with the report change:
it sees every row exactly once, whichever order the transactions commit in.
A listener must be quick and must not swallow errors it cannot handle: an
exception rolls the report change back.

``system_reports_filed``: called with ``reason=`` and ``created=`` (charge
point id -> report id) after the health checks filed system reports, in the
same transaction: a higher app adds to the new reports' timelines (the
gateway: what self-healing tried).

``maintenance_windows_changed``: called with ``windows=`` (the windows as
they were before a change or deletion and as they are after it) inside the
transaction of ``reporting.maintenance``'s create, update and delete: the
performance rollups mark the days the windows cover.
"""

from __future__ import annotations

from collections.abc import Callable

TimelineListener = Callable[..., None]

timeline_listeners: list[TimelineListener] = []
system_reports_filed: list[Callable[..., None]] = []
maintenance_windows_changed: list[Callable[..., None]] = []


def maintenance_changed(*, windows: list) -> None:
    for listener in maintenance_windows_changed:
        listener(windows=windows)


def timeline_written(*, event_ids: list[int], kind: str) -> None:
    if not event_ids:
        return
    for listener in timeline_listeners:
        listener(event_ids=event_ids, kind=kind)
