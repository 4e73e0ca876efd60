import pytest

from reporting.models import ReportContact, ReportSettings
from tests.factories import ReportContactFactory, ReportSettingsFactory

pytestmark = pytest.mark.django_db

CONTACTS = [{"name": "Lars", "email": "lars@example.com", "phone": "+4520303030", "is_active": True}]


def url(team):
    return f"/api/v1/teams/{team.pk}/report-settings/"


def test_a_new_team_has_the_default_settings_and_reading_them_writes_nothing(world):
    before = ReportSettings.objects.get(team=world.ours).updated_at
    assert world.client.get(url(world.ours)).json() == {
        "team": world.ours.pk, "email_updates": True, "delivery": "immediate", "digest_minutes": 15,
        "burst_threshold": None, "self_heal": False, "self_heal_minutes": 5, "route_by_error_hint": False,
        "contacts": [],
    }
    assert ReportSettings.objects.get(team=world.ours).updated_at == before


def test_read_saved_settings(world):
    contact = ReportContactFactory(settings=ReportSettingsFactory(team=world.ours, email_updates=False))
    body = world.viewer.get(url(world.ours)).json()
    assert body["email_updates"] is False
    assert [c["email"] for c in body["contacts"]] == [contact.email]


def test_replace_settings_keeps_matching_contacts(world):
    kept = ReportContactFactory(settings=ReportSettingsFactory(team=world.ours), email="lars@example.com")
    ReportContactFactory(settings=kept.settings, email="gone@example.com")
    response = world.client.put(url(world.ours), {"email_updates": False, "contacts": CONTACTS}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["contacts"] == CONTACTS
    assert list(ReportContact.objects.values_list("pk", flat=True)) == [kept.pk]
    assert ReportSettings.objects.get(team=world.ours).email_updates is False


def test_switch_to_digests_and_back_leaves_what_the_request_does_not_name(world):
    body = {"contacts": CONTACTS, "delivery": "digest", "digest_minutes": 30, "burst_threshold": 5}
    assert world.client.put(url(world.ours), body, format="json").json()["delivery"] == "digest"
    response = world.client.put(url(world.ours), {"contacts": CONTACTS, "delivery": "immediate"}, format="json")
    row = ReportSettings.objects.get(team=world.ours)
    assert (response.status_code, row.delivery, row.digest_minutes, row.burst_threshold) == (200, "immediate", 30, 5)


@pytest.mark.parametrize(
    "data, field",
    [
        ({"contacts": CONTACTS, "delivery": "weekly"}, "delivery"),
        ({"contacts": CONTACTS, "digest_minutes": 0}, "digest_minutes"),
        ({"contacts": [{"name": "X", "email": "nope"}]}, "contacts"),
        ({"contacts": CONTACTS * 2}, "contacts"),
        ({"email_updates": "perhaps", "contacts": []}, "email_updates"),
        ({}, "contacts"),
    ],
)
def test_bad_settings_are_400(world, data, field):
    response = world.client.put(url(world.ours), data, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_viewer_key_cannot_change_settings(world):
    response = world.viewer.put(url(world.ours), {"contacts": CONTACTS}, format="json")
    assert response.status_code == 403


def test_another_teams_settings_are_404(world):
    assert world.client.get(url(world.theirs)).status_code == 404
    assert world.client.put(url(world.theirs), {"contacts": CONTACTS}, format="json").status_code == 404


def test_settings_without_key_are_401(anon, world):
    assert anon.get(url(world.ours)).status_code == 401


def test_a_duplicate_contact_e_mail_is_400_on_contacts(world):
    lars = {"name": "Lars", "email": "lars@example.com", "phone": "", "is_active": True}
    response = world.client.put(url(world.ours), {
        "email_updates": True, "contacts": [lars, {**lars, "email": "LARS@example.com"}]}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "contacts": ["lars@example.com is listed twice; each contact needs its own e-mail address."]}
    assert not ReportContact.objects.exists()


def test_an_admin_key_opts_the_team_into_self_healing(world):
    response = world.client.put(url(world.ours), {"email_updates": True, "self_heal": True, "self_heal_minutes": 7,
                                                  "contacts": []}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["self_heal"], response.json()["self_heal_minutes"]) == (True, 7)
    saved = ReportSettings.objects.get(team=world.ours)
    assert (saved.self_heal, saved.self_heal_minutes) == (True, 7)
