"""SSRF: webhooks are never registered for, nor sent to, an address of our
own network, however the URL names it."""

from __future__ import annotations

import pytest

from webhooks import services
from webhooks.addresses import UnsafeUrl, check_url
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://127.0.0.1/hook", "a loopback address"),
        ("https://127.1.2.3:8443/hook", "a loopback address"),
        ("https://10.1.2.3/hook", "a private address"),
        ("https://172.16.0.1/hook", "a private address"),
        ("https://192.168.1.10/hook", "a private address"),
        ("https://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("https://[::1]/hook", "a loopback address"),
        ("https://[fe80::1]/hook", "a link-local address"),
        ("https://[fd00::1]/hook", "a private address"),
        ("https://[::ffff:127.0.0.1]/hook", "a loopback address"),
        ("https://0.0.0.0/hook", "an unspecified address"),
        ("https://224.0.0.1/hook", "a multicast address"),
        ("https://100.64.0.1/hook", "a reserved address"),
        ("https://localhost/hook", "a loopback address"),
        ("https://loopback.example.com/hook", "a loopback address"),
        ("https://metadata.example.com/hook", "a link-local address"),
    ],
)
def test_internal_addresses_are_refused_at_registration(url, why, setup):
    with pytest.raises(UnsafeUrl) as refused:
        services.endpoint_create(team=setup.owner, url=url, events=["report.filed"], by=setup.owner_admin)
    assert why in refused.value.message and refused.value.field == "url"
    assert not setup.owner.webhook_endpoints.exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.com/hook", "must use https://"),
        ("ftp://hooks.example.com/hook", "starts with https://"),
        ("https://user:pw@hooks.example.com/hook", "user name or password"),
        ("https:///hook", "names a host"),
        ("https://no-such-host.invalid/hook", "could not be resolved"),
    ],
)
def test_urls_that_are_not_plain_https_to_a_known_host_are_refused(url, message):
    with pytest.raises(UnsafeUrl) as refused:
        check_url(url)
    assert message in refused.value.message


def test_a_public_address_is_accepted():
    target = check_url("https://hooks.example.com:8443/in?team=1")
    assert (target.host, target.port, target.path, target.addresses) == (
        "hooks.example.com", 8443, "/in?team=1", ("93.184.215.14",))


def test_the_setting_allows_private_addresses_for_tests(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    assert check_url("https://127.0.0.1/hook").addresses == ("127.0.0.1",)


def test_a_name_that_resolves_to_loopback_at_send_time_is_refused_then(setup, fake_dns, receiver, settings):
    """DNS rebinding: public at registration, 127.0.0.1 when sending. The
    receiver is listening on 127.0.0.1, and gets nothing."""
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    port = receiver.url.split(":")[2].split("/")[0]
    endpoint, _ = services.endpoint_create(
        team=setup.owner, url=f"http://rebinding.example.com:{port}/hook", events=["report.filed"],
        by=setup.owner_admin)
    fake_dns["rebinding.example.com"] = ["127.0.0.1"]

    delivery = services.endpoint_send_test(endpoint=endpoint, by=setup.owner_admin)
    assert services.deliveries_send_many(delivery_ids=[delivery.pk]) == {"retry": 1}
    assert receiver.received == []
    attempt = WebhookAttempt.objects.get()
    assert "Refused" in attempt.error and "a loopback address" in attempt.error
    assert WebhookDelivery.objects.get().status == DeliveryStatus.PENDING


def test_the_deploy_check_warns_when_private_addresses_are_allowed(settings):
    from webhooks import checks

    assert checks.check_private_addresses_are_refused() == []
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    [warning] = checks.check_private_addresses_are_refused()
    assert warning.id == "webhooks.W001"


def test_a_lease_shorter_than_one_attempt_is_refused_at_start_up(settings):
    from webhooks import checks

    assert checks.check_lease_covers_one_attempt() == []
    settings.WEBHOOKS_LEASE_SECONDS = 30  # the defaults' attempt: 5 s + 15 s
    [error] = checks.check_lease_covers_one_attempt()
    assert error.id == "webhooks.E001" and "at least 40" in error.hint
