"""Maintenance windows: times when the health checks of some charge points
evaluate as usual but file nothing (reporting/maintenance.py holds the rules)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from accounts.permissions import visible_team_ids
from chargepoints.models import ChargePoint, Site

from .catalogue import Reason


class MaintenanceWindowQuerySet(models.QuerySet):
    def for_user(self, actor) -> MaintenanceWindowQuerySet:
        team_ids = visible_team_ids(actor)
        if team_ids is None:
            return self
        return self.filter(team_id__in=team_ids)


class MaintenanceWindow(models.Model):
    """A window in which the health checks file nothing for its target: one
    charge point, a site, or (neither set) every charge point the team owns
    or operates. One-off: from ``starts_at`` to ``ends_at``. Weekly: on each
    of ``weekdays`` from ``local_start`` (in ``time_zone``) for
    ``duration_minutes``, between ``starts_at`` and ``ends_at`` (open-ended
    when empty)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="maintenance_windows")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=300)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True, help_text=_("Empty only for a weekly window."))
    weekdays = models.CharField(
        max_length=20, blank=True,
        help_text=_("Weekly windows: the days, 0 = Monday … 6 = Sunday, comma-separated. Empty: one-off."),
    )
    local_start = models.TimeField(null=True, blank=True, help_text=_("Weekly windows: the local start time."))
    duration_minutes = models.PositiveIntegerField(null=True, blank=True, help_text=_("Weekly windows."))
    time_zone = models.CharField(max_length=64, default=settings.TIME_ZONE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = MaintenanceWindowQuerySet.as_manager()

    class Meta:
        verbose_name = _("maintenance window")
        verbose_name_plural = _("maintenance windows")
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["starts_at", "ends_at"], name="maintwindow_period_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="maintwindow_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target_label()}: {self.reason}"

    def target_label(self) -> str:
        if self.charge_point_id:
            return f"Charge point {self.charge_point}"
        if self.site_id:
            return f"Site {self.site}"
        return f"All of {self.team}"

    @property
    def is_weekly(self) -> bool:
        return bool(self.weekdays)

    def weekday_list(self) -> list[int]:
        return [int(d) for d in self.weekdays.split(",") if d.strip()]


class SilencedDetection(models.Model):
    """What the health checks would have filed during a window: one row per
    charge point and reason, with when it was first and last detected."""

    window = models.ForeignKey(MaintenanceWindow, on_delete=models.CASCADE, related_name="silenced")
    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=40, choices=Reason.choices)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    detections = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["first_seen_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["window", "charge_point", "reason"], name="silenced_one_per_problem"),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} on {self.charge_point_id}"
