"""What the OCPP gateway keeps: chargers' passwords (hashed), each team's
switch, and the transactions chargers have open.

Telemetry itself is not here: the gateway records it through
``chargepoints.services.telemetry_record_batch`` like every other sender.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Team
from chargepoints.models import ChargePoint


class CredentialQuerySet(models.QuerySet):
    def for_user(self, actor) -> CredentialQuerySet:
        return self.filter(charge_point__in=ChargePoint.objects.for_user(actor))


class ChargePointCredential(models.Model):
    """The password a charger sends with HTTP Basic auth (OCPP 1.6 security
    profile 1 and 2). Only a keyed hash is stored: HMAC-SHA256 keyed with a
    random per-charge-point salt. The password is a machine-made random
    secret (``gateway.services.credential_generate``), so a slow hasher
    would add nothing but minutes to a reconnect storm."""

    charge_point = models.OneToOneField(
        ChargePoint, on_delete=models.CASCADE, primary_key=True, related_name="ocpp_credential"
    )
    salt = models.CharField(max_length=64)
    password_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = CredentialQuerySet.as_manager()

    def __str__(self) -> str:
        return f"OCPP password of {self.charge_point_id}"


class TeamGatewaySettingsQuerySet(models.QuerySet):
    def for_user(self, actor) -> TeamGatewaySettingsQuerySet:
        from accounts.permissions import visible_team_ids

        team_ids = visible_team_ids(actor)
        return self if team_ids is None else self.filter(team_id__in=team_ids)


class TeamGatewaySettings(models.Model):
    """Per team: may its chargers connect, and should the gateway try a soft
    reset before the error check files a report."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="gateway_settings")
    connections_enabled = models.BooleanField(
        "OCPP connections enabled", default=True,
        help_text="Off: the gateway refuses every charger this team operates.",
    )

    objects = TeamGatewaySettingsQuerySet.as_manager()

    class Meta:
        verbose_name = "OCPP gateway settings"
        verbose_name_plural = "OCPP gateway settings"

    def __str__(self) -> str:
        return f"OCPP gateway settings of {self.team}"


class Transaction(models.Model):
    """A charging session a charger opened with StartTransaction. Its id is
    the OCPP transactionId; the charge is recorded as telemetry when it
    stops. Kept in the database, not in the gateway process, so a charger
    that reconnects to another gateway process can stop it there."""

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="+")
    connector = models.PositiveSmallIntegerField()
    id_tag = models.CharField(max_length=20)
    meter_start_wh = models.BigIntegerField()
    meter_last_wh = models.BigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=50, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["charge_point"], name="gw_tx_open_idx", condition=Q(ended_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"Transaction {self.pk}"
