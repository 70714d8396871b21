from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("Personal data")

    # The access log is for the district, who answers for the whole scheme's personal data;
    # town reviewers and caseworkers never read it (see unions.roles for how groups get these).
    role_permissions = {"district_officer": ["privacy.view_accesslog"]}
