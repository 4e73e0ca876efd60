"""Drivers' reviews: which charge a review is about, when it files a
customer-experience report (assigned like any user report), and how the
charge point's admin page shows them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from core.errors import Invalid
from reporting.catalogue import Party, Reason, Source
from reporting.models import Report, ReportReporter, Review
from reporting.reporters import Driver
from reporting.reviews import review_submit
from reporting.services import report_resolve
from tests.factories import ChargeFactory, ChargePointFactory, TeamFactory

pytestmark = pytest.mark.django_db


def rate(cp, rating, comment="", **driver):
    return review_submit(charge_point=cp, rating=rating, comment=comment, driver=Driver(**driver))


def test_low_rating_with_a_comment_files_a_customer_experience_report_assigned_like_a_user_report():
    owner, operator = TeamFactory(), TeamFactory()
    cp = ChargePointFactory(site__team=owner, owner=owner, operator=operator)
    review = rate(cp, 2, "  Dirty cable, slow charge.  ")
    report = Report.objects.get()
    assert review.report == report and review.comment == "Dirty cable, slow charge."
    assert (report.source, report.reason) == (Source.USER, Reason.CUSTOMER_EXPERIENCE)
    assert report.assigned_party == Party.OPERATOR
    assert report.description == "Rated 2/5: Dirty cable, slow charge."
    assert report.reporter_name == ""  # anonymous: no contact details left


def test_low_rating_on_a_charge_point_its_owner_operates_goes_to_the_owner():
    cp = ChargePointFactory()
    rate(cp, 1, "Broken screen", name="Mette", email="mette@example.com")
    report = Report.objects.get()
    assert report.assigned_party == Party.OWNER
    assert report.reporter_email == "mette@example.com"


def test_good_ratings_and_low_ratings_without_comment_file_nothing_until_the_third_in_a_day():
    cp = ChargePointFactory()
    rate(cp, 5, "Great")
    rate(cp, 3, "Fine")
    rate(cp, 2)
    rate(cp, 1)
    assert Report.objects.count() == 0
    third = rate(cp, 2)
    report = Report.objects.get()
    assert third.report == report and report.reason == Reason.CUSTOMER_EXPERIENCE
    assert "3 ratings of 2 or less within 24 hours" in report.description
    # A fourth joins the open report instead of filing another.
    fourth = rate(cp, 1, "Still bad")
    assert Report.objects.count() == 1 and fourth.report == report
    report.refresh_from_db()
    assert report.reporter_count == 2


def test_low_ratings_spread_over_more_than_a_day_or_charge_points_file_nothing():
    cp, other = ChargePointFactory(), ChargePointFactory()
    now = timezone.now()
    review_submit(charge_point=cp, rating=1, driver=Driver(), now=now - timedelta(hours=30))
    review_submit(charge_point=cp, rating=1, driver=Driver(), now=now - timedelta(hours=1))
    review_submit(charge_point=other, rating=1, driver=Driver(), now=now)
    review_submit(charge_point=cp, rating=2, driver=Driver(), now=now)
    assert Report.objects.count() == 0


def test_low_ratings_with_comments_from_several_drivers_share_one_open_report_and_a_resolved_one_is_not_joined(
    support_user,
):
    cp = ChargePointFactory()
    first = rate(cp, 1, "No power", email="a@example.com")
    second = rate(cp, 2, "Slow", email="b@example.com")
    assert first.report == second.report
    assert ReportReporter.objects.filter(report=first.report).count() == 2
    report_resolve(report=first.report, by=support_user, note="Cleaned")
    third = rate(cp, 2, "Again slow")
    assert third.report != first.report and Report.objects.count() == 2


def test_review_is_tied_to_the_latest_charge_within_the_window_and_not_to_an_older_one(settings):
    settings.DRIVER_REVIEWS = {**settings.DRIVER_REVIEWS, "charge_window_hours": 12}
    cp = ChargePointFactory()
    now = timezone.now()
    ChargeFactory(charge_point=cp, ended_at=now - timedelta(hours=13))
    recent = ChargeFactory(charge_point=cp, ended_at=now - timedelta(hours=2))
    ChargeFactory(charge_point=ChargePointFactory(), ended_at=now - timedelta(minutes=5))
    assert rate(cp, 4).charge == recent
    lonely = ChargePointFactory()
    ChargeFactory(charge_point=lonely, ended_at=now - timedelta(hours=13))
    assert rate(lonely, 4).charge is None


@pytest.mark.parametrize("rating", [0, 6, "5", None, True])
def test_a_rating_outside_1_to_5_is_refused_and_nothing_is_saved(rating):
    with pytest.raises(Invalid):
        rate(ChargePointFactory(), rating)
    assert Review.objects.count() == 0


def test_a_comment_over_the_length_limit_is_refused():
    with pytest.raises(Invalid, match="at most 1000"):
        rate(ChargePointFactory(), 1, "x" * 1001)
    assert Review.objects.count() == 0 and Report.objects.count() == 0


def _page(client, cp, site="operator"):
    return client.get(f"/{site}/chargepoints/chargepoint/{cp.pk}/change/").content.decode()


def test_charge_point_page_shows_comments_newest_first_with_the_average_and_keeps_drivers_anonymous(
    client, member_factory, support_user
):
    cp = ChargePointFactory()
    now = timezone.now()
    review_submit(charge_point=cp, rating=5, comment="Quick and easy", now=now - timedelta(hours=3),
                  driver=Driver(name="Mette Hansen", email="mette@example.com"))
    review_submit(charge_point=cp, rating=4, driver=Driver(), now=now - timedelta(hours=2))
    review_submit(charge_point=cp, rating=3, comment="Cable a bit short", now=now - timedelta(hours=1),
                  driver=Driver())
    client.force_login(member_factory(cp.owner, Role.ADMIN))
    html = _page(client, cp)
    assert "Average rating <strong>4.0</strong> / 5 from 3 reviews" in html
    assert html.index("Cable a bit short") < html.index("Quick and easy")
    assert "Mette" not in html and "mette@example.com" not in html
    assert html.count('<td class="review-author">A driver</td>') == 2
    client.force_login(support_user)
    html = _page(client, cp, site="admin")
    assert "Mette Hansen · mette@example.com" in html


def test_a_teams_installer_sees_the_contact_of_a_reviewer_whose_review_filed_an_open_report(
    client, member_factory
):
    cp = ChargePointFactory()
    rate(cp, 1, "Nothing works", name="Jonas", phone="+45 11 22 33 44")
    client.force_login(member_factory(cp.owner, Role.VIEWER))
    assert "Jonas" not in _page(client, cp)
    client.force_login(member_factory(cp.owner, Role.INSTALLER))
    assert "Jonas · +45 11 22 33 44" in _page(client, cp)


def test_charge_point_page_without_reviews_says_so(client, support_user):
    cp = ChargePointFactory()
    client.force_login(support_user)
    assert "No reviews with a comment yet" in _page(client, cp, site="admin")
