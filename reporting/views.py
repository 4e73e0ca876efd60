"""Report attachments, served to the back-office only: the file is read
from private storage after checking that the viewer may see the report
(support: every report; a team member: their teams' reports)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404

from .models import Report, ReportAttachment

INLINE_TYPES = {"image/jpeg", "image/png"}


@login_required
def report_attachment_download(request, pk: int):
    attachment = (
        ReportAttachment.objects.filter(pk=pk, report__in=Report.objects.for_user(request.user))
        .only("file", "filename", "content_type")
        .first()
    )
    if attachment is None:
        raise Http404("No such attachment.")
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing from storage.") from None
    response = FileResponse(
        handle,
        content_type=attachment.content_type,
        as_attachment=attachment.content_type not in INLINE_TYPES,
        filename=attachment.filename,
    )
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response
