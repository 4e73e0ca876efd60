"""Teams, people and memberships in both back-offices.

- /admin/ (support): every team, user and membership; users are created and
  given the Support group here.
- /operator/: a member sees their own teams and who is in them; a team's
  owners add people (by the e-mail address of an existing account), change
  roles and remove members. A team always keeps at least one owner.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from accounts import (
    admin_api_keys,  # noqa: F401  (API keys on both sites)
    admin_lockouts,  # noqa: F401  (failed logins, support only)
)
from accounts.models import Membership, Role, Team, User
from accounts.permissions import Capability, teams_with_capability
from config.admin_mixins import ScopedAdminMixin, ScopedRelatedFilter, TeamOwnedAdminMixin
from config.admin_sites import operator_site, support_site


def _managed_teams(user):
    ids = teams_with_capability(user, Capability.MANAGE_MEMBERS)
    return Team.objects.all() if ids is None else Team.objects.filter(pk__in=ids)


def _last_owner(membership: Membership, new_role: str | None = None) -> bool:
    """Would this change leave the team without an owner?"""
    if membership.pk is None or membership.role != Role.OWNER or new_role == Role.OWNER:
        return False
    return not Membership.objects.filter(team_id=membership.team_id, role=Role.OWNER).exclude(
        pk=membership.pk
    ).exists()


class MembershipInline(admin.TabularInline):
    """Support's inline on a team: every member, editable."""

    model = Membership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["user"]

    def has_view_permission(self, request, obj=None):
        return True

    def has_add_permission(self, request, obj=None):
        return self.admin_site.name == support_site.name

    def has_change_permission(self, request, obj=None):
        return self.admin_site.name == support_site.name

    def has_delete_permission(self, request, obj=None):
        return self.admin_site.name == support_site.name


class ReadOnlyMembershipInline(MembershipInline):
    """A team member's view of the team: who is in it, in what role."""

    fields = ["member", "role", "created_at"]
    readonly_fields = fields
    autocomplete_fields = []

    @admin.display(description="member")
    def member(self, obj):
        return obj.user.actor_label + f" <{obj.user.email}>"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


class TeamAdmin(ScopedAdminMixin, admin.ModelAdmin):
    support_actions = {"view", "add", "change", "delete"}
    operator_capabilities = {"view": Capability.VIEW, "change": Capability.MANAGE_MEMBERS}

    list_display = ["name", "country", "language", "member_count", "owned", "operated"]
    list_filter = ["country", "language"]
    search_fields = ["name"]
    ordering = ["name"]
    fields = ["name", "country", "language"]

    def teams_of(self, obj):
        return {obj.pk}

    def get_inlines(self, request, obj):
        if obj is None:
            return []
        return [MembershipInline] if self.on_support_site() else [ReadOnlyMembershipInline]

    def get_readonly_fields(self, request, obj=None):
        # Owners may rename their team; the country decides which reasons apply: support sets it.
        return [] if self.on_support_site() else ["country"]

    def get_queryset(self, request):
        def count(model, column):
            return Coalesce(Subquery(
                model.objects.filter(**{column: OuterRef("pk")}).order_by().values(column)
                .annotate(n=Count("pk")).values("n")[:1], output_field=IntegerField()), 0)

        from chargepoints.models import ChargePoint

        return super().get_queryset(request).annotate(
            _members=count(Membership, "team"),
            _owned=count(ChargePoint, "owner"),
            _operated=count(ChargePoint, "operator"),
        )

    @admin.display(description="members", ordering="_members")
    def member_count(self, obj):
        return obj._members

    @admin.display(description="charge points owned", ordering="_owned")
    def owned(self, obj):
        return obj._owned

    @admin.display(description="charge points operated", ordering="_operated")
    def operated(self, obj):
        return obj._operated


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
        cleaned = super().clean()
        if self.instance.pk is None:
            email = (cleaned.get("email") or "").lower()
            team = cleaned.get("team")
            user = User.objects.filter(email__iexact=email, is_active=True).first() if email else None
            if email and user is None:
                self.add_error("email", "There is no active account with this e-mail address; ask support to "
                               "create one first.")
            elif user is not None and team is not None and Membership.objects.filter(user=user, team=team).exists():
                self.add_error("email", f"{email} is already a member of {team}.")
            self.instance.user = user
        elif _last_owner(self.instance, cleaned.get("role")):
            self.add_error("role", "A team needs an owner: make someone else owner first.")
        return cleaned


class MembershipAdmin(TeamOwnedAdminMixin, admin.ModelAdmin):
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
        return super().get_form(request, obj, change=change, **kwargs)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and _last_owner(obj):
            return False  # the team would have no owner left
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time, so the last owner is never removed
        return actions


class SupportUserAdmin(ScopedAdminMixin, DjangoUserAdmin):
    """People, on /admin/ only. Operators never browse users."""

    support_actions = {"view", "add", "change"}
    operator_capabilities = {}

    class CreationForm(UserCreationForm):
        class Meta:
            model = User
            fields = ["email"]

    class ChangeForm(UserChangeForm):
        class Meta:
            model = User
            fields = "__all__"

    add_form = CreationForm
    form = ChangeForm
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "last_login"]
    list_filter = ["is_staff", "is_active", "groups"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["first_name", "last_name", "phone"]}),
        ("Access", {"fields": ["is_active", "is_staff", "groups"],
                    "description": "Support staff are staff users in the Support group."}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    readonly_fields = ["last_login", "date_joined"]
    filter_horizontal = ["groups"]

    def teams_of(self, obj):
        return set()


support_site.register(User, SupportUserAdmin)
for admin_site in (support_site, operator_site):
    admin_site.register(Team, TeamAdmin)
    admin_site.register(Membership, MembershipAdmin)
