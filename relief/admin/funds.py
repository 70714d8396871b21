"""Admin for money: fund income, payouts and reversals, payment batches, 十元捐 campaigns and
collections, hardship files. Lists are scoped and read-only; every write is a form that calls a
relief.services function (which checks role and scope again and audits)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from privacy import access
from relief import idempotency, services
from relief import workflow as wf
from relief.admin.base import (
    FixedYearFilter,
    NotFoundOutsideScope,
    PayoutTownFilter,
    SimpleFilterLookups,
    has_role,
)
from relief.admin_search import TokenSearchMixin
from relief.conflicts import handle_conflicts
from relief.forms.funds import (
    BatchForm,
    CampaignForm,
    CollectionForm,
    FundIncomeForm,
    HardshipFileForm,
    MarkPaidForm,
    PayoutForm,
    ReasonForm,
    ReversalForm,
)
from relief.idcard import mask_card
from relief.models import (
    BatchItem,
    Disbursement,
    DonationCampaign,
    DonationCollection,
    Donor,
    FundAccount,
    FundIncome,
    HardshipFile,
    PaymentBatch,
)
from relief.paging import CappedPaginator
from relief.selectors import applications_for_user
from relief.services.batches import batch_check_funds
from relief.services.donations import CAMPAIGN_ROLES
from relief.services.funds import INCOME_ROLES
from unions.models import Role
from unions.selectors import scope_q


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        aliases = getattr(form, "error_fields", {})
        for field, errors in exc.error_dict.items():
            field = aliases.get(field, field)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class ServiceAdmin(NotFoundOutsideScope, TokenSearchMixin, admin.ModelAdmin):
    """Read-only lists; additions and actions go through forms that call the services."""

    service_form_template = "admin/relief/service_form.html"
    # The case roles whose services this admin's add form calls. A superuser administers people
    # and unions and has no case role: offering them 增加 would only lead to a refusal (and an
    # empty list of cases to choose from).
    add_roles: frozenset = frozenset()

    def has_add_permission(self, request):
        return has_role(request.user, *self.add_roles) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def service_form(self, request, form_class, run, *, title, obj=None, submit=None, **options):
        """Show `form_class`; on a valid POST call `run(cleaned_data)`; its ValidationErrors
        go back onto the form, next to the field they name."""
        kwargs = (
            {"user": request.user} if "user" in form_class.__init__.__code__.co_varnames else {}
        )
        kwargs.update(options.get("form_kwargs") or {})
        form = form_class(request.POST or None, **kwargs)
        if request.method == "POST" and form.is_valid():
            try:
                # A conflict (the case changed, a lock not obtained in time) goes on the form
                # like a ValidationError, with who changed what and when (relief.conflicts).
                with handle_conflicts(form) as outcome:
                    response = run(form.cleaned_data)
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                if outcome.conflict is None:
                    return response
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "form": form,
            "original": obj,
            "submit_label": submit or _("Save"),
            **(options.get("extra") or {}),
        }
        return TemplateResponse(request, self.service_form_template, context)

    def money_form(self, request, form_class, make, *, message, url=None, **kwargs):
        """service_form for a money write, made idempotent by the form's key (relief.idempotency):
        `make(data)` writes and returns what it made; a second submission with the same key
        (a retry after a lost response, a double click) goes to what the first one made and
        writes nothing. The key is looked up before the form is validated: the first write may
        have moved things on (a case now paid is no longer a choice on the payout form)."""
        if request.method == "POST":
            earlier = idempotency.already_made(request.user, idempotency.posted_key(request))
            if earlier is not None:
                return self.replayed(request, earlier)

        def run(data):
            key = data.pop(idempotency.FIELD, "")
            made, created = idempotency.once(request.user, key, lambda: make(data))
            if not created:
                return self.replayed(request, made)
            return self.done(request, message(made), url(made) if url else None)

        return self.service_form(request, form_class, run, **kwargs)

    def replayed(self, request, made):
        messages.info(request, idempotency.replay_message())
        opts = made._meta
        return HttpResponseRedirect(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[made.pk])
        )

    def done(self, request, message, url=None):
        messages.success(request, message)
        opts = self.model._meta
        return HttpResponseRedirect(
            url or reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        )


@admin.register(FundAccount)
class FundAccountAdmin(ServiceAdmin):
    list_display = ["town", "source", "year", "income_total", "paid_total", "balance"]
    list_filter = ["year", "source", ("town", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["town"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(scope_q(request.user, "town"))

    def has_add_permission(self, request):
        return False

    @admin.display(description=gettext_lazy("balance"))
    def balance(self, obj):
        return obj.balance


@admin.register(FundIncome)
class FundIncomeAdmin(ServiceAdmin):
    add_roles = frozenset().union(*INCOME_ROLES.values())
    list_display = ["received_on", "account", "amount", "document_no", "note", "recorded_by"]
    list_filter = [
        "account__year",
        "account__source",
        ("account__town", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["account__town", "recorded_by"]
    search_fields = ["document_no", "note"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(scope_q(request.user, "account__town"))

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied

        return self.money_form(
            request,
            FundIncomeForm,
            lambda data: services.fund_income_record(user=request.user, origin="admin", **data),
            message=lambda income: _("Income recorded: %(income)s.") % {"income": income},
            title=_("Record fund income"),
        )


class BatchItemInline(admin.TabularInline):
    model = BatchItem
    extra = 0
    can_delete = False
    fields = ["application", "worker", "card", "amount", "disbursement"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("application__worker")

    @admin.display(description=gettext_lazy("worker"))
    def worker(self, obj):
        return obj.application.worker.name

    @admin.display(description=gettext_lazy("card number"))
    def card(self, obj):
        # The case's payout account (fixed at approval), the one the bank file pays to.
        return mask_card(obj.application.payout_card)


@admin.register(PaymentBatch)
class PaymentBatchAdmin(ServiceAdmin):
    add_roles = frozenset({Role.DISTRICT_OFFICER})  # relief.services.batches._require_officer
    list_display = ["reference", "title", "fund_source", "fund_year", "state", "bank_paid_on"]
    list_filter = ["state", "fund_source", "fund_year"]
    readonly_fields = [
        "reference",
        "title",
        "fund_source",
        "fund_year",
        "state",
        "bank_paid_on",
        "created_by",
        "created_at",
        "exported_at",
        "paid_at",
        "cancelled_at",
    ]
    inlines = [BatchItemInline]
    change_form_template = "admin/relief/paymentbatch/change_form.html"

    def get_queryset(self, request):
        # Batches belong to the district; a batch is visible when its cases are.
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.exclude(
            items__in=BatchItem.objects.exclude(scope_q(request.user, "application__union"))
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/check/", view(self.check_view), name="relief_paymentbatch_check"),
            path("<int:pk>/export/", view(self.export_view), name="relief_paymentbatch_export"),
            path("<int:pk>/paid/", view(self.paid_view), name="relief_paymentbatch_paid"),
            path("<int:pk>/cancel/", view(self.cancel_view), name="relief_paymentbatch_cancel"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {
            "may_export": access.may_see_full(request.user, access.BANK_FILE),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)

    def _batch(self, request, pk, *, step: bool = True) -> PaymentBatch:
        """The batch if the user's scope holds it (else 404). Its pages answer like their POSTs:
        a step (export, paid, cancel) only for district officers, the one role the services
        let take it; the funds check for whoever may see the batch (else 403)."""
        batch = get_object_or_404(self.get_queryset(request), pk=pk)
        if step and not has_role(request.user, Role.DISTRICT_OFFICER):
            raise PermissionDenied
        if not step and not self.has_view_permission(request, batch):
            raise PermissionDenied
        return batch

    def _back(self, batch):
        return reverse("admin:relief_paymentbatch_change", args=[batch.pk])

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied

        def run(data):
            batch = services.batch_create(user=request.user, source="admin", **data)
            return self.done(
                request, _("Batch %(ref)s created.") % {"ref": batch.reference}, self._back(batch)
            )

        return self.service_form(request, BatchForm, run, title=_("New payment batch"))

    def check_view(self, request, pk):
        batch = self._batch(request, pk, step=False)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": batch,
            "title": _("Funds check for %(ref)s") % {"ref": batch.reference},
            "lines": batch_check_funds(batch),
        }
        return TemplateResponse(request, "admin/relief/paymentbatch/check.html", context)

    def export_view(self, request, pk):
        batch = self._batch(request, pk)
        if request.method != "POST":
            return HttpResponseRedirect(self._back(batch))
        try:
            content = services.batch_export(
                batch=batch, user=request.user, source="admin", request=request
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return HttpResponseRedirect(self._back(batch))
        response = HttpResponse(
            content,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{batch.reference}.xlsx"'
        return response

    def paid_view(self, request, pk):
        batch = self._batch(request, pk)

        return self.money_form(
            request,
            MarkPaidForm,
            lambda data: services.batch_mark_paid(
                batch=batch, user=request.user, source="admin", **data
            ),
            message=lambda paid: _("Batch %(ref)s is paid.") % {"ref": paid.reference},
            url=self._back,
            title=_("Mark %(ref)s paid") % {"ref": batch.reference},
            obj=batch,
            submit=_("Mark paid"),
        )

    def cancel_view(self, request, pk):
        batch = self._batch(request, pk)

        def run(data):
            services.batch_cancel(batch=batch, user=request.user, source="admin", **data)
            return self.done(
                request, _("Batch %(ref)s cancelled.") % {"ref": batch.reference}, self._back(batch)
            )

        return self.service_form(
            request,
            ReasonForm,
            run,
            title=_("Cancel %(ref)s") % {"ref": batch.reference},
            obj=batch,
            submit=_("Cancel the batch"),
        )


@admin.register(Disbursement)
class DisbursementAdmin(SimpleFilterLookups, ServiceAdmin):
    add_roles = frozenset(wf.ACTIONS["disburse"])
    list_display = [
        "paid_on",
        "application",
        "amount",
        "method",
        "town",
        "fund_source",
        "fund_year",
        "voucher_no",
        "reverses",
    ]
    # Fixed choice lists (years, the towns in scope), no full count: Django's field filters
    # read the distinct values of every payout in scope (issue 16).
    list_filter = [FixedYearFilter, "fund_source", "method", PayoutTownFilter]
    list_select_related = ["application", "town", "reverses__application"]
    search_fields = ["application__reference", "voucher_no"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # counts per choice would read every row
    paginator = CappedPaginator

    def get_search_results(self, request, queryset, search_term):
        # A case reference or a voucher number from its start, upper-cased (an index each).
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(
            Q(application__reference__startswith=term.upper()) | Q(voucher_no__startswith=term)
        ), False

    readonly_fields = [
        "application",
        "amount",
        "paid_on",
        "method",
        "town",
        "fund_source",
        "fund_year",
        "voucher_no",
        "reverses",
        "reason",
        "recorded_by",
        "recorded_at",
    ]
    change_form_template = "admin/relief/disbursement/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(scope_q(request.user, "application__union"))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/reverse/", view(self.reverse_view), name="relief_disbursement_reverse"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied

        # Opened for one case (?application=, as the case page links it): that case and its
        # town's fund accounts, the sensible one chosen.
        case = None
        wanted = request.GET.get("application", "")
        if wanted.isdecimal():
            case = (
                applications_for_user(request.user)
                .filter(pk=int(wanted), state=wf.S_APPROVED)
                .select_related("union__parent")
                .first()
            )
        return self.money_form(
            request,
            PayoutForm,
            lambda data: services.disbursement_record(user=request.user, source="admin", **data),
            message=lambda payout: _("Payout recorded: %(payout)s.") % {"payout": payout},
            title=_("Record a payout"),
            form_kwargs={"case": case},
        )

    def reverse_view(self, request, pk):
        payout = get_object_or_404(self.get_queryset(request), pk=pk)
        # The form answers like its POST: only a role that may reverse payouts gets it.
        if not wf.role_has(request.user, "reverse"):
            raise PermissionDenied

        return self.money_form(
            request,
            ReversalForm,
            lambda data: services.disbursement_reverse(
                payout=payout, user=request.user, source="admin", **data
            ),
            message=lambda reversal: _("Payout reversed."),
            title=_("Reverse payout %(payout)s") % {"payout": payout},
            obj=payout,
            submit=_("Reverse"),
        )


class DonorInline(admin.TabularInline):
    model = Donor
    extra = 0
    can_delete = False
    fields = ["name", "masked_id_number", "amount", "receipt_no"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DonationCampaign)
class DonationCampaignAdmin(ServiceAdmin):
    add_roles = frozenset(CAMPAIGN_ROLES)
    list_display = ["town", "year", "starts_on", "ends_on"]
    list_filter = ["year", ("town", admin.RelatedOnlyFieldListFilter)]
    readonly_fields = ["town", "year", "starts_on", "ends_on", "created_by", "created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(scope_q(request.user, "town"))

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied

        def run(data):
            campaign = services.donation_campaign_create(
                user=request.user,
                source="admin",
                # Empty dates fall back to the season; a year of 0 still goes to the
                # service, whose check_year refuses it next to the field (not a TypeError).
                **{k: v for k, v in data.items() if v is not None and v != ""},
            )
            return self.done(request, _("%(campaign)s opened.") % {"campaign": campaign})

        return self.service_form(request, CampaignForm, run, title=_("Open a donation campaign"))


@admin.register(DonationCollection)
class DonationCollectionAdmin(ServiceAdmin):
    add_roles = frozenset(CAMPAIGN_ROLES)
    list_display = ["collected_on", "union", "campaign", "donor_count", "amount", "receipt_numbers"]
    list_filter = [
        "campaign__year",
        ("campaign__town", admin.RelatedOnlyFieldListFilter),
        ("union", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["union", "campaign__town"]
    readonly_fields = [
        "campaign",
        "union",
        "collected_on",
        "donor_count",
        "amount",
        "receipt_numbers",
        "recorded_by",
        "recorded_at",
    ]
    inlines = [DonorInline]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(scope_q(request.user, "campaign__town"))

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied

        def run(data):
            services.donation_collection_record(user=request.user, source="admin", **data)
            return self.done(request, _("Collection recorded."))

        return self.service_form(request, CollectionForm, run, title=_("Record a collection"))


@admin.register(HardshipFile)
class HardshipFileAdmin(ServiceAdmin):
    add_roles = frozenset({Role.TOWN_REVIEWER})  # relief.services.hardship_files._lock
    list_display = ["worker", "is_open", "reason", "changed_by", "changed_at"]
    list_filter = ["is_open"]
    list_select_related = ["worker", "changed_by"]
    readonly_fields = ["worker", "is_open", "reason", "changed_by", "changed_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(scope_q(request.user, "worker__union"))

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied

        def run(data):
            move = (
                services.hardship_file_close
                if data["action"] == "close"
                else services.hardship_file_reopen
            )
            move(worker=data["worker"], user=request.user, reason=data["reason"], source="admin")
            return self.done(request, _("Hardship file updated."))

        return self.service_form(
            request, HardshipFileForm, run, title=_("Close or reopen a hardship file")
        )
