"""Membership roles. Their own module so that the permissions (which rank
roles) and the models (which store them) import it without importing each
other."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Membership roles, weakest first. The order is the order of power."""

    VIEWER = "viewer", _("Viewer")
    INSTALLER = "installer", _("Installer")
    ADMIN = "admin", _("Admin")
    OWNER = "owner", _("Owner")

    @property
    def rank(self) -> int:
        return list(Role).index(self)
