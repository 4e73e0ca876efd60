"""Reports through the API. Views validate input, look objects up within the
caller's tenant (another team's report is a 404) and call reporting.services;
the services decide whether the caller may act (403) and whether the report's
state allows it (409)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Team, User
from core.rest.pagination import CursorPagination
from reporting import services
from reporting.errors import PersonNotInParty
from reporting.models import Report, ReportEvent, ReportMessage, ReportSettings
from reporting.response_targets import with_due_times
from reporting.selectors import report_list
from reporting.settings_services import report_settings_update

from .filters import ReportEventFilter, ReportFilter, ReportMessageFilter
from .serializers import (
    AssignSerializer,
    CommentSerializer,
    NoteSerializer,
    ReportCreateSerializer,
    ReportEventSerializer,
    ReportMessageSerializer,
    ReportSerializer,
    ReportSettingsSerializer,
)

TAG = "reports"


def _transition_doc(summary: str, description: str, request):
    return extend_schema(
        summary=summary, description=description, request=request, responses=ReportSerializer, tags=[TAG]
    )


@extend_schema_view(
    list=extend_schema(
        summary="List reports",
        description="Newest first, cursor-paginated: follow `next`. Reports on charge points "
        "your team owns or operates.",
        tags=[TAG],
    ),
    retrieve=extend_schema(summary="Get a report", tags=[TAG]),
    create=extend_schema(
        summary="File a user or support report",
        description="Routed to its first party automatically. Needs the installer role or above "
        "in the charge point's owner or operator team.",
        request=ReportCreateSerializer,
        responses={201: ReportSerializer},
        tags=[TAG],
    ),
)
class ReportViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = ReportSerializer
    pagination_class = CursorPagination
    filterset_class = ReportFilter
    # Not the drivers' names or addresses: a caller who may not see them
    # must not find reports by them either.
    search_fields = ["description", "charge_point__name", "charge_point__ocpp_id"]
    ordering_fields = ["created_at", "updated_at", "id"]
    ordering = ("-created_at", "-id")

    def get_queryset(self):
        # With the response-time targets' due times (the "time_left" field);
        # a page is read one team range at a time (ReportQuerySet.by_ranges).
        return with_due_times(report_list(actor=self.request.user)).by_ranges()

    def create(self, request, *args, **kwargs):
        data = self._valid(ReportCreateSerializer)
        report = services.report_create(by=request.user, **data)
        return Response(self._read(report.pk), status=status.HTTP_201_CREATED)

    @_transition_doc(
        "Assign a report",
        "To a party (operator, owner, support) and optionally a person of it. "
        "Needs the admin role. 409 when the report is resolved.",
        AssignSerializer,
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        report = self.get_object()
        data = self._valid(AssignSerializer)
        person = None
        if data["person"] is not None:
            # Whether this person may take it is the service's rule (400 if not).
            person = User.objects.filter(pk=data["person"]).first()
            if person is None:
                raise PersonNotInParty(party=data["party"])
        services.report_assign(
            report=report, party=data["party"], person=person, note=data["note"], by=request.user
        )
        return Response(self._read(report.pk))

    @_transition_doc(
        "Resolve a report", "Needs the installer role or above. 409 when it is already resolved.", NoteSerializer
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        report = self.get_object()
        data = self._valid(NoteSerializer)
        services.report_resolve(report=report, note=data["note"], by=request.user)
        return Response(self._read(report.pk))

    @_transition_doc(
        "Reopen a resolved report", "Needs the installer role or above. 409 unless it is resolved.",
        NoteSerializer,
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        report = self.get_object()
        data = self._valid(NoteSerializer)
        services.report_reopen(report=report, note=data["note"], by=request.user)
        return Response(self._read(report.pk))

    @extend_schema(
        summary="Comment on a report",
        description="An internal note on the timeline. Needs the installer role or above.",
        request=CommentSerializer,
        responses={201: ReportEventSerializer},
        tags=[TAG],
    )
    @action(detail=True, methods=["post"])
    def comments(self, request, pk=None):
        report = self.get_object()
        data = self._valid(CommentSerializer)
        event = services.report_comment(report=report, body=data["body"], by=request.user)
        return Response(ReportEventSerializer(event, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    def _valid(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _read(self, pk: int) -> dict:
        report = Report.objects.with_context().get(pk=pk)
        return ReportSerializer(report, context=self.get_serializer_context()).data


class _ReportChildMixin:
    """Lists under /reports/{report_id}/: the report must be visible."""

    def get_report(self) -> Report:
        if not hasattr(self, "_report"):
            self._report = get_object_or_404(
                Report.objects.for_user(self.request.user).select_related("charge_point__site"),
                pk=self.kwargs["report_id"],
            )
        return self._report


REPORT_ID = OpenApiParameter("report_id", int, OpenApiParameter.PATH, description="Report id.")


@extend_schema_view(
    list=extend_schema(
        summary="A report's timeline",
        description="Every change: who, when, from what to what. Oldest first.",
        parameters=[REPORT_ID],
        tags=[TAG],
    )
)
class ReportTimelineViewSet(_ReportChildMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ReportEventSerializer
    filterset_class = ReportEventFilter
    search_fields = ["note", "actor_label"]
    ordering_fields = ["created_at", "id"]
    ordering = ["created_at", "id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ReportEvent.objects.none()
        return ReportEvent.objects.filter(report=self.get_report()).select_related("to_person", "actor")


@extend_schema_view(
    list=extend_schema(
        summary="A support report's conversation", parameters=[REPORT_ID], tags=[TAG]
    ),
    create=extend_schema(
        summary="Add a message to a support report's conversation",
        description="Only support reports carry a conversation (400 otherwise). "
        "Needs the installer role or above.",
        parameters=[REPORT_ID],
        tags=[TAG],
    ),
)
class ReportMessageViewSet(
    _ReportChildMixin, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = ReportMessageSerializer
    filterset_class = ReportMessageFilter
    search_fields = ["body", "author_name"]
    ordering_fields = ["sent_at", "id"]
    ordering = ["sent_at", "id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ReportMessage.objects.none()
        return ReportMessage.objects.filter(report=self.get_report()).select_related("author")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.report_add_message(
            report=self.get_report(), by=self.request.user, **data
        )


class ReportSettingsView(APIView):
    """A team's report settings: who is notified of new reports."""

    serializer_class = ReportSettingsSerializer

    def _team(self, team_id) -> Team:
        return get_object_or_404(Team.objects.for_user(self.request.user), pk=team_id)

    def _data(self, team: Team) -> dict:
        settings = ReportSettings.objects.filter(team=team).prefetch_related("contacts").first()
        if settings is None:  # never saved: the defaults
            return {"team": team.pk, "email_updates": True, "delivery": "immediate", "digest_minutes": 15,
                    "burst_threshold": None, "self_heal": False, "self_heal_minutes": 5,
                    "route_by_error_hint": False, "contacts": []}
        return ReportSettingsSerializer(settings).data

    @extend_schema(
        summary="Get a team's report settings",
        parameters=[OpenApiParameter("team_id", int, OpenApiParameter.PATH, description="Team id.")],
        tags=["teams"],
    )
    def get(self, request, team_id):
        return Response(self._data(self._team(team_id)))

    @extend_schema(
        summary="Replace a team's report settings",
        description="The contacts list replaces the current one. Needs the admin role in the team.",
        parameters=[OpenApiParameter("team_id", int, OpenApiParameter.PATH, description="Team id.")],
        tags=["teams"],
    )
    def put(self, request, team_id):
        team = self._team(team_id)
        serializer = ReportSettingsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report_settings_update(
            team=team,
            email_updates=serializer.validated_data.get("email_updates", True),
            contacts=[dict(c) for c in serializer.validated_data["contacts"]],
            by=request.user,
            self_heal=serializer.validated_data.get("self_heal"),
            self_heal_minutes=serializer.validated_data.get("self_heal_minutes"),
            route_by_error_hint=serializer.validated_data.get("route_by_error_hint"),
            # Left as they are when the request does not name them.
            **{name: serializer.validated_data[name] for name in ("delivery", "digest_minutes", "burst_threshold")
               if name in serializer.validated_data},
        )
        return Response(self._data(team))
