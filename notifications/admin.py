"""The outbox in the back-offices.

- /admin/ (support): every notification, filtered by status and delivery,
  searchable, with a confirmed "retry" action for failed rows.
- /operator/ (team members): their own teams' notifications, read only, as a
  list and as ``NotificationInline`` on a report's page.

Rows are never edited or deleted here: they are the record of what was sent.
Retrying goes through ``notifications.services.queueing.notification_retry``.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin_sites import operator_site, support_site
from core.admin.badges import BLUE, GREEN, GREY, RED, choice_badge
from core.admin.base import ModelAdmin, TabularInline
from core.admin.readonly import ReadOnlyAdminMixin
from reporting.admin.reports import ReportAdmin
from reporting.models import Report

from .models import Notification, NotificationStatus
from .selectors import notification_list
from .services.queueing import notification_retry

DETAIL_FIELDS = [
    "report_link",
    "kind",
    "team",
    "recipient",
    "language",
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "esp_name",
    "message_id",
    "sent_at",
    "delivery_status",
    "delivery_detail",
    "delivery_at",
    "created_at",
    "subject",
    "body_text",
]


class ReadOnlyNotificationMixin(ReadOnlyAdminMixin):
    """Nothing here writes a row; the services do."""

    @admin.display(description="report", ordering="report_id")
    def report_link(self, obj: Notification) -> str:
        if obj.report_id is None:
            return "digest"
        try:
            url = reverse(f"{self.admin_site.name}:reporting_report_change", args=[obj.report_id])
        except NoReverseMatch:
            return f"#{obj.report_id}"
        return format_html('<a href="{}">#{}</a>', url, obj.report_id)

    status_badge = choice_badge(Notification, "status", {"pending": GREY, "sending": BLUE, "sent": GREEN, "failed": RED})
    delivery_status_badge = choice_badge(Notification, "delivery_status", {
        "delivered": GREEN, "rejected": RED, "bounced": RED, "complained": RED})

    @admin.display(description=_("recipient"), ordering="recipient_email")
    def recipient(self, obj: Notification) -> str:
        return obj.recipient


class BaseNotificationAdmin(ReadOnlyNotificationMixin, ModelAdmin):
    list_display = [
        "created_at",
        "report_link",
        "kind",
        "subject",
        "language",
        "recipient",
        "team",
        "status_badge",
        "attempts",
        "delivery_status_badge",
        "sent_at",
    ]
    list_filter = ["status", "delivery_status", "kind", "language"]
    search_fields = ["recipient_email", "recipient_name", "subject", "message_id", "=report__id", "team__name"]
    list_select_related = ["team"]
    date_hierarchy = "created_at"
    fields = DETAIL_FIELDS
    readonly_fields = DETAIL_FIELDS

    def get_queryset(self, request):
        return notification_list(actor=request.user)


@admin.register(Notification, site=support_site)
class NotificationAdmin(BaseNotificationAdmin):
    """Support's view of the outbox."""

    list_display = [*BaseNotificationAdmin.list_display, "next_attempt_at", "last_error_short"]
    actions = ["retry_failed"]

    def has_view_permission(self, request, obj=None):
        return bool(getattr(request.user, "is_support", False))

    def has_module_permission(self, request):
        return bool(getattr(request.user, "is_support", False))

    @admin.display(description="last error")
    def last_error_short(self, obj: Notification) -> str:
        return obj.last_error[:80] + ("…" if len(obj.last_error) > 80 else "")

    @admin.action(description="Retry the selected failed e-mails")
    def retry_failed(self, request, queryset):
        failed = list(queryset.filter(status=NotificationStatus.FAILED).order_by("id"))
        skipped = queryset.exclude(status=NotificationStatus.FAILED).count()
        if not failed:
            self.message_user(request, "None of the selected e-mails has failed; nothing to retry.", messages.WARNING)
            return None
        if request.POST.get("confirm") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": "Retry failed e-mails?",
                "opts": self.model._meta,
                "notifications": failed,
                "skipped": skipped,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "action": "retry_failed",
            }
            return TemplateResponse(
                request, "admin/notifications/notification/retry_confirmation.html", context
            )
        retried = sum(notification_retry(notification=n, by=request.user) for n in failed)
        self.message_user(
            request,
            f"{retried} e-mail(s) queued to be sent again."
            + (f" {skipped} selected e-mail(s) had not failed and were left alone." if skipped else ""),
            messages.SUCCESS,
        )
        return None


@admin.register(Notification, site=operator_site)
class OperatorNotificationAdmin(BaseNotificationAdmin):
    """A team's view: the e-mails sent to its own contacts."""

    list_filter = ["status", "delivery_status", "kind"]
    fields = [f for f in DETAIL_FIELDS if f not in {"last_error", "esp_name", "message_id", "next_attempt_at"}]
    readonly_fields = fields

    def has_module_permission(self, request):
        return bool(request.user.is_authenticated and request.user.roles_by_team())

    def has_view_permission(self, request, obj=None):
        if not self.has_module_permission(request):
            return False
        return obj is None or obj.team_id in request.user.roles_by_team()


class NotificationInline(ReadOnlyNotificationMixin, TabularInline):
    """The report's e-mails, on the report's page: support sees them all, a
    team member only those to their own teams' contacts.

    Add it to the report admin: ``inlines = [..., NotificationInline]``.
    """

    model = Notification
    fk_name = "report"
    extra = 0
    can_delete = False
    show_change_link = False
    verbose_name = _("e-mail notification")
    verbose_name_plural = _("e-mail notifications")
    fields = ["created_at", "kind", "recipient", "team", "status", "attempts", "sent_at", "delivery_status"]
    readonly_fields = fields
    ordering = ["created_at", "id"]

    def has_view_permission(self, request, obj=None):
        # The report admin already decided the user may see this report;
        # get_queryset decides which of its e-mails.
        return bool(request.user.is_authenticated)

    def get_queryset(self, request):
        return notification_list(actor=request.user).order_by("created_at", "id")


class ReportWithEmailsAdmin(ReportAdmin):
    """The report page with the e-mails it caused (added here: reporting
    knows nothing of the outbox)."""

    inlines = [*ReportAdmin.inlines, NotificationInline]


for admin_site in (support_site, operator_site):
    admin_site.unregister(Report)
    admin_site.register(Report, ReportWithEmailsAdmin)
