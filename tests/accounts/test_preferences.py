"""A person's back-office language: their choice, else their team's, else
the installation's; the header's switch saves it; the middleware uses it in
place of the browser's."""

import pytest

from accounts.models import AuditLog, Role, Team
from accounts.preferences import user_language, user_set_language
from core.errors import Invalid, NotAllowed
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_language_is_the_users_else_the_teams_else_the_default(settings):
    settings.LANGUAGE_CODE = "en"
    nobody = UserFactory()
    assert user_language(nobody) == "en"
    danish = UserFactory()
    MembershipFactory(user=danish, team=TeamFactory(language=Team.Language.DANISH), role=Role.VIEWER)
    assert user_language(danish) == "da"
    chooser = UserFactory(language="en")
    MembershipFactory(user=chooser, team=TeamFactory(language=Team.Language.DANISH), role=Role.VIEWER)
    assert user_language(chooser) == "en"


def test_only_the_person_or_support_changes_it_and_it_is_audited(support_user):
    user, other = UserFactory(), UserFactory()
    with pytest.raises(NotAllowed):
        user_set_language(user=user, language="da", by=other)
    with pytest.raises(Invalid):
        user_set_language(user=user, language="xx", by=user)
    user_set_language(user=user, language="da", by=user)
    user.refresh_from_db()
    assert user.language == "da"
    row = AuditLog.objects.get(object_type="accounts.user", object_id=str(user.pk))
    assert row.changes == {"language": {"before": "", "after": "da"}}
    user_set_language(user=user, language="", by=support_user)
    user.refresh_from_db()
    assert user.language == ""


def test_the_header_switch_saves_the_language_and_the_pages_follow_it_not_the_browser(client, member_factory):
    user = member_factory(TeamFactory(language=Team.Language.ENGLISH), Role.ADMIN)
    client.force_login(user)
    english = client.get("/operator/", HTTP_ACCEPT_LANGUAGE="da").content.decode()
    # The switch in the user menu posts to this site's language view.
    assert 'action="/operator/language/"' in english and "Dashboard" in english

    response = client.post("/operator/language/", {"language": "da", "next": "/operator/reporting/report/"},
                           HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 302 and response["Location"] == "/operator/reporting/report/"
    user.refresh_from_db()
    assert user.language == "da"
    page = client.get("/operator/", HTTP_ACCEPT_LANGUAGE="en")
    assert page["Content-Language"] == "da"
    assert "Oversigt" in page.content.decode()


def test_the_switch_goes_nowhere_outside_and_refuses_a_get_or_an_unknown_language(client, member_factory):
    user = member_factory(TeamFactory(), Role.VIEWER)
    client.force_login(user)
    response = client.post("/operator/language/", {"language": "da", "next": "https://evil.example/"})
    assert response["Location"] == "/operator/"
    assert client.get("/operator/language/").status_code == 405
    response = client.post("/operator/language/", {"language": "xx"}, follow=True)
    assert response.status_code == 200 and "Unknown language" in response.content.decode()
    user.refresh_from_db()
    assert user.language == "da"


def _user_form(user, **changes):
    data = {"email": user.email, "first_name": user.first_name, "last_name": user.last_name, "phone": "",
            "language": user.language, "time_zone": user.time_zone, "is_active": "on"}
    return {**data, **changes}


def test_support_sets_a_persons_language_and_time_zone_on_their_page(client, support_user):
    user = UserFactory()
    client.force_login(support_user)
    page = client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    assert '<option value="Europe/Copenhagen">' in page and '<option value="da">' in page

    response = client.post(f"/admin/accounts/user/{user.pk}/change/",
                           _user_form(user, language="da", time_zone="Europe/Copenhagen"))

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.language, user.time_zone) == ("da", "Europe/Copenhagen")
    response = client.post(f"/admin/accounts/user/{user.pk}/change/", _user_form(user, time_zone="Mars/Olympus"))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
