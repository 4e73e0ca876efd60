"""Drivers' reviews of a charge: a rating from 1 to 5 and an optional
comment (reporting/reviews.py holds the rules; docs/drivers.md "Reviews")."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chargepoints.models import Charge, ChargePoint

COMMENT_MAX_LENGTH = 1000


class ReviewChannel(models.TextChoices):
    WEB = "web", _("Public page")
    APP = "app", _("App")


class Review(models.Model):
    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="reviews")
    # The charge the review is about, where one was found in the window.
    charge = models.ForeignKey(Charge, on_delete=models.SET_NULL, null=True, blank=True, related_name="reviews")
    rating = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(blank=True, max_length=COMMENT_MAX_LENGTH)
    # Personal data (docs/privacy.md): erased with the driver data's retention.
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    language = models.CharField(max_length=10, default="en")
    channel = models.CharField(max_length=10, choices=ReviewChannel.choices, default=ReviewChannel.WEB)
    # The customer-experience report the review filed or joined.
    report = models.ForeignKey(
        "reporting.Report", on_delete=models.SET_NULL, null=True, blank=True, related_name="reviews"
    )
    contact_erased_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["charge_point", "-created_at"], name="review_cp_created_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 on {self.charge_point_id} ({self.created_at:%Y-%m-%d})"

    @property
    def has_contact(self) -> bool:
        return bool(self.name or self.email or self.phone)
