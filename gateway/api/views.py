"""Remote commands under /charge-points/{charge_point_id}/commands/: send one
(installers and up of the owner or operator team), list them, read one to
see its answer. Another team's charge point is a 404."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from chargepoints.models import ChargePoint
from core.errors import Invalid
from reporting.models import Report

from ..commands import command_send
from ..models import RemoteCommand
from .serializers import RemoteCommandCreateSerializer, RemoteCommandSerializer

TAG = "remote commands"
CHARGE_POINT_ID = OpenApiParameter("charge_point_id", int, OpenApiParameter.PATH, description="Charge point id.")


@extend_schema_view(
    list=extend_schema(summary="A charge point's remote commands", description="Newest first.",
                       parameters=[CHARGE_POINT_ID], tags=[TAG]),
    retrieve=extend_schema(summary="A remote command and its answer", parameters=[CHARGE_POINT_ID], tags=[TAG]),
    create=extend_schema(
        summary="Send a remote command",
        description="Reset (type Soft/Hard), TriggerMessage (message StatusNotification/Heartbeat/"
        "BootNotification), ChangeAvailability (connector, type Operative/Inoperative), UnlockConnector "
        "(connector). Answered 202 with the command pending: read it again for the charger's answer (or "
        "`timed_out` after OCPP_COMMAND_TIMEOUT_SECONDS). 409 when the charger is not connected. Needs the "
        "installer role or above in the owner or operator team.",
        request=RemoteCommandCreateSerializer, responses={202: RemoteCommandSerializer},
        parameters=[CHARGE_POINT_ID], tags=[TAG],
    ),
)
class RemoteCommandViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = RemoteCommandSerializer
    filterset_fields = ["status", "action", "origin"]
    ordering_fields = ["requested_at", "id"]
    ordering = ["-requested_at", "-id"]

    def get_charge_point(self) -> ChargePoint:
        if not hasattr(self, "_charge_point"):
            self._charge_point = get_object_or_404(ChargePoint.objects.for_user(self.request.user),
                                                   pk=self.kwargs["charge_point_id"])
        return self._charge_point

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RemoteCommand.objects.none()
        return RemoteCommand.objects.filter(charge_point=self.get_charge_point())

    def create(self, request, charge_point_id):
        charge_point = self.get_charge_point()
        serializer = RemoteCommandCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        report = None
        if "report" in data:
            report = Report.objects.for_user(request.user).filter(pk=data.pop("report")).first()
            if report is None:
                raise Invalid("No such report.", field="report")
        command = command_send(charge_point=charge_point, by=request.user, report=report, **data)
        return Response(RemoteCommandSerializer(command).data, status=status.HTTP_202_ACCEPTED)
