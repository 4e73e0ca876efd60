"""Finding 11: support reports and the support side of a conversation are
support staff's, in the API and the admin alike (one rule, in the service)."""

import pytest

from accounts.models import Role
from reporting import services
from reporting.catalogue import Reason, Source
from reporting.errors import NotPermitted
from reporting.models import Report, ReportMessage
from tests.factories import ChargePointFactory

pytestmark = pytest.mark.django_db


def api_as(team, role):
    """An API client with a key of that role in the team (made by support)."""
    from rest_framework.test import APIClient

    from accounts.services import api_key_create
    from tests.factories import SupportUserFactory

    _, raw = api_key_create(team=team, name="CSMS", role=role, by=SupportUserFactory())
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


@pytest.fixture
def conversation():
    return services.report_create(charge_point=ChargePointFactory(), source=Source.SUPPORT,
                                  reason=Reason.CONVERSATION, by=None)


def test_an_installer_key_cannot_file_a_support_report():
    cp = ChargePointFactory()
    response = api_as(cp.owner, Role.INSTALLER).post("/api/v1/reports/", {
        "charge_point": cp.pk, "source": "support", "reason": "conversation",
    }, format="json")
    assert response.status_code == 403
    assert not Report.objects.exists()


def test_an_installer_key_cannot_write_as_support(conversation):
    response = api_as(conversation.charge_point.owner, Role.OWNER).post(f"/api/v1/reports/{conversation.pk}/messages/",
                                    {"sender": "support", "body": "We fixed it"}, format="json")
    assert response.status_code == 403
    assert not ReportMessage.objects.exists()


def test_an_installer_cannot_write_as_support_through_the_operator_site(conversation, client, member_factory):
    installer = member_factory(conversation.charge_point.owner, Role.INSTALLER)
    client.force_login(installer)
    response = client.post(f"/operator/reporting/report/{conversation.pk}/message/",
                           {"sender": "support", "body": "We fixed it"}, follow=True)
    assert "Only support staff" in response.content.decode()
    assert not ReportMessage.objects.exists()


def test_support_staff_file_and_write_as_support(support_user):
    report = services.report_create(charge_point=ChargePointFactory(), source=Source.SUPPORT,
                                    reason=Reason.CONVERSATION, by=support_user)
    services.report_add_message(report=report, by=support_user, sender="support", body="On it")
    assert report.messages.get().author == support_user


def test_the_service_refuses_a_team_member_directly(conversation, member_factory):
    admin = member_factory(conversation.charge_point.owner, Role.ADMIN)
    with pytest.raises(NotPermitted):
        services.report_create(charge_point=conversation.charge_point, source=Source.SUPPORT,
                               reason=Reason.CONVERSATION, by=admin)
