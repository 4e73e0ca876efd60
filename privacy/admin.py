"""Support's record of erased personal data (/admin/), read-only: what kind
of data went from which report, when, and why. The values are gone."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.admin_sites import support_site
from accounts.admin_tenancy import ScopedAdminMixin
from accounts.permissions import is_support
from core.admin.base import ModelAdmin
from core.admin.pagination import BigTableAdminMixin
from core.admin.readonly import ReadOnlyAdminMixin
from core.errors import DomainError

from .models import Erasure
from .selectors import privacy_person_data, privacy_person_export
from .services import privacy_erase_person


class PersonForm(forms.Form):
    email = forms.CharField(label="E-mail address", required=False, max_length=254)
    phone = forms.CharField(label="Phone number", required=False, max_length=40)


class EraseConfirmForm(PersonForm):
    confirm = forms.CharField(
        label="Type ERASE to confirm", max_length=10,
        help_text="The person's details, words, photos and e-mails go from every report listed. "
        "This cannot be undone.",
    )

    def clean_confirm(self):
        if self.cleaned_data["confirm"].strip().upper() != "ERASE":
            raise forms.ValidationError("Type ERASE to confirm.")
        return "ERASE"


@admin.register(Erasure, site=support_site)
class ErasureAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, ScopedAdminMixin, ModelAdmin):
    support_actions = {"view"}

    change_list_template = "admin/privacy/erasure/change_list.html"
    list_display = ["erased_at", "report_link", "scope", "reason", "what", "erased_by_label"]
    list_filter = ["scope", "reason"]
    search_fields = ["=report__id", "erased_by_label"]
    date_hierarchy = "erased_at"
    ordering = ["-erased_at", "-id"]
    fields = ["erased_at", "report_link", "scope", "reason", "what", "erased_by_label"]
    readonly_fields = fields

    def teams_of(self, obj):
        return set()


    @admin.display(description="report", ordering="report_id")
    def report_link(self, obj: Erasure) -> str:
        url = reverse(f"{self.admin_site.name}:reporting_report_change", args=[obj.report_id])
        return format_html('<a href="{}">#{}</a>', url, obj.report_id)

    @admin.display(description="what was erased")
    def what(self, obj: Erasure) -> str:
        return obj.summary

    # --- a person's request: look up, download, erase (support only) ---

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("person/", view(self.person_view), name="privacy_person"),
            path("person/export/", view(self.person_export_view), name="privacy_person_export"),
            path("person/erase/", view(self.person_erase_view), name="privacy_person_erase"),
            *super().get_urls(),
        ]

    def _context(self, request, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "changelist_url": reverse(f"{self.admin_site.name}:privacy_erasure_changelist"),
            **extra,
        }

    def _require_support(self, request):
        if not is_support(request.user):
            raise PermissionDenied

    def person_view(self, request):
        self._require_support(request)
        form = PersonForm(request.GET or None)
        person = None
        if form.is_bound and form.is_valid():
            try:
                person = privacy_person_data(**form.cleaned_data)
            except DomainError as error:
                form.add_error(getattr(error, "field", None) or None, error.message)
        context = self._context(request, title="A person's data", form=form, person=person)
        return TemplateResponse(request, "admin/privacy/person.html", context)

    def person_export_view(self, request):
        self._require_support(request)
        form = PersonForm(request.GET or None)
        if not (form.is_bound and form.is_valid()):
            return redirect(reverse(f"{self.admin_site.name}:privacy_person"))
        try:
            person = privacy_person_data(**form.cleaned_data)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return redirect(reverse(f"{self.admin_site.name}:privacy_person"))
        response = HttpResponse(privacy_person_export(person=person), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="personal-data-{timezone.now():%Y%m%d-%H%M}.zip"'
        response["Cache-Control"] = "no-store"
        return response

    def person_erase_view(self, request):
        self._require_support(request)
        form = EraseConfirmForm(request.POST or request.GET or None)
        person = None
        if form.is_bound:
            identity = {"email": form.data.get("email", ""), "phone": form.data.get("phone", "")}
            try:
                person = privacy_person_data(**identity)
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
                return redirect(reverse(f"{self.admin_site.name}:privacy_person"))
        if request.method == "POST" and form.is_valid():
            try:
                erasures = privacy_erase_person(
                    email=form.cleaned_data["email"], phone=form.cleaned_data["phone"], by=request.user
                )
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(
                    request, f"Erased the person's data from {len(erasures)} report(s). The reports stay.",
                )
                return redirect(reverse(f"{self.admin_site.name}:privacy_erasure_changelist"))
        if request.method == "GET":
            form = EraseConfirmForm(initial=request.GET.dict())
        context = self._context(request, title="Erase a person's data?", form=form, person=person)
        return TemplateResponse(request, "admin/privacy/person_erase.html", context)
