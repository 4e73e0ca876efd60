"""Telemetry through the API: the ingest envelope, the documented shape of
each event type (chargepoints.services.batch.telemetry_record_batch validates the
events themselves), and the history rows."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, PolymorphicProxySerializer, extend_schema_serializer
from rest_framework import serializers

from chargepoints.models import (
    Charge,
    ChargeOutcome,
    ChargePointState,
    Heartbeat,
    SignalKind,
    SignalReading,
    StateChange,
)
from chargepoints.telemetry_validation import OCPP_STATUS_STATE
from core.rest.fields import StrictCharField, StrictModelSerializer

MAX_BATCH = 1000

# --- Event shapes, for the schema -------------------------------------------------


class _EventBase(serializers.Serializer):
    event_id = StrictCharField(
        max_length=100, help_text="Your id for the event, unique per charge point (a UUID is a safe "
        "choice). Sending it again for the same charge point is harmless: it is answered `duplicate`."
    )
    ocpp_id = StrictCharField(max_length=100, help_text="The charge point's OCPP identity.")


class StateChangeEventSerializer(_EventBase):
    type = serializers.ChoiceField(choices=["state_change"])
    occurred_at = serializers.DateTimeField(help_text="With a time zone; not more than 5 minutes ahead.")
    state = serializers.ChoiceField(
        choices=ChargePointState.choices, required=False, help_text="The state; or give `status`."
    )
    status = serializers.ChoiceField(
        choices=list(OCPP_STATUS_STATE), required=False, help_text="The OCPP 1.6 connector status."
    )
    error_code = StrictCharField(max_length=50, required=False, help_text="OCPP ChargePointErrorCode.")
    vendor_error_code = StrictCharField(max_length=100, required=False)


class HeartbeatEventSerializer(_EventBase):
    type = serializers.ChoiceField(choices=["heartbeat"])
    occurred_at = serializers.DateTimeField()


class SignalEventSerializer(_EventBase):
    type = serializers.ChoiceField(choices=["signal"])
    occurred_at = serializers.DateTimeField()
    kind = serializers.ChoiceField(choices=SignalKind.choices)
    dbm = serializers.IntegerField(min_value=-150, max_value=0, help_text="Wi-Fi RSSI or cellular signal.")


class ChargeEventSerializer(_EventBase):
    type = serializers.ChoiceField(choices=["charge"])
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField()
    energy_wh = serializers.IntegerField(min_value=0, max_value=10_000_000)
    stop_reason = StrictCharField(max_length=50, required=False, help_text="OCPP StopTransaction reason.")
    transaction_id = StrictCharField(max_length=100, required=False)
    connector = serializers.IntegerField(
        min_value=1, max_value=1000, required=False, allow_null=True,
        help_text="The port the charge was on (OCPP StartTransaction connectorId), for the success rate per port.")


TELEMETRY_EVENT = PolymorphicProxySerializer(
    component_name="TelemetryEvent",
    serializers={
        "state_change": StateChangeEventSerializer,
        "heartbeat": HeartbeatEventSerializer,
        "signal": SignalEventSerializer,
        "charge": ChargeEventSerializer,
    },
    resource_type_field_name="type",
)

BATCH_EXAMPLE = {
    "events": [
        {
            "event_id": "0f6d7c2e-8b1a-4f7e-9c3d-2a5b6e8f0a11",
            "type": "state_change",
            "ocpp_id": "DK-AAR-0001",
            "occurred_at": "2026-02-01T08:00:00Z",
            "status": "Faulted",
            "error_code": "GroundFailure",
            "vendor_error_code": "E-114",
        },
        {"event_id": "0f6d7c2e-8b1a-4f7e-9c3d-2a5b6e8f0a12", "type": "heartbeat", "ocpp_id": "DK-AAR-0001",
         "occurred_at": "2026-02-01T08:00:30Z"},
        {"event_id": "0f6d7c2e-8b1a-4f7e-9c3d-2a5b6e8f0a13", "type": "signal", "ocpp_id": "DK-AAR-0001",
         "occurred_at": "2026-02-01T08:01:00Z", "kind": "cellular", "dbm": -109},
        {
            "event_id": "0f6d7c2e-8b1a-4f7e-9c3d-2a5b6e8f0a14",
            "type": "charge",
            "ocpp_id": "DK-AAR-0001",
            "started_at": "2026-02-01T07:10:00Z",
            "ended_at": "2026-02-01T07:59:00Z",
            "energy_wh": 0,
            "stop_reason": "EmergencyStop",
            "transaction_id": "88123",
            "connector": 2,
        },
    ]
}


@extend_schema_serializer(examples=[OpenApiExample("A mixed batch", value=BATCH_EXAMPLE, request_only=True)])
class TelemetryBatchSerializer(serializers.Serializer):
    """For the schema. The view checks the envelope itself, without a
    serializer per event: a batch of 1,000 must stay cheap."""

    events = serializers.ListField(child=TELEMETRY_EVENT, min_length=1, max_length=MAX_BATCH)


class TelemetryResultSerializer(serializers.Serializer):
    event_id = StrictCharField(allow_null=True, help_text="Null when the event had no usable id.")
    status = serializers.ChoiceField(choices=["accepted", "duplicate", "rejected"])
    errors = serializers.DictField(
        child=StrictCharField(), help_text="Rejected events: field -> message. Empty otherwise."
    )


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Three recorded, one refused",
            value={
                "accepted": 2,
                "duplicates": 1,
                "rejected": 1,
                "results": [
                    {"event_id": "0f6d7c2e-8b1a-4f7e-9c3d-2a5b6e8f0a11", "status": "accepted", "errors": {}},
                    {"event_id": "0f6d7c2e-8b1a-4f7e-9c3d-2a5b6e8f0a12", "status": "duplicate", "errors": {}},
                    {"event_id": "0f6d7c2e-8b1a-4f7e-9c3d-2a5b6e8f0a13", "status": "rejected",
                     "errors": {"dbm": "Must be between -150 and 0."}},
                    {"event_id": "0f6d7c2e-8b1a-4f7e-9c3d-2a5b6e8f0a14", "status": "accepted", "errors": {}},
                ],
            },
            response_only=True,
        )
    ]
)
class TelemetryBatchResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = TelemetryResultSerializer(many=True, help_text="One per event, in the batch's order.")


# --- History ----------------------------------------------------------------------------


class _HistorySerializer(StrictModelSerializer):
    ocpp_id = StrictCharField(source="charge_point.ocpp_id", read_only=True)


OCCURRED = "2026-02-01T08:00:00Z"
RECEIVED = "2026-02-01T08:00:02Z"


@extend_schema_serializer(examples=[OpenApiExample("A state change", response_only=True, value={
    "id": 1, "charge_point": 301, "ocpp_id": "DK-AAR-0001", "event_id": "0f6d7c2e-8b1a-4f7e-9c3d-2a5b6e8f0a11", "state": "error",
    "ocpp_status": "Faulted", "error_code": "GroundFailure", "vendor_error_code": "E-114",
    "occurred_at": OCCURRED, "received_at": RECEIVED})])
class StateChangeSerializer(_HistorySerializer):
    class Meta:
        model = StateChange
        fields = ["id", "charge_point", "ocpp_id", "event_id", "state", "ocpp_status", "error_code",
                  "vendor_error_code", "occurred_at", "received_at"]
        read_only_fields = fields


@extend_schema_serializer(examples=[OpenApiExample("A heartbeat", response_only=True, value={
    "id": 1, "charge_point": 301, "ocpp_id": "DK-AAR-0001", "event_id": "0f6d7c2e-8b1a-4f7e-9c3d-2a5b6e8f0a12",
    "occurred_at": OCCURRED, "received_at": RECEIVED})])
class HeartbeatSerializer(_HistorySerializer):
    class Meta:
        model = Heartbeat
        fields = ["id", "charge_point", "ocpp_id", "event_id", "occurred_at", "received_at"]
        read_only_fields = fields


@extend_schema_serializer(examples=[OpenApiExample("A signal reading", response_only=True, value={
    "id": 1, "charge_point": 301, "ocpp_id": "DK-AAR-0001", "event_id": "0f6d7c2e-8b1a-4f7e-9c3d-2a5b6e8f0a13", "kind": "cellular",
    "dbm": -109, "occurred_at": OCCURRED, "received_at": RECEIVED})])
class SignalReadingSerializer(_HistorySerializer):
    class Meta:
        model = SignalReading
        fields = ["id", "charge_point", "ocpp_id", "event_id", "kind", "dbm", "occurred_at", "received_at"]
        read_only_fields = fields


@extend_schema_serializer(examples=[OpenApiExample("A failed charge", response_only=True, value={
    "id": 1, "charge_point": 301, "ocpp_id": "DK-AAR-0001", "event_id": "0f6d7c2e-8b1a-4f7e-9c3d-2a5b6e8f0a14",
    "started_at": "2026-02-01T07:10:00Z", "ended_at": "2026-02-01T07:59:00Z", "energy_wh": 0,
    "connector": 2, "stop_reason": "EmergencyStop", "transaction_id": "88123", "outcome": "failed",
    "failure_reason": "No energy was delivered.", "received_at": RECEIVED})])
class ChargeSerializer(_HistorySerializer):
    outcome = serializers.ChoiceField(choices=ChargeOutcome.choices, read_only=True)

    class Meta:
        model = Charge
        fields = ["id", "charge_point", "ocpp_id", "event_id", "started_at", "ended_at", "energy_wh", "connector",
                  "stop_reason", "transaction_id", "outcome", "failure_reason", "received_at"]
        read_only_fields = fields
