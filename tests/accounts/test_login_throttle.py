"""Login throttling (django-axes) on /admin/ and /operator/: an account is
locked from an address after repeated wrong passwords, says so, and support
can unlock it."""

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.core.management import call_command

from accounts.models import AuditAction, AuditLog, Role
from tests.factories import PASSWORD, SupportUserFactory, TeamFactory

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed logins"


@pytest.fixture
def operator(member_factory):
    return member_factory(TeamFactory(), Role.ADMIN)


def login(client, site, email, password, address="203.0.113.7"):
    return client.post(f"/{site}/login/?next=/{site}/", {"username": email, "password": password},
                       REMOTE_ADDR=address)


def fail(client, site, email, times, address="203.0.113.7"):
    return [login(client, site, email, "wrong-password", address).status_code for _ in range(times)]


def logged_in(response, site) -> bool:
    return response.status_code == 302 and response["Location"] == f"/{site}/"


@pytest.mark.parametrize("site, make_user", [("operator", None), ("admin", SupportUserFactory)])
def test_five_wrong_passwords_lock_the_account_then_support_unlocks_it(client, operator, site, make_user):
    user = make_user() if make_user else operator

    statuses = fail(client, site, user.email, 5)
    response = login(client, site, user.email, PASSWORD)

    assert statuses[:4] == [200] * 4  # the form again, with its error
    assert statuses[4] == 429
    assert response.status_code == 429
    html = response.content.decode()
    assert LOCKED in html and "Try again in 15 minutes" in html and "Support staff can unlock" in html
    assert AccessFailureLog.objects.filter(username=user.email).count() >= 5

    support = SupportUserFactory()
    client.force_login(support)
    [attempt] = AccessAttempt.objects.filter(username=user.email)
    unlocked = client.post("/admin/axes/accessattempt/", {"action": "unlock", "_selected_action": [attempt.pk]},
                           follow=True)
    assert f"Unlocked: {user.email}." in unlocked.content.decode()
    audit = AuditLog.objects.get(object_type="axes.accessattempt")
    assert (audit.actor, audit.action) == (support, AuditAction.DELETE) and user.email in audit.note
    client.logout()

    assert logged_in(login(client, site, user.email, PASSWORD), site)


def test_below_the_limit_the_right_password_logs_in_and_starts_the_count_again(client, operator):
    fail(client, "operator", operator.email, 4)
    assert logged_in(login(client, "operator", operator.email, PASSWORD), "operator")
    client.logout()

    assert fail(client, "operator", operator.email, 4) == [200] * 4


def test_the_lock_is_per_account_and_address(client, operator, member_factory):
    fail(client, "operator", operator.email, 5)
    colleague = member_factory(TeamFactory(), Role.VIEWER)

    assert logged_in(login(client, "operator", operator.email, PASSWORD, address="198.51.100.2"), "operator")
    client.logout()
    assert logged_in(login(client, "operator", colleague.email, PASSWORD), "operator")
    client.logout()
    assert login(client, "operator", operator.email, PASSWORD).status_code == 429


def test_axes_reset_username_unlocks_from_the_command_line(client, operator):
    fail(client, "operator", operator.email, 5)

    call_command("axes_reset_username", operator.email)

    assert logged_in(login(client, "operator", operator.email, PASSWORD), "operator")


def test_lockouts_are_support_only(client, operator):
    fail(client, "operator", operator.email, 5)
    client.force_login(operator)

    assert client.get("/operator/axes/accessattempt/").status_code == 404
    assert client.get("/admin/axes/accessattempt/").status_code == 302  # to the support login

    client.force_login(SupportUserFactory())
    page = client.get("/admin/axes/accessattempt/")
    assert page.status_code == 200 and operator.email in page.content.decode()
