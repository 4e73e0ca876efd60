"""Webhook endpoints and their delivery log in both back-offices.

- /admin/ (support): every team's endpoints and deliveries.
- /operator/: a team's admins and owners register, change, switch on/off,
  test, rotate and delete their team's endpoints; lower roles read them and
  the delivery log.

Every write goes through ``webhooks.services.endpoints``. The secret is rendered once,
in the answer to the add form and to a confirmed rotation, and stored in no
message or session. Rotating and deleting ask for confirmation.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from unfold.decorators import display

from accounts.admin_sites import operator_site, support_site
from accounts.admin_tenancy import ScopedAdminMixin
from accounts.models import Team
from accounts.permissions import Capability, teams_with_capability
from core.admin.badges import BLUE, GREEN, GREY, ORANGE, RED, choice_badge
from core.admin.base import ModelAdmin
from core.admin.filters import ScopedRelatedFilter
from core.errors import DomainError

from .models import SUBSCRIBABLE_EVENTS, DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEventType
from .services.endpoints import (
    delivery_retry,
    endpoint_create,
    endpoint_delete,
    endpoint_may_manage,
    endpoint_rotate_secret,
    endpoint_send_test,
    endpoint_update,
    endpoint_validate,
)

EVENT_CHOICES = [(value, WebhookEventType(value).label) for value in SUBSCRIBABLE_EVENTS]


class EndpointTeamFilter(ScopedRelatedFilter):
    title = "team"
    parameter_name = "team"
    related_model = Team
    lookup = "team_id"


class DeliveryTeamFilter(EndpointTeamFilter):
    lookup = "endpoint__team_id"


class DeliveryEndpointFilter(ScopedRelatedFilter):
    title = "endpoint"
    parameter_name = "endpoint"
    related_model = WebhookEndpoint
    lookup = "endpoint_id"


def _formfield(db_field, **kwargs):
    # The admin rebuilds this form for a read-only page from the model's
    # fields; the URL's form field then needs its scheme said here too.
    if db_field.name == "url":
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label="URL", max_length=2000, assume_scheme="https")
    events = forms.MultipleChoiceField(choices=EVENT_CHOICES, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookEndpoint
        fields = ["team", "url", "description", "events", "is_active"]
        formfield_callback = _formfield
        help_texts = {
            "url": "An https:// address on the public internet; private, loopback and link-local "
            "addresses are refused.",
            "is_active": "Switched off after a day of failed deliveries or a 410 Gone; tick to switch back on.",
        }

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        if "team" in self.fields:
            team_ids = teams_with_capability(actor, Capability.EDIT_ASSETS)
            if team_ids is not None:
                self.fields["team"].queryset = Team.objects.filter(pk__in=team_ids)
                if len(team_ids) == 1:
                    self.fields["team"].initial = team_ids[0]

    def clean(self):
        cleaned = super().clean()
        team = cleaned.get("team") if "team" in self.fields else self.instance.team
        if team is not None and cleaned.get("url") and cleaned.get("events"):
            try:
                cleaned["url"], cleaned["events"] = endpoint_validate(
                    team=team, url=cleaned["url"], events=cleaned["events"], by=self.actor)
            except DomainError as error:
                self.add_error(error.field if error.field in self.fields else None, error.message)
        return cleaned


class WebhookEndpointAdmin(ScopedAdminMixin, ModelAdmin):
    support_actions = {"view", "add", "change", "delete"}
    operator_capabilities = {
        "view": Capability.VIEW,
        "add": Capability.EDIT_ASSETS,
        "change": Capability.EDIT_ASSETS,
        "delete": Capability.EDIT_ASSETS,
    }
    form = WebhookEndpointForm
    list_display = ["url", "team", "events_display", "status_badge", "failing_since", "created_at"]
    list_filter = ["is_active", EndpointTeamFilter]
    search_fields = ["url", "description", "team__name"]
    list_select_related = ["team"]
    list_per_page = 50
    readonly_info = ["status", "failing_since", "disabled_at", "disabled_reason", "created_by", "created_at"]

    def teams_of(self, obj) -> set[int]:
        return {obj.team_id}

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time, through the service
        return actions

    # --- columns ---

    @admin.display(description="events")
    def events_display(self, obj: WebhookEndpoint) -> str:
        return ", ".join(str(WebhookEventType(e).label) for e in obj.events if e in WebhookEventType.values)

    @admin.display(description="status", ordering="is_active")
    def status(self, obj: WebhookEndpoint) -> str:
        if obj.is_active and obj.failing_since:
            return f"active, failing since {obj.failing_since:%Y-%m-%d %H:%M} UTC"
        if obj.is_active:
            return "active"
        return f"switched off: {obj.disabled_reason}" if obj.disabled_reason else "switched off"

    @display(description="status", ordering="is_active", label={"active": GREEN, "failing": ORANGE, "off": GREY})
    def status_badge(self, obj: WebhookEndpoint) -> tuple[str, str]:
        kind = ("failing" if obj.failing_since else "active") if obj.is_active else "off"
        return kind, self.status(obj)

    def _log_link(self, obj: WebhookEndpoint) -> tuple[str, str]:
        url = reverse(f"{self.admin_site.name}:webhooks_webhookdelivery_changelist") + f"?endpoint={obj.pk}"
        return url, "Delivery log"

    @admin.display(description="deliveries")
    def log_link(self, obj: WebhookEndpoint) -> str:
        return format_html('<a href="{}">{}</a>', *self._log_link(obj))

    @admin.display(description="tools")
    def tools(self, obj: WebhookEndpoint) -> str:
        """Shown to those who may change the endpoint (get_fieldsets)."""
        site = self.admin_site.name
        links = [self._log_link(obj),
                 (reverse(f"{site}:webhooks_webhookendpoint_test", args=[obj.pk]), "Send test event…"),
                 (reverse(f"{site}:webhooks_webhookendpoint_rotate", args=[obj.pk]), "Rotate secret…")]
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    # --- forms ---

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        actor = request.user

        class Form(form_class):
            def __init__(self, *args, **kw):
                super().__init__(*args, actor=actor, **kw)

        return Form

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["team", "url", "description", "events"]
        if not self.has_change_permission(request, obj):
            return ["team", "url", "description", "events_display", "is_active", *self.readonly_info, "log_link"]
        return ["team", "url", "description", "events", "is_active", *self.readonly_info, "tools"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if not self.has_change_permission(request, obj):
            return self.get_fields(request, obj)
        return ["team", *self.readonly_info, "tools"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            endpoint_update(endpoint=obj, by=request.user, url=data["url"], events=data["events"],
                            description=data.get("description", ""), is_active=data.get("is_active"))
            return
        endpoint, secret = endpoint_create(team=data["team"], url=data["url"], events=data["events"],
                                           description=data.get("description", ""), by=request.user)
        obj.pk = endpoint.pk
        request._new_webhook_secret = (endpoint, secret)

    def save_related(self, request, form, formsets, change):
        pass  # nothing related; the service saved everything

    def delete_model(self, request, obj):
        endpoint_delete(endpoint=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for endpoint in queryset:
            endpoint_delete(endpoint=endpoint, by=request.user)

    def response_add(self, request, obj, post_url_continue=None):
        endpoint, secret = request._new_webhook_secret
        return self._secret_page(request, endpoint, secret, title="Webhook endpoint registered")

    def _secret_page(self, request, endpoint, secret, *, title):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "endpoint": endpoint,
            "secret": secret,
            "change_url": reverse(f"{self.admin_site.name}:webhooks_webhookendpoint_change", args=[endpoint.pk]),
        }
        response = TemplateResponse(request, "admin/webhooks/webhookendpoint/secret.html", context)
        response["Cache-Control"] = "no-store"  # the page holds a secret
        return response

    # --- send a test event, rotate the secret: a confirmation page each ---

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:endpoint_id>/test/", view(self.test_view), name="webhooks_webhookendpoint_test"),
            path("<int:endpoint_id>/rotate/", view(self.rotate_view), name="webhooks_webhookendpoint_rotate"),
            *super().get_urls(),
        ]

    def _manageable(self, request, endpoint_id: int) -> WebhookEndpoint:
        endpoint = get_object_or_404(self.get_queryset(request), pk=endpoint_id)
        if not self.has_change_permission(request, endpoint):
            raise PermissionDenied
        return endpoint

    def _confirm(self, request, endpoint, *, title, question, button):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "question": question,
            "button": button,
            "endpoint": endpoint,
            "change_url": reverse(f"{self.admin_site.name}:webhooks_webhookendpoint_change", args=[endpoint.pk]),
        }
        return TemplateResponse(request, "admin/webhooks/webhookendpoint/confirm.html", context)

    def test_view(self, request, endpoint_id: int):
        endpoint = self._manageable(request, endpoint_id)
        if request.method != "POST":
            return self._confirm(
                request, endpoint, title="Send a test event?", button="Send the test event",
                question=f"Send a signed “webhook.test” event to {endpoint.url} now?")
        try:
            delivery = endpoint_send_test(endpoint=endpoint, by=request.user)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return redirect(reverse(f"{self.admin_site.name}:webhooks_webhookendpoint_change", args=[endpoint.pk]))
        self.message_user(request, f"Test event {delivery.webhook_id} queued; its attempts show below.")
        return redirect(reverse(f"{self.admin_site.name}:webhooks_webhookdelivery_change", args=[delivery.pk]))

    def rotate_view(self, request, endpoint_id: int):
        endpoint = self._manageable(request, endpoint_id)
        if request.method != "POST":
            return self._confirm(
                request, endpoint, title="Rotate the signing secret?", button="Yes, rotate it",
                question=f"Give {endpoint.url} a new signing secret? The current one keeps signing alongside the "
                "new one for a grace period, then stops: update the receiver before it ends.")
        try:
            secret = endpoint_rotate_secret(endpoint=endpoint, by=request.user)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return redirect(reverse(f"{self.admin_site.name}:webhooks_webhookendpoint_change", args=[endpoint.pk]))
        endpoint.refresh_from_db()
        return self._secret_page(request, endpoint, secret, title="New signing secret")


class WebhookDeliveryAdmin(ScopedAdminMixin, ModelAdmin):
    """The delivery log: read only, for everyone who may see the endpoint."""

    support_actions = {"view"}
    operator_capabilities = {"view": Capability.VIEW}
    change_form_template = "admin/webhooks/webhookdelivery/change_form.html"
    list_display = ["created_at", "event_type", "endpoint", "team", "status_badge", "attempts", "last_status_code",
                    "delivered_at"]
    list_filter = ["status", "event_type", DeliveryTeamFilter, DeliveryEndpointFilter]
    search_fields = ["webhook_id", "endpoint__url"]
    list_select_related = ["endpoint__team"]
    list_per_page = 50
    fields = ["endpoint", "event_type", "webhook_id", "status", "attempts", "next_attempt_at",
              "last_status_code", "last_error", "delivered_at", "created_at", "attempts_table", "body"]
    readonly_fields = fields

    status_badge = choice_badge(WebhookDelivery, "status", {
        "pending": GREY, "sending": BLUE, "succeeded": GREEN, "failed": RED})

    def teams_of(self, obj) -> set[int]:
        return {obj.endpoint.team_id}

    def get_urls(self):
        retry = path("<int:delivery_id>/retry/", self.admin_site.admin_view(self.retry_view),
                     name="webhooks_webhookdelivery_retry")
        return [retry, *super().get_urls()]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.status == DeliveryStatus.FAILED and endpoint_may_manage(
                actor=request.user, team_id=obj.endpoint.team_id):
            context["retry_url"] = reverse(f"{self.admin_site.name}:webhooks_webhookdelivery_retry", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def retry_view(self, request, delivery_id: int):
        delivery = get_object_or_404(self.get_queryset(request).select_related("endpoint"), pk=delivery_id)
        if not endpoint_may_manage(actor=request.user, team_id=delivery.endpoint.team_id):
            raise PermissionDenied
        change_url = reverse(f"{self.admin_site.name}:webhooks_webhookdelivery_change", args=[delivery.pk])
        if request.method != "POST":
            context = {
                **self.admin_site.each_context(request), "opts": self.opts, "title": "Send the delivery again?",
                "question": f"Send {delivery.webhook_id} to {delivery.endpoint.url} again, with the same "
                "webhook-id and body?",
                "button": "Yes, send it again", "endpoint": delivery.endpoint, "change_url": change_url,
            }
            return TemplateResponse(request, "admin/webhooks/webhookendpoint/confirm.html", context)
        try:
            delivery_retry(delivery=delivery, by=request.user)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(request, f"{delivery.webhook_id} is queued again.")
        return redirect(change_url)

    @admin.display(description="team", ordering="endpoint__team__name")
    def team(self, obj: WebhookDelivery) -> str:
        return obj.endpoint.team.name

    @admin.display(description="attempts (newest first)")
    def attempts_table(self, obj: WebhookDelivery) -> str:
        rows = list(obj.attempt_log.all()[:50])
        if not rows:
            return "No attempt yet: the worker sends it within a minute."
        return format_html(
            "<table><tr><th>at</th><th>status</th><th>ms</th><th>response (first 1 KB)</th><th>error</th></tr>"
            "{}</table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>", (
                (a.attempted_at.strftime("%Y-%m-%d %H:%M:%S"), a.status_code or "—", a.response_ms,
                 a.response_excerpt, a.error) for a in rows)),
        )


for site in (support_site, operator_site):
    site.register(WebhookEndpoint, WebhookEndpointAdmin)
    site.register(WebhookDelivery, WebhookDeliveryAdmin)
