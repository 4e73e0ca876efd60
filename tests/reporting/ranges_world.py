"""A team's reports in every relation to it, for the tests of the lists
read by team ranges (``ReportQuerySet.by_ranges``)."""

import datetime

from django.db import connection
from django.utils import timezone

from accounts.models import Role
from reporting.catalogue import Party, Reason, Source
from reporting.models import ReportState
from tests.factories import ChargePointFactory, ReportFactory, SiteFactory, TeamFactory

NOW = timezone.now().replace(microsecond=0)
UNION_RUNS = connection.vendor == "postgresql"


class World:
    """An operator of team A (and B) and reports of every kind of relation
    to them, with created_at ties so the id decides the order."""

    def __init__(self, member_factory):
        self.a, self.b, self.x, self.y = (TeamFactory() for _ in range(4))
        self.user = member_factory(self.a, Role.ADMIN)
        site_a, site_x, site_y = SiteFactory(team=self.a), SiteFactory(team=self.x), SiteFactory(team=self.y)
        cps = {
            "a": ChargePointFactory(site=site_a),  # owner and operator both A
            "a_for_x": ChargePointFactory(site=site_a, operator=self.x),  # A owns, X operates
            "x_for_a": ChargePointFactory(site=site_x, operator=self.a),  # X owns, A operates: X's site is seen
            "x": ChargePointFactory(site=site_x),  # not A's, but on a site A operates at
            "y": ChargePointFactory(site=site_y),  # nothing of A's
            "b": ChargePointFactory(site=SiteFactory(team=self.b)),
        }
        self.cps = cps
        states = [ReportState.OPEN, ReportState.ASSIGNED, ReportState.RESOLVED]
        reasons = [Reason.NOT_WORKING, Reason.BROKEN, Reason.OTHER]
        n = 0
        for round_ in range(4):
            for key in ["a", "a_for_x", "x_for_a", "x", "y", "b"]:
                n += 1
                # Two reports per timestamp: the id breaks the tie.
                ReportFactory(charge_point=cps[key], state=states[n % 3], reason=reasons[n % 3],
                              created_at=NOW - datetime.timedelta(minutes=n // 2))
            for site in (site_a, site_x, site_y):
                n += 1
                ReportFactory(charge_point=None, site=site, source=Source.SYSTEM, reason=Reason.SITE_OFFLINE,
                              state=ReportState.RESOLVED if round_ else ReportState.OPEN,
                              created_at=NOW - datetime.timedelta(minutes=n // 2))
        # A support conversation with no charge point yet: no team column at all.
        ReportFactory(charge_point=None, source=Source.SUPPORT, reason=Reason.OTHER,
                      assigned_party=Party.SUPPORT, created_at=NOW)
