"""Writing what the performance figures rest on through the API: outage
exclusions (a reason from the fixed NEVI list and evidence text) and site
visits. Scoped like the rest (an object the caller cannot see is a 404 or,
as an id in the body, a 400); the services (``performance.exclusions``,
``performance.response_times``) decide who may (403), validate (400) and
audit, as they do for the admin."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer, extend_schema_view
from rest_framework import mixins, serializers, viewsets

from core.rest.fields import StrictCharField, StrictPrimaryKeyRelatedField
from reporting.api.serializers import ScopedChargePointField
from reporting.models import Report

from ..exclusions import exclusion_add, exclusion_remove
from ..models import Exclusion, ExclusionReason, SiteVisit
from ..response_times import site_visit_record

TAG = "performance"

EXCLUSION_EXAMPLE = {
    "id": 14, "charge_point": 301, "connector": 2, "starts_at": "2026-03-02T06:00:00Z",
    "ends_at": "2026-03-02T09:30:00Z", "reason": "utility_outage",
    "evidence_text": "Grid operator notice 2026-0312: feeder fault in Aarhus C.", "evidence_file": False,
    "created_by": 3, "created_at": "2026-03-03T08:12:00Z",
}


@extend_schema_serializer(examples=[
    OpenApiExample("An exclusion", value=EXCLUSION_EXAMPLE, response_only=True),
    OpenApiExample("Exclude a grid outage", request_only=True, value={
        k: EXCLUSION_EXAMPLE[k] for k in ("charge_point", "connector", "starts_at", "ends_at", "reason",
                                          "evidence_text")}),
])
class ExclusionSerializer(serializers.ModelSerializer):
    charge_point = ScopedChargePointField(help_text="The charge point whose outage time is excluded.")
    connector = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=32767,
        help_text="The port (connector number); null or left out: every port of the charge point.")
    reason = serializers.ChoiceField(choices=ExclusionReason.choices,
                                     help_text="Why the time does not count (the NEVI list, 23 CFR 680.116(b)(3)).")
    evidence_text = StrictCharField(max_length=5000, allow_blank=False,
                                    help_text="What shows the reason (a notice, a ticket, a police report).")
    evidence_file = serializers.SerializerMethodField(
        help_text="Whether a file of evidence was added (in the back-office; it is not served here).")

    class Meta:
        model = Exclusion
        fields = ["id", "charge_point", "connector", "starts_at", "ends_at", "reason", "evidence_text",
                  "evidence_file", "created_by", "created_at"]
        read_only_fields = ["id", "created_by", "created_at"]

    def get_evidence_file(self, exclusion) -> bool:
        return bool(exclusion.evidence_file)


class ExclusionFilter(django_filters.FilterSet):
    class Meta:
        model = Exclusion
        fields = ["charge_point", "reason"]


@extend_schema_view(
    list=extend_schema(summary="List outage exclusions", tags=[TAG],
                       description="Of the charge points your teams own or operate, newest start first."),
    retrieve=extend_schema(summary="Get an outage exclusion", tags=[TAG]),
    create=extend_schema(
        summary="Exclude outage time", tags=[TAG],
        description="Outage time of a port (or of every port) between two times no longer counts against "
        "its uptime, for a reason from the fixed list and with evidence. Needs the admin role in the charge "
        "point's owner or operator team (403 otherwise); audited. 400 when the end is not after the start, "
        "the reason is not on the list, the evidence is missing or the charge point has no such connector. "
        "The rollups of the days it covers are recomputed within minutes.",
    ),
    destroy=extend_schema(summary="Remove an outage exclusion", tags=[TAG],
                          description="The time counts as outage again. Same role as creating; audited."),
)
class ExclusionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                       mixins.DestroyModelMixin, viewsets.GenericViewSet):
    serializer_class = ExclusionSerializer
    filterset_class = ExclusionFilter
    ordering_fields = ["starts_at", "id"]
    ordering = ["-starts_at", "-id"]

    def get_queryset(self):
        return Exclusion.objects.for_user(self.request.user).select_related("charge_point")

    def perform_create(self, serializer):
        serializer.instance = exclusion_add(by=self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance):
        exclusion_remove(by=self.request.user, exclusion=instance)


class VisibleReportField(StrictPrimaryKeyRelatedField):
    def get_queryset(self):
        request = self.context.get("request")
        actor = getattr(request, "user", None)
        return Report.objects.for_user(actor).select_related("charge_point", "site") if actor else Report.objects.none()


VISIT_EXAMPLE = {"id": 8, "report": 1204, "visited_at": "2026-03-04T13:20:00Z", "recorded_by": 3,
                 "recorded_at": "2026-03-04T15:02:00Z"}


@extend_schema_serializer(examples=[
    OpenApiExample("A site visit", value=VISIT_EXAMPLE, response_only=True),
    OpenApiExample("Record a site visit", request_only=True,
                   value={"report": 1204, "visited_at": "2026-03-04T13:20:00Z", "note": "Replaced the RCD."}),
])
class SiteVisitSerializer(serializers.ModelSerializer):
    report = VisibleReportField(help_text="The report the visit was for.")
    visited_at = serializers.DateTimeField(required=False, help_text="When; left out: now. Not in the future.")
    note = StrictCharField(max_length=2000, required=False, allow_blank=True, write_only=True,
                           help_text="Written on the report's timeline with the visit.")

    class Meta:
        model = SiteVisit
        fields = ["id", "report", "visited_at", "note", "recorded_by", "recorded_at"]
        read_only_fields = ["id", "recorded_by", "recorded_at"]


@extend_schema_view(
    list=extend_schema(summary="List site visits", tags=[TAG],
                       description="Visits recorded for the reports you can see, newest first."),
    retrieve=extend_schema(summary="Get a site visit", tags=[TAG]),
    create=extend_schema(
        summary="Record a site visit", tags=[TAG],
        description="Someone went on site for a report: noted on its timeline and audited, and the report "
        "no longer counts as resolved remotely. Needs a role that may comment on the report's charge point or "
        "site (403 otherwise). 400 for a visit in the future or an unknown report.",
    ),
)
class SiteVisitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                       viewsets.GenericViewSet):
    serializer_class = SiteVisitSerializer
    filterset_fields = ["report"]
    ordering_fields = ["visited_at", "id"]
    ordering = ["-visited_at", "-id"]

    def get_queryset(self):
        return SiteVisit.objects.filter(report__in=Report.objects.for_user(self.request.user))

    def perform_create(self, serializer):
        serializer.instance = site_visit_record(by=self.request.user, **serializer.validated_data)
