"""The driver's report and review forms. Field labels and messages are
translated: the page speaks the driver's language."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from reporting.catalogue import Reason, driver_reasons
from reporting.review_models import COMMENT_MAX_LENGTH

PHONE = re.compile(r"^\+?[0-9 ()\-]{6,30}$")


CONTACT_FIELDS = ("name", "email", "phone", "website")


class DriverContactForm(forms.Form):
    """What both driver forms end with: the optional name, e-mail and phone,
    and the honeypot. A form says why it wants the e-mail in
    ``email_help_text``; its own fields come before these."""

    email_help_text = ""

    name = forms.CharField(label=_("Your name (optional)"), required=False, max_length=200)
    email = forms.EmailField(
        label=_("Your e-mail (optional)"),
        required=False,
        error_messages={"invalid": _("Enter a valid e-mail address.")},
    )
    phone = forms.CharField(label=_("Your phone (optional)"), required=False, max_length=40)
    # The honeypot: hidden from people (and screen readers), filled by bots.
    website = forms.CharField(required=False, label=_("Leave this empty"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields([name for name in self.fields if name not in CONTACT_FIELDS] + list(CONTACT_FIELDS))
        self.fields["email"].help_text = self.email_help_text
        for name, autocomplete in (("name", "name"), ("email", "email"), ("phone", "tel")):
            self.fields[name].widget.attrs["autocomplete"] = autocomplete
        self.fields["phone"].widget.input_type = "tel"
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if phone and not PHONE.match(phone):
            raise forms.ValidationError(_("Enter a phone number with digits only, e.g. +45 12 34 56 78."))
        return phone

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))


class DriverReportForm(DriverContactForm):
    email_help_text = _("We send you a confirmation and tell you when it is fixed.")

    reason = forms.ChoiceField(
        label=_("What is wrong?"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what is wrong."),
                        "invalid_choice": _("Choose one of the problems listed.")},
    )
    description = forms.CharField(
        label=_("Tell us more"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What happened, and where exactly? Required for “Something else”."),
    )
    photo = forms.FileField(
        label=_("Photo (optional)"),
        required=False,
        help_text=_("JPEG or PNG, up to 5 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
    )

    def __init__(self, *args, country: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = driver_reasons(country=country)

    def clean_description(self):
        return self.cleaned_data["description"].strip()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("reason") == Reason.OTHER and not cleaned.get("description"):
            self.add_error("description", _("Tell us what is wrong."))
        return cleaned


class DriverReviewForm(DriverContactForm):
    """Rate your charge: 1 to 5 and an optional comment."""

    email_help_text = _("Only if you want the people who look after this charge point to be able to contact you.")

    rating = forms.TypedChoiceField(
        label=_("How was your charge?"),
        coerce=int,
        choices=[(5, _("5 – very good")), (4, _("4 – good")), (3, _("3 – all right")), (2, _("2 – poor")),
                 (1, _("1 – very poor"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a rating from 1 to 5."),
                        "invalid_choice": _("Choose a rating from 1 to 5.")},
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Comments are shown on the charge point's page without your name."),
    )

    def clean_comment(self):
        return self.cleaned_data["comment"].strip()
