from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from chargepoints.models import ChargePoint, Site

from .catalogue import SITE_REASONS, Party, Reason, Source
from .querysets import ReportQuerySet, ReportState, waiting_team
from .team_ranges import OPERATED_FOR_OTHERS


class Report(ConcurrentTransitionMixin, models.Model):
    """An issue about one charge point.

    ``open`` waits in the queue of the party it was routed to when it was
    created; ``assigned`` was deliberately given to a party (and maybe a
    person); ``resolved`` is done. State changes only through the transitions
    below, called from ``reporting.services``; the concurrency mixin makes a
    save from a stale copy fail instead of overwriting a newer state.
    """

    # Empty only for a support report that came in by e-mail without naming
    # a charge point: it waits in the "needs a charge point" list until
    # support links one (reporting.conversations.report_link_charge_point).
    # Indexed by report_cp_created_idx, which leads with it.
    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.PROTECT, null=True, blank=True, related_name="reports", db_index=False
    )
    # Set only on a report about a whole site (a site outage, ``SITE_REASONS``),
    # which has no charge point.
    site = models.ForeignKey(Site, on_delete=models.PROTECT, null=True, blank=True, related_name="reports",
                             db_index=False)
    # The teams the report belongs to, copied from its charge point (its owner
    # and operator) or, for a site report, the site's team in both, so that
    # scoping a list to a team reads an index range instead of joining every
    # report to its charge point. Empty only while a support report has no
    # charge point (support sees those). Written by the filing services and
    # kept right by ``reporting.teams`` when a charge point or site moves.
    owner_team = models.ForeignKey(
        "accounts.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False,
        db_index=False, verbose_name=_("team owner"),
    )
    operator_team = models.ForeignKey(
        "accounts.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False,
        db_index=False, verbose_name=_("operator"),
    )
    source = models.CharField(max_length=20, choices=Source.choices)
    reason = models.CharField(max_length=40, choices=Reason.choices)
    description = models.TextField(blank=True)

    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        help_text=_("The back-office user who filed the report, if any."),
    )
    reporter_name = models.CharField(max_length=200, blank=True)
    reporter_email = models.EmailField(blank=True)
    reporter_phone = models.CharField(max_length=40, blank=True)

    state = FSMField(
        max_length=20, choices=ReportState.choices, default=ReportState.OPEN, protected=True
    )
    assigned_party = models.CharField(max_length=20, choices=Party.choices)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_reports",
        db_index=False,
    )
    resolution_note = models.TextField(blank=True)
    # The token in the reply address of a support conversation's e-mails
    # (support+<token>@...): a driver's reply finds its report by it.
    # Unique where set (``report_reply_token_unique``); most reports never
    # have one, and NULL is what the partial unique index leaves out.
    reply_token = models.CharField(max_length=40, null=True, blank=True, editable=False)  # noqa: DJ001

    # How many drivers filed this report: the same driver reporting the same
    # reason again while it is open adds a ReportReporter row and bumps this.
    reporter_count = models.PositiveIntegerField(_("reporters"), default=1)

    # Repeat detections of a system report bump these instead of filing another.
    occurrences = models.PositiveIntegerField(default=1)
    last_seen_at = models.DateTimeField(default=timezone.now)
    # Set when a system report's condition cleared but a person has it, so the
    # timeline says so once; cleared again when the problem comes back.
    condition_cleared_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A system report whose condition kept coming and going (more than
    # HEALTH_CHECKS["flapping"]["flips"] changes within its window): it stays
    # open while the condition clears, counts episodes in ``occurrences``
    # and resolves only after the hold-down time of stability.
    flapping = models.BooleanField(default=False, db_default=False, editable=False)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = ReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "-created_at"], name="report_state_created_idx"),
            models.Index(fields=["charge_point", "-created_at"], name="report_cp_created_idx"),
            models.Index(fields=["reason", "-created_at"], name="report_reason_created_idx"),
            # A team's reports, newest first (the scoped lists and the API).
            models.Index(fields=["owner_team", "-created_at", "-id"], name="report_owner_team_idx"),
            models.Index(fields=["operator_team", "-created_at", "-id"], name="report_operator_team_idx"),
            # A team's reports as operator of another team's charge points:
            # the operator range of its lists (reporting.team_ranges).
            models.Index(fields=["operator_team", "-created_at", "-id"], condition=OPERATED_FOR_OTHERS,
                         name="report_op_for_others_idx"),
            # The unresolved ones (every list opens on them): partial indexes
            # hold half the rows and walk in the list's order.
            models.Index(fields=["-created_at", "-id"], condition=~Q(state=ReportState.RESOLVED),
                         name="report_unresolved_idx"),
            models.Index(fields=["owner_team", "-created_at", "-id"], condition=~Q(state=ReportState.RESOLVED),
                         name="report_unres_owner_team_idx"),
            models.Index(fields=["operator_team", "-created_at", "-id"], condition=~Q(state=ReportState.RESOLVED),
                         name="report_unres_operator_team_idx"),
            models.Index(fields=["operator_team", "-created_at", "-id"],
                         condition=~Q(state=ReportState.RESOLVED) & OPERATED_FOR_OTHERS,
                         name="report_unres_op_for_others_idx"),
            # Covering the party too: the dashboards' open reports by reason
            # and party read this index alone (PostgreSQL).
            models.Index(fields=["reason", "-created_at", "-id"], condition=~Q(state=ReportState.RESOLVED),
                         include=["assigned_party"], name="report_unres_reason_idx"),
            models.Index(fields=["assigned_party", "-created_at", "-id"], condition=~Q(state=ReportState.RESOLVED),
                         name="report_unres_party_idx"),
            # "My team's" (``my_team_q``): the unresolved reports by the team
            # they wait on (``waiting_team``), newest first.
            models.Index(waiting_team(), F("created_at").desc(), F("id").desc(),
                         condition=~Q(state=ReportState.RESOLVED), name="report_unres_waiting_idx"),
            # Foreign keys most reports leave empty (every system report does):
            # only the rows that name one are indexed, which is all a lookup
            # by them or a delete of what they name reads, and a report filed
            # without them writes nothing here.
            models.Index(fields=["site"], condition=Q(site__isnull=False), name="report_site_idx"),
            models.Index(fields=["assigned_to"], condition=Q(assigned_to__isnull=False),
                         name="report_assigned_to_idx"),
            models.Index(fields=["reported_by"], condition=Q(reported_by__isnull=False),
                         name="report_reported_by_idx"),
        ]
        constraints = [
            # At most one unresolved system report per charge point and reason:
            # the health checks rely on this to file each problem exactly once.
            models.UniqueConstraint(
                fields=["charge_point", "reason"],
                condition=Q(source=Source.SYSTEM) & ~Q(state=ReportState.RESOLVED),
                name="report_one_unresolved_system_report",
            ),
            # At most one unresolved system report per site and reason (site outages).
            models.UniqueConstraint(
                fields=["site", "reason"],
                condition=Q(source=Source.SYSTEM, site__isnull=False) & ~Q(state=ReportState.RESOLVED),
                name="report_one_unresolved_site_report",
            ),
            # Only a support conversation may lack a charge point, and a
            # system report about a site, which names its site instead.
            models.CheckConstraint(
                condition=Q(charge_point__isnull=False) | Q(source=Source.SUPPORT)
                | Q(source=Source.SYSTEM, reason__in=SITE_REASONS, site__isnull=False),
                name="report_charge_point_unless_support",
            ),
            models.UniqueConstraint(fields=["reply_token"], condition=Q(reply_token__isnull=False),
                                    name="report_reply_token_unique"),
        ]

    def __str__(self) -> str:
        if self.charge_point_id:
            where = self.charge_point.name
        elif self.site_id:
            where = f"site {self.site.name}"
        else:
            where = "no charge point yet"
        return f"#{self.pk} {self.get_reason_display()} — {where}"

    @property
    def report_site(self):
        """The site the report is about: its charge point's, or the site of a site report."""
        if self.charge_point_id:
            return self.charge_point.site
        return self.site if self.site_id else None

    def site_operator_teams(self) -> list:
        """A site report's operators: the teams operating its charge points."""
        from accounts.models import Team

        if not self.site_id:
            return []
        return list(Team.objects.filter(operated_charge_points__site_id=self.site_id).distinct().order_by("pk"))

    # Transitions. They only move the state and its bookkeeping fields; the
    # timeline and notifications are written by the services that call them.

    @transition(field=state, source=[ReportState.OPEN, ReportState.ASSIGNED], target=ReportState.ASSIGNED)
    def assign(self, *, party: str, person=None) -> None:
        self.assigned_party = party
        self.assigned_to = person

    @transition(field=state, source=[ReportState.OPEN, ReportState.ASSIGNED], target=ReportState.RESOLVED)
    def resolve(self, *, note: str = "") -> None:
        self.resolution_note = note
        self.resolved_at = timezone.now()

    @transition(field=state, source=ReportState.RESOLVED, target=ReportState.OPEN)
    def reopen(self) -> None:
        self.resolved_at = None


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    ASSIGNED = "assigned", _("Assigned")
    RESOLVED = "resolved", _("Resolved")
    REOPENED = "reopened", _("Reopened")
    COMMENT = "comment", _("Comment")
    MESSAGE = "message", _("Conversation message")
    RECURRED = "recurred", _("Detected again")
    CONDITION_CLEARED = "condition_cleared", _("Condition cleared")
    NOTIFIED = "notified", _("Notified")
    REPORTED_AGAIN = "reported_again", _("Reported again")
    CHARGE_POINT_LINKED = "charge_point_linked", _("Charge point linked")
    PERSONAL_DATA_ERASED = "personal_data_erased", _("Personal data erased")
    REMOTE_COMMAND = "remote_command", _("Remote command")
    TARGET_MISSED = "target_missed", _("Response-time target missed")


class ReportEvent(models.Model):
    """The report's timeline: one row for every change, who made it and when."""

    # Indexed by reportevent_report_idx, which leads with it.
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="events", db_index=False)
    kind = models.CharField(max_length=30, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    actor_label = models.CharField(
        max_length=200, help_text=_("Who acted, as shown: a person, an API key or the system.")
    )
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    from_party = models.CharField(max_length=20, blank=True)
    to_party = models.CharField(max_length=20, blank=True)
    to_person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The timeline is the outbox (healthchecks' Flip): the notifications app
    # claims rows where this is empty, decides who hears of them, and sets it
    # in the same transaction as the e-mails it writes.
    processed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["report", "created_at"], name="reportevent_report_idx"),
            models.Index(
                fields=["id"], condition=models.Q(processed_at__isnull=True), name="reportevent_unprocessed_idx"
            ),
            # Set on few rows (a person's actions, assignments to a person).
            models.Index(fields=["actor"], condition=Q(actor__isnull=False), name="reportevent_actor_idx"),
            models.Index(fields=["to_person"], condition=Q(to_person__isnull=False), name="reportevent_to_person_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.actor_label}"


# The other models live in modules of their own concern; imported here so
# Django registers them with the app and ``reporting.models`` names every
# model (migration 0008 names ``reporting.models._attachment_path``).
from .contribution_models import ReportAttachment, ReportMessage, ReportReporter, _attachment_path  # noqa: E402, F401
from .error_hint_models import VendorErrorCode  # noqa: E402, F401
from .health_models import HealthDeadline, HealthEngineState, HealthFlip  # noqa: E402, F401
from .maintenance_models import MaintenanceWindow, SilencedDetection  # noqa: E402, F401
from .review_models import Review  # noqa: E402, F401
from .settings_models import HealthCheckSettings, ReportContact, ReportSettings  # noqa: E402, F401
from .tally_models import (  # noqa: E402, F401
    ReportChargePointDay,
    ReportChargePointRecent,
    ReportDayTally,
    ReportHourTally,
    ReportOpenTally,
    ReportTallyDelta,
    ReportTallyState,
)
