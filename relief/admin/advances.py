"""先行救助 in the admin: the advances and shortfalls of the user's scope (read-only lists: every
change goes through the case page's steps, relief.admin.actions). On the case page they are
tables of relief.admin.read_only_tables."""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relief.admin.base import ReadOnlyAdmin, ScopedRelatedFilter
from relief.admin_search import TokenSearchMixin
from relief.models import Advance, AdvanceShortfall
from relief.models.advance import FILE_INCOMPLETE_STATES, OPEN_ADVANCE_STATES
from relief.selectors.advances import advances_for_user, shortfalls_for_user


class OverdueFilter(admin.SimpleListFilter):
    title = _("paperwork")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("1", _("overdue"))]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(
                state__in=OPEN_ADVANCE_STATES,
                file_due_on__lt=timezone.localdate(),
                application__state__in=FILE_INCOMPLETE_STATES,
            )
        return queryset


@admin.register(Advance)
class AdvanceAdmin(TokenSearchMixin, ReadOnlyAdmin):
    list_display = [
        "application",
        "worker_name",
        "amount",
        "state",
        "basis",
        "granted_at",
        "file_due_on",
        "overdue",
    ]
    list_filter = [
        OverdueFilter,
        "state",
        ("application__union__parent", ScopedRelatedFilter),
    ]
    search_fields = ["application__reference"]
    readonly_fields = [
        "application",
        "amount",
        "state",
        "reason",
        "basis",
        "phone_verified_on",
        "phone_contact",
        "phone_findings",
        "granted_by",
        "granted_at",
        "file_due_on",
        "payout",
        "cancel_reason",
        "ended_at",
    ]

    def get_queryset(self, request):
        return advances_for_user(request.user)

    @admin.display(description=_("worker"))
    def worker_name(self, obj):
        return obj.application.worker.name

    @admin.display(description=_("paperwork overdue"), boolean=True)
    def overdue(self, obj):
        return obj.paperwork_overdue()


@admin.register(AdvanceShortfall)
class AdvanceShortfallAdmin(TokenSearchMixin, ReadOnlyAdmin):
    list_display = [
        "application",
        "amount",
        "cause",
        "advance_amount",
        "approved_amount",
        "town",
        "fund_source",
        "fund_year",
        "recorded_at",
    ]
    list_filter = ["fund_year", "cause"]
    search_fields = ["application__reference"]
    readonly_fields = [*list_display, "recorded_by"]

    def get_queryset(self, request):
        return shortfalls_for_user(request.user)
