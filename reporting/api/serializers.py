"""Report serializers. Reading serializers only read what the list query
selected (no query per row); writing serializers validate the input and hand
it to reporting.services, which own every rule."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from accounts.permissions import is_support, person_label
from chargepoints.api.serializers import ErrorHintSerializer, page_error_hints
from chargepoints.models import ChargePoint
from core.rest.fields import (
    StrictCharField,
    StrictEmailField,
    StrictModelSerializer,
    StrictPrimaryKeyRelatedField,
)
from reporting.catalogue import Party, Reason, Source
from reporting.contact_visibility import driver_contact_visible
from reporting.models import EventKind, Report, ReportContact, ReportEvent, ReportMessage, ReportSettings
from reporting.response_targets import report_time_left


class _Ref(serializers.Serializer):
    id = serializers.IntegerField()
    name = StrictCharField()


class ChargePointRefSerializer(_Ref):
    ocpp_id = StrictCharField()


def _viewer_is_support(serializer) -> bool:
    request = serializer.context.get("request")
    return is_support(getattr(request, "user", None))


def _label_for(serializer, label: str, person) -> str:
    """A label stored when something happened (who acted, who wrote) is the
    person's e-mail address when they had no name then: not for non-support."""
    if person is not None and label.lower() == person.email.lower() and not _viewer_is_support(serializer):
        return person_label(person, for_support=False)
    return label


class PersonRefSerializer(serializers.Serializer):
    """A person a report names. Only support reads their e-mail address;
    to everyone else a person is a name (people of other teams, and support
    staff, are not theirs to contact)."""

    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()
    email = serializers.SerializerMethodField(help_text="Support only; null for everyone else.")

    def get_name(self, person) -> str:
        return person_label(person, for_support=_viewer_is_support(self))

    @extend_schema_field(OpenApiTypes.EMAIL)
    def get_email(self, person) -> str | None:
        return person.email if _viewer_is_support(self) else None


class ReporterSerializer(serializers.Serializer):
    name = StrictCharField(source="reporter_name")
    email = StrictCharField(source="reporter_email")
    phone = StrictCharField(source="reporter_phone")


class ReasonLabelField(StrictCharField):
    """The reason's label in the request's language. Model.get_reason_display()
    rebuilds a dict of every lazy choice label per call, which is most of the
    time of a 100-row page; one lookup and one gettext is enough."""

    LABELS = dict(Reason.choices)

    def to_representation(self, value) -> str:
        return str(self.LABELS.get(value, value))


REPORT_EXAMPLE = {
    "id": 4711,
    "charge_point": {"id": 301, "name": "Harbour 1", "ocpp_id": "DK-AAR-0001"},
    "site": {"id": 12, "name": "Harbour car park"},
    "owner": {"id": 7, "name": "Nordic Charge ApS"},
    "operator": {"id": 7, "name": "Nordic Charge ApS"},
    "source": "user",
    "reason": "not_working",
    "reason_label": "Not working",
    "description": "The screen stays black and the cable is locked.",
    "reporter": {"name": "Mette Hansen", "email": "mette@example.com", "phone": "+4520202020"},
    "state": "assigned",
    "assigned_party": "operator",
    "assigned_to": {"id": 55, "name": "Lars Jensen", "email": "lars@nordic-charge.example"},
    "resolution_note": "",
    "occurrences": 1,
    "flapping": False,
    "last_seen_at": "2026-02-01T08:00:00Z",
    "created_at": "2026-02-01T08:00:00Z",
    "updated_at": "2026-02-01T09:12:00Z",
    "resolved_at": None,
    "time_left": {"kind": "resolve", "due_at": "2026-02-02T08:00:00Z", "seconds_left": 81120,
                  "breached": False, "at_risk": False},
    "hint": None,
}


class TimeLeftSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["assign", "resolve"])
    due_at = serializers.DateTimeField()
    seconds_left = serializers.IntegerField()
    breached = serializers.BooleanField()
    at_risk = serializers.BooleanField()


@extend_schema_serializer(examples=[OpenApiExample("A report", value=REPORT_EXAMPLE, response_only=True)])
class ReportSerializer(StrictModelSerializer):
    charge_point = ChargePointRefSerializer(read_only=True)
    site = _Ref(source="report_site", read_only=True,
                help_text="The charge point's site, or the site a site report (site offline) is about.")
    owner = _Ref(source="charge_point.owner", read_only=True)
    operator = _Ref(source="charge_point.operator", read_only=True)
    reason_label = ReasonLabelField(source="reason", read_only=True)
    reporter = serializers.SerializerMethodField(
        help_text="The driver's contact details; null unless the caller may see them: support, or a key "
        "with the driver_contact scope and the installer role or above in the report's team, while the "
        "report is open (docs/privacy.md)."
    )
    assigned_to = PersonRefSerializer(read_only=True, allow_null=True)
    time_left = serializers.SerializerMethodField(
        help_text="The response-time target that applies now (assign while open, then resolve): "
        "its kind, due time, seconds left (negative: overdue), breached and at_risk; null when none applies."
    )
    hint = serializers.SerializerMethodField(
        help_text="What the charge point's current error code means, who is likely to act and a first step "
        "(docs/error-hints.md); null without a known error or for a site report.")

    @extend_schema_field(ErrorHintSerializer(allow_null=True))
    def get_hint(self, report) -> dict | None:
        return page_error_hints(self.fields["hint"], report, charge_point_of=lambda r: r.charge_point)

    @extend_schema_field(ReporterSerializer(allow_null=True))
    def get_reporter(self, report) -> dict | None:
        request = self.context.get("request")
        if not driver_contact_visible(actor=getattr(request, "user", None), report=report):
            return None
        return ReporterSerializer(report).data

    class Meta:
        model = Report
        fields = [
            "id", "charge_point", "site", "owner", "operator", "source", "reason", "reason_label",
            "description", "reporter", "state", "assigned_party", "assigned_to", "resolution_note",
            "occurrences", "flapping", "last_seen_at", "created_at", "updated_at", "resolved_at", "time_left",
            "hint",
        ]
        read_only_fields = fields

    @extend_schema_field(TimeLeftSerializer(allow_null=True))
    def get_time_left(self, report) -> dict | None:
        left = report_time_left(report)
        if left is None:
            return None
        return {"kind": left.kind, "due_at": left.due_at, "seconds_left": int(left.left.total_seconds()),
                "breached": left.breached, "at_risk": left.at_risk}


class MessageInputSerializer(serializers.Serializer):
    sender = serializers.ChoiceField(choices=ReportMessage.Sender.choices)
    author_name = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    body = StrictCharField(max_length=10_000)


@extend_schema_field(OpenApiTypes.INT)
class ScopedChargePointField(StrictPrimaryKeyRelatedField):
    def get_queryset(self):
        request = self.context.get("request")
        actor = getattr(request, "user", None)
        if actor is None:
            return ChargePoint.objects.none()
        return ChargePoint.objects.for_user(actor).select_related("site")


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A driver's report (driver app)",
            value={
                "charge_point": 301,
                "source": "user",
                "reason": "not_working",
                "description": "The screen stays black and the cable is locked.",
                "reporter_name": "Mette Hansen",
                "reporter_email": "mette@example.com",
                "reporter_phone": "+4520202020",
            },
            request_only=True,
        ),
        OpenApiExample(
            "A support report with its conversation",
            value={
                "charge_point": 301,
                "source": "support",
                "reason": "conversation",
                "description": "Driver could not start a charge with the app.",
                "reporter_name": "Mette Hansen",
                "messages": [
                    {"sender": "driver", "author_name": "Mette Hansen", "body": "The app says 'unavailable'."},
                    {"sender": "support", "author_name": "Ida (support)", "body": "We restarted it remotely."},
                ],
            },
            request_only=True,
        ),
    ]
)
class ReportCreateSerializer(serializers.Serializer):
    charge_point = ScopedChargePointField(help_text="Id of a charge point your team owns or operates.")
    source = serializers.ChoiceField(
        choices=[(Source.USER, Source.USER.label), (Source.SUPPORT, Source.SUPPORT.label)],
        help_text="`user` for a driver's report, `support` for a support conversation. "
        "System reports come from the health checks only.",
    )
    reason = serializers.ChoiceField(
        choices=Reason.choices,
        help_text="User reports: not_working, not_in_location, inaccessible, broken, charge_interrupted, "
        "parking_blocked, other, tax_refund (Denmark only). Support reports: conversation.",
    )
    description = StrictCharField(max_length=10_000, required=False, allow_blank=True, default="")
    reporter_name = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    reporter_email = StrictEmailField(required=False, allow_blank=True, default="")
    reporter_phone = StrictCharField(max_length=40, required=False, allow_blank=True, default="")
    messages = MessageInputSerializer(
        many=True, required=False, default=list, max_length=200,
        help_text="Support reports only: the conversation so far, oldest first.",
    )


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Give it to the owner, to a named person",
            value={"party": "owner", "person": 55, "note": "Hardware fault; owner's installer."},
            request_only=True,
        )
    ]
)
class AssignSerializer(serializers.Serializer):
    party = serializers.ChoiceField(choices=Party.choices)
    person = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1,
        help_text="Optional user id: a member of that party who can act on reports.",
    )
    note = StrictCharField(max_length=10_000, required=False, allow_blank=True, default="")


@extend_schema_serializer(
    examples=[OpenApiExample("With a note", value={"note": "Replaced the RFID reader."}, request_only=True)]
)
class NoteSerializer(serializers.Serializer):
    note = StrictCharField(max_length=10_000, required=False, allow_blank=True, default="")


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A comment", value={"body": "Technician booked for Thursday."}, request_only=True
        )
    ]
)
class CommentSerializer(serializers.Serializer):
    body = StrictCharField(max_length=10_000)


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A timeline row",
            value={
                "id": 9001,
                "kind": "assigned",
                "actor_label": "API key 'CSMS production'",
                "from_state": "open",
                "to_state": "assigned",
                "from_party": "operator",
                "to_party": "owner",
                "to_person": {"id": 55, "name": "Lars Jensen", "email": "lars@nordic-charge.example"},
                "note": "Hardware fault; owner's installer.",
                "created_at": "2026-02-01T09:12:00Z",
            },
            response_only=True,
        )
    ]
)
class ReportEventSerializer(StrictModelSerializer):
    kind = serializers.ChoiceField(choices=EventKind.choices, read_only=True)
    to_person = PersonRefSerializer(read_only=True, allow_null=True)

    def to_representation(self, event):
        data = super().to_representation(event)
        if event.actor_id:
            data["actor_label"] = _label_for(self, data["actor_label"], event.actor)
        return data

    class Meta:
        model = ReportEvent
        fields = [
            "id", "kind", "actor_label", "from_state", "to_state", "from_party", "to_party",
            "to_person", "note", "created_at",
        ]
        read_only_fields = fields


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A driver's message",
            value={
                "id": 77,
                "sender": "driver",
                "author_name": "Mette Hansen",
                "body": "It works again, thank you!",
                "sent_at": "2026-02-01T09:30:00Z",
            },
            response_only=True,
        ),
        OpenApiExample(
            "Add a support message",
            value={"sender": "support", "author_name": "Ida (support)", "body": "Glad to hear it."},
            request_only=True,
        ),
    ]
)
class ReportMessageSerializer(StrictModelSerializer):
    sender = serializers.ChoiceField(choices=ReportMessage.Sender.choices)
    author_name = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    body = StrictCharField(max_length=10_000)

    class Meta:
        model = ReportMessage
        fields = ["id", "sender", "author_name", "body", "sent_at"]
        read_only_fields = ["id", "sent_at"]

    def to_representation(self, message):
        data = super().to_representation(message)
        if message.author_id:
            data["author_name"] = _label_for(self, data["author_name"], message.author)
        return data


class ReportContactSerializer(StrictModelSerializer):
    class Meta:
        model = ReportContact
        fields = ["name", "email", "phone", "is_active"]
        extra_kwargs = {"is_active": {"help_text": "Notify this contact."}}


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Report settings",
            value={
                "team": 7,
                "email_updates": True,
                "contacts": [
                    {"name": "Lars Jensen", "email": "lars@nordic-charge.example", "phone": "+4520303030",
                     "is_active": True}
                ],
            },
        )
    ]
)
class ReportSettingsSerializer(StrictModelSerializer):
    team = serializers.IntegerField(source="team_id", read_only=True)
    contacts = ReportContactSerializer(many=True, max_length=50)

    class Meta:
        model = ReportSettings
        fields = ["team", "email_updates", "delivery", "digest_minutes", "burst_threshold", "self_heal",
                  "self_heal_minutes", "route_by_error_hint", "contacts"]
