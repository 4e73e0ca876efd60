"""Per-team settings of reporting: who hears about new reports (report
settings and their contacts), and the health checks' thresholds."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Team


class Delivery(models.TextChoices):
    """How a team's contacts get the e-mails about its reports."""

    IMMEDIATE = "immediate", _("One e-mail per report change")
    DIGEST = "digest", _("A digest every few minutes")


class ReportSettings(models.Model):
    """Per team: who hears about new reports, whether they get updates, and
    whether one by one or as a digest."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="report_settings")
    email_updates = models.BooleanField(
        _("e-mail updates"),
        default=True,
        help_text=_("Also e-mail the contacts when a report is assigned to them or resolved."),
    )
    delivery = models.CharField(
        _("delivery"), max_length=20, choices=Delivery.choices, default=Delivery.IMMEDIATE,
        help_text=_("A digest lists what was filed, assigned and resolved in its period, one e-mail per contact."),
    )
    digest_minutes = models.PositiveIntegerField(
        _("digest every (minutes)"), default=15, validators=[MinValueValidator(1), MaxValueValidator(1440)],
    )
    burst_threshold = models.PositiveIntegerField(
        _("burst threshold"), null=True, blank=True, validators=[MinValueValidator(1)],
        help_text=_("More new reports than this within a minute go out as one digest. "
                    "Empty: the default (NOTIFICATIONS_BURST_THRESHOLD)."),
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
