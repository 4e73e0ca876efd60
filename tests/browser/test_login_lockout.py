"""Login throttling in a real browser: the operator login form, five wrong
passwords, then the right one meets the lockout page."""

import tempfile
from pathlib import Path

import pytest

from accounts.models import Role
from tests.factories import PASSWORD, MembershipFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(tempfile.gettempdir()) / "cpr-screenshots"


def test_the_login_form_locks_out_after_five_wrong_passwords(page, live_server):
    user = UserFactory(email="ines@voltway.example")
    MembershipFactory(user=user, team=TeamFactory(), role=Role.ADMIN)

    def submit(password):
        page.goto(f"{live_server.url}/operator/login/?next=/operator/")
        page.fill("#id_username", user.email)
        page.fill("#id_password", password)
        page.click("#login-form [type=submit]")

    for _ in range(4):
        submit("not-my-password")
        assert page.locator(".errornote").first.is_visible()  # unfold shows the form-level and the login error notes
    submit("not-my-password")
    submit(PASSWORD)

    assert "Too many failed logins" in page.locator("#lockout-message").inner_text()
    assert "Try again in 15 minutes" in page.content()
    assert "/operator/login/" in page.url
    SHOTS.mkdir(parents=True, exist_ok=True)  # a scratch picture to look at, not committed
    page.screenshot(path=str(SHOTS / "login-locked-out.png"), full_page=True)
