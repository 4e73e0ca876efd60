"""Forms of the report admin: filing a report and the transition pages."""

from __future__ import annotations

from django import forms

from accounts.permissions import Capability, can_on_charge_point
from chargepoints.models import ChargePoint
from reporting.catalogue import REASON_COUNTRIES, REASONS_BY_SOURCE, Party, Reason, Source
from reporting.errors import InvalidReport
from reporting.models import Report, ReportMessage
from reporting.selectors import report_people_by_party
from reporting.services.filing import report_validate_reason


class ReportCreateForm(forms.ModelForm):
    """Filing a report by hand. The service routes it; this only checks the
    fields first so a mistake comes back on the form, not as an error page."""

    class Meta:
        model = Report
        fields = ["charge_point", "source", "reason", "description",
                  "reporter_name", "reporter_email", "reporter_phone"]

    actor = None
    sources: list[str] = [Source.USER, Source.SUPPORT]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The model allows none (an e-mail conversation before support links
        # one); a report filed by hand always names its charge point.
        self.fields["charge_point"].required = True
        self.fields["source"].choices = [(s, Source(s).label) for s in self.sources]
        if len(self.sources) == 1:
            self.fields["source"].initial = self.sources[0]
        self.fields["reason"].help_text = (
            "Grouped by source: the reason must be one of the chosen source's. A reason limited to some "
            "countries fits only charge points there; once a charge point is chosen (the charge point's "
            "page links here with it), only the reasons that fit are offered."
        )
        if self.is_bound:
            self._offer_reasons(charge_point=None, source=None, narrow=False)
        else:
            self._offer_reasons(charge_point=self._initial_charge_point(), source=self._initial("source"),
                                narrow=True)

    def _initial(self, name) -> str | None:
        value = self.initial.get(name)
        return str(value) if value not in (None, "") else None

    def _initial_charge_point(self) -> ChargePoint | None:
        """The charge point the page was opened with (?charge_point=<id>),
        among those this person may choose."""
        value = self._initial("charge_point")
        if value is None or not value.isdigit():
            return None
        return self.fields["charge_point"].queryset.select_related("site").filter(pk=int(value)).first()

    def _offer_reasons(self, *, charge_point: ChargePoint | None, source: str | None, narrow: bool):
        """The reason field's options: one group per source this person may
        file, each with the reasons that source may use; once the charge point
        is known, without the reasons that do not apply in its country, and
        once the source is known, only that source's group (``narrow``). A
        submitted form is checked against every reason of the allowed sources,
        so a reason that does not fit is refused by ``clean`` in the service's
        own words rather than "not one of the available choices"; the form
        shown again is narrowed."""
        country = charge_point.site.country if charge_point is not None else None
        groups = []
        for group_source in self.sources:
            if narrow and source in self.sources and group_source != source:
                continue
            options = []
            for reason in Reason:
                if reason not in REASONS_BY_SOURCE[group_source]:
                    continue
                countries = REASON_COUNTRIES.get(reason)
                if narrow and countries is not None and country is not None and country not in countries:
                    continue
                label = str(reason.label)
                if countries is not None and country is None:
                    label = f"{label} (only in {', '.join(sorted(countries))})"
                options.append((reason.value, label))
            groups.append((f"{Source(group_source).label} report", options))
        self.fields["reason"].choices = [("", "---------"), *groups]

    def clean(self):
        cleaned = super().clean()
        charge_point: ChargePoint | None = cleaned.get("charge_point")
        source, reason = cleaned.get("source"), cleaned.get("reason")
        if charge_point is not None and not can_on_charge_point(
            self.actor, Capability.COMMENT, charge_point=charge_point
        ):
            self.add_error("charge_point", "You may not file reports about this charge point.")
        if charge_point is not None and source and reason:
            try:
                report_validate_reason(source=source, reason=reason, charge_point=charge_point)
            except InvalidReport as error:
                field = error.field if error.field in self.fields else None
                self.add_error(field, error.message)
        if self.errors:
            # Shown again: offer only what fits the chosen charge point and source.
            self._offer_reasons(charge_point=charge_point, source=source, narrow=True)
        return cleaned


def person_choices(*, reports: list[Report], user, include_support: bool) -> tuple[list, dict[int, set[str]]]:
    """The assign form's people, grouped by the parties each belongs to, and
    for each person id the set of parties (see ``report_people_by_party``)."""
    people, parties = report_people_by_party(reports=reports, actor=user, include_support=include_support)
    ordered = sorted(people.values(), key=lambda p: (p.first_name, p.last_name, p.email))
    groups: dict[str, list] = {}
    for person in ordered:
        label = " or ".join(str(Party(p).label) for p in Party.values if p in parties[person.pk])
        groups.setdefault(label, []).append((str(person.pk), person.actor_label))
    return [("", "— anyone of that party —"), *groups.items()], parties


class AssignForm(forms.Form):
    party = forms.ChoiceField(choices=Party.choices, widget=forms.RadioSelect, label="Assign to")
    person = forms.ChoiceField(required=False, label="Person (optional)")
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                           help_text="Why, or what the person should do; shown on the timeline.")

    def __init__(self, *args, person_choices=((), {}), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].choices, self.parties_by_person = person_choices

    def clean(self):
        cleaned = super().clean()
        party, person = cleaned.get("party"), cleaned.get("person")
        cleaned["person_id"] = None
        if party and person:
            person_id = int(person)
            if party not in self.parties_by_person.get(person_id, set()):
                listed = " or ".join(str(Party(p).label).lower() for p in sorted(self.parties_by_person[person_id]))
                self.add_error(
                    "person",
                    f"That person belongs to the {listed}, not the {Party(party).label.lower()}: "
                    f"choose that party, or someone of the {Party(party).label.lower()}.",
                )
            else:
                cleaned["person_id"] = person_id
        return cleaned


class ResolveForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Resolution note",
        help_text="What was done or found; shown on the timeline and to the team.",
    )


class ReopenForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                           help_text="Why it is reopened (optional).")


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Comment", max_length=5000)


class MessageForm(forms.Form):
    sender = forms.ChoiceField(choices=ReportMessage.Sender.choices, initial=ReportMessage.Sender.SUPPORT)
    author_name = forms.CharField(required=False, max_length=200,
                                  help_text="Leave empty for your own name (or “Driver”).")
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Message", max_length=5000)
