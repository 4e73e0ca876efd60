from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from accounts.permissions import visible_team_ids


class SiteQuerySet(models.QuerySet):
    def for_user(self, actor) -> SiteQuerySet:
        """Sites of the actor's teams, and sites holding charge points the
        actor's teams own or operate."""
        team_ids = visible_team_ids(actor)
        if team_ids is None:
            return self
        holds_theirs = ChargePoint.objects.filter(site=OuterRef("pk")).filter(
            Q(owner_id__in=team_ids) | Q(operator_id__in=team_ids)
        )
        return self.filter(Q(team_id__in=team_ids) | Exists(holds_theirs))


class Site(models.Model):
    """A charging site: an address with charge points."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="sites")
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=120, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, help_text=_("ISO 3166-1 alpha-2 country code."))
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SiteQuerySet.as_manager()

    class Meta:
        verbose_name = _("charging site")
        verbose_name_plural = _("charging sites")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(country__regex=r"^[A-Z]{2}$"), name="site_country_iso_code"
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="site_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="site_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ChargePointState(models.TextChoices):
    AVAILABLE = "available", _("Available")
    BUSY = "busy", _("Busy")
    ERROR = "error", _("Error")
    DISCONNECTED = "disconnected", _("Disconnected")
    PASSIVE = "passive", _("Passive")
    UNKNOWN = "unknown", _("Unknown")


class Connectivity(models.TextChoices):
    WIFI = "wifi", _("Wi-Fi")
    CELLULAR = "cellular", _("Cellular")
    ETHERNET = "ethernet", _("Ethernet")


# Public codes: what a driver's QR sticker carries (``/r/<code>/``). Random,
# so they say nothing about the fleet's size and cannot be walked; drawn
# from an alphabet without look-alikes (0/O, 1/I/L, U) so a code read off a
# sticker and typed by hand is unambiguous. 8 characters: 30**8, about 6.6e11.
PUBLIC_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
PUBLIC_CODE_LENGTH = 8


def generate_public_code() -> str:
    return "".join(secrets.choice(PUBLIC_CODE_ALPHABET) for _ in range(PUBLIC_CODE_LENGTH))


def normalize_public_code(code: str) -> str:
    """A code as typed by hand: any case, stray spaces."""
    return code.strip().upper()


class ChargePointQuerySet(models.QuerySet):
    def for_user(self, actor) -> ChargePointQuerySet:
        """Charge points the actor's teams own or operate."""
        team_ids = visible_team_ids(actor)
        if team_ids is None:
            return self
        return self.filter(Q(owner_id__in=team_ids) | Q(operator_id__in=team_ids))


class ChargePoint(models.Model):
    """A charger, with its identity and its live state."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="charge_points")
    owner = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="owned_charge_points")
    operator = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="operated_charge_points"
    )
    name = models.CharField(max_length=200)
    serial_number = models.CharField(max_length=100, blank=True, db_index=True)
    ocpp_id = models.CharField(
        "OCPP id",
        max_length=100,
        unique=True,
        help_text=_("The charge box identity the charger uses on its OCPP connection."),
    )
    public_code = models.CharField(
        max_length=16,
        unique=True,
        default=generate_public_code,
        editable=False,
        help_text=_("The code on the charge point's QR sticker: drivers report at /r/<code>/."),
    )
    vendor = models.CharField(max_length=100, blank=True)
    model = models.CharField(max_length=100, blank=True)
    firmware_version = models.CharField(max_length=100, blank=True)
    connectivity = models.CharField(
        max_length=20, choices=Connectivity.choices, default=Connectivity.ETHERNET
    )

    state = models.CharField(
        max_length=20, choices=ChargePointState.choices, default=ChargePointState.UNKNOWN
    )
    state_since = models.DateTimeField(default=timezone.now)
    # When the latest applied state event happened. state_since only moves when
    # the state changes, so a late event is recognised against this instead.
    state_reported_at = models.DateTimeField(null=True, blank=True, editable=False)
    error_code = models.CharField(max_length=50, blank=True)
    vendor_error_code = models.CharField(max_length=100, blank=True)
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    wifi_signal_dbm = models.SmallIntegerField("Wi-Fi signal (dBm)", null=True, blank=True)
    wifi_signal_at = models.DateTimeField(null=True, blank=True)
    cellular_signal_dbm = models.SmallIntegerField("cellular signal (dBm)", null=True, blank=True)
    cellular_signal_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)

    objects = ChargePointQuerySet.as_manager()

    class Meta:
        verbose_name = _("charge point")
        verbose_name_plural = _("charge points")
        ordering = ["name"]
        indexes = [
            # owner and operator: their foreign keys' own indexes (a second
            # index on each was one more write per live state update).
            models.Index(fields=["state", "state_since"], name="cp_state_since_idx"),
            # Whose is this charge point: the performance dashboard keeps a
            # team's rollup rows from the index alone (no heap page per row at
            # a million charge points). A state update already writes every
            # index (cp_state_since_idx makes it a non-HOT update): one more.
            models.Index(fields=["id"], include=["owner", "operator"], name="cp_teams_idx"),
            # The few charge points run by a team other than their owner: the
            # sites whose site reports such an operator sees (Report.for_user).
            models.Index(fields=["operator", "site"], name="cp_operated_for_others_idx",
                         condition=~Q(operator=models.F("owner"))),
            # The signal checks start from charge points whose latest reading is
            # weak: a range scan over the few below a threshold, not the fleet.
            models.Index(
                fields=["wifi_signal_dbm"],
                name="cp_wifi_signal_idx",
                condition=Q(wifi_signal_dbm__isnull=False),
            ),
            models.Index(
                fields=["cellular_signal_dbm"],
                name="cp_cell_signal_idx",
                condition=Q(cellular_signal_dbm__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.ocpp_id})"

    @property
    def country(self) -> str:
        return self.site.country


# --- Telemetry ------------------------------------------------------------------
#
# What the platform learns about a charge point over time. Every row carries
# the sender's ``event_id``, unique per charge point and type (never across
# charge points, so one team's ids cannot shadow another team's events), so a
# batch sent twice stores nothing the second time. ``occurred_at`` is the charger's time; the rows are
# history, the live state lives on ChargePoint. They are kept for a retention
# (chargepoints/services/retention.py); on PostgreSQL state changes,
# heartbeats and signal readings are partitioned by ``occurred_at``
# (chargepoints/partitions.py), so their ids are unique per event time too.


def event_id_per_charge_point(model_name: str, partition_key: str | None = None) -> models.UniqueConstraint:
    """The sender's event id is unique per charge point. Its index (charge
    point first) also serves the ingest's duplicate lookup.

    On a table partitioned by time (``chargepoints/partitions.py``) a unique
    constraint must include the partition key, so there the id is unique per
    charge point and event time: a resend carries the same time, so it is
    still caught, and the ingest looks duplicates up by (charge point, event
    id) on other databases as before."""
    fields = ["charge_point", "event_id", *([partition_key] if partition_key else [])]
    return models.UniqueConstraint(fields=fields, name=f"{model_name}_cp_event_id_uniq")


class SignalKind(models.TextChoices):
    WIFI = "wifi", _("Wi-Fi")
    CELLULAR = "cellular", _("Cellular")


class ChargeOutcome(models.TextChoices):
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")


class TelemetryEvent(models.Model):
    # No index of its own: the unique (charge point, event id) constraint's
    # index starts with it, and every index is one more write per row stored.
    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="+", db_index=False)
    # Unique per charge point (see event_id_per_charge_point()), not globally.
    event_id = models.CharField(max_length=100)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class StateChange(TelemetryEvent):
    """The charger reported a new status (OCPP StatusNotification), or the
    CSMS saw its connection go."""

    state = models.CharField(max_length=20, choices=ChargePointState.choices)
    ocpp_status = models.CharField("OCPP status", max_length=30, blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    vendor_error_code = models.CharField(max_length=100, blank=True)
    occurred_at = models.DateTimeField()
    # The connector the status was about (0: the whole charge point); none
    # when the sender reported the charge point's state directly. ``state``
    # is always the charge point's state that followed.
    connector = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["charge_point", "-occurred_at"], name="statechange_cp_idx"),
            # "Did the charge point go to error during this charge?"
            models.Index(
                fields=["charge_point", "occurred_at"],
                name="statechange_cp_error_idx",
                condition=Q(state=ChargePointState.ERROR),
            ),
        ]
        constraints = [event_id_per_charge_point("statechange", "occurred_at")]

    def __str__(self) -> str:
        return f"{self.get_state_display()} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class Heartbeat(TelemetryEvent):
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["charge_point", "-occurred_at"], name="heartbeat_cp_idx")]
        constraints = [event_id_per_charge_point("heartbeat", "occurred_at")]

    def __str__(self) -> str:
        return f"Heartbeat at {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class SignalReading(TelemetryEvent):
    """Signal strength: Wi-Fi RSSI or cellular signal, in dBm (a vendor's
    custom meter value in OCPP)."""

    kind = models.CharField(max_length=10, choices=SignalKind.choices)
    dbm = models.SmallIntegerField("signal (dBm)")
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # The signal checks read one charge point's readings in a window.
            models.Index(fields=["charge_point", "kind", "occurred_at"], name="signal_cp_kind_idx"),
        ]
        constraints = [event_id_per_charge_point("signalreading", "occurred_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.dbm} dBm at {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class Charge(TelemetryEvent):
    """One charging session. ``outcome`` is decided by
    ``chargepoints.services.charges.charge_failure_reason`` when it is recorded."""

    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    energy_wh = models.PositiveIntegerField("energy (Wh)")
    stop_reason = models.CharField(max_length=50, blank=True)
    transaction_id = models.CharField(max_length=100, blank=True)
    # The port the charge was on, where the sender knew it (OCPP
    # StartTransaction's connectorId): the success rate per port.
    connector = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=ChargeOutcome.choices)
    failure_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-ended_at", "-id"]
        indexes = [
            models.Index(fields=["charge_point", "-ended_at"], name="charge_cp_ended_idx"),
            # The failed-charges check: failures in the last hour, a range scan
            # over failed charges only.
            models.Index(
                fields=["ended_at", "charge_point"],
                name="charge_failed_ended_idx",
                condition=Q(outcome=ChargeOutcome.FAILED),
            ),
            models.Index(
                fields=["charge_point", "ended_at"],
                name="charge_failed_cp_idx",
                condition=Q(outcome=ChargeOutcome.FAILED),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__gte=models.F("started_at")), name="charge_ends_after_start"
            ),
            event_id_per_charge_point("charge"),
        ]

    def __str__(self) -> str:
        return f"Charge {self.started_at:%Y-%m-%d %H:%M} ({self.get_outcome_display()})"


class Connector(models.Model):
    """One connector of a charge point, as its OCPP StatusNotifications
    report it. Connector 0 is the charge point as a whole. The charge point's
    own state is derived from its connectors (``chargepoints.connectors.
    connectors_state``); the rows are written only by the telemetry service."""

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="connectors")
    number = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=20, choices=ChargePointState.choices)
    ocpp_status = models.CharField("OCPP status", max_length=30, blank=True)
    state_since = models.DateTimeField()
    # When the latest applied status happened: a late one is history only.
    reported_at = models.DateTimeField()
    error_code = models.CharField(max_length=50, blank=True)
    vendor_error_code = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["charge_point", "number"]
        constraints = [
            models.UniqueConstraint(fields=["charge_point", "number"], name="connector_unique_number"),
        ]

    def __str__(self) -> str:
        return f"Connector {self.number}: {self.ocpp_status or self.get_state_display()}"


class HealthMark(models.Model):
    """A charge point whose health may have changed: the telemetry service
    writes one in the batch's transaction for every charge point whose
    state, signal or charges changed (``chargepoints.health_marks``), and
    the health engine (``reporting.health.engine``) takes them, so that a
    pass looks only at what changed. A queue, not a history: several marks
    for one charge point are one, and a taken mark is gone."""

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="+")
    marked_at = models.DateTimeField()
    # Only a signal reading: the engine looks at the charge point only when
    # its latest reading is weak or a signal report is open.
    signal_only = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"Charge point {self.charge_point_id} changed at {self.marked_at}"
