from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class UnionsConfig(AppConfig):
    name = "unions"
    verbose_name = _("Unions and people")

    # Default model permissions of each role's group, by role. Other apps add theirs through
    # a `role_permissions` attribute on their own AppConfig (see unions.roles).
    role_permissions = {
        "town_reviewer": ["unions.view_union"],
        # Sign-in throttling (django-axes): the district reads the failed attempts and unlocks
        # a locked user by deleting their attempt; administrators can as superusers.
        "district_officer": [
            "unions.view_union",
            "axes.view_accessattempt",
            "axes.delete_accessattempt",
            "axes.view_accessfailurelog",
        ],
    }

    def ready(self):
        from unions.roles import sync_role_groups

        post_migrate.connect(sync_role_groups, dispatch_uid="unions.sync_role_groups")
        _translate_boolean_icons()


def _translate_boolean_icons():
    """Django's admin draws booleans as icons whose alt text is "True"/"False" in English,
    read aloud by screen readers: give them 是/否 (every caller imports the function from
    this module at call time, so replacing it here reaches them all)."""
    from django.contrib.admin.templatetags import admin_list
    from django.templatetags.static import static
    from django.utils.html import format_html
    from django.utils.translation import gettext

    def boolean_icon(value):
        icon = {True: "yes", False: "no", None: "unknown"}[value]
        text = {True: gettext("Yes"), False: gettext("No"), None: gettext("Unknown")}[value]
        return format_html('<img src="{}" alt="{}">', static(f"admin/img/icon-{icon}.svg"), text)

    admin_list._boolean_icon = boolean_icon
