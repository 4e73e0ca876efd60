"""Support issues and revokes platform keys in /admin/; nobody else can."""

import re

import pytest

from accounts.models import ApiKey, Role
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/accounts/apikey/platform/add/"


def test_support_creates_a_platform_key_shown_once_and_can_revoke_it(client, support_user):
    client.force_login(support_user)
    assert 'id="add-platform-key"' in client.get("/admin/accounts/apikey/").content.decode()
    response = client.post(ADD, {"name": "Driver app"})
    html = response.content.decode()
    raw = re.search(r'id="api-key"[^>]*>(cpr_[^<]+)<', html).group(1)
    key = ApiKey.objects.get()
    assert key.is_platform and key.team is None and key.name == "Driver app"
    assert "files driver reports only" in html and "no-store" in response["Cache-Control"]
    assert key.hashed_key != raw
    client.post(f"/admin/accounts/apikey/{key.pk}/revoke/")
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_team_admins_cannot_reach_the_platform_key_page(client, member_factory):
    client.force_login(member_factory(TeamFactory(), Role.OWNER))
    assert client.post(ADD, {"name": "Mine"}).status_code in (302, 403)
    page = client.get("/operator/accounts/apikey/platform/add/", follow=True)
    assert "Create a platform key" not in page.content.decode()
    assert not ApiKey.objects.exists()


def test_platform_key_needs_a_name(client, support_user):
    client.force_login(support_user)
    response = client.post(ADD, {"name": ""})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert not ApiKey.objects.exists()


def test_creating_a_platform_key_is_audited_without_a_team():
    from accounts.models import AuditAction, AuditLog
    from accounts.services import api_key_create_platform
    from tests.factories import SupportUserFactory

    support = SupportUserFactory()
    key, raw = api_key_create_platform(name="Drivers' app", by=support)

    audit = AuditLog.objects.get(object_type="accounts.apikey", object_id=str(key.pk))
    assert (audit.actor, audit.action, audit.team_id) == (support, AuditAction.CREATE, None)
    assert audit.changes["platform"] == {"before": None, "after": True}
    assert raw.split("_")[1] == key.prefix and raw not in str(audit.changes)
