import os

import pytest
from django.db import connection

from tests.factories import (
    ChargePointFactory,
    MembershipFactory,
    SiteFactory,
    SupportUserFactory,
    TeamFactory,
    UserFactory,
)

# In CI's full pass every service is there, so a skipped test means a test
# that never ran: FAIL_ON_SKIP=1 turns any skip into a failed run.
FAIL_ON_SKIP = os.environ.get("FAIL_ON_SKIP") == "1"


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if FAIL_ON_SKIP and skipped and session.exitstatus == 0:
        reporter.write_line(
            f"FAIL_ON_SKIP: {len(skipped)} test(s) were skipped in a pass that has every "
            "service and the browser; each test must run here.",
            red=True,
        )
        session.exitstatus = 1


@pytest.fixture
def require_postgres():
    """Skip on SQLite, with a message saying what is missing."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://... to run it")


@pytest.fixture
def team():
    return TeamFactory()


@pytest.fixture
def support_user():
    return SupportUserFactory()


@pytest.fixture
def charge_point():
    return ChargePointFactory()


@pytest.fixture
def member_factory():
    """member_factory(team, role) -> a user with that role in that team."""

    def make(team, role):
        user = UserFactory()
        MembershipFactory(user=user, team=team, role=role)
        return user

    return make


@pytest.fixture
def site():
    return SiteFactory()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: the admin dashboard caches its
    figures for a minute, and SQLite reuses ids after a rolled-back test."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _broker_publish_unpaused():
    """A test's broker fault never pauses the next test's publishing
    (core.tasks.publish leaves a failed broker alone for a few seconds)."""
    from core.tasks import publish_pause_reset

    publish_pause_reset()
    yield
    publish_pause_reset()
