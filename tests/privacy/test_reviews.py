"""Reviewers' contact details: erased by the retention run (days after the
review, or after the report it filed is resolved) and on a person's request;
found and exported with the rest of what is held about them."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from privacy.selectors import privacy_person_data, privacy_person_export
from privacy.services import REVIEWS, privacy_erase_expired, privacy_erase_person
from reporting.models import Report, Review
from reporting.reporters import Driver
from reporting.reviews import review_submit
from tests.factories import ChargePointFactory, SupportUserFactory

pytestmark = pytest.mark.django_db

METTE = Driver(name="Mette Hansen", email="Mette@Example.com", phone="+45 12 34 56 78")


def _review(rating=4, comment="", driver=METTE, days_ago=0):
    return review_submit(charge_point=ChargePointFactory(), rating=rating, comment=comment, driver=driver,
                         now=timezone.now() - timedelta(days=days_ago))


def test_retention_erases_contact_of_old_reviews_without_report_and_keeps_rating_and_comment(settings):
    settings.PRIVACY_DRIVER_DATA_DAYS = 90
    old = _review(comment="Quick", days_ago=91)
    recent = _review(days_ago=89)
    runs = privacy_erase_expired()
    assert runs[REVIEWS].erased == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.name, old.email, old.phone, old.rating, old.comment) == ("", "", "", 4, "Quick")
    assert old.contact_erased_at is not None
    assert recent.email == "mette@example.com"
    assert privacy_erase_expired()[REVIEWS].erased == 0


def test_a_review_that_filed_a_report_keeps_its_contact_until_the_report_is_resolved_long_enough(settings):
    settings.PRIVACY_DRIVER_DATA_DAYS = 90
    review = _review(rating=1, comment="Broken", days_ago=200)
    report = review.report
    privacy_erase_expired()
    review.refresh_from_db()
    assert review.email == "mette@example.com"  # its report is still open
    Report.objects.filter(pk=report.pk).update(state="resolved", resolved_at=timezone.now() - timedelta(days=10))
    privacy_erase_expired()
    review.refresh_from_db()
    assert review.email == "mette@example.com"
    Report.objects.filter(pk=report.pk).update(resolved_at=timezone.now() - timedelta(days=91))
    privacy_erase_expired()
    review.refresh_from_db()
    assert (review.name, review.email, review.phone) == ("", "", "")


def test_a_persons_request_finds_exports_and_erases_their_reviews_and_only_theirs():
    mine = _review(comment="Slow")
    by_phone = _review(driver=Driver(phone="+4512345678"))
    other = _review(driver=Driver(name="Jonas", email="jonas@example.com"))
    person = privacy_person_data(email="mette@example.com")
    assert [r.pk for r in person.reviews] == [mine.pk] and not person.empty
    assert {r.pk for r in privacy_person_data(phone="45 12 34 56 78").reviews} == {mine.pk, by_phone.pk}
    data = json.loads(zipfile.ZipFile(io.BytesIO(privacy_person_export(person=person))).read("data.json"))
    assert data["reviews"][0]["comment"] == "Slow" and data["reviews"][0]["email"] == "mette@example.com"
    privacy_erase_person(email="mette@example.com", by=SupportUserFactory())
    mine.refresh_from_db()
    other.refresh_from_db()
    assert (mine.name, mine.email, mine.phone, mine.comment, mine.rating) == ("", "", "", "", 4)
    assert other.email == "jonas@example.com"
    assert privacy_person_data(email="mette@example.com").reviews == []
    assert Review.objects.count() == 3


def test_supports_person_page_counts_their_reviews(client):
    _review()
    client.force_login(SupportUserFactory())
    page = client.get("/admin/privacy/erasure/person/", {"email": "mette@example.com"}).content.decode()
    assert '<li id="person-reviews">1 review(s) of a charge' in page
