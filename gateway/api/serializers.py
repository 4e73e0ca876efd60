"""Remote commands in the API."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from core.rest.fields import StrictModelSerializer

from ..commands import AVAILABILITY_TYPES, RESET_TYPES, TRIGGER_MESSAGES
from ..models import CommandAction, RemoteCommand

COMMAND_EXAMPLE = {
    "id": 812, "charge_point": 17, "action": "Reset", "payload": {"type": "Soft"}, "summary": "Reset (soft)",
    "status": "accepted", "answer": {"status": "Accepted"}, "answer_text": "Accepted", "origin": "person",
    "requested_by_label": "Field app (API key)", "report": 2031, "requested_at": "2026-05-04T09:12:03Z",
    "deadline_at": "2026-05-04T09:12:33Z", "sent_at": "2026-05-04T09:12:04Z", "answered_at": "2026-05-04T09:12:04Z",
}


@extend_schema_serializer(examples=[OpenApiExample("A reset the charger accepted", value=COMMAND_EXAMPLE,
                                                   status_codes=["200", "202"], response_only=True)])
class RemoteCommandSerializer(StrictModelSerializer):
    charge_point = serializers.IntegerField(source="charge_point_id", read_only=True)
    report = serializers.IntegerField(source="report_id", read_only=True, allow_null=True)
    summary = serializers.CharField(read_only=True)
    answer_text = serializers.CharField(read_only=True, help_text="The answer as the back-office shows it.")

    class Meta:
        model = RemoteCommand
        fields = ["id", "charge_point", "action", "payload", "summary", "status", "answer", "answer_text",
                  "origin", "requested_by_label", "report", "requested_at", "deadline_at", "sent_at",
                  "answered_at"]
        read_only_fields = fields


@extend_schema_serializer(examples=[
    OpenApiExample("A soft reset from a report", value={"action": "Reset", "type": "Soft", "report": 2031},
                   request_only=True),
    OpenApiExample("Unlock connector 2", value={"action": "UnlockConnector", "connector": 2}, request_only=True),
])
class RemoteCommandCreateSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=CommandAction.values)
    type = serializers.ChoiceField(
        choices=[*RESET_TYPES, *AVAILABILITY_TYPES], required=False,
        help_text="Reset: Soft or Hard. ChangeAvailability: Operative or Inoperative.")
    message = serializers.ChoiceField(choices=TRIGGER_MESSAGES, required=False,
                                      help_text="TriggerMessage: the message to ask for.")
    connector = serializers.IntegerField(min_value=0, max_value=99, required=False,
                                         help_text="ChangeAvailability (0: the whole charger), UnlockConnector.")
    report = serializers.IntegerField(required=False, help_text="Sent from this report (on the same charge "
                                      "point): the command and its answer go on its timeline.")
