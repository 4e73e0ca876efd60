from dataclasses import dataclass

import pytest
from anymail.backends.test import EmailBackend as AnymailTestBackend

from accounts.models import Team
from chargepoints.models import ChargePoint
from config.celery import app as celery_app
from reporting.models import ReportContact
from tests.factories import (
    ChargePointFactory,
    ReportContactFactory,
    ReportSettingsFactory,
    SiteFactory,
    TeamFactory,
)


@pytest.fixture(autouse=True)
def eager_celery():
    """Tasks queued on commit run inline, errors and all."""
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@pytest.fixture(autouse=True)
def email_settings(settings):
    # Django's test set-up swaps EMAIL_BACKEND for locmem; these tests need
    # anymail's test backend, which reports a message id like a provider.
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.SITE_URL = "https://reports.example.com"


@dataclass
class Fleet:
    """A charge point owned by one team (English) and operated by another
    (Danish), each team with two contacts and e-mail updates on."""

    owner: Team
    operator: Team
    charge_point: ChargePoint
    owner_contacts: list[ReportContact]
    operator_contacts: list[ReportContact]


@pytest.fixture
def fleet() -> Fleet:
    owner = TeamFactory(name="Owner Energy", language=Team.Language.ENGLISH, country="DK")
    operator = TeamFactory(name="Operatør ApS", language=Team.Language.DANISH, country="DK")
    cp = ChargePointFactory(site=SiteFactory(team=owner, name="Harbour"), owner=owner, operator=operator)
    owner_settings = ReportSettingsFactory(team=owner, email_updates=True)
    operator_settings = ReportSettingsFactory(team=operator, email_updates=True)
    return Fleet(
        owner=owner,
        operator=operator,
        charge_point=cp,
        owner_contacts=[
            ReportContactFactory(settings=owner_settings, name="Olivia Owner", email="olivia@owner.example"),
            ReportContactFactory(settings=owner_settings, name="Oscar Owner", email="oscar@owner.example"),
        ],
        operator_contacts=[
            ReportContactFactory(settings=operator_settings, name="Ida Operatør", email="ida@operator.example"),
            ReportContactFactory(settings=operator_settings, name="Ib Operatør", email="ib@operator.example"),
        ],
    )


class FlakyProvider:
    """Makes anymail's test backend fail: the next ``failures`` sends raise
    ``error`` (all of them when ``failures`` is None) before anything is sent."""

    def __init__(self, monkeypatch):
        self.failures: int | None = 0
        self.error: Exception = TimeoutError("The provider did not answer in 30 s")
        self.calls = 0
        original = AnymailTestBackend.post_to_esp

        def post_to_esp(backend, payload, message):
            self.calls += 1
            if self.failures is None or self.failures > 0:
                if self.failures is not None:
                    self.failures -= 1
                raise self.error
            return original(backend, payload, message)

        monkeypatch.setattr(AnymailTestBackend, "post_to_esp", post_to_esp)

    def down(self, error: Exception | None = None) -> None:
        self.failures = None
        self.error = error or self.error

    def fail_next(self, count: int, error: Exception | None = None) -> None:
        self.failures = count
        self.error = error or self.error

    def up(self) -> None:
        self.failures = 0


@pytest.fixture
def provider(monkeypatch) -> FlakyProvider:
    return FlakyProvider(monkeypatch)
