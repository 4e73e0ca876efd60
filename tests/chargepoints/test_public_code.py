"""Public codes: every charge point has a random, unique one, and the
migration that introduced them gave each existing row its own."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from chargepoints.models import PUBLIC_CODE_ALPHABET, PUBLIC_CODE_LENGTH
from tests.factories import ChargePointFactory

BEFORE = [("chargepoints", "0004_connectors")]
AFTER = [("chargepoints", "0005_charge_point_public_code")]


@pytest.mark.django_db
def test_new_charge_points_get_distinct_random_codes_from_the_sticker_alphabet():
    cps = ChargePointFactory.create_batch(20)
    codes = [cp.public_code for cp in cps]
    assert len(set(codes)) == 20
    assert all(len(c) == PUBLIC_CODE_LENGTH and set(c) <= set(PUBLIC_CODE_ALPHABET) for c in codes)


@pytest.mark.django_db(transaction=True)
def test_migration_fills_a_distinct_code_for_every_existing_charge_point():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        Team = old.get_model("accounts", "Team")
        Site = old.get_model("chargepoints", "Site")
        ChargePoint = old.get_model("chargepoints", "ChargePoint")
        team = Team.objects.create(name="Old team", country="DK", language="da")
        site = Site.objects.create(team=team, name="Old site", country="DK")
        for i in range(5):
            ChargePoint.objects.create(site=site, owner=team, operator=team, name=f"Old {i}", ocpp_id=f"OLD-{i}")

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps
        codes = list(new.get_model("chargepoints", "ChargePoint").objects.values_list("public_code", flat=True))
        assert len(codes) == 5 and None not in codes and len(set(codes)) == 5
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
