"""What the performance figures keep besides the telemetry they are computed
from: exclusions of outage time (with their evidence), the cause people gave
a site outage, and the daily rollups (``rollups.py``) with the days waiting
to be recomputed."""

from __future__ import annotations

import os
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from accounts.permissions import visible_team_ids
from chargepoints.models import ChargePoint
from reporting.models import Report
from reporting.storage import private_storage


class ExclusionReason(models.TextChoices):
    """Outage time that does not count against uptime: the NEVI rule's list
    (23 CFR 680.116(b)(3)), reasons outside the operator's control."""

    UTILITY_OUTAGE = "utility_outage", _("Electric utility service outage")
    VEHICLE_FAULT = "vehicle_fault", _("Fault of the vehicle")
    SCHEDULED_MAINTENANCE = "scheduled_maintenance", _("Scheduled maintenance")
    VANDALISM = "vandalism", _("Vandalism")
    NATURAL_DISASTER = "natural_disaster", _("Natural disaster")
    OUTSIDE_OPERATING_HOURS = "outside_operating_hours", _("Outside the site's hours of operation")


class ExclusionQuerySet(models.QuerySet):
    def for_user(self, actor) -> ExclusionQuerySet:
        team_ids = visible_team_ids(actor)
        if team_ids is None:
            return self
        return self.filter(Q(charge_point__owner_id__in=team_ids) | Q(charge_point__operator_id__in=team_ids))


def _evidence_path(instance, filename: str) -> str:
    # The stored name says nothing about the uploaded file's name.
    extension = os.path.splitext(filename)[1].lower()[:10]
    return f"exclusions/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{extension}"


class Exclusion(models.Model):
    """Outage time of a charge point's port (or of all its ports: no
    ``connector``) between ``starts_at`` and ``ends_at`` that is not held
    against its uptime, for a reason of the fixed list, with evidence.
    Added and removed only through ``performance.exclusions`` (audited)."""

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="+")
    connector = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text=_("The port (connector number); empty: every port of the charge point."))
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=40, choices=ExclusionReason.choices)
    evidence_text = models.TextField(blank=True)
    evidence_file = models.FileField(upload_to=_evidence_path, storage=private_storage, max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ExclusionQuerySet.as_manager()

    class Meta:
        verbose_name = _("exclusion")
        verbose_name_plural = _("exclusions")
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["charge_point", "starts_at"], name="perf_exclusion_cp_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="perf_exclusion_ends_after"),
        ]

    def __str__(self) -> str:
        port = _("every port") if self.connector is None else _("port %(n)s") % {"n": self.connector}
        return f"{self.get_reason_display()}: {self.charge_point_id} ({port}) {self.starts_at:%Y-%m-%d %H:%M}"


class SiteOutageCause(models.Model):
    """A person's word that a site outage (a "site offline" report) was
    outside the operator's control, and why. Only then does the outage
    exclude its charge points' outage time: from ``starts_at`` (the start of
    the earliest charge point outage it covered) until the report is
    resolved."""

    report = models.OneToOneField(Report, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=40, choices=ExclusionReason.choices)
    evidence_text = models.TextField(blank=True)
    starts_at = models.DateTimeField()
    marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", editable=False)
    marked_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("site outage cause")
        verbose_name_plural = _("site outage causes")

    def __str__(self) -> str:
        return f"{self.get_reason_display()} (report {self.report_id})"


# --- Daily rollups (performance/rollups.py) -------------------------------------------


class PortDay(models.Model):
    """One port's outage on one UTC day: what ``rollups.rollup_day``
    computed from the ledger; only days with an outage have a row. A
    period's figures are sums of these."""

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="+", db_index=False)
    connector = models.PositiveSmallIntegerField()
    day = models.DateField()
    outage_seconds = models.PositiveIntegerField(default=0)
    excluded_seconds = models.PositiveIntegerField(default=0)
    # Outage seconds by cause ("error:GroundFailure", "disconnected", ...).
    causes = models.JSONField(default=dict, blank=True)
    # The charge point's owner and operator teams (``performance.teams``): a
    # team's figures read an index range, not a join with its charge points.
    owner_team = models.ForeignKey(Team, null=True, on_delete=models.DO_NOTHING, db_constraint=False,
                                   related_name="+", db_index=False)
    operator_team = models.ForeignKey(Team, null=True, on_delete=models.DO_NOTHING, db_constraint=False,
                                      related_name="+", db_index=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["charge_point", "day", "connector"], name="perf_portday_unique"),
        ]
        # The dashboard's worst uptimes: the outage rows of a period.
        # (Covering: the sums are read from the index alone.)
        indexes = [
            models.Index(fields=["day", "charge_point"], include=["outage_seconds", "excluded_seconds"],
                         name="perf_portday_day_cov_idx"),
            # A team's rows (the dashboard, the totals): its charge points'
            # by owner, and those it runs for another owner (a few).
            models.Index(fields=["owner_team", "day", "charge_point"],
                         include=["connector", "outage_seconds", "excluded_seconds"], name="perf_portday_owner_idx"),
            models.Index(fields=["operator_team", "day", "charge_point"],
                         include=["connector", "outage_seconds", "excluded_seconds"],
                         name="perf_portday_operator_idx", condition=~Q(operator_team=models.F("owner_team"))),
        ]

    def __str__(self) -> str:
        return f"Port {self.connector} of {self.charge_point_id} on {self.day}"


class ChargePointDay(models.Model):
    """A charge point's day: the time every port was down, its charging
    attempts and successes, and how far the day was computed
    (``covered_until``: the day's end, or the moment it was computed while
    it was today)."""

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    outage_seconds = models.PositiveIntegerField(default=0)
    excluded_seconds = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    successes = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)  # attempts - successes (indexed: the worst success rates)
    # Failed attempts by cause ("stop:EmergencyStop", "no_energy", "error:GroundFailure").
    failures = models.JSONField(default=dict, blank=True)
    # Per port, the attempts and successes of the charges that know their
    # connector: {"1": [attempts, successes]} (the others count only above).
    port_charges = models.JSONField(default=dict, blank=True)
    covered_until = models.DateTimeField()
    complete = models.BooleanField(default=False)
    # Each port's cause at covered_until ("" when up): a change carries over
    # to the next day.
    end_state = models.JSONField(default=dict, blank=True)
    ports_down_at_end = models.PositiveSmallIntegerField(default=0)
    # The charge point's owner and operator teams (``performance.teams``): a
    # team's figures read an index range, not a join with its charge points.
    owner_team = models.ForeignKey(Team, null=True, on_delete=models.DO_NOTHING, db_constraint=False,
                                   related_name="+", db_index=False)
    operator_team = models.ForeignKey(Team, null=True, on_delete=models.DO_NOTHING, db_constraint=False,
                                      related_name="+", db_index=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["charge_point", "day"], name="perf_cpday_unique"),
        ]
        indexes = [
            # The roll-over finds the days computed before they were over.
            models.Index(fields=["day"], name="perf_cpday_incomplete_idx", condition=Q(complete=False)),
            # The dashboard's worst success rates start from the days with failures.
            # (Covering: the sums of failures are read from the index alone.)
            models.Index(fields=["day", "charge_point"], include=["failed"], name="perf_cpday_failed_cov_idx",
                         condition=Q(failed__gt=0)),
            # Ports down at the end of a day: ongoing outages.
            models.Index(fields=["day", "charge_point"], name="perf_cpday_down_idx",
                         condition=Q(ports_down_at_end__gt=0)),
            # A team's rows: the totals' sums, the dashboard's days with
            # failures; those a team runs for another owner (a few).
            models.Index(fields=["owner_team", "day", "charge_point"], include=["attempts", "successes"],
                         name="perf_cpday_owner_idx"),
            models.Index(fields=["owner_team", "day", "charge_point"], include=["failed"],
                         name="perf_cpday_owner_failed_idx", condition=Q(failed__gt=0)),
            models.Index(fields=["operator_team", "day", "charge_point"], include=["attempts", "successes", "failed"],
                         name="perf_cpday_operator_idx", condition=~Q(operator_team=models.F("owner_team"))),
        ]

    def __str__(self) -> str:
        return f"{self.charge_point_id} on {self.day}"


class DirtyDay(models.Model):
    """A (charge point, day) whose rollup is out of date: written by the
    telemetry batch (one upsert per batch) and by exclusions; claimed and
    removed by ``rollups.rollups_refresh``."""

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    marked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["charge_point", "day"], name="perf_dirtyday_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.charge_point_id} on {self.day}"


class SiteVisit(models.Model):
    """Someone went to the charge point for a report: a problem solved after
    a visit was not solved remotely. Recorded through
    ``performance.response_times.site_visit_record``, which notes it on the
    report's timeline too."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="+")
    visited_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", editable=False)
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("site visit")
        verbose_name_plural = _("site visits")
        ordering = ["-visited_at", "-id"]
        indexes = [models.Index(fields=["report", "visited_at"], name="perf_sitevisit_report_idx")]

    def __str__(self) -> str:
        return f"Site visit for report {self.report_id} at {self.visited_at:%Y-%m-%d %H:%M}"


class MonthlyEmail(models.Model):
    """A team's monthly performance e-mail was queued for ``month`` (its
    first day): at most once, however often the task runs."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    queued_at = models.DateTimeField(default=timezone.now)
    recipients = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "month"], name="perf_monthlyemail_once")]

    def __str__(self) -> str:
        return f"{self.team_id} {self.month:%Y-%m}"
