"""Drivers' reviews of their charge (docs/drivers.md "Reviews").

A review is tied to the charge on its charge point that ended within the
window (``DRIVER_REVIEWS["charge_window_hours"]``), the latest one, where
there is one. A low rating (``low_rating`` or less) with a comment, or the
``low_ratings_per_day``-th low rating on one charge point within 24 hours,
files a user report "customer experience" through the drivers' filing
(``report_file_by_driver``): one report per charge point while it is open,
later ones join it like repeat filings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Avg, Count
from django.utils import timezone

from accounts.permissions import Actor, is_support
from chargepoints.models import Charge, ChargePoint
from core.errors import Invalid

from .catalogue import Reason
from .contact_visibility import driver_contact_visible
from .reporters import Driver, report_file_by_driver
from .review_models import COMMENT_MAX_LENGTH, Review

ANONYMOUS = "A driver"


def _limits() -> dict:
    return settings.DRIVER_REVIEWS


def review_charge_for(*, charge_point: ChargePoint, now: datetime) -> Charge | None:
    """The charge a review made now is about: the latest on the charge point
    that ended within the window (and not in the future)."""
    since = now - timedelta(hours=_limits()["charge_window_hours"])
    return (
        Charge.objects.filter(charge_point=charge_point, ended_at__gte=since, started_at__lte=now)
        .order_by("-ended_at", "-id")
        .first()
    )


@transaction.atomic
def review_submit(
    *,
    charge_point: ChargePoint,
    rating,
    comment: str = "",
    driver: Driver,
    by: Actor | None = None,
    now: datetime | None = None,
) -> Review:
    """Store a driver's review; file or join a customer-experience report
    when the rules in the module say so (``review.report``)."""
    now = now or timezone.now()
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise Invalid("A rating is a whole number from 1 to 5.", field="rating")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise Invalid(f"A comment may be at most {COMMENT_MAX_LENGTH} characters.", field="comment")
    # Reviews on one charge point queue on its row, so two low ratings at
    # once both see each other when counting.
    ChargePoint.objects.select_for_update().filter(pk=charge_point.pk).first()
    review = Review.objects.create(
        charge_point=charge_point,
        charge=review_charge_for(charge_point=charge_point, now=now),
        rating=rating,
        comment=comment,
        name=driver.name[:200],
        email=driver.email.lower()[:254],
        phone=driver.phone[:40],
        language=(driver.language or "en")[:10],
        channel=driver.channel,
        created_at=now,
    )
    low = rating <= _limits()["low_rating"]
    if not low:
        return review
    description = f"Rated {rating}/5: {comment}" if comment else ""
    if not comment:
        low_today = Review.objects.filter(
            charge_point=charge_point, rating__lte=_limits()["low_rating"], created_at__gt=now - timedelta(hours=24),
            created_at__lte=now,
        ).count()
        if low_today < _limits()["low_ratings_per_day"]:
            return review
        description = f"{low_today} ratings of {_limits()['low_rating']} or less within 24 hours (latest {rating}/5)."
    filing = report_file_by_driver(
        charge_point=charge_point,
        reason=Reason.CUSTOMER_EXPERIENCE,
        description=description,
        driver=driver,
        by=by,
        join_any_driver=True,
    )
    review.report = filing.report
    review.save(update_fields=["report"])
    return review


@dataclass(frozen=True)
class ReviewSummary:
    average: float | None
    count: int
    commented: list[Review]


def review_summary(*, charge_point_id: int, limit: int = 20) -> ReviewSummary:
    """The average rating and the latest reviews with a comment."""
    figures = Review.objects.filter(charge_point_id=charge_point_id).aggregate(
        average=Avg("rating"), count=Count("id")
    )
    commented = list(
        Review.objects.filter(charge_point_id=charge_point_id)
        .exclude(comment="")
        .select_related("report__charge_point")
        .order_by("-created_at", "-id")[:limit]
    )
    average = round(figures["average"], 1) if figures["average"] is not None else None
    return ReviewSummary(average=average, count=figures["count"], commented=commented)


def review_author_label(*, actor, review: Review) -> str:
    """Who wrote a review, as a viewer may read it: "A driver" unless the
    driver left contact details and the viewer may see them (support; a
    team's people on the report the review filed, by the report rules)."""
    if not review.has_contact:
        return ANONYMOUS
    visible = is_support(actor) or (
        review.report is not None and driver_contact_visible(actor=actor, report=review.report)
    )
    if not visible:
        return ANONYMOUS
    return " · ".join(part for part in (review.name, review.email, review.phone) if part)
