"""Workers in the admin: scoped, always masked at first, importable.

Users who may see full numbers (privacy.access.may_see_full) get a “show full numbers” button
on a worker's page: it POSTs to <id>/reveal/, which writes the access log (full ID number,
and full card number if there is one) and shows the same page with the worker's and the
household's full numbers. No GET shows a full number; without the permission the reveal
answers 403 and logs nothing; a worker outside the user's scope is not found (404).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from privacy import access
from privacy.models import AccessKind
from relief import search, search_tokens, services
from relief.admin.base import (
    ReadOnlyAdmin,
    ReadOnlyInline,
    SimpleFilterLookups,
    WorkerUnionFilter,
    has_role,
    is_changelist,
)
from relief.admin.imports import HouseholdResource, ServiceImportExportMixin, WorkerResource
from relief.admin_search import TokenSearchMixin, is_autocomplete
from relief.models import Application, HouseholdMember, Worker
from relief.paging import CappedPaginator
from relief.selectors import workers_for_user
from unions.models import Level, Role, Union
from unions.selectors import scope_q

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

# Set on the request by WorkerAdmin.reveal_view only, after the access has been logged.
_REVEALED = "_relief_full_numbers_revealed"


def revealed(request) -> bool:
    return getattr(request, _REVEALED, False)


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

    def get_fields(self, request, obj=None):
        if revealed(request):
            return ["id_number" if f == "masked_id_number" else f for f in self.fields]
        return list(self.fields)

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)


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
class WorkerAdmin(SimpleFilterLookups, TokenSearchMixin, ServiceImportExportMixin, ReadOnlyAdmin):
    list_display = ["name", "masked_id_number", "union", "phone", "realname_verified"]
    # The unions from the union table, not the distinct unions of every worker in scope; no
    # full count; the list ordered by an index (name, id) (issue 16).
    list_filter = [WorkerUnionFilter, "realname_verified"]
    search_fields = ["name", "=id_number"]
    search_help_text = gettext_lazy(
        "Full ID number or its last digits, or name (three characters anywhere, one or two at "
        "the start or end)"
    )
    list_select_related = ["union"]
    ordering = ["name", "pk"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # counts per choice would read every row
    paginator = CappedPaginator
    inlines = [HouseholdInline, CaseInline]
    import_resource_classes = [WorkerResource, HouseholdResource]
    actions = []
    change_form_template = "admin/relief/worker/change_form.html"

    class Media:
        css = {"all": ["css/admin.css"]}  # the list's union drop-down, the case page's tables

    def get_queryset(self, request):
        if is_changelist(request, self):
            # The list's columns only: never the card, health, address or notes.
            return (
                Worker.objects.filter(scope_q(request.user, "union"))
                .select_related("union")
                .only("name", "id_number", "phone", "realname_verified", "union__name")
            )
        return workers_for_user(request.user)

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        if is_autocomplete(request):
            # By name only: no autocomplete searches by an ID number (relief.admin_search).
            if search_tokens.looks_like_id_number(search_term):
                return queryset.none(), False
            return queryset.filter(search.name_q(search_term, "name")), False
        return search.search_workers(queryset, search_term), False

    def get_fields(self, request, obj=None):
        if revealed(request):
            return [*PERSONAL[:1], "id_number", *PERSONAL[1:], "bank_card"]
        return [*PERSONAL[:1], "masked_id_number", *PERSONAL[1:], "masked_card"]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def get_urls(self):
        return [
            # Before the admin's own "<path:object_id>/" catch-all.
            path("<path:object_id>/reveal/", self.reveal_view, name="relief_worker_reveal"),
            path(
                "<path:object_id>/transfer/",
                self.admin_site.admin_view(self.transfer_view),
                name="relief_worker_transfer",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {
            "may_transfer": may_transfer(request.user),
            "may_reveal": access.may_see_full(request.user, access.ID_NUMBER),
            "numbers_revealed": revealed(request),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)

    def reveal_view(self, request, object_id):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        # Permission before scope: someone who may not see full numbers learns nothing,
        # not even whether the worker exists.
        if not (
            self.admin_site.has_permission(request)
            and self.has_view_permission(request)
            and access.may_see_full(user, access.ID_NUMBER)
        ):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        worker = self.get_object(request, unquote(object_id))
        if worker is None:
            raise Http404
        members = worker.household.count()
        with transaction.atomic():
            access.record(
                request,
                AccessKind.FULL_ID,
                obj=worker,
                detail=f"household members: {members}" if members else "",
            )
            if worker.bank_card and access.may_see_full(user, access.CARD):
                access.record(request, AccessKind.FULL_CARD, obj=worker)
        setattr(request, _REVEALED, True)
        # The same read-only page, now with full numbers; as a GET, so that the admin's
        # change view does not take the POST for a form submission.
        request.method = "GET"
        response = self.change_view(request, object_id)
        add_never_cache_headers(response)
        return response

    def transfer_view(self, request, object_id):
        """Give the record to another grassroots union (relief.services.worker_transfer)."""
        if not may_transfer(request.user):
            raise PermissionDenied  # role first: the answer says nothing about the worker
        worker = self.get_object(request, unquote(object_id))
        if worker is None:
            raise Http404
        form = TransferForm(request.POST or None, worker=worker)
        if request.method == "POST" and form.is_valid():
            try:
                services.worker_transfer(
                    worker=worker,
                    user=request.user,
                    to_union=form.cleaned_data["to_union"],
                    reason=form.cleaned_data["reason"],
                    source="admin",
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(
                    request,
                    _("The record of %(name)s is now held by %(union)s.")
                    % {"name": worker.name, "union": form.cleaned_data["to_union"].name},
                )
                # The record may now lie outside this user's scope: back to the list.
                return HttpResponseRedirect(reverse("admin:relief_worker_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Move the record to another union"),
            "form": form,
            "original": worker,
            "submit_label": _("Move the record"),
        }
        return TemplateResponse(request, "admin/relief/service_form.html", context)


def may_transfer(user) -> bool:
    return has_role(user, Role.TOWN_REVIEWER, Role.DISTRICT_OFFICER)


class TransferForm(forms.Form):
    to_union = forms.ModelChoiceField(
        label=gettext_lazy("to grassroots union"),
        # Union names are not personal data: a town gives a record to any grassroots union.
        queryset=Union.objects.filter(level=Level.GRASSROOTS).order_by("path"),
    )
    reason = forms.CharField(
        label=gettext_lazy("reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )

    def __init__(self, *args, worker, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_union"].help_text = _("Now held by %(union)s.") % {
            "union": worker.union.name
        }
