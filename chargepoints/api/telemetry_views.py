"""Telemetry through the API: ingest in batches, and the history it left."""

from __future__ import annotations

from datetime import UTC

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.throttles import ApiKeyRateThrottle, SessionUserRateThrottle
from accounts.models import Role
from accounts.permissions import Capability, is_support, role_allows
from chargepoints.models import Charge, ChargePoint, Heartbeat, SignalReading, StateChange
from chargepoints.services.batch import REJECTED, TelemetryResult, telemetry_record_batch
from core.rest.pagination import EndedCursorPagination, OccurredCursorPagination

from .filters import ChargeFilter, HeartbeatFilter, SignalReadingFilter, StateChangeFilter
from .telemetry_serializers import (
    MAX_BATCH,
    ChargeSerializer,
    HeartbeatSerializer,
    SignalReadingSerializer,
    StateChangeSerializer,
    TelemetryBatchResultSerializer,
    TelemetryBatchSerializer,
)

TAG = "telemetry"


class _Sender:
    """The caller as seen by the telemetry service: only the teams where it
    may write (installer or above), so a viewer role sends nothing, and for a
    person with several roles only the charge points of the teams where the
    role is strong enough are accepted."""

    is_support = False

    def __init__(self, actor) -> None:
        self._roles = {
            team_id: role
            for team_id, role in actor.roles_by_team().items()
            if role_allows(role, Capability.COMMENT)
        }

    def roles_by_team(self) -> dict[int, Role]:
        return self._roles


def _envelope_events(data) -> list:
    if not isinstance(data, dict) or "events" not in data:
        raise exceptions.ValidationError({"events": ["Send an object with an `events` list."]})
    events = data["events"]
    if not isinstance(events, list):
        raise exceptions.ValidationError({"events": ["Must be a list of events."]})
    if not events:
        raise exceptions.ValidationError({"events": ["Send at least one event."]})
    if len(events) > MAX_BATCH:
        raise exceptions.ValidationError(
            {"events": [f"At most {MAX_BATCH:,} events per batch; this one has {len(events):,}."]}
        )
    not_objects = {str(i): ["Must be an object."] for i, event in enumerate(events) if not isinstance(event, dict)}
    if not_objects:
        raise exceptions.ValidationError({"events": not_objects})
    return events


TIME_FIELDS = ("occurred_at", "started_at", "ended_at")


def _storable(event: dict) -> dict[str, str]:
    """Make the event's values storable, or return errors for those that
    cannot be; the service validates everything else.

    - Date-times are rewritten in UTC: PostgreSQL refuses offsets beyond
      ±15:59 that Python parses, and shifting a date near year 1 overflows.
    - Text with a NUL character cannot be stored (or even compared) in
      PostgreSQL.

    Either must be one rejected event, not a failed batch.
    """
    errors = {}
    for name, value in event.items():
        if isinstance(value, str) and "\x00" in value:
            errors[str(name)] = "Must not contain NUL characters."
    for name in TIME_FIELDS:
        value = event.get(name)
        if not isinstance(value, str) or name in errors:
            continue
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            continue  # the service rejects it with its own message
        if parsed is None or timezone.is_naive(parsed):
            continue
        try:
            event[name] = parsed.astimezone(UTC).isoformat()
        except OverflowError:
            errors[name] = "Out of range: must be between years 1 and 9999 in UTC."
    return errors


def _record(events: list[dict], sender) -> list[TelemetryResult]:
    """The service's results, with events whose times cannot be stored
    answered here, in the batch's order."""
    early: dict[int, TelemetryResult] = {}
    passed = []
    for index, event in enumerate(events):
        errors = _storable(event)
        if errors:
            event_id = event.get("event_id")
            early[index] = TelemetryResult(
                event_id=event_id if isinstance(event_id, str) and event_id else None,
                status=REJECTED,
                errors=errors,
            )
        else:
            passed.append(event)
    recorded = iter(telemetry_record_batch(events=passed, actor=sender) if passed else [])
    return [early[i] if i in early else next(recorded) for i in range(len(events))]


class TelemetryIngestView(APIView):
    throttle_classes = [ApiKeyRateThrottle, SessionUserRateThrottle]
    rate_kind = "telemetry"  # counted against the key's telemetry limit

    @extend_schema(
        summary="Send a batch of telemetry events",
        description=(
            "Up to 1,000 events (state changes, heartbeats, signal readings, charges) for charge "
            "points your team owns or operates, in any mix. Each event is answered on its own, in "
            "order: `accepted` (recorded), `duplicate` (its `event_id` was recorded before for that "
            "charge point: nothing changes, so resending a batch is safe) or `rejected` with the errors per field; the "
            "valid events are recorded even when others are rejected. An unknown `ocpp_id`, or one "
            "of another team, is rejected. Late events are kept as history but never move the live "
            "state backwards. Needs the installer role or above. 400 only when the envelope itself "
            "is wrong (not an object with a list of 1 to 1,000 objects)."
        ),
        request=TelemetryBatchSerializer,
        responses={200: TelemetryBatchResultSerializer},
        tags=[TAG],
    )
    def post(self, request):
        events = _envelope_events(request.data)
        actor = request.user
        sender = None if is_support(actor) else _Sender(actor)
        if sender is not None and not sender.roles_by_team():
            raise exceptions.PermissionDenied("Sending telemetry needs the installer role or above.")
        results = _record(events, sender)
        counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
        for result in results:
            counts[result.status] += 1
        return Response(
            {
                "accepted": counts["accepted"],
                "duplicates": counts["duplicate"],
                "rejected": counts["rejected"],
                "results": [
                    {"event_id": r.event_id, "status": r.status, "errors": r.errors} for r in results
                ],
            }
        )


class _HistoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    model = None
    pagination_class = OccurredCursorPagination
    search_fields = ["event_id", "charge_point__ocpp_id"]
    ordering_fields = ["occurred_at", "received_at", "id"]
    ordering = ("-occurred_at", "-id")

    def get_queryset(self):
        visible = ChargePoint.objects.for_user(self.request.user).values("pk")
        queryset = self.model.objects.select_related("charge_point").only(
            *[f.name for f in self.model._meta.concrete_fields], "charge_point__ocpp_id"
        )
        if is_support(self.request.user):
            return queryset
        return queryset.filter(charge_point__in=visible)


def _history_schema(noun: str):
    return extend_schema_view(
        list=extend_schema(
            summary=f"List {noun}s",
            description=f"{noun.capitalize()}s of the charge points your team owns or operates, "
            "newest first, cursor-paginated.",
            tags=[TAG],
        ),
        retrieve=extend_schema(summary=f"Get a {noun}", tags=[TAG]),
    )


@_history_schema("state change")
class StateChangeViewSet(_HistoryViewSet):
    model = StateChange
    serializer_class = StateChangeSerializer
    filterset_class = StateChangeFilter


@_history_schema("heartbeat")
class HeartbeatViewSet(_HistoryViewSet):
    model = Heartbeat
    serializer_class = HeartbeatSerializer
    filterset_class = HeartbeatFilter


@_history_schema("signal reading")
class SignalReadingViewSet(_HistoryViewSet):
    model = SignalReading
    serializer_class = SignalReadingSerializer
    filterset_class = SignalReadingFilter


@_history_schema("charge")
class ChargeViewSet(_HistoryViewSet):
    model = Charge
    serializer_class = ChargeSerializer
    filterset_class = ChargeFilter
    pagination_class = EndedCursorPagination
    ordering_fields = ["ended_at", "started_at", "received_at", "id"]
    ordering = ("-ended_at", "-id")


