"""The dashboards' tallies: counts of reports kept beside the reports, so a
dashboard reads a few hundred summary rows instead of grouping millions of
reports (``reporting/tallies.py`` maintains and reads them; docs/architecture.md
says why they look like this).

Every key column is a plain integer or code, 0 standing for "none" (a
support conversation without a team, a report that is not about a site),
so that the unique keys hold with no NULLs in them. ``owner_team_id``,
``operator_team_id`` and ``site_id`` are the report's own columns, so
``ReportQuerySet.for_user``'s condition selects a team's rows here exactly
as it selects its reports. Days and hours count from 1970-01-01 UTC.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class ReportTallyDelta(models.Model):
    """One change to the tallies, appended by the database triggers on the
    report table in the transaction that changed the report (+n for the
    report as it is now, -n for what it was). Appending never waits for
    another transaction, however many file reports at once; the fold
    (``tallies.tallies_fold``) moves the rows into the tallies."""

    owner_team_id = models.BigIntegerField()
    operator_team_id = models.BigIntegerField()
    site_id = models.BigIntegerField()
    charge_point_id = models.BigIntegerField()
    hour = models.BigIntegerField()
    source = models.CharField(max_length=20)
    reason = models.CharField(max_length=40)
    state = models.CharField(max_length=20)
    assigned_party = models.CharField(max_length=20)
    n = models.IntegerField()

    def __str__(self) -> str:
        return f"{self.n:+d} {self.reason} {self.state} at hour {self.hour}"


class ReportOpenTally(models.Model):
    """Unresolved reports by team pair (and site, for a site report), source,
    reason, state and party: the open counts and the response targets' totals."""

    owner_team_id = models.BigIntegerField()
    operator_team_id = models.BigIntegerField()
    site_id = models.BigIntegerField()
    source = models.CharField(max_length=20)
    reason = models.CharField(max_length=40)
    state = models.CharField(max_length=20)
    assigned_party = models.CharField(max_length=20)
    n = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["owner_team_id", "operator_team_id", "site_id", "source", "reason", "state", "assigned_party"],
            name="report_open_tally_key")]
        indexes = [
            models.Index(fields=["operator_team_id"], name="report_open_tally_op_idx"),
            models.Index(fields=["site_id"], name="report_open_tally_site_idx", condition=~Q(site_id=0)),
            models.Index(fields=["id"], name="report_open_tally_zero_idx", condition=Q(n=0)),
        ]

    def __str__(self) -> str:
        return f"{self.n} {self.reason} {self.state} ({self.owner_team_id}/{self.operator_team_id})"


class _PeriodTally(models.Model):
    """Reports by team pair (and site), source and state for one day or one
    hour (the subclass's period column)."""

    owner_team_id = models.BigIntegerField()
    operator_team_id = models.BigIntegerField()
    site_id = models.BigIntegerField()
    source = models.CharField(max_length=20)
    state = models.CharField(max_length=20)
    n = models.IntegerField()

    class Meta:
        abstract = True


class ReportDayTally(_PeriodTally):
    """Reports in any state by the day they were filed: the reports filed
    per day, and whole days of the response targets' counts."""

    day = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["day", "owner_team_id", "operator_team_id", "site_id", "source", "state"],
            name="report_day_tally_key")]
        indexes = [
            models.Index(fields=["owner_team_id", "day"], name="report_day_tally_owner_idx"),
            models.Index(fields=["operator_team_id", "day"], name="report_day_tally_op_idx"),
            models.Index(fields=["site_id", "day"], name="report_day_tally_site_idx", condition=~Q(site_id=0)),
            models.Index(fields=["id"], name="report_day_tally_zero_idx", condition=Q(n=0)),
        ]

    def __str__(self) -> str:
        return f"{self.n} on day {self.day} ({self.owner_team_id}/{self.operator_team_id})"


class ReportHourTally(_PeriodTally):
    """Unresolved reports by the hour they were filed: the response targets'
    counts read whole hours here around a target's boundary, and only the
    reports of the boundary's own hour."""

    hour = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["hour", "owner_team_id", "operator_team_id", "site_id", "source", "state"],
            name="report_hour_tally_key")]
        indexes = [
            models.Index(fields=["owner_team_id", "hour"], name="report_hour_tally_owner_idx"),
            models.Index(fields=["operator_team_id", "hour"], name="report_hour_tally_op_idx"),
            models.Index(fields=["site_id", "hour"], name="report_hour_tally_site_idx", condition=~Q(site_id=0)),
            models.Index(fields=["id"], name="report_hour_tally_zero_idx", condition=Q(n=0)),
        ]

    def __str__(self) -> str:
        return f"{self.n} in hour {self.hour} ({self.owner_team_id}/{self.operator_team_id})"


class ReportChargePointDay(models.Model):
    """Reports per charge point and day, for the days of the dashboard's
    window only: what to take off ``ReportChargePointRecent`` when a day
    leaves the window."""

    day = models.IntegerField()
    charge_point_id = models.BigIntegerField()
    owner_team_id = models.BigIntegerField()
    operator_team_id = models.BigIntegerField()
    n = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["day", "charge_point_id", "owner_team_id", "operator_team_id"], name="report_cp_day_key")]

    def __str__(self) -> str:
        return f"{self.n} for charge point {self.charge_point_id} on day {self.day}"


class ReportChargePointRecent(models.Model):
    """Reports per charge point filed on or after ``ReportTallyState.since``
    (the first day of the dashboard's window): the top charge points are the
    first rows of an index."""

    charge_point_id = models.BigIntegerField()
    owner_team_id = models.BigIntegerField()
    operator_team_id = models.BigIntegerField()
    n = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["charge_point_id", "owner_team_id", "operator_team_id"], name="report_cp_recent_key")]
        indexes = [
            models.Index(fields=["-n", "charge_point_id"], name="report_cp_recent_top_idx"),
            models.Index(fields=["owner_team_id", "-n", "charge_point_id"], name="report_cp_recent_owner_idx"),
            models.Index(fields=["operator_team_id", "-n", "charge_point_id"], name="report_cp_recent_op_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.n} for charge point {self.charge_point_id}"


class ReportTallyState(models.Model):
    """One row: the first day (since 1970-01-01) ``ReportChargePointRecent``
    counts from. The fold locks it, so one fold runs at a time."""

    since = models.IntegerField()
    folded_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"since day {self.since}"
