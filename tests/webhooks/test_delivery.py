"""From a report change to a signed POST on a real local receiver: the
signature per the Standard Webhooks spec, retries with the same webhook-id,
never twice after a success, and switching off a failing endpoint."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import AuditLog
from reporting import services as reporting
from reporting.catalogue import Party, Reason, Source
from reporting.models import EventKind, Report
from webhooks import services
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

ALL_EVENTS = ["report.filed", "report.assigned", "report.resolved", "report.reopened", "report.message_added"]


class WebhookVerificationError(Exception):
    pass


def verify(secret: str, headers: dict[str, str], body: str, *, tolerance: int = 300) -> dict:
    """A receiver's verifier, written from the published Standard Webhooks
    spec (not from the sender's code): the secret is "whsec_" + base64 of
    the key; the signed content is "{id}.{timestamp}.{body}"; the header
    holds space-separated "v1,<base64 HMAC-SHA256>" signatures, any one of
    which may match; the timestamp must be recent."""
    msg_id, timestamp, signatures = headers["webhook-id"], headers["webhook-timestamp"], headers["webhook-signature"]
    if abs(time.time() - int(timestamp)) > tolerance:
        raise WebhookVerificationError("timestamp too old or too new")
    key = base64.b64decode(secret.split("_", 1)[1])
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest())
    for versioned in signatures.split(" "):
        version, _, signature = versioned.partition(",")
        if version == "v1" and hmac.compare_digest(signature.encode(), expected):
            return json.loads(body)
    raise WebhookVerificationError("no matching signature")


def register(setup, url, events=None):
    return services.endpoint_create(team=setup.owner, url=url, events=events or ALL_EVENTS, by=setup.owner_admin)


def file_report(setup):
    return reporting.report_create(charge_point=setup.charge_point, source=Source.USER, reason=Reason.BROKEN)


def test_a_report_change_is_delivered_signed_per_the_standard_webhooks_spec(setup, receiver):
    endpoint, secret = register(setup, receiver.url)
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32

    report = file_report(setup)
    assert services.deliveries_send_many(delivery_ids=list(WebhookDelivery.objects.values_list("pk", flat=True))) == {
        "succeeded": 1}

    [request] = receiver.received
    payload = verify(secret, request.headers, request.body)
    assert payload["type"] == "report.filed"
    assert payload["data"]["report"]["id"] == report.pk
    assert payload["data"]["report"]["charge_point"]["ocpp_id"] == setup.charge_point.ocpp_id
    assert payload["data"]["event"]["kind"] == EventKind.CREATED
    assert request.headers["content-type"] == "application/json"
    delivery = WebhookDelivery.objects.get()
    assert request.headers["webhook-id"] == delivery.webhook_id
    # A wrong secret or a changed body fails the same verifier.
    with pytest.raises(WebhookVerificationError):
        verify("whsec_" + base64.b64encode(b"x" * 32).decode(), request.headers, request.body)
    with pytest.raises(WebhookVerificationError):
        verify(secret, request.headers, request.body.replace("report.filed", "report.resolved"))
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 200 and attempt.succeeded and attempt.response_excerpt == "answer 200"


def test_only_subscribed_events_of_the_teams_own_charge_points_are_delivered(setup, receiver):
    register(setup, receiver.url, events=["report.resolved"])
    services.endpoint_create(team=setup.operator, url=receiver.url, events=["report.filed"], by=None)
    other = services.endpoint_create(
        team=setup.owner.__class__.objects.create(name="Elsewhere", country="DK"),
        url=receiver.url, events=ALL_EVENTS, by=None)[0]

    report = file_report(setup)
    reporting.report_comment(report=report, by=None, body="An internal note")
    reporting.report_resolve(report=report, by=None, note="Fixed")

    sent = WebhookDelivery.objects.order_by("id").values_list("endpoint__team__name", "event_type")
    assert list(sent) == [("Operator ApS", "report.filed"), ("Owner Energy", "report.resolved")]
    assert not other.deliveries.exists()


def test_a_rolled_back_change_writes_no_delivery(setup, receiver):
    register(setup, receiver.url)
    with pytest.raises(RuntimeError), __import__("django.db").db.transaction.atomic():
        file_report(setup)
        raise RuntimeError("the request failed after the report was written")
    assert not WebhookDelivery.objects.exists()


def test_the_health_sweeps_bulk_filing_writes_deliveries_too(setup, receiver):
    register(setup, receiver.url)
    created = reporting.report_file_system_bulk(
        reason=Reason.DISCONNECTED,
        offenders=[{"pk": setup.charge_point.pk, "owner_id": setup.owner.pk,
                    "operator_id": setup.operator.pk, "description": "Offline for an hour"}],
        now=timezone.now(),
    )
    delivery = WebhookDelivery.objects.get()
    assert json.loads(delivery.body)["data"]["report"]["id"] == created[setup.charge_point.pk]


def test_retries_reuse_the_webhook_id_and_a_success_is_never_sent_again(setup, receiver, settings):
    settings.WEBHOOKS_FIRST_RETRY_SECONDS = 5
    receiver.answers = [500, 503]  # fails twice, then accepts
    endpoint, secret = register(setup, receiver.url)
    file_report(setup)
    delivery = WebhookDelivery.objects.get()

    assert services.deliveries_send_many(delivery_ids=[delivery.pk]) == {"retry": 1}
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.last_status_code == 500
    first_retry = delivery.next_attempt_at
    assert timedelta(seconds=2.5) <= first_retry - timezone.now() <= timedelta(seconds=5)
    # Not due yet: the sweep leaves it alone.
    assert services.deliveries_send_due(budget_seconds=5) == {}

    later = first_retry + timedelta(seconds=1)
    assert services.deliveries_send_due(now=later, budget_seconds=5) == {"retry": 1}
    delivery.refresh_from_db()
    # Exponential backoff: the second wait is up to twice the first.
    assert timedelta(seconds=5) <= delivery.next_attempt_at - later <= timedelta(seconds=10, milliseconds=500)

    even_later = delivery.next_attempt_at + timedelta(seconds=1)
    assert services.deliveries_send_due(now=even_later, budget_seconds=5) == {"succeeded": 1}
    # Sweeps, a duplicate task, a day later: nothing more goes out.
    assert services.deliveries_send_due(now=even_later + timedelta(days=1), budget_seconds=5) == {}
    assert services.deliveries_send_many(delivery_ids=[delivery.pk]) == {}

    assert len(receiver.received) == 3
    assert {r.headers["webhook-id"] for r in receiver.received} == {delivery.webhook_id}
    assert len({r.body for r in receiver.received}) == 1
    for request in receiver.received:
        # Each attempt is signed afresh with its own timestamp.
        assert verify(secret, request.headers, request.body, tolerance=10**6)["type"] == "report.filed"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 3
    assert list(delivery.attempt_log.order_by("id").values_list("status_code", flat=True)) == [500, 503, 200]
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_a_day_of_failures_switches_the_endpoint_off_and_emails_the_contacts(setup, receiver):
    receiver.answers = [500] * 10
    endpoint, _ = register(setup, receiver.url)
    report = file_report(setup)
    start = timezone.now()
    assert services.deliveries_send_many(delivery_ids=list(WebhookDelivery.objects.values_list("pk", flat=True))) == {
        "retry": 1}
    reporting.report_resolve(report=report, by=None, note="Fixed")  # a second delivery, queued
    mail.outbox.clear()

    # Still failing 23 hours later: retried, not switched off.
    assert services.deliveries_send_due(now=start + timedelta(hours=23), budget_seconds=5) == {"retry": 2}
    endpoint.refresh_from_db()
    assert endpoint.is_active

    outcome = services.deliveries_send_due(now=start + timedelta(hours=24, minutes=1), budget_seconds=5)
    assert outcome["failed"] == 1 and outcome["notices"] == 1
    endpoint.refresh_from_db()
    assert not endpoint.is_active and "Every attempt failed since" in endpoint.disabled_reason
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.FAILED}
    [notice] = [m for m in mail.outbox if "switched off" in m.subject]
    assert notice.to == ["contact@owner.example"] and receiver.url in notice.body
    assert AuditLog.objects.filter(object_type="webhooks.webhookendpoint", note__startswith="Every attempt").exists()

    # Nothing goes to a switched-off endpoint, and the notice is sent once.
    received = len(receiver.received)
    reporting.report_reopen(report=report, by=None, note="Broken again")
    assert not WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).exists()
    assert services.deliveries_send_due(now=start + timedelta(days=2), budget_seconds=5) == {}
    assert len(receiver.received) == received
    assert len([m for m in mail.outbox if "switched off" in m.subject]) == 1


def test_410_gone_switches_the_endpoint_off_at_once(setup, receiver):
    receiver.answers = [410]
    endpoint, _ = register(setup, receiver.url)
    file_report(setup)
    assert services.deliveries_send_many(delivery_ids=list(WebhookDelivery.objects.values_list("pk", flat=True))) == {
        "failed": 1}
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_reason == "The endpoint answered 410 Gone."


def test_a_receiver_that_does_not_answer_in_time_is_a_failed_attempt(setup, settings):
    import socket

    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES, settings.WEBHOOKS_REQUIRE_HTTPS = True, False
    settings.WEBHOOKS_READ_TIMEOUT_SECONDS = 0.3
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts connections, never answers
    try:
        register(setup, f"http://127.0.0.1:{silent.getsockname()[1]}/")
        file_report(setup)
        assert services.deliveries_send_many(
            delivery_ids=list(WebhookDelivery.objects.values_list("pk", flat=True))) == {"retry": 1}
    finally:
        silent.close()
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and "Timeout" in attempt.error and attempt.response_ms < 3000


def test_after_a_rotation_both_secrets_sign_until_the_grace_period_ends(setup, receiver, settings):
    endpoint, old_secret = register(setup, receiver.url)
    new_secret = services.endpoint_rotate_secret(endpoint=endpoint, by=setup.owner_admin)
    assert new_secret != old_secret
    delivery = services.endpoint_send_test(endpoint=endpoint, by=setup.owner_admin)
    services.deliveries_send_many(delivery_ids=[delivery.pk])
    request = receiver.received[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert verify(new_secret, request.headers, request.body)["type"] == "webhook.test"
    assert verify(old_secret, request.headers, request.body)["type"] == "webhook.test"

    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1))
    delivery = services.endpoint_send_test(endpoint=endpoint, by=setup.owner_admin)
    services.deliveries_send_many(delivery_ids=[delivery.pk])
    request = receiver.received[-1]
    verify(new_secret, request.headers, request.body)
    with pytest.raises(WebhookVerificationError):
        verify(old_secret, request.headers, request.body)


def test_a_party_change_is_sent_as_report_assigned(setup, receiver):
    register(setup, receiver.url, events=["report.assigned"])
    report = file_report(setup)
    reporting.report_assign(report=report, party=Party.OWNER, by=None)
    delivery = WebhookDelivery.objects.get()
    assert json.loads(delivery.body)["data"]["event"]["to_party"] == Party.OWNER


def test_a_failed_delivery_is_sent_again_with_the_same_webhook_id(setup, receiver, settings):
    settings.WEBHOOKS_MAX_ATTEMPTS = 1
    receiver.answers = [500]
    endpoint, secret = register(setup, receiver.url)
    delivery = services.endpoint_send_test(endpoint=endpoint, by=setup.owner_admin)
    assert services.deliveries_send_many(delivery_ids=[delivery.pk]) == {"failed": 1}

    with pytest.raises(services.NotAllowed):
        services.delivery_retry(delivery=delivery, by=_viewer(setup))
    services.delivery_retry(delivery=delivery, by=setup.owner_admin)
    assert services.deliveries_send_many(delivery_ids=[delivery.pk]) == {"succeeded": 1}
    assert [r.headers["webhook-id"] for r in receiver.received] == [delivery.webhook_id] * 2
    with pytest.raises(services.Conflict):
        services.delivery_retry(delivery=delivery, by=setup.owner_admin)  # it succeeded


def _viewer(setup):
    from accounts.roles import Role
    from tests.factories import MembershipFactory, UserFactory

    user = UserFactory()
    MembershipFactory(user=user, team=setup.owner, role=Role.VIEWER)
    return user


def test_a_deliver_task_stops_at_its_budget_and_leaves_the_rest_to_the_sweep(setup, receiver, settings):
    settings.WEBHOOKS_SWEEP_SECONDS = 0  # the budget is spent before the first batch
    endpoint, _ = register(setup, receiver.url)
    delivery = services.endpoint_send_test(endpoint=endpoint, by=None)
    assert services.deliveries_send_many(delivery_ids=[delivery.pk]) == {}
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.claim_token is None
    assert services.deliveries_send_due(budget_seconds=5) == {"succeeded": 1}


def test_with_no_active_endpoint_a_bulk_of_timeline_rows_costs_one_small_query(setup, django_assert_num_queries):
    """The health sweep files a thousand reports at once: when no team has an
    active endpoint, their rows are not joined to find one."""
    endpoint, _secret = register(setup, "https://hooks.example.com/in")
    report = file_report(setup)
    WebhookDelivery.objects.all().delete()
    services.endpoint_update(endpoint=endpoint, by=setup.owner_admin, is_active=False)
    event_ids = list(report.events.values_list("pk", flat=True))
    with django_assert_num_queries(1):
        assert services.deliveries_for_events(event_ids=event_ids, kind=EventKind.CREATED) == 0
    assert not WebhookDelivery.objects.exists()


# --- whose endpoints: the report's team columns -----------------------------------


def _sent(report_ids=None) -> list[tuple[str, str]]:
    rows = WebhookDelivery.objects.order_by("id")
    if report_ids is not None:
        rows = rows.filter(event__report_id__in=report_ids)
    return list(rows.values_list("endpoint__team__name", "event_type"))


def test_after_a_move_a_charge_points_report_changes_go_to_its_new_teams(setup):
    from chargepoints.assets import charge_point_update
    from tests.factories import SupportUserFactory, TeamFactory

    new_operator = TeamFactory(name="New Operator AB")
    for team in (setup.operator, new_operator):
        services.endpoint_create(team=team, url="https://hooks.example.com/in", events=ALL_EVENTS, by=None)
    report = file_report(setup)
    assert _sent() == [("Operator ApS", "report.filed")]

    charge_point_update(charge_point=setup.charge_point, operator=new_operator, by=SupportUserFactory())
    reporting.report_resolve(report=report, by=None, note="Fixed")

    assert _sent()[1:] == [("New Operator AB", "report.resolved")]


def test_a_site_reports_changes_go_to_its_site_teams_endpoints(setup):
    """A site report carries its site's team in both columns: that team's
    endpoints hear of it (with no charge point in the payload); a team only
    operating a charge point there, like another team, does not."""
    from tests.factories import ChargePointFactory, SiteFactory, TeamFactory

    site_team, elsewhere = TeamFactory(name="Site Owner BV"), TeamFactory(name="Elsewhere")
    site = SiteFactory(team=site_team)
    ChargePointFactory(site=site, owner=site_team, operator=setup.operator)
    for team in (site_team, setup.operator, elsewhere):
        services.endpoint_create(team=team, url="https://hooks.example.com/in", events=ALL_EVENTS, by=None)

    created = reporting.report_file_site_reports(reason=Reason.SITE_OFFLINE, sites=[(site.pk, "All down.")],
                                                 now=timezone.now())
    report = Report.objects.get(pk=created[site.pk])
    reporting.report_resolve(report=report, by=None, note="Power is back.")

    assert _sent() == [("Site Owner BV", "report.filed"), ("Site Owner BV", "report.resolved")]
    payload = json.loads(WebhookDelivery.objects.order_by("id").first().body)
    assert payload["data"]["report"]["id"] == report.pk and payload["data"]["report"]["charge_point"] is None
