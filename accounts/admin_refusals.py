"""Admin pages that save through a service: a refusal from the service
(``core.errors.DomainError``) becomes a message on the page instead of
an error page, and nothing is written (the admin's transaction rolls back).

Forms show what they can on the field first (they call the same rule
functions the services call); this catches what only the service can know,
such as a change made by someone else a moment ago.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect

from core.errors import DomainError


class ServiceRefusalAdminMixin:
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return redirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return redirect(request.get_full_path().rsplit("delete/", 1)[0] + "change/")
