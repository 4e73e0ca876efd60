"""Teams, people and memberships in both back-offices.

- /admin/ (support): every team, user and membership; users are created and
  given the Support group here.
- /operator/: a member sees their own teams and who is in them; a team's
  owners add people (by the e-mail address of an existing account), change
  roles and remove members. A team always keeps at least one owner.
"""

from __future__ import annotations

import zoneinfo

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import OuterRef
from django.utils.translation import gettext_lazy as _
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from accounts import (
    admin_api_keys,  # noqa: F401  (API keys on both sites)
    admin_audit,  # noqa: F401  (the audit log on both sites)
    admin_lockouts,  # noqa: F401  (failed logins, support only)
)
from accounts.admin_refusals import ServiceRefusalAdminMixin
from accounts.admin_sites import operator_site, support_site
from accounts.admin_tenancy import ScopedAdminMixin, TeamOwnedAdminMixin
from accounts.models import Membership, Team, User
from accounts.permissions import Capability, teams_with_capability
from accounts.team_services import (
    RATE_FIELDS,
    membership_add,
    membership_change_role,
    membership_check_new,
    membership_check_role,
    membership_find_user,
    membership_may_remove,
    membership_remove,
    team_create,
    team_delete,
    team_update,
    user_save,
)
from core.admin.annotations import related_count
from core.admin.base import ModelAdmin, TabularInline
from core.admin.filters import ScopedRelatedFilter
from core.admin.readonly import ReadOnlyInlineMixin
from core.errors import DomainError


def _managed_teams(user):
    ids = teams_with_capability(user, Capability.MANAGE_MEMBERS)
    return Team.objects.all() if ids is None else Team.objects.filter(pk__in=ids)


class ReadOnlyMembershipInline(ReadOnlyInlineMixin, TabularInline):
    """Who is in the team, in what role. People are added, changed and
    removed on the memberships pages, through the services (the audit log
    and the last-owner rule)."""

    model = Membership
    extra = 0
    fields = ["member", "role", "created_at"]
    readonly_fields = fields


    @admin.display(description="member")
    def member(self, obj):
        return obj.user.actor_label + f" <{obj.user.email}>"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


class TeamAdmin(ServiceRefusalAdminMixin, ScopedAdminMixin, ModelAdmin):
    support_actions = {"view", "add", "change", "delete"}
    operator_capabilities = {"view": Capability.VIEW, "change": Capability.MANAGE_MEMBERS}

    list_display = ["name", "country", "language", "member_count"]
    list_filter = ["country", "language"]
    search_fields = ["name"]
    ordering = ["name"]
    fields = ["name", "country", "language", "api_reads_per_minute", "api_writes_per_minute",
              "api_telemetry_per_minute"]

    def teams_of(self, obj):
        return {obj.pk}

    def get_inlines(self, request, obj):
        if obj is None:
            return []
        return [ReadOnlyMembershipInline]

    def get_readonly_fields(self, request, obj=None):
        # Owners may rename their team; the country decides which reasons apply
        # and the API's rate limits protect everyone: support sets them.
        if self.on_support_site():
            return []
        return ["country", "api_reads_per_minute", "api_writes_per_minute", "api_telemetry_per_minute"]

    def get_queryset(self, request):
        members = Membership.objects.filter(team=OuterRef("pk"))
        return super().get_queryset(request).annotate(_members=related_count(members, "team"))

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = team_update(team=obj, by=request.user, **{f: data[f] for f in form.changed_data if f in data})
        else:
            saved = team_create(name=data["name"], country=data["country"], language=data["language"],
                                by=request.user)
            limits = {f: data[f] for f in RATE_FIELDS if data.get(f) is not None}
            if limits:
                saved = team_update(team=saved, by=request.user, **limits)
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        pass  # the members are read-only here; the service saved the team

    def delete_model(self, request, obj):
        team_delete(team=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for team in queryset:
            team_delete(team=team, by=request.user)

    @admin.display(description="members", ordering="_members")
    def member_count(self, obj):
        return obj._members


class MembershipForm(forms.ModelForm):
    """Operators add an existing account by its e-mail address: the list of
    every user is not theirs to browse."""

    email = forms.EmailField(label="E-mail address", help_text="The e-mail address the person logs in with.")
    actor = None

    class Meta:
        model = Membership
        fields = ["team", "role"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "team" in self.fields:
            self.fields["team"].queryset = _managed_teams(self.actor)
        if self.instance.pk:
            self.fields.pop("email")

    def clean(self):
        # The services' own checks, run first so the message lands on the field.
        cleaned = super().clean()
        try:
            if self.instance.pk is None:
                user = membership_find_user(email=cleaned.get("email") or "")
                self.instance.user = user
                if cleaned.get("team") is not None:
                    membership_check_new(team=cleaned["team"], user=user)
            elif cleaned.get("role"):
                membership_check_role(membership=self.instance, role=cleaned["role"])
        except DomainError as error:
            self.add_error(error.field if error.field in self.fields else None, error.message)
        return cleaned


class SupportMembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["user", "team", "role"]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is not None and cleaned.get("role"):
            try:
                membership_check_role(membership=self.instance, role=cleaned["role"])
            except DomainError as error:
                self.add_error("role", error.message)
        return cleaned


class MembershipAdmin(ServiceRefusalAdminMixin, TeamOwnedAdminMixin, ModelAdmin):
    support_actions = {"view", "add", "change", "delete"}
    operator_capabilities = {"view": Capability.VIEW, "add": Capability.MANAGE_MEMBERS,
                             "change": Capability.MANAGE_MEMBERS, "delete": Capability.MANAGE_MEMBERS}

    list_display = ["member_email", "member_name", "team", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "user__first_name", "user__last_name", "team__name"]
    list_select_related = ["user", "team"]
    ordering = ["team__name", "user__email"]

    class TeamFilter(ScopedRelatedFilter):
        title = "team"
        parameter_name = "team"
        related_model = Team
        lookup = "team_id"

    list_filter = ["role", TeamFilter]

    @admin.display(description="e-mail", ordering="user__email")
    def member_email(self, obj):
        return obj.user.email

    @admin.display(description="name", ordering="user__last_name")
    def member_name(self, obj):
        return obj.user.get_full_name()

    def get_fields(self, request, obj=None):
        if self.on_support_site():
            return ["user", "team", "role"]
        return ["email", "team", "role"] if obj is None else ["member_email", "team", "role"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["user", "team"] if self.on_support_site() else ["member_email", "team"]

    def get_autocomplete_fields(self, request):
        return ["user", "team"] if self.on_support_site() else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        if not self.on_support_site():
            kwargs["form"] = type("MembershipForm", (MembershipForm,), {"actor": request.user})
        else:
            kwargs["form"] = SupportMembershipForm
        return super().get_form(request, obj, change=change, **kwargs)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not membership_may_remove(membership=obj):
            return False  # the team would have no owner left
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            saved = membership_change_role(membership=obj, role=form.cleaned_data["role"], by=request.user)
        else:
            saved = membership_add(team=form.cleaned_data["team"], role=form.cleaned_data["role"],
                                   user=obj.user, by=request.user)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        membership_remove(membership=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for membership in queryset:
            membership_remove(membership=membership, by=request.user)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time, so the last owner is never removed
        return actions


class SupportUserAdmin(ServiceRefusalAdminMixin, ScopedAdminMixin, DjangoUserAdmin, ModelAdmin):
    """People, on /admin/ only. Operators never browse users."""

    support_actions = {"view", "add", "change"}
    operator_capabilities = {}

    class CreationForm(UserCreationForm):
        class Meta:
            model = User
            fields = ["email"]

    class ChangeForm(UserChangeForm):
        # Choices, not free text: a language the site has and a real time zone.
        language = forms.ChoiceField(
            label=_("language"), required=False,
            choices=lambda: [("", _("— the team's —")), *settings.LANGUAGES],
            help_text=_("The back-office's language. Empty: the team's language."),
        )
        time_zone = forms.ChoiceField(
            label=_("time zone"), required=False,
            choices=lambda: [("", _("— the installation's —"))] + [
                (name, name) for name in sorted(zoneinfo.available_timezones())],
            help_text=_("Dates in the back-office are shown in this time zone."),
        )

        class Meta:
            model = User
            fields = "__all__"

    add_form = CreationForm
    form = ChangeForm
    change_password_form = AdminPasswordChangeForm
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "last_login"]
    list_filter = ["is_staff", "is_active", "groups"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["first_name", "last_name", "phone", "language", "time_zone"]}),
        ("Access", {"fields": ["is_active", "is_staff", "groups"],
                    "description": "Support staff are staff users in the Support group."}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    readonly_fields = ["last_login", "date_joined"]
    filter_horizontal = ["groups"]

    def teams_of(self, obj):
        return set()

    def save_model(self, request, obj, form, change):
        user_save(user=obj, by=request.user, created=not change, changed=form.changed_data,
                  groups=form.cleaned_data.get("groups"))

    def save_related(self, request, form, formsets, change):
        pass  # user_save saved the groups


support_site.register(User, SupportUserAdmin)
for admin_site in (support_site, operator_site):
    admin_site.register(Team, TeamAdmin)
    admin_site.register(Membership, MembershipAdmin)
