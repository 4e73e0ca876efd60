"""API keys in both back-offices: support manages every team's keys in
/admin/, a team's admins and owners manage their team's keys in /operator/.

Keys are created and revoked through accounts.services, never saved by the
admin. The raw key is rendered once, in the response to the add form, and
stored nowhere (not in a message, not in the session). A key is never edited
or deleted: it is revoked, and the row stays as the record of who had access.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from accounts.admin_sites import operator_site, support_site
from accounts.models import ApiKey, ApiKeyScope, Role, Team
from accounts.permissions import Capability, is_support, teams_with_capability
from accounts.services import (
    ApiKeyError,
    api_key_create,
    api_key_create_platform,
    api_key_revoke,
    api_key_validate,
)
from core.admin.base import ModelAdmin


class ApiKeyCreateForm(forms.ModelForm):
    driver_contact = forms.BooleanField(
        label="May read drivers' contact details",
        required=False,
        help_text="Drivers' names, e-mail addresses and phone numbers on the team's open reports "
        "(role installer or above). Leave off unless the system using the key calls drivers back.",
    )

    class Meta:
        model = ApiKey
        fields = ["team", "name", "role"]

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        team_ids = teams_with_capability(actor, Capability.EDIT_ASSETS)
        if team_ids is not None:
            self.fields["team"].queryset = Team.objects.filter(pk__in=team_ids)
            if len(team_ids) == 1:
                self.fields["team"].initial = team_ids[0]
        self.fields["role"].help_text = (
            "What the key may do in the team: viewer reads; installer also files, comments on and "
            "resolves reports; admin also assigns them and edits sites and charge points."
        )

    def clean(self):
        cleaned = super().clean()
        team, name, role = cleaned.get("team"), cleaned.get("name"), cleaned.get("role")
        if team is not None and name and role:
            try:
                api_key_validate(team=team, name=name, role=role, by=self.actor)
            except ApiKeyError as error:
                self.add_error(error.field if error.field in self.fields else None, error.message)
        return cleaned


class RateLimitedFilter(admin.SimpleListFilter):
    title = "rate limit"
    parameter_name = "limited"

    def lookups(self, request, model_admin):
        return [("day", "Hit it in the last day"), ("ever", "Hit it at least once")]

    def queryset(self, request, queryset):
        if self.value() == "day":
            return queryset.filter(last_throttled_at__gte=timezone.now() - timedelta(days=1))
        if self.value() == "ever":
            return queryset.filter(throttled_minutes__gt=0)
        return queryset


class BaseApiKeyAdmin(ModelAdmin):
    list_display = ["name", "team", "role", "prefix_display", "created_at", "created_by",
                    "last_used_at", "rate_limited", "status", "revoke_link"]
    list_filter = ["role", ("revoked_at", admin.EmptyFieldListFilter), RateLimitedFilter]
    search_fields = ["name", "prefix", "team__name"]
    list_select_related = ["team", "created_by"]
    readonly_fields = ["team", "name", "role", "scopes_display", "prefix_display", "created_at", "created_by",
                       "last_used_at", "rate_limited", "revoked_at", "revoked_by"]
    ordering = ["team__name", "name"]

    @admin.display(description="rate limit hit", ordering="-last_throttled_at")
    def rate_limited(self, obj):
        """A key that keeps hitting its limit stands out: the system using it
        should slow down (RateLimit-Remaining) or ask support for more."""
        if not obj.throttled_minutes:
            return "—"
        ago = timesince(obj.last_throttled_at, timezone.now(), depth=1)
        recent = obj.last_throttled_at >= timezone.now() - timedelta(days=1)
        return format_html('<span class="{}">{} min in all, last {} ago</span>',
                           "rate-limited-recently" if recent else "", obj.throttled_minutes, ago)

    # --- who may do what (overridden per site) ---

    def manageable_team_ids(self, request) -> list[int] | None:
        return teams_with_capability(request.user, Capability.EDIT_ASSETS)

    def _may_manage(self, request, obj=None) -> bool:
        team_ids = self.manageable_team_ids(request)
        if team_ids is None:
            return True
        if obj is None:
            return bool(team_ids)
        return obj.team_id in team_ids

    def has_module_permission(self, request):
        return self._may_manage(request)

    def has_view_permission(self, request, obj=None):
        return self._may_manage(request, obj)

    def has_add_permission(self, request):
        return self._may_manage(request)

    def has_change_permission(self, request, obj=None):
        return False  # keys are immutable: revoke and create another

    def has_delete_permission(self, request, obj=None):
        return False  # revoked keys stay as the record of who had access

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        team_ids = self.manageable_team_ids(request)
        return queryset if team_ids is None else queryset.filter(team_id__in=team_ids)

    # --- columns ---

    @admin.display(description="key", ordering="prefix")
    def prefix_display(self, obj: ApiKey) -> str:
        return f"cpr_{obj.prefix}_…"

    @admin.display(description="status", ordering="revoked_at")
    def status(self, obj: ApiKey) -> str:
        return "revoked" if obj.revoked_at else "active"

    @admin.display(description="")
    def revoke_link(self, obj: ApiKey) -> str:
        if obj.revoked_at:
            return ""
        url = reverse(f"{self.admin_site.name}:accounts_apikey_revoke", args=[obj.pk])
        return format_html('<a href="{}">Revoke…</a>', url)

    @admin.display(description="may also read")
    def scopes_display(self, obj):
        labels = dict(ApiKeyScope.choices)
        return ", ".join(str(labels.get(scope, scope)) for scope in obj.scopes) or "—"

    # --- create: through the service, the raw key shown once ---

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            return super().get_form(request, obj, change=change, **kwargs)
        actor = request.user

        class Form(ApiKeyCreateForm):
            def __init__(self, *args, **kw):
                super().__init__(*args, actor=actor, **kw)

        return Form

    def get_fields(self, request, obj=None):
        return ["team", "name", "role", "driver_contact"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        scopes = [ApiKeyScope.DRIVER_CONTACT] if data.get("driver_contact") else []
        key, raw_key = api_key_create(
            team=data["team"], name=data["name"], role=data["role"], by=request.user, scopes=scopes
        )
        obj.pk = key.pk
        request._new_api_key = (key, raw_key)

    def save_related(self, request, form, formsets, change):
        pass  # nothing related; the service saved everything

    def log_addition(self, request, obj, message):
        key, _ = request._new_api_key
        return super().log_addition(request, key, message)

    def response_add(self, request, obj, post_url_continue=None):
        key, raw_key = request._new_api_key
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"API key “{key.name}” created",
            "key": key,
            "raw_key": raw_key,
            "changelist_url": reverse(f"{self.admin_site.name}:accounts_apikey_changelist"),
        }
        response = TemplateResponse(request, "admin/accounts/apikey/created.html", context)
        # The page holds a secret: no caching anywhere.
        response["Cache-Control"] = "no-store"
        return response

    # --- revoke: a confirmation page, then the service ---

    def get_urls(self):
        urls = super().get_urls()
        revoke = path(
            "<int:key_id>/revoke/",
            self.admin_site.admin_view(self.revoke_view),
            name="accounts_apikey_revoke",
        )
        return [revoke, *urls]

    def revoke_view(self, request, key_id: int):
        key = get_object_or_404(self.get_queryset(request).select_related("team"), pk=key_id)
        if not self._may_manage(request, key):
            raise PermissionDenied
        changelist_url = reverse(f"{self.admin_site.name}:accounts_apikey_changelist")
        if request.method == "POST":
            try:
                api_key_revoke(api_key=key, by=request.user)
            except ApiKeyError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, f"The API key “{key.name}” is revoked; it no longer works.")
            return redirect(changelist_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Revoke an API key?",
            "key": key,
            "changelist_url": changelist_url,
        }
        return TemplateResponse(request, "admin/accounts/apikey/revoke_confirmation.html", context)


class PlatformKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses the key, e.g. 'Driver app production'.")


class SupportApiKeyAdmin(BaseApiKeyAdmin):
    list_filter = ["team", "is_platform", *BaseApiKeyAdmin.list_filter]
    change_list_template = "admin/accounts/apikey/support_change_list.html"

    def manageable_team_ids(self, request):
        return None if is_support(request.user) else []

    # --- platform keys (the drivers' app): support only ---

    def get_urls(self):
        platform = path(
            "platform/add/", self.admin_site.admin_view(self.add_platform_view), name="accounts_apikey_add_platform"
        )
        return [platform, *super().get_urls()]

    def add_platform_view(self, request):
        if not is_support(request.user):
            raise PermissionDenied
        form = PlatformKeyForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                key, raw_key = api_key_create_platform(name=form.cleaned_data["name"], by=request.user)
            except ApiKeyError as error:
                form.add_error("name", error.message)
            else:
                request._new_api_key = (key, raw_key)
                return self.response_add(request, key)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Create a platform key",
            "form": form,
            "changelist_url": reverse(f"{self.admin_site.name}:accounts_apikey_changelist"),
        }
        return TemplateResponse(request, "admin/accounts/apikey/add_platform.html", context)


class OperatorApiKeyAdmin(BaseApiKeyAdmin):
    """A team's admins and owners see and manage their own team's keys only."""

    def manageable_team_ids(self, request):
        roles_by_team = getattr(request.user, "roles_by_team", None)
        if roles_by_team is None or is_support(request.user):
            return []  # a visitor; support uses /admin/
        return [team_id for team_id, role in roles_by_team().items() if Role(role).rank >= Role.ADMIN.rank]


support_site.register(ApiKey, SupportApiKeyAdmin)
operator_site.register(ApiKey, OperatorApiKeyAdmin)
