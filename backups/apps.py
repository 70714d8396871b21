from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackupsConfig(AppConfig):
    """Backup, restore and verification of the database and the media folder (no models)."""

    name = "backups"
    verbose_name = _("Backups")
