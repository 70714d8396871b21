"""The access log in the admin: district officers read and filter it; nobody changes it."""

from django.contrib import admin

from privacy.models import AccessLog
from relief.admin_search import TokenSearchMixin
from unions.admin_scope import NotFoundOutsideScope


class AccessLogUserFilter(admin.RelatedOnlyFieldListFilter):
    """Only the users who appear in the log, not every account."""


@admin.register(AccessLog)
class AccessLogAdmin(NotFoundOutsideScope, TokenSearchMixin, admin.ModelAdmin):
    list_display = ["at", "user", "kind", "object_label", "reference", "ip", "path"]
    list_filter = ["kind", ("user", AccessLogUserFilter)]
    date_hierarchy = "at"
    # Usernames and case or batch references (bank files name their cases in `detail`);
    # never ID numbers: the labels are masked and the log is not a way to look people up.
    search_fields = ["user__username", "reference", "detail"]
    search_help_text = None
    list_select_related = ["user"]
    fields = [
        "at",
        "user",
        "kind",
        "content_type",
        "object_id",
        "object_label",
        "reference",
        "detail",
        "ip",
        "path",
        "user_agent",
    ]
    readonly_fields = fields
    actions = []
    list_per_page = 100

    # Reading needs privacy.view_accesslog (the district officers' group); adding, changing
    # and deleting are refused to everyone, superusers included.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
