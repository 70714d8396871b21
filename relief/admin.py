"""Read-only, scoped admin views of cases for now; changes go through relief.services.

Every model here is view-only for everyone (superusers included) except the policy and the
categories, which are configuration. Transition buttons that call the services come with
the reviewer admin work.
"""

from django.contrib import admin
from django.db.models import Q
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from relief.models import (
    Application,
    AuditEntry,
    Disbursement,
    HardshipCategory,
    HomeVisit,
    Policy,
    Worker,
)
from relief.selectors import applications_for_user, workers_for_user
from unions.selectors import scope_q


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class HomeVisitInline(ReadOnlyInline):
    model = HomeVisit
    fields = ["visit_date", "visitors", "findings", "verified_household_income"]
    readonly_fields = fields


class DisbursementInline(ReadOnlyInline):
    model = Disbursement
    fields = ["paid_on", "amount", "method", "fund_source", "voucher_no", "recorded_by"]
    readonly_fields = fields


class AuditInline(ReadOnlyInline):
    model = AuditEntry
    fk_name = "application"
    verbose_name_plural = _("timeline")
    fields = ["at", "actor", "action", "from_state", "to_state", "comment", "changes"]
    readonly_fields = fields


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = [
        "reference",
        "worker_name",
        "masked_id",
        "union",
        "requested_amount",
        "recommended_amount",
        "approved_amount",
        "state_badge",
        "application_date",
    ]
    list_filter = ["state", "union__parent", "categories"]
    search_fields = ["reference", "worker__name", "=worker__id_number"]
    date_hierarchy = "application_date"
    list_select_related = ["worker", "union"]
    readonly_fields = [
        "reference",
        "worker",
        "union",
        "narrative",
        "household_monthly_income",
        "monthly_medical_expenses",
        "requested_amount",
        "recommended_amount",
        "approved_amount",
        "paid_amount",
        "policy",
        "application_date",
        "state",
        "created_by",
        "created_at",
    ]
    exclude = ["categories"]
    inlines = [HomeVisitInline, DisbursementInline, AuditInline]

    def get_queryset(self, request):
        return applications_for_user(request.user)

    @admin.display(description=_("worker"), ordering="worker__name")
    def worker_name(self, obj):
        return obj.worker.name

    @admin.display(description=_("ID number"))
    def masked_id(self, obj):
        return obj.worker.masked_id_number

    @admin.display(description=_("state"), ordering="state")
    def state_badge(self, obj):
        return format_html(
            '<span class="state state-{}">{}</span>', obj.state, obj.get_state_display()
        )


@admin.register(Worker)
class WorkerAdmin(ReadOnlyAdmin):
    list_display = ["name", "masked_id_number", "union", "phone", "realname_verified"]
    search_fields = ["name", "=id_number"]
    list_select_related = ["union"]
    # Full ID and card numbers are not needed to review: the admin shows them masked.
    fields = [
        "name",
        "masked_id_number",
        "union",
        "phone",
        "employer",
        "address",
        "hukou",
        "realname_verified",
        "bank_name",
        "bank_branch",
        "masked_card",
        "notes",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return workers_for_user(request.user)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "action", "application", "from_state", "to_state", "source"]
    list_filter = ["action"]
    list_select_related = ["actor", "application"]
    date_hierarchy = "at"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs  # (an empty Q() would vanish from the OR below and narrow it)
        # Case entries by the case's union; worker-only entries by the worker's union.
        return qs.filter(
            scope_q(request.user, "application__union")
            | (Q(application__isnull=True) & scope_q(request.user, "worker__union"))
        )


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "effective_from",
        "max_per_payout",
        "max_per_worker_year",
        "one_per_category_per_year",
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
class HardshipCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "order", "is_active"]
    list_editable = ["order", "is_active"]
