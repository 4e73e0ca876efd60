"""Rate your charge on the public page /r/<code>/review/: the form, what
sending writes, and the refusals (honeypot, length, rate limits)."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from reporting.catalogue import Reason
from reporting.models import Report, Review

pytestmark = pytest.mark.django_db


def url(cp):
    return reverse("drivers:review", args=[cp.public_code])


def send(client, cp, **data):
    return client.post(url(cp), {"rating": "4", "comment": "", **data})


def test_the_report_page_links_to_the_review_form_which_works_without_javascript(danish_cp):
    report_html = Client().get(reverse("drivers:report", args=[danish_cp.public_code])).content.decode()
    assert f'href="{url(danish_cp)}"' in report_html
    html = Client().get(url(danish_cp)).content.decode()
    assert "Rate your charge" in html and "Harbour 1" in html and "<script" not in html
    assert len(re.findall(r'type="radio" name="rating"', html)) == 5
    for field in ("comment", "name", "email", "phone"):
        assert f'for="id_{field}"' in html


def test_a_review_is_stored_and_the_driver_thanked(danish_cp):
    response = send(Client(), danish_cp, rating="5", comment=" Quick ", email="mette@example.com")
    assert response.status_code == 303 and response["Location"] == url(danish_cp) + "?sent=1"
    review = Review.objects.get()
    assert (review.rating, review.comment, review.email, review.channel) == (5, "Quick", "mette@example.com", "web")
    assert "Thank you for your review" in Client().get(response["Location"]).content.decode()
    assert Report.objects.count() == 0


def test_a_low_rating_with_a_comment_files_a_customer_experience_report(danish_cp):
    assert send(Client(), danish_cp, rating="1", comment="Dirty and slow").status_code == 303
    report = Report.objects.get()
    assert report.reason == Reason.CUSTOMER_EXPERIENCE and Review.objects.get().report == report


@pytest.mark.parametrize("data, field", [({"rating": "0"}, "rating"), ({"rating": ""}, "rating"),
                                         ({"comment": "x" * 1001}, "comment"), ({"phone": "call me"}, "phone")])
def test_bad_input_is_refused_with_a_message_and_nothing_saved(danish_cp, data, field):
    response = send(Client(), danish_cp, **data)
    assert response.status_code == 400
    assert f'id="{field}-errors"' in response.content.decode()
    assert Review.objects.count() == 0


def test_filled_honeypot_is_refused_and_nothing_is_saved(danish_cp):
    response = send(Client(), danish_cp, rating="1", comment="spam", website="http://spam.example")
    assert response.status_code == 400 and "could not be sent" in response.content.decode()
    assert Review.objects.count() == 0 and Report.objects.count() == 0


def test_rate_limit_per_address_answers_429_with_retry_after_and_spares_another_address(
    danish_cp, dutch_cp, settings
):
    settings.DRIVER_REVIEWS = {**settings.DRIVER_REVIEWS, "rate_per_address": 2}
    client = Client()
    assert send(client, danish_cp).status_code == 303
    assert send(client, dutch_cp).status_code == 303
    response = send(client, danish_cp)
    assert response.status_code == 429
    assert "Too many reviews" in response.content.decode()
    assert int(response.headers["Retry-After"]) > 0 and response.headers["RateLimit-Remaining"] == "0"
    assert Review.objects.count() == 2
    assert send(Client(REMOTE_ADDR="10.9.9.9"), danish_cp).status_code == 303
    # Reviews have their own counters: reporting is still open to the address.
    report = client.post(reverse("drivers:report", args=[danish_cp.public_code]),
                         {"reason": Reason.BROKEN, "description": "x"})
    assert report.status_code == 303


def test_rate_limit_per_charge_point(danish_cp, dutch_cp, settings):
    settings.DRIVER_REVIEWS = {**settings.DRIVER_REVIEWS, "rate_per_charge_point": 1}
    assert send(Client(REMOTE_ADDR="10.0.0.1"), danish_cp).status_code == 303
    assert send(Client(REMOTE_ADDR="10.0.0.2"), danish_cp).status_code == 429
    assert send(Client(REMOTE_ADDR="10.0.0.3"), dutch_cp).status_code == 303
    assert Review.objects.count() == 2


def test_post_without_csrf_token_is_refused(danish_cp):
    response = send(Client(enforce_csrf_checks=True), danish_cp)
    assert response.status_code == 403 and Review.objects.count() == 0


def test_the_form_speaks_danish_to_a_danish_browser(danish_cp):
    html = Client(HTTP_ACCEPT_LANGUAGE="da").get(url(danish_cp)).content.decode()
    assert "Bedøm din opladning" in html
