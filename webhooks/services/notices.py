"""Telling a team that its endpoint was switched off: one e-mail to its
report contacts (or, without any, its owners and admins), sent once.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction

from accounts.models import Membership, Role
from reporting.settings_models import ReportContact

from ..models import WebhookEndpoint

logger = logging.getLogger(__name__)



def notice_recipients(team_id: int) -> list[str]:
    """The team's report contacts; without any, its owners and admins."""
    emails = list(ReportContact.objects.filter(settings__team_id=team_id).values_list("email", flat=True))
    if not emails:
        emails = list(
            Membership.objects.filter(team_id=team_id, role__in=[Role.OWNER, Role.ADMIN], user__is_active=True)
            .values_list("user__email", flat=True)
        )
    return sorted(set(emails))



def notices_send_pending() -> int:
    """E-mail the contacts of each switched-off endpoint's team once. The
    row stays locked while the e-mail goes out and is marked sent in the
    same transaction: a failure leaves it pending for the next sweep."""
    sent = 0
    pending = list(WebhookEndpoint.objects.filter(disabled_notice_pending=True).values_list("pk", flat=True)[:100])
    for endpoint_id in pending:
        try:
            with transaction.atomic():
                endpoint = (WebhookEndpoint.objects.select_for_update(skip_locked=True)
                            .select_related("team").filter(pk=endpoint_id, disabled_notice_pending=True).first())
                if endpoint is None:
                    continue
                recipients = notice_recipients(endpoint.team_id)
                if recipients:
                    EmailMessage(
                        subject=f"Webhook endpoint switched off: {endpoint.url}"[:300],
                        body=(
                            f"The webhook endpoint {endpoint.url} of {endpoint.team.name} was switched off"
                            f" on {endpoint.disabled_at:%Y-%m-%d %H:%M} UTC.\n\n"
                            f"Reason: {endpoint.disabled_reason}\n\n"
                            "No more events are sent to it. Once the receiver works again, switch the endpoint"
                            " back on in the back-office (Webhooks) or through the API, and send a test event.\n"
                        ),
                        from_email=settings.DEFAULT_FROM_EMAIL,
                        to=recipients,
                    ).send()
                endpoint.disabled_notice_pending = False
                endpoint.save(update_fields=["disabled_notice_pending"])
                sent += 1
        except Exception:
            logger.warning("Could not e-mail the switched-off notice of endpoint %s; the next sweep retries.",
                           endpoint_id, exc_info=True)
    return sent
