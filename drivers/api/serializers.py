"""The platform key's API: file a driver's report, read its status."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from reporting.catalogue import DRIVER_REASON_LABELS, REASONS_BY_SOURCE, Source
from reporting.models import Report, ReportState
from reporting.review_models import COMMENT_MAX_LENGTH

USER_REASONS = [reason for reason in DRIVER_REASON_LABELS if reason in REASONS_BY_SOURCE[Source.USER]]
# The schema's name for this choice set (settings: SPECTACULAR_SETTINGS).
USER_REASON_CHOICES = [(reason, str(DRIVER_REASON_LABELS[reason])) for reason in USER_REASONS]

REPORT_EXAMPLE = {
    "id": 4711,
    "charge_point": {"ocpp_id": "VW-HARB-1", "public_code": "K7M2Q9XD", "name": "Harbour 1",
                     "site": "Harbour car park"},
    "reason": "not_working",
    "reason_label": "Charge point is not working",
    "state": "open",
    "reporter_count": 1,
    "created_at": "2026-11-30T08:15:00Z",
    "resolved_at": None,
}


class DriverSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="",
                                   help_text="With an e-mail the driver gets a confirmation and a message "
                                   "when the report is resolved.")
    phone = serializers.RegexField(r"^\+?[0-9 ()\-]{6,30}$", max_length=40, required=False, allow_blank=True,
                                   default="")
    language = serializers.ChoiceField(choices=[code for code, _ in settings.LANGUAGES], default="en",
                                       help_text="The language of the e-mails to the driver.")


@extend_schema_serializer(examples=[OpenApiExample(
    "A driver's report from the app",
    value={"charge_point": "VW-HARB-1", "reason": "not_working", "description": "The screen stays black.",
           "driver": {"name": "Mette Hansen", "email": "mette@example.com", "phone": "+45 12 34 56 78",
                      "language": "da"}},
    request_only=True,
)])
class DriverReportCreateSerializer(serializers.Serializer):
    charge_point = serializers.CharField(
        max_length=100, help_text="The charge point's OCPP id, or the public code on its QR sticker."
    )
    reason = serializers.ChoiceField(
        choices=USER_REASONS,
        help_text="A user reason. `tax_refund` only for charge points in Denmark.",
    )
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    driver = DriverSerializer(required=False, default=dict)


class ChargePointBriefSerializer(serializers.Serializer):
    ocpp_id = serializers.CharField()
    public_code = serializers.CharField()
    name = serializers.CharField()
    site = serializers.CharField(source="site.name")


@extend_schema_serializer(examples=[OpenApiExample("A report the app filed", value=REPORT_EXAMPLE,
                                                   response_only=True)])
class DriverReportSerializer(serializers.ModelSerializer):
    """What the app may know about a report it filed: no team's data beyond
    the charge point's name and site, no timeline, no other driver."""

    charge_point = ChargePointBriefSerializer()
    reason_label = serializers.SerializerMethodField()
    state = serializers.ChoiceField(choices=ReportState.choices)

    class Meta:
        model = Report
        fields = ["id", "charge_point", "reason", "reason_label", "state", "reporter_count", "created_at",
                  "resolved_at"]

    def get_reason_label(self, report) -> str:
        return str(DRIVER_REASON_LABELS.get(report.reason, report.reason))


@extend_schema_serializer(examples=[OpenApiExample(
    "Filed", value={**REPORT_EXAMPLE, "joined": False, "status_url": "https://cp.example/r/s/6kQ…/"},
    response_only=True, status_codes=["201"],
)])
class DriverReportFiledSerializer(DriverReportSerializer):
    joined = serializers.BooleanField(
        help_text="True when the same driver had already reported this and the filing was added to that "
        "open report (its `reporter_count` went up) instead of filing another."
    )
    status_url = serializers.CharField(help_text="The driver's private status page; show it to the driver once.")

    class Meta(DriverReportSerializer.Meta):
        fields = [*DriverReportSerializer.Meta.fields, "joined", "status_url"]


@extend_schema_serializer(examples=[OpenApiExample(
    "A driver's review from the app",
    value={"charge_point": "VW-HARB-1", "rating": 2, "comment": "Slow, and the cable was dirty.",
           "driver": {"language": "da"}},
    request_only=True,
)])
class DriverReviewCreateSerializer(serializers.Serializer):
    charge_point = serializers.CharField(
        max_length=100, help_text="The charge point's OCPP id, or the public code on its QR sticker."
    )
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=COMMENT_MAX_LENGTH, required=False, allow_blank=True, default="")
    driver = DriverSerializer(
        required=False, default=dict,
        help_text="Optional: with contact details the charge point's teams may contact the driver; "
        "without, the review is anonymous.",
    )


@extend_schema_serializer(examples=[OpenApiExample(
    "A review stored",
    value={"id": 812, "charge_point": REPORT_EXAMPLE["charge_point"], "rating": 2,
           "comment": "Slow, and the cable was dirty.", "created_at": "2026-11-30T09:05:00Z",
           "charge_found": True, "reported": True},
    response_only=True, status_codes=["201"],
)])
class DriverReviewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    charge_point = ChargePointBriefSerializer()
    rating = serializers.IntegerField()
    comment = serializers.CharField()
    created_at = serializers.DateTimeField()
    charge_found = serializers.BooleanField(help_text="True when the review was tied to a charge in the window.")
    reported = serializers.BooleanField(
        help_text="True when the review filed (or joined) a customer-experience report."
    )
