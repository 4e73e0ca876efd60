"""The performance figures as the API answers them (read only)."""

from __future__ import annotations

from rest_framework import serializers

from ..pages import cause_label


class PeriodSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="30d, 90d, 365d, a month (2026-03) or a quarter (2026-Q1).")
    first = serializers.DateField(help_text="The first UTC day.")
    last = serializers.DateField(help_text="The last UTC day (included).")


class PortSerializer(serializers.Serializer):
    connector = serializers.IntegerField(help_text="The port's connector number (0: a charger that reports none).")
    minutes = serializers.FloatField()
    outage_minutes = serializers.FloatField()
    excluded_minutes = serializers.FloatField()
    uptime = serializers.FloatField(allow_null=True, help_text="NEVI: 100 * (minutes - (outage - excluded)) / minutes.")
    attempts = serializers.IntegerField(help_text="Charging attempts on this port: of the charges that know their "
                                        "connector (OCPP StartTransaction's connectorId); the others count only "
                                        "in the charge point's figures.")
    successes = serializers.IntegerField()
    success_rate = serializers.FloatField(allow_null=True)


class CauseSerializer(serializers.Serializer):
    cause = serializers.CharField(help_text='"error:GroundFailure", "passive", "disconnected", "stop:EmergencyStop", '
                                            '"no_energy", ...')
    label = serializers.CharField()
    value = serializers.FloatField(help_text="Outage minutes, or failed charges.")


def causes(counter, *, minutes: bool) -> list[dict]:
    return [{"cause": key, "label": cause_label(key), "value": value / 60 if minutes else value}
            for key, value in counter.most_common()]


class FiguresSerializer(serializers.Serializer):
    period = PeriodSerializer()
    uptime = serializers.FloatField(allow_null=True, help_text="Over all the ports; null for a period of no minutes.")
    minutes = serializers.FloatField()
    outage_minutes = serializers.FloatField()
    excluded_minutes = serializers.FloatField()
    attempts = serializers.IntegerField(help_text="Charging attempts: every authorised start.")
    successes = serializers.IntegerField(help_text="Attempts that delivered energy and ended normally.")
    success_rate = serializers.FloatField(allow_null=True)
    ports = PortSerializer(many=True, help_text="A charge point: each port. A site or a team: the ports summed per "
                           "connector number (port 1 of every charge point, port 2, ...).")
    port_count = serializers.IntegerField(help_text="The ports counted (each charge point's connectors).")
    outage_causes = CauseSerializer(many=True, required=False)
    failure_causes = CauseSerializer(many=True, required=False)


def figures_data(figures, period, *, with_causes: bool = True) -> dict:
    data = {
        "period": {"label": period.label, "first": period.first, "last": period.last},
        "uptime": figures.uptime, "minutes": figures.minutes, "outage_minutes": figures.outage_minutes,
        "excluded_minutes": figures.excluded_minutes, "attempts": figures.attempts, "successes": figures.successes,
        "success_rate": figures.success_rate, "port_count": figures.port_count,
        "ports": [{"connector": p.connector, "minutes": p.minutes, "outage_minutes": p.outage_minutes,
                   "excluded_minutes": p.excluded_minutes, "uptime": p.uptime, "attempts": p.attempts,
                   "successes": p.successes, "success_rate": p.success_rate} for p in figures.ports],
    }
    if with_causes:
        data["outage_causes"] = causes(figures.causes, minutes=True)
        data["failure_causes"] = causes(figures.failures, minutes=False)
    return data


class RatingSerializer(serializers.Serializer):
    average = serializers.FloatField(allow_null=True)
    count = serializers.IntegerField()


class ChargePointPerformanceSerializer(FiguresSerializer):
    charge_point = serializers.IntegerField()
    rating = RatingSerializer()


class ChargePointRowSerializer(serializers.Serializer):
    charge_point = serializers.IntegerField()
    name = serializers.CharField()
    uptime = serializers.FloatField(allow_null=True)
    success_rate = serializers.FloatField(allow_null=True)
    attempts = serializers.IntegerField()
    successes = serializers.IntegerField()
    open_reports = serializers.IntegerField(required=False)


class SitePerformanceSerializer(FiguresSerializer):
    site = serializers.IntegerField()
    charge_points = ChargePointRowSerializer(
        many=True, help_text="Lowest uptime first: every charge point of a site of up to 100; beyond, the 100 with "
        "the lowest uptime below 100 %.")
    charge_points_total = serializers.IntegerField(help_text="How many charge points of the site the figures cover.")


class TeamPerformanceSerializer(FiguresSerializer):
    team = serializers.IntegerField()
    worst_uptime = ChargePointRowSerializer(many=True, help_text="At most 20, lowest uptime first.")
    worst_success_rate = ChargePointRowSerializer(many=True, help_text="At most 20, lowest success rate first.")


class ResponseTimeRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True, help_text="The team id, site id or reason.")
    label = serializers.CharField()
    reports = serializers.IntegerField()
    resolved = serializers.IntegerField()
    first_response_median_seconds = serializers.FloatField(allow_null=True)
    first_response_p90_seconds = serializers.FloatField(allow_null=True)
    resolution_median_seconds = serializers.FloatField(allow_null=True)
    resolution_p90_seconds = serializers.FloatField(allow_null=True)
    resolved_remotely_percent = serializers.FloatField(allow_null=True)


class ResponseTimesSerializer(serializers.Serializer):
    period = PeriodSerializer()
    by = serializers.CharField()
    rows = ResponseTimeRowSerializer(many=True)
