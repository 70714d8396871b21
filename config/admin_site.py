"""The admin site: Django's, with its app list built only where a page shows it.

Django's AdminSite.each_context builds the app list (every registered model: four permission
checks and two reversed URLs each) for every admin page, for the navigation sidebar. The case
list and the case page turn the sidebar off (they need the width), yet paid for the list all
the same: 2.2 ms for a town reviewer, 2.8 ms for a district officer, on the admin's two
busiest pages (bench/RESULTS.md, session 27). Here the list is a lazy object, built as Django
builds it at its first use (the sidebar, the index, an app's page), and not at all otherwise.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.utils.functional import SimpleLazyObject


class ReliefAdminSite(admin.AdminSite):
    def get_app_list(self, request, app_label=None):
        return SimpleLazyObject(lambda: admin.AdminSite.get_app_list(self, request, app_label))


class ReliefAdminConfig(AdminConfig):
    """INSTALLED_APPS names this instead of django.contrib.admin (Django's way to replace the
    default site: admin.site and @admin.register then use ReliefAdminSite)."""

    default_site = "config.admin_site.ReliefAdminSite"
