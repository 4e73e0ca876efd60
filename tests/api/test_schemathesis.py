"""Property-based tests of the whole API from its own OpenAPI schema:
schemathesis generates requests for every operation (valid and invalid
input), runs them through the Django WSGI app and checks that no response is
a 5xx and that every response matches the schema. The number of examples per
operation is bounded so the test stays around a minute."""

import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import response_schema_conformance

from accounts.models import Role
from chargepoints.models import Charge, Heartbeat, SignalReading, StateChange
from chargepoints.services import telemetry_record_batch
from reporting import services
from reporting.catalogue import Reason, Source
from tests.factories import ChargePointFactory, TeamFactory

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "12"))

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20261123,
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
    }
)


@pytest.fixture(autouse=True)
def _keep_the_test_transaction():
    # Django's WSGI handler closes the database connection after a request
    # made inside a transaction; in a test that is the test's own
    # transaction, so keep the connection for the duration of the test.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def data(make_key):
    """A team with charge points and reports in every state, its admin key,
    and another team's charge point and report."""
    ours = TeamFactory(country="DK")
    theirs = TeamFactory(country="NL")
    # The first has the OCPP id of the schema's examples, so they reach real rows.
    cps = [ChargePointFactory(site__team=ours, ocpp_id="DK-AAR-0001")]
    cps += [ChargePointFactory(site__team=ours) for _ in range(2)]
    their_cp = ChargePointFactory(site__team=theirs)
    key, raw = make_key(ours, Role.ADMIN)
    reports = [
        services.report_create(charge_point=cps[0], source=Source.USER, reason=Reason.NOT_WORKING, by=key),
        services.report_create(
            charge_point=cps[1],
            source=Source.SUPPORT,
            reason=Reason.CONVERSATION,
            by=None,  # support reports are support staff's
            messages=[{"sender": "driver", "author_name": "Mette", "body": "It will not start."}],
        ),
        services.report_create(charge_point=cps[2], source=Source.USER, reason=Reason.TAX_REFUND, by=key),
    ]
    services.report_resolve(report=reports[2], by=key, note="Refunded.")
    services.report_create(charge_point=their_cp, source=Source.USER, reason=Reason.BROKEN)
    ids = {
        "reports": [r.pk for r in reports],
        "charge-points": [cp.pk for cp in cps],
        "sites": [cp.site_id for cp in cps],
        "teams": [ours.pk],
    }
    # Some history for the telemetry lists and their detail pages.
    telemetry_record_batch(
        events=[
            {"event_id": f"seed-{kind}", "type": kind, "ocpp_id": "DK-AAR-0001", "occurred_at": "2026-01-01T00:00:00Z",
             "status": "Faulted", "kind": "wifi", "dbm": -90, "started_at": "2025-12-31T23:00:00Z",
             "ended_at": "2026-01-01T00:00:00Z", "energy_wh": 0}
            for kind in ("state_change", "heartbeat", "signal", "charge")
        ]
    )
    for path, model in [
        ("state-changes", StateChange), ("heartbeats", Heartbeat), ("signal-readings", SignalReading),
        ("charges", Charge),
    ]:
        ids[path] = list(model.objects.values_list("pk", flat=True))
    return {"raw_key": raw, "ids": ids}


# The schema as /api/schema/ serves it (pytest-django has set Django up by
# the time test modules are collected). Loading it eagerly, rather than from a
# fixture, gives one plain pytest test per operation.
schema = schemathesis.openapi.from_dict(
    SchemaGenerator(patterns=None).get_schema(request=None, public=True), config=CONFIG
)
schema.app = get_wsgi_application()


def _point_at_real_objects(case, ids):
    """Random ids almost never exist; send half the cases to our objects."""
    for name, value in (case.path_parameters or {}).items():
        if not isinstance(value, int) or value % 2:
            continue  # keep it: a missing (404) id is a case too
        segments = case.path.split("/")
        resource = segments[4] if segments[3] == "telemetry" else segments[3]
        if name == "team_id":
            resource = "teams"
        elif name == "report_id":
            resource = "reports"
        pool = ids.get(resource)
        if pool:
            case.path_parameters[name] = pool[value // 2 % len(pool)]


@schema.parametrize()
@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_api_never_fails_and_always_answers_per_its_schema(case, data):
    _point_at_real_objects(case, data["ids"])
    case.call_and_validate(
        headers={"Authorization": f"Bearer {data['raw_key']}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
