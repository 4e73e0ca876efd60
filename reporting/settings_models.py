"""Per-team settings of reporting: who hears about new reports (report
settings and their contacts), and the health checks' thresholds."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Team

from .catalogue import Party, Source


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
        return gettext("Report settings of %(team)s") % {"team": self.team}


class ReportContact(models.Model):
    """A person notified when one of the team's reports is created."""

    settings = models.ForeignKey(ReportSettings, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"))
    phone = models.CharField(_("phone"), max_length=40, blank=True)
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


class TargetEscalation(models.TextChoices):
    """What happens besides the timeline row and the team's e-mail when a
    response-time target is missed."""

    NONE = "none", _("Nothing more")
    REASSIGN = "reassign", _("Re-assign to a party")
    NOTIFY_SUPPORT = "notify_support", _("E-mail support")


class ResponseTarget(models.Model):
    """How soon a report must be assigned and resolved, per source: support's
    default (no team) and a team's own (the team that operates the charge
    point). An empty time in a team's row means the default's; escalation
    comes from the team's row when it has one. Times run from when the report
    was filed (docs/response-targets.md)."""

    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="response_targets",
        help_text=_("Empty: the default for every team without its own."),
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    time_to_assign = models.DurationField(
        _("time to assign"), null=True, blank=True,
        help_text=_("From filing until a party takes it (e.g. 1:00:00 for an hour). Empty: no target "
                    "(a team's row: the default's)."),
    )
    time_to_resolve = models.DurationField(
        _("time to resolve"), null=True, blank=True,
        help_text=_("From filing until it is resolved (e.g. 2 00:00:00 for two days). Empty: no target "
                    "(a team's row: the default's)."),
    )
    escalation = models.CharField(
        _("when missed"), max_length=20, choices=TargetEscalation.choices, default=TargetEscalation.NONE
    )
    escalate_to = models.CharField(
        _("re-assign to"), max_length=20, choices=Party.choices, blank=True,
        help_text=_("The party a missed target hands the report to (with 'Re-assign to a party')."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("response-time target")
        verbose_name_plural = _("response-time targets")
        ordering = [models.F("team__name").asc(nulls_first=True), "source"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "source"], condition=models.Q(team__isnull=False), name="responsetarget_team_source"
            ),
            models.UniqueConstraint(
                fields=["source"], condition=models.Q(team__isnull=True), name="responsetarget_default_source"
            ),
            models.CheckConstraint(
                condition=~models.Q(escalation=TargetEscalation.REASSIGN) | ~models.Q(escalate_to=""),
                name="responsetarget_reassign_names_party",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} reports of {self.team or 'every team (default)'}"


class BreachKind(models.TextChoices):
    ASSIGN = "assign", _("Time to assign")
    RESOLVE = "resolve", _("Time to resolve")


class ResponseBreach(models.Model):
    """A response-time target a report missed: at most one per report and
    kind, so the timeline row, the e-mail and the escalation happen once."""

    report = models.ForeignKey("reporting.Report", on_delete=models.CASCADE, related_name="breaches")
    kind = models.CharField(max_length=20, choices=BreachKind.choices)
    due_at = models.DateTimeField()
    breached_at = models.DateTimeField()
    escalation = models.CharField(max_length=20, choices=TargetEscalation.choices, default=TargetEscalation.NONE)
    escalate_to = models.CharField(max_length=20, choices=Party.choices, blank=True)
    event = models.OneToOneField(
        "reporting.ReportEvent", on_delete=models.SET_NULL, null=True, blank=True, related_name="breach"
    )

    class Meta:
        ordering = ["-breached_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["report", "kind"], name="responsebreach_once_per_report_and_kind"),
        ]

    def __str__(self) -> str:
        return f"#{self.report_id} missed {self.get_kind_display().lower()}"
