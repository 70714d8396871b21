from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    # Reviewers and officers set up the group robots of the unions they administer (their
    # subtree: notifications.admin checks it on every object) and read the deliveries.
    _robots = [
        "notifications.view_grouprobot",
        "notifications.add_grouprobot",
        "notifications.change_grouprobot",
        "notifications.delete_grouprobot",
        "notifications.view_delivery",
    ]
    role_permissions = {"town_reviewer": _robots, "district_officer": _robots}
