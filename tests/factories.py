"""Test data. Factories build valid objects with the fewest arguments."""

from datetime import timedelta

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import SUPPORT_GROUP, Membership, Role, Team, User
from chargepoints.models import (
    Charge,
    ChargeOutcome,
    ChargePoint,
    ChargePointState,
    Connectivity,
    SignalKind,
    SignalReading,
    Site,
)
from reporting.catalogue import Party, Reason, Source
from reporting.models import HealthCheckSettings, Report, ReportContact, ReportSettings

PASSWORD = "correct-horse-battery"


class TeamFactory(factory.django.DjangoModelFactory):
    """A team made as the product makes one: through team_create (so it has
    its report settings), by the system."""

    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    country = "NL"
    language = Team.Language.ENGLISH

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from accounts.team_services import team_create

        existing = model_class.objects.filter(name=kwargs["name"]).first()
        return existing or team_create(by=None, **kwargs)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(PASSWORD)


class SupportUserFactory(UserFactory):
    is_staff = True

    @factory.post_generation
    def support_group(obj, create, extracted, **kwargs):
        if create:
            group, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
            obj.groups.add(group)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    team = factory.SubFactory(TeamFactory)
    role = Role.ADMIN


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"Site {n}")
    address = factory.Faker("street_address")
    city = factory.Faker("city")
    country = factory.LazyAttribute(lambda o: o.team.country)


class ChargePointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChargePoint

    site = factory.SubFactory(SiteFactory)
    owner = factory.LazyAttribute(lambda o: o.site.team)
    operator = factory.LazyAttribute(lambda o: o.owner)
    name = factory.Sequence(lambda n: f"CP-{n:05d}")
    serial_number = factory.Sequence(lambda n: f"SN{n:08d}")
    ocpp_id = factory.Sequence(lambda n: f"OCPP-{n:06d}")
    vendor = "Alfen"
    model = "Eve Single Pro"
    firmware_version = "6.4.0"
    connectivity = Connectivity.ETHERNET
    state = ChargePointState.AVAILABLE
    state_since = factory.LazyFunction(timezone.now)
    last_heartbeat_at = factory.LazyFunction(timezone.now)


class ReportFactory(factory.django.DjangoModelFactory):
    """A report inserted as it would be after creation, without the service.
    Use reporting.services.report_create where the timeline matters."""

    class Meta:
        model = Report

    charge_point = factory.SubFactory(ChargePointFactory)
    source = Source.USER
    reason = Reason.NOT_WORKING
    description = "The screen stays black."
    assigned_party = Party.OPERATOR
    # As the filing services write them (reporting.teams.report_teams).
    owner_team = factory.LazyAttribute(lambda o: _report_team(o, "owner"))
    operator_team = factory.LazyAttribute(lambda o: _report_team(o, "operator"))


def _report_team(o, role: str):
    if o.charge_point is not None:
        return getattr(o.charge_point, role)
    site = getattr(o, "site", None)
    return site.team if site is not None else None


class ReportSettingsFactory(factory.django.DjangoModelFactory):
    """The team's settings row (every team has one), set to these values."""

    class Meta:
        model = ReportSettings

    team = factory.SubFactory(TeamFactory)
    email_updates = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        settings, _ = model_class.objects.update_or_create(team=kwargs.pop("team"), defaults=kwargs)
        return settings


class ReportContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReportContact

    settings = factory.SubFactory(ReportSettingsFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")
    phone = "+4512345678"


# --- Telemetry and health checks -------------------------------------------------


class SignalReadingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SignalReading

    charge_point = factory.SubFactory(ChargePointFactory)
    event_id = factory.Sequence(lambda n: f"signal-{n}")
    kind = SignalKind.WIFI
    dbm = -60
    occurred_at = factory.LazyFunction(timezone.now)


class ChargeFactory(factory.django.DjangoModelFactory):
    """A charge; pass ``outcome=ChargeOutcome.FAILED`` for a failed one."""

    class Meta:
        model = Charge

    charge_point = factory.SubFactory(ChargePointFactory)
    event_id = factory.Sequence(lambda n: f"charge-{n}")
    ended_at = factory.LazyFunction(timezone.now)
    started_at = factory.LazyAttribute(lambda o: o.ended_at - timedelta(minutes=30))
    energy_wh = 12000
    stop_reason = "Local"
    outcome = ChargeOutcome.COMPLETED


class HealthCheckSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HealthCheckSettings
        django_get_or_create = ("team",)

    team = factory.SubFactory(TeamFactory)
