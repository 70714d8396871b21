from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReliefConfig(AppConfig):
    name = "relief"
    verbose_name = _("Temporary relief")

    _reading = [
        "relief.view_application",
        "relief.view_worker",
        "relief.view_householdmember",
        "relief.view_homevisit",
        "relief.view_attachment",
        "relief.view_disbursement",
        "relief.view_followup",
        "relief.view_auditentry",
        "relief.view_policy",
        "relief.view_hardshipcategory",
        "relief.view_reviewmeeting",
        "relief.view_reviewdecision",
    ]
    # What the admin offers beyond reading is decided by role and state (relief.workflow),
    # not by these permissions; full ID numbers are the one exception: a permission, given to
    # the district (who pays to real-name cards) and grantable to other groups by an admin.
    role_permissions = {
        "town_reviewer": _reading,
        "district_officer": [*_reading, "relief.view_full_id_number"],
    }
