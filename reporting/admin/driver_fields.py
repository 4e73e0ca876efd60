"""The report page's fields about drivers: each filing of a user report
and the files that came with the report (links to the download view, which
checks the viewer may see the report)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.templatetags.backoffice import when
from reporting.contact_visibility import HIDDEN_NOTICE

# How the driver reached us (ReportReporter.channel), as the report page says it.
CHANNELS = {"web": _("on the public page"), "app": _("in the drivers' app")}


class DriverFieldsMixin:
    @admin.display(description=_("reported by"))
    def reporter_hidden(self, obj):
        return format_html("{} <em>({})</em><div class=\"help\">{}</div>", _("A driver"),
                           _("contact details hidden"), HIDDEN_NOTICE)

    @admin.display(description=_("driver's contact"))
    def reporter_contact(self, obj):
        parts = [part for part in (obj.reporter_email, obj.reporter_phone) if part]
        return ", ".join(parts) or "—"

    @admin.display(description=_("drivers' filings"))
    def drivers_display(self, obj):
        rows = format_html_join(
            "", "<li>{} — {}{}{} ({})</li>",
            ((when(r.created_at), r.name or _("A driver"), f" <{r.email}>" if r.email else "",
              f", {r.phone}" if r.phone else "", CHANNELS.get(r.channel, r.channel))
             for r in obj.reporters.all()),
        )
        return format_html("<ul>{}</ul>", rows) if rows else "—"

    @admin.display(description=_("attachments"))
    def attachments_display(self, obj):
        rows = format_html_join(
            "", '<li><a href="{}" target="_blank" rel="noopener">{}</a> ({} KB, {})</li>',
            ((reverse("reporting:attachment", args=[a.pk]), a.filename, max(1, a.size // 1024), a.content_type)
             for a in obj.attachments.all()),
        )
        return format_html("<ul>{}</ul>", rows) if rows else "—"

