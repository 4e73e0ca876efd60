"""Where report attachments (drivers' photos, e-mail attachments) are kept:
a folder outside MEDIA_ROOT with no public URL. A driver's photo can show a
licence plate or a face, so it is only ever served by
``reporting.views.report_attachment_download``, which checks that the
viewer may see the report."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    """FileSystemStorage rooted at settings.PRIVATE_MEDIA_ROOT, read on every
    use (tests point it at a scratch folder), and without ``url()``."""

    def __init__(self):
        super().__init__(base_url=None)

    @property
    def base_location(self):
        return str(settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("Report attachments have no public URL; link to the download view.")

    def deconstruct(self):
        # Keeps migrations free of the folder, which differs per machine.
        return ("reporting.storage.PrivateStorage", (), {})


private_storage = PrivateStorage()
