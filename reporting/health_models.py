"""What the health checks keep between passes: the changes between healthy
and unhealthy that flapping is counted from (``reporting.health.flapping``),
and for the incremental engine (``reporting.health.engine``) when each
condition next needs a look and the engine's own bookmark."""

from __future__ import annotations

from django.db import models

from chargepoints.models import ChargePoint

from .catalogue import Reason


class HealthDeadline(models.Model):
    """When a charge point's condition for one reason can next change with
    no new telemetry: a state lasting past its threshold (state since +
    minutes), a good signal reading leaving the window, the last failed
    charge leaving the window, a flapping report's hold-down ending. The
    engine looks at the charge point when ``due_at`` has passed; a new
    evaluation replaces the row."""

    # No database constraint (``db_constraint=False``), on purpose: these
    # rows are the engine's working state, written thousands at a time by a
    # first pass, whose commit spent about 90 ms (at 1M charge points)
    # checking them and the flips row by row. Deleting a charge point
    # through the application still deletes its rows (``CASCADE``); a row
    # outliving its charge point otherwise is harmless and goes at the next
    # look: a due row whose charge point is gone is looked at, found
    # nothing, and replaced by none.
    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="+",
                                     db_constraint=False, db_index=False)
    reason = models.CharField(max_length=40, choices=Reason.choices)
    due_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["due_at"], name="healthdeadline_due_idx")]
        constraints = [
            models.UniqueConstraint(fields=["charge_point", "reason"], name="healthdeadline_one_per_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.reason} on {self.charge_point_id} due {self.due_at}"


class HealthEngineState(models.Model):
    """The engine's one row: its high-water mark (the time up to which every
    deadline and maintenance window end has been looked at), the settings
    it last evaluated with (a change re-evaluates the teams it affects), and
    the reconciliation's findings."""

    high_water_mark = models.DateTimeField(null=True, blank=True)
    # Scope ("*" for the defaults, a team id for a team's own) -> a digest
    # of the thresholds and switches in force at the last pass.
    settings_digest = models.JSONField(default=dict, blank=True)
    last_reconciled_at = models.DateTimeField(null=True, blank=True)
    # Differences the hourly reconciliation found between the incremental
    # state and a full evaluation: in all, and at the last run (by kind).
    reconciliation_differences = models.PositiveBigIntegerField(default=0)
    last_differences = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "health engine state"

    def __str__(self) -> str:
        return f"Health engine at {self.high_water_mark}"


class HealthFlip(models.Model):
    """One change of a charge point between healthy and unhealthy for one
    health check, as the sweep saw it (filed or came back: unhealthy;
    resolved or cleared: healthy). The sweep counts these to recognise
    flapping and deletes them once older than the flapping window."""

    # No database constraint, as ``HealthDeadline``'s: a first pass writes
    # one row per report it files, and a row outliving its charge point is
    # forgotten with the window.
    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="+",
                                     db_constraint=False, db_index=False)
    reason = models.CharField(max_length=40, choices=Reason.choices)
    healthy = models.BooleanField()
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["charge_point", "reason", "at"], name="healthflip_cp_reason_at_idx"),
            models.Index(fields=["at"], name="healthflip_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reason} {'healthy' if self.healthy else 'unhealthy'} at {self.at}"
