"""Remote commands in the API."""

from __future__ import annotations

from rest_framework import serializers

from core.rest.fields import StrictModelSerializer

from ..commands import AVAILABILITY_TYPES, RESET_TYPES, TRIGGER_MESSAGES
from ..models import CommandAction, RemoteCommand


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
