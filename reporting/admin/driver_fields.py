"""The report page's fields about drivers: each filing of a user report
and the files that came with the report (links to the download view, which
checks the viewer may see the report)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from reporting.contact_visibility import HIDDEN_NOTICE

# How the driver reached us (ReportReporter.channel), as the report page says it.
CHANNELS = {"web": "on the public page", "app": "in the drivers' app"}


class DriverFieldsMixin:
    @admin.display(description="reported by")
    def reporter_hidden(self, obj):
        return format_html("A driver <em>(contact details hidden)</em><div class=\"help\">{}</div>", HIDDEN_NOTICE)

    @admin.display(description="drivers' filings")
    def drivers_display(self, obj):
        rows = format_html_join(
            "", "<li>{} — {}{}{} ({})</li>",
            ((r.created_at.strftime("%Y-%m-%d %H:%M"), r.name or "A driver", f" <{r.email}>" if r.email else "",
              f", {r.phone}" if r.phone else "", CHANNELS.get(r.channel, r.channel))
             for r in obj.reporters.all()),
        )
        return format_html("<ul>{}</ul>", rows) if rows else "—"

    @admin.display(description="attachments")
    def attachments_display(self, obj):
        rows = format_html_join(
            "", '<li><a href="{}" target="_blank" rel="noopener">{}</a> ({} KB, {})</li>',
            ((reverse("reporting:attachment", args=[a.pk]), a.filename, max(1, a.size // 1024), a.content_type)
             for a in obj.attachments.all()),
        )
        return format_html("<ul>{}</ul>", rows) if rows else "—"

