"""Per-team settings of reporting: who hears about new reports (report
settings and their contacts), and the health checks' thresholds."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Team


class ReportSettings(models.Model):
    """Per team: who hears about new reports, and whether they get updates."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="report_settings")
    email_updates = models.BooleanField(
        _("e-mail updates"),
        default=True,
        help_text=_("Also e-mail the contacts when a report is assigned to them or resolved."),
    )
    driver_contact_days = models.PositiveSmallIntegerField(
        _("drivers' contact details visible for (days)"),
        null=True,
        blank=True,
        help_text=_(
            "How long after a report is filed your team sees the driver's name, e-mail and phone. "
            "Empty: while the report is open. Never after it is resolved."
        ),
    )
    self_heal = models.BooleanField(
        _("try a soft reset before filing"),
        default=False,
        help_text=_("When one of the team's connected chargers goes into error, the OCPP gateway sends it one "
                    "soft reset, and the \"in error\" check waits the minutes below on top before it files a "
                    "report. The report's timeline says what was tried."),
    )
    self_heal_minutes = models.PositiveIntegerField(
        _("minutes to wait after the reset"), default=5, validators=[MinValueValidator(1), MaxValueValidator(1440)],
    )
    route_by_error_hint = models.BooleanField(
        _("route \"in error\" reports by the error hint"),
        default=False,
        help_text=_("A new \"in error\" report goes to the party the error-hint catalogue names for the charger's "
                    "error code (owner, installer, grid: the owner; operator, driver, manufacturer: the operator). "
                    "Off: to the operator, as usual."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("report settings")
        verbose_name_plural = _("report settings")

    def __str__(self) -> str:
        return f"Report settings of {self.team}"


class ReportContact(models.Model):
    """A person notified when one of the team's reports is created."""

    settings = models.ForeignKey(ReportSettings, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField()
    phone = models.CharField(max_length=40, blank=True)
    is_active = models.BooleanField(_("notify"), default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["settings", "email"], name="reportcontact_unique_email")
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class HealthCheckSettings(models.Model):
    """One operator team's overrides of the health-check defaults
    (settings.HEALTH_CHECKS). An empty field means "the default". The checks
    read the settings of the team that operates the charge point."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="health_check_settings")
    auto_resolve = models.BooleanField(
        null=True,
        blank=True,
        help_text=_("Resolve a system report when its condition clears. Empty: the default."),
    )

    disconnected_enabled = models.BooleanField(_("disconnected: check on"), null=True, blank=True)
    disconnected_minutes = models.PositiveIntegerField(
        _("disconnected: minutes"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    in_error_enabled = models.BooleanField(_("in error: check on"), null=True, blank=True)
    in_error_minutes = models.PositiveIntegerField(
        _("in error: minutes"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    failed_charges_enabled = models.BooleanField(_("failed charges: check on"), null=True, blank=True)
    failed_charges_count = models.PositiveIntegerField(
        _("failed charges: how many"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    failed_charges_window_minutes = models.PositiveIntegerField(
        _("failed charges: within minutes"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    bad_wifi_enabled = models.BooleanField(_("bad Wi-Fi: check on"), null=True, blank=True)
    bad_wifi_dbm = models.SmallIntegerField(
        _("bad Wi-Fi: below dBm"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-150), MaxValueValidator(0)],
    )
    bad_wifi_window_minutes = models.PositiveIntegerField(
        _("bad Wi-Fi: sustained for minutes"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    bad_wifi_min_readings = models.PositiveIntegerField(
        _("bad Wi-Fi: at least readings"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    bad_cell_signal_enabled = models.BooleanField(_("bad cell signal: check on"), null=True, blank=True)
    bad_cell_signal_dbm = models.SmallIntegerField(
        _("bad cell signal: below dBm"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-150), MaxValueValidator(0)],
    )
    bad_cell_signal_window_minutes = models.PositiveIntegerField(
        _("bad cell signal: sustained for minutes"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    bad_cell_signal_min_readings = models.PositiveIntegerField(
        _("bad cell signal: at least readings"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("health-check settings")
        verbose_name_plural = _("health-check settings")
        ordering = ["team__name"]

    def __str__(self) -> str:
        return f"Health checks of {self.team}"
