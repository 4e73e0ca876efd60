"""/api/v1/driver-reports/: the only endpoints a platform key may use
(``platform_key_allowed``; accounts.api.authentication refuses it
everywhere else), and only platform keys may use them."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.response import Response

from chargepoints.models import ChargePoint
from reporting.models import Report, ReportReporter
from reporting.reporters import Driver
from reporting.reviews import review_submit

from ..selectors import charge_point_by_ocpp_id_or_public_code
from ..services import driver_report_submit
from .serializers import (
    DriverReportCreateSerializer,
    DriverReportFiledSerializer,
    DriverReportSerializer,
    DriverReviewCreateSerializer,
    DriverReviewSerializer,
)

TAG = "driver reports (platform key)"
PLATFORM_ONLY = (
    "Only for a **platform key** (issued by support to the drivers' app, bound to no team); "
    "any other caller gets 403, and a platform key gets 403 on every other endpoint."
)


class IsPlatformKey(permissions.BasePermission):
    message = "Only a platform key may use the driver-report endpoints."

    def has_permission(self, request, view):
        return bool(getattr(request.auth, "is_platform", False))


def _status_url(token: str) -> str:
    return settings.PUBLIC_REPORT_BASE_URL + reverse("drivers:status", args=[token])


def _charge_point(value: str) -> ChargePoint:
    found = charge_point_by_ocpp_id_or_public_code(value=value)
    if found is None:
        raise exceptions.ValidationError({"charge_point": ["No charge point has this OCPP id or public code."]})
    return found


def _app_driver(data: dict) -> Driver:
    """The driver as the app describes them in a filing's or review's ``driver``."""
    driver = data.get("driver") or {}
    return Driver(
        name=driver.get("name", "").strip(),
        email=driver.get("email", "").strip(),
        phone=driver.get("phone", "").strip(),
        language=driver.get("language", "en"),
        channel="app",
    )


@extend_schema_view(
    list=extend_schema(summary="List the reports this key filed", description=PLATFORM_ONLY, tags=[TAG]),
    retrieve=extend_schema(summary="Status of a report this key filed", description=PLATFORM_ONLY, tags=[TAG]),
    create=extend_schema(
        summary="File a driver's report",
        description=(
            "Files a user report on any charge point (by OCPP id or public code) on behalf of a driver, "
            "routed like any user report. The same driver (same e-mail or phone) reporting the same reason "
            "on the same charge point while that report is open is added to it instead. " + PLATFORM_ONLY
        ),
        request=DriverReportCreateSerializer,
        responses={201: DriverReportFiledSerializer},
        tags=[TAG],
    ),
)
class DriverReportViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    platform_key_allowed = True
    permission_classes = [IsPlatformKey]
    serializer_class = DriverReportSerializer
    ordering = ("-created_at", "-id")
    filter_backends = []

    def get_queryset(self):
        filed_by_key = ReportReporter.objects.filter(report=OuterRef("pk"), api_key=self.request.auth)
        return (
            Report.objects.filter(Exists(filed_by_key))
            .select_related("charge_point__site")
            .order_by("-created_at", "-id")
        )

    def create(self, request, *args, **kwargs):
        data = DriverReportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        data = data.validated_data
        charge_point = _charge_point(data["charge_point"])
        filing = driver_report_submit(
            charge_point=charge_point,
            reason=data["reason"],
            description=data.get("description", "").strip(),
            driver=_app_driver(data),
            status_url=_status_url,
            by=request.auth,
        )
        report = self.get_queryset().get(pk=filing.report.pk)
        report.joined = filing.joined
        report.status_url = _status_url(filing.status_token)
        return Response(DriverReportFiledSerializer(report).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    create=extend_schema(
        summary="Send a driver's review of a charge",
        description=(
            "Stores a rating (1 to 5) with an optional comment for a charge point (by OCPP id or public code), "
            "tied to the latest charge there that ended within the review window. A low rating with a comment, "
            "or the third low rating on a charge point within 24 hours, files (or joins) a user report "
            "\"customer experience\". " + PLATFORM_ONLY
        ),
        request=DriverReviewCreateSerializer,
        responses={201: DriverReviewSerializer},
        tags=[TAG],
    ),
)
class DriverReviewViewSet(mixins.CreateModelMixin, viewsets.GenericViewSet):
    platform_key_allowed = True
    permission_classes = [IsPlatformKey]
    serializer_class = DriverReviewCreateSerializer
    filter_backends = []

    def get_queryset(self):  # create only; the schema asks for a queryset
        return ChargePoint.objects.none()

    def create(self, request, *args, **kwargs):
        data = DriverReviewCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        data = data.validated_data
        charge_point = _charge_point(data["charge_point"])
        review = review_submit(
            charge_point=charge_point,
            rating=data["rating"],
            comment=data.get("comment", ""),
            driver=_app_driver(data),
            by=request.auth,
        )
        review.charge_found = review.charge_id is not None
        review.reported = review.report_id is not None
        return Response(DriverReviewSerializer(review).data, status=status.HTTP_201_CREATED)
