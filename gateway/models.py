"""What the OCPP gateway keeps: chargers' passwords (hashed), each team's
switch, and the transactions chargers have open.

Telemetry itself is not here: the gateway records it through
``chargepoints.services.telemetry_record_batch`` like every other sender.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

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
    """Per team: may its chargers connect. (Self-healing, a soft reset before
    the error check files, is on the team's report settings.)"""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="gateway_settings")
    connections_enabled = models.BooleanField(
        "OCPP connections enabled", default=True,
        help_text="Off: the gateway refuses every charger this team operates.",
    )

    objects = TeamGatewaySettingsQuerySet.as_manager()

    class Meta:
        verbose_name = _("OCPP gateway settings")
        verbose_name_plural = _("OCPP gateway settings")

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


class GatewayProcess(models.Model):
    """A running gateway process and its lease: it renews ``seen_at`` every
    poll. A process whose lease ran out is gone (crashed, killed): the
    sweep marks its connections disconnected and its commands timed out."""

    token = models.CharField(max_length=40, unique=True)
    hostname = models.CharField(max_length=200, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"Gateway process {self.hostname}:{self.pid}"


class GatewayConnection(models.Model):
    """Which gateway process holds a charger's socket now: where its remote
    commands go. One row per connected charge point; a newer connection
    (on any process) takes the row over."""

    charge_point = models.OneToOneField(ChargePoint, on_delete=models.CASCADE, primary_key=True,
                                        related_name="gateway_connection")
    process = models.ForeignKey(GatewayProcess, on_delete=models.CASCADE, related_name="connections")
    connected_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Connection of {self.charge_point_id}"


class CommandAction(models.TextChoices):
    RESET = "Reset", "Reset"
    TRIGGER_MESSAGE = "TriggerMessage", "Trigger message"
    CHANGE_AVAILABILITY = "ChangeAvailability", "Change availability"
    UNLOCK_CONNECTOR = "UnlockConnector", "Unlock connector"


class CommandStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the gateway"
    SENT = "sent", "Sent, waiting for the answer"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Failed"  # a CALLERROR, or another answer than Accepted/Rejected
    TIMED_OUT = "timed_out", "Timed out"


OPEN_STATUSES = (CommandStatus.PENDING, CommandStatus.SENT)


class RemoteCommandQuerySet(models.QuerySet):
    def for_user(self, actor) -> RemoteCommandQuerySet:
        return self.filter(charge_point__in=ChargePoint.objects.for_user(actor))


class RemoteCommand(models.Model):
    """One remote command to a charger: who asked, when, what, and its
    answer. Written by ``gateway.commands``; the gateway process that holds
    the charger's socket sends it and records the answer."""

    class Origin(models.TextChoices):
        PERSON = "person", "A person or API key"
        SELF_HEAL = "self_heal", "Self-healing"

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="remote_commands")
    action = models.CharField(max_length=30, choices=CommandAction.choices)
    payload = models.JSONField(default=dict, help_text="The OCPP CALL payload.")
    status = models.CharField(max_length=20, choices=CommandStatus.choices, default=CommandStatus.PENDING)
    answer = models.JSONField(null=True, blank=True, help_text="The charger's CALLRESULT or CALLERROR.")
    origin = models.CharField(max_length=20, choices=Origin.choices, default=Origin.PERSON)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    requested_by_label = models.CharField(max_length=200)
    report = models.ForeignKey("reporting.Report", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    process = models.ForeignKey(GatewayProcess, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField()
    deadline_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    objects = RemoteCommandQuerySet.as_manager()

    class Meta:
        verbose_name = _("remote command")
        verbose_name_plural = _("remote commands")
        ordering = ["-requested_at", "-pk"]
        indexes = [
            # What a gateway process polls for, and what the sweep times out:
            # only the few open commands are in these indexes.
            models.Index(fields=["process"], name="gw_cmd_pending_idx", condition=Q(status="pending")),
            models.Index(fields=["deadline_at"], name="gw_cmd_open_deadline_idx",
                         condition=Q(status__in=["pending", "sent"])),
            models.Index(fields=["charge_point", "-requested_at"], name="gw_cmd_cp_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.summary} to {self.charge_point_id}"

    @property
    def summary(self) -> str:
        return command_summary(self.action, self.payload)

    @property
    def answer_text(self) -> str:
        return answer_summary(self.status, self.answer)


def command_summary(action: str, payload: dict) -> str:
    if action == CommandAction.RESET:
        return f"Reset ({payload.get('type', '').lower()})"
    if action == CommandAction.TRIGGER_MESSAGE:
        return f"TriggerMessage {payload.get('requestedMessage', '')}"
    if action == CommandAction.CHANGE_AVAILABILITY:
        return f"ChangeAvailability connector {payload.get('connectorId')} {payload.get('type', '')}"
    if action == CommandAction.UNLOCK_CONNECTOR:
        return f"UnlockConnector connector {payload.get('connectorId')}"
    return action


def answer_summary(status: str, answer: dict | None) -> str:
    if status == CommandStatus.TIMED_OUT:
        return "no answer in time"
    if status in OPEN_STATUSES:
        return "waiting"
    if not answer:
        return CommandStatus(status).label
    if "error_code" in answer:
        return f"error {answer['error_code']}: {answer.get('description', '')}".rstrip(": ")
    return answer.get("status", "") or CommandStatus(status).label
