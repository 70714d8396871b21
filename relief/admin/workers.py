"""Workers in the admin: scoped, masked unless the role may see full numbers, importable."""

from django.contrib import admin
from django.utils.translation import gettext_lazy

from relief.admin.base import ReadOnlyAdmin, ReadOnlyInline, ScopedRelatedFilter, may_see_full_ids
from relief.admin.imports import HouseholdResource, ServiceImportExportMixin, WorkerResource
from relief.admin_search import TokenSearchMixin
from relief.models import Application, HouseholdMember, Worker
from relief.selectors import workers_for_user

PERSONAL = [
    "name",
    "union",
    "phone",
    "employer",
    "address",
    "hukou",
    "health",
    "realname_verified",
    "bank_name",
    "bank_branch",
    "notes",
]


class HouseholdInline(ReadOnlyInline):
    model = HouseholdMember
    fields = [
        "relation",
        "name",
        "masked_id_number",
        "current_age",
        "health",
        "occupation",
        "monthly_income",
    ]


class CaseInline(ReadOnlyInline):
    model = Application
    fk_name = "worker"
    fields = ["reference", "union", "application_date", "approved_amount", "paid_amount", "state"]
    show_change_link = True
    verbose_name_plural = gettext_lazy("cases")

    def get_queryset(self, request):
        # Only the cases the user's scope holds; the worker may have others elsewhere.
        from unions.selectors import scope_q

        return super().get_queryset(request).filter(scope_q(request.user, "union"))


@admin.register(Worker)
class WorkerAdmin(TokenSearchMixin, ServiceImportExportMixin, ReadOnlyAdmin):
    list_display = ["name", "masked_id_number", "union", "phone", "realname_verified"]
    list_filter = [("union", ScopedRelatedFilter), "realname_verified"]
    search_fields = ["name", "=id_number"]
    list_select_related = ["union"]
    inlines = [HouseholdInline, CaseInline]
    import_resource_classes = [WorkerResource, HouseholdResource]
    actions = []

    def get_queryset(self, request):
        return workers_for_user(request.user)

    def get_fields(self, request, obj=None):
        # Full ID and card numbers only for roles allowed them (by default the district).
        if may_see_full_ids(request.user):
            return [*PERSONAL[:1], "id_number", *PERSONAL[1:], "bank_card"]
        return [*PERSONAL[:1], "masked_id_number", *PERSONAL[1:], "masked_card"]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)
