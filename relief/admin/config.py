"""Configuration (policies, categories) and the audit trail."""

from django.contrib import admin
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relief.admin.base import (
    AuditActionFilter,
    NotFoundOutsideScope,
    ReadOnlyAdmin,
    is_changelist,
)
from relief.admin_search import TokenSearchMixin
from relief.models import AuditEntry, HardshipCategory, Policy, WorkingDayCorrection
from relief.paging import CappedPaginator
from relief.workdays import package_years, year_is_known
from unions.admin_words import NoLinkRowsOnDelete
from unions.selectors import scope_q


@admin.register(AuditEntry)
class AuditEntryAdmin(TokenSearchMixin, ReadOnlyAdmin):
    list_display = ["at", "actor", "action", "application", "from_state", "to_state", "source"]
    # A fixed action list, no date hierarchy, no full count: each read the whole trail.
    list_filter = [AuditActionFilter]
    list_select_related = ["actor", "application"]
    search_fields = ["application__reference", "source"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # counts per choice would read every row
    paginator = CappedPaginator

    def get_search_results(self, request, queryset, search_term):
        # A case reference from its start (an index); the source ("import:<file>") likewise.
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(
            Q(application__reference__startswith=term.upper()) | Q(source__startswith=term)
        ), False

    def get_queryset(self, request):
        # Entries of a case in scope, or of a worker held in scope (worker-only entries).
        user = request.user
        qs = super().get_queryset(request)
        if is_changelist(request, self):
            qs = qs.only(
                "at",
                "action",
                "from_state",
                "to_state",
                "source",
                "actor__username",
                "actor__full_name",
                "application__reference",
            )
        if user.is_superuser:
            return qs  # (an empty Q() would vanish from the OR below and narrow it)
        in_scope = scope_q(user, "application__union") | (
            Q(application__isnull=True) & scope_q(user, "worker__union")
        )
        return qs.filter(in_scope)


@admin.register(Policy)
class PolicyAdmin(NotFoundOutsideScope, TokenSearchMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "effective_from",
        "max_per_payout",
        "max_per_worker_year",
        "one_per_category_per_year",
        "review_workdays",
        "approval_workdays",
        "payment_workdays",
        "resubmit_workdays",
        "follow_up_workdays",
        "advance_allowed",
        "advance_cap",
    ]

    def get_readonly_fields(self, request, obj=None):
        # Once cases were decided under a policy, changing its caps would rewrite their rules:
        # add a new policy with a later effective date instead.
        if obj is not None and obj.applications.exists():
            return [
                "name",
                "effective_from",
                "max_per_payout",
                "max_per_worker_year",
                "one_per_category_per_year",
            ]
        return []

    def has_delete_permission(self, request, obj=None):
        # A policy once applied to cases is history: PROTECT refuses, and so does the admin.
        return request.user.is_superuser and (obj is None or not obj.applications.exists())


@admin.register(HardshipCategory)
class HardshipCategoryAdmin(
    NoLinkRowsOnDelete, NotFoundOutsideScope, TokenSearchMixin, admin.ModelAdmin
):
    list_display = ["name", "order", "is_active"]
    list_editable = ["order", "is_active"]


@admin.register(WorkingDayCorrection)
class WorkingDayCorrectionAdmin(
    NoLinkRowsOnDelete, NotFoundOutsideScope, TokenSearchMixin, admin.ModelAdmin
):
    """The national calendar is one for everybody: no union scope; the district edits it."""

    list_display = ["day", "weekday", "is_workday", "reason", "changed_by", "changed_at"]
    list_filter = ["is_workday"]
    date_hierarchy = "day"
    search_fields = ["reason"]
    change_list_template = "admin/relief/workingdaycorrection/change_list.html"

    @admin.display(description=_("weekday"))
    def weekday(self, obj):
        return _WEEKDAYS[obj.day.weekday()]

    def save_model(self, request, obj, form, change):
        obj.changed_by = request.user
        super().save_model(request, obj, form, change)

    def changelist_view(self, request, extra_context=None):
        first, last = package_years()
        this_year = timezone.localdate().year
        missing = [year for year in (this_year, this_year + 1) if not year_is_known(year)]
        context = {
            "package_first": first,
            "package_last": last,
            "missing_years": missing,
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=context)


_WEEKDAYS = [
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
]
