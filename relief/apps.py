from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReliefConfig(AppConfig):
    name = "relief"
    verbose_name = _("Temporary relief")

    _reading = [
        "relief.view_application",
        "relief.view_worker",
        "relief.view_auditentry",
        "relief.view_policy",
        "relief.view_hardshipcategory",
    ]
    role_permissions = {"town_reviewer": _reading, "district_officer": _reading}
