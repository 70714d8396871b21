"""Public notices (公示) and objections (异议) in the admin.

A town reviewer opens a notice for recommended cases of the town, records objections received
against a case on it and resolves them; the district reads both. Every write is a service of
relief.services.notices; the pages here are forms around them. Scope: the town's notices and
objections only (another town's are "not found"); caseworkers never reach the admin.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relief.admin.base import NotFoundOutsideScope, ReadOnlyInline, has_role
from relief.admin_search import TokenSearchMixin
from relief.conflicts import handle_conflicts
from relief.errors import Conflict, NotAllowed, OutOfScope
from relief.idcard import mask_name
from relief.models import Application, NoticeItem, Objection, ObjectionChannel, PublicNotice
from relief.models.notice import ObjectionOutcome
from relief.selectors.notices import current_items, notices_for_user, objections_for_user
from relief.services.notices import (
    candidates_for_notice,
    cn_date,
    notice_end,
    notice_open,
    objection_record,
    objection_resolve,
)
from unions.models import Role

FORM_TEMPLATE = "admin/relief/notice_form.html"


def _errors_to(form, exc: ValidationError, aliases=None) -> None:
    aliases = aliases or {}
    if hasattr(exc, "error_dict"):
        for field, problems in exc.message_dict.items():
            field = aliases.get(field, field)
            form.add_error(field if field in form.fields else None, problems)
    else:
        form.add_error(None, exc.messages)


def _form_page(modeladmin, request, *, title, form, intro="", cases=None, submit=""):
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "opts": modeladmin.opts,
        "form": form,
        "intro": intro,
        "cases": cases,
        "submit_label": submit or _("Save"),
        "media": modeladmin.media + form.media,
    }
    return TemplateResponse(request, FORM_TEMPLATE, context)


# --- notices ---------------------------------------------------------------------------


class NoticeForm(forms.Form):
    posted_at = forms.CharField(
        label=gettext_lazy("posted at"),
        max_length=200,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text=gettext_lazy(
            "e.g. the notice boards of the grassroots unions, the town's WeChat account"
        ),
    )
    starts_on = forms.DateField(
        label=gettext_lazy("notice from"), widget=admin.widgets.AdminDateWidget
    )
    # "pk:version" of each case chosen: a case changed since the page was loaded is refused.
    cases = forms.MultipleChoiceField(
        label=gettext_lazy("cases"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one recommended case.")},
    )

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = {c.pk: c for c in candidates}
        self.fields["cases"].choices = [
            (f"{c.pk}:{c.version}", c.reference) for c in self.candidates.values()
        ]
        self.fields["cases"].error_messages["invalid_choice"] = _(
            "%(value)s is not a recommended case of your town awaiting a notice, or it changed "
            "since this page was loaded: reload the page."
        )

    def chosen(self) -> list[Application]:
        picked = []
        for value in self.cleaned_data["cases"]:
            pk, version = (int(part) for part in value.split(":"))
            case = self.candidates[pk]
            case.version = version
            picked.append(case)
        return picked


class NoticeItemInline(ReadOnlyInline):
    model = NoticeItem
    fields = ["case", "worker", "union", "amount", "objection_summary"]
    verbose_name_plural = gettext_lazy("cases on the notice")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("application__worker", "application__union")
            .annotate(
                objection_total=Count("objections"),
                objection_open=Count("objections", filter=Q(objections__outcome="")),
            )
        )

    @admin.display(description=gettext_lazy("application"))
    def case(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:relief_application_change", args=[obj.application_id]),
            obj.application.reference,
        )

    @admin.display(description=gettext_lazy("worker"))
    def worker(self, obj):
        return mask_name(obj.application.worker.name)

    @admin.display(description=gettext_lazy("grassroots union"))
    def union(self, obj):
        return obj.application.union.name

    @admin.display(description=gettext_lazy("objections"))
    def objection_summary(self, obj):
        if not obj.objection_total:
            return _("none")
        return _("%(total)d, %(open)d not resolved") % {
            "total": obj.objection_total,
            "open": obj.objection_open,
        }


@admin.register(PublicNotice)
class PublicNoticeAdmin(NotFoundOutsideScope, TokenSearchMixin, admin.ModelAdmin):
    list_display = [
        "number_label",
        "town",
        "starts_on",
        "ends_on",
        "posted_at",
        "case_count",
        "open_objections",
    ]
    list_select_related = ["town"]
    date_hierarchy = "starts_on"
    search_fields = ["posted_at", "items__application__reference"]
    fields = [
        "number_label",
        "town",
        "period",
        "posted_at",
        "phone",
        "opened_by",
        "opened_at",
        "print_link",
    ]
    readonly_fields = fields
    inlines = [NoticeItemInline]

    class Media:
        css = {"all": ["css/admin.css"]}

    def get_queryset(self, request):
        return notices_for_user(request.user).annotate(
            item_total=Count("items", distinct=True),
            open_total=Count(
                "items__objections", filter=Q(items__objections__outcome=""), distinct=True
            ),
        )

    def get_search_results(self, request, queryset, search_term):
        queryset, _duplicates = super().get_search_results(request, queryset, search_term)
        return queryset, True

    @admin.display(description=gettext_lazy("notice number"), ordering="seq")
    def number_label(self, obj):
        return obj.number

    @admin.display(description=gettext_lazy("notice period"))
    def period(self, obj):
        return _("%(starts)s to %(ends)s (%(days)d working days)") % {
            "starts": cn_date(obj.starts_on),
            "ends": cn_date(obj.ends_on),
            "days": obj.workdays,
        }

    @admin.display(description=gettext_lazy("cases"), ordering="item_total")
    def case_count(self, obj):
        return obj.item_total

    @admin.display(description=gettext_lazy("objections not resolved"), ordering="open_total")
    def open_objections(self, obj):
        return obj.open_total

    @admin.display(description=gettext_lazy("Notice list (PDF)"))
    def print_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("reports:notice_print", args=[obj.pk]),
            _("Print the notice list"),
        )

    def has_add_permission(self, request):
        return has_role(request.user, Role.TOWN_REVIEWER)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        candidates = list(
            candidates_for_notice(request.user).select_related("worker", "union", "policy")
        )
        form = NoticeForm(
            request.POST or None,
            candidates=candidates,
            initial={"starts_on": timezone.localdate()},
        )
        if request.method == "POST" and form.is_valid():
            try:
                with handle_conflicts(form) as outcome:
                    notice = notice_open(
                        user=request.user,
                        applications=form.chosen(),
                        posted_at=form.cleaned_data["posted_at"],
                        starts_on=form.cleaned_data["starts_on"],
                    )
            except ValidationError as exc:
                _errors_to(form, exc, {"applications": "cases"})
            else:
                if outcome.conflict is None:
                    messages.success(
                        request,
                        _("Notice %(number)s opened: it runs until %(ends)s.")
                        % {"number": notice.number, "ends": cn_date(notice.ends_on)},
                    )
                    return HttpResponseRedirect(
                        reverse("admin:relief_publicnotice_change", args=[notice.pk])
                    )
        today = timezone.localdate()
        rows = []
        for case in candidates:
            value = f"{case.pk}:{case.version}"
            rows.append(
                {
                    "value": value,
                    "checked": value in (form["cases"].value() or []),
                    "case": case,
                    "worker": case.worker.name,
                    "required": case.policy.notice_required,
                }
            )
        from relief.models import Policy

        policy = Policy.in_force(today)
        intro = ""
        if policy is not None:
            intro = _(
                "Under %(policy)s a notice lasts %(days)d working days: one posted today runs "
                "until %(ends)s. Complaint phone: %(phone)s."
            ) % {
                "policy": policy,
                "days": policy.notice_workdays,
                "ends": cn_date(notice_end(today, policy.notice_workdays)),
                "phone": policy.notice_phone or request.user.union.phone or _("not set"),
            }
        return _form_page(
            self,
            request,
            title=_("Open a public notice"),
            form=form,
            intro=intro,
            cases=rows,
            submit=_("Open the notice"),
        )


# --- objections --------------------------------------------------------------------------


class ObjectionForm(forms.Form):
    application = forms.ChoiceField(label=gettext_lazy("case on the notice"))
    received_on = forms.DateField(
        label=gettext_lazy("date received"), widget=admin.widgets.AdminDateWidget
    )
    channel = forms.ChoiceField(label=gettext_lazy("received by"), choices=ObjectionChannel.choices)
    content = forms.CharField(
        label=gettext_lazy("what was said"), widget=forms.Textarea(attrs={"rows": 4, "cols": 60})
    )
    objector_name = forms.CharField(
        label=gettext_lazy("objector's name"),
        max_length=50,
        required=False,
        help_text=gettext_lazy("Only if the objector gave it. Seen by the town and the district."),
    )
    objector_contact = forms.CharField(
        label=gettext_lazy("objector's contact"), max_length=50, required=False
    )
    handler = forms.CharField(label=gettext_lazy("handled by"), max_length=50)

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.cases = {item.application_id: item.application for item in items}
        self.fields["application"].choices = [("", "---------")] + [
            (
                f"{item.application_id}:{item.application.version}",
                f"{item.application.reference} {mask_name(item.application.worker.name)} · "
                f"{item.notice.number}",
            )
            for item in items
        ]
        self.fields["application"].error_messages["invalid_choice"] = _(
            "Choose a case of your town on a current notice (reload the page if it changed)."
        )

    def chosen(self) -> Application:
        pk, version = (int(p) for p in self.cleaned_data["application"].split(":"))
        case = self.cases[pk]
        case.version = version
        return case


class ResolveForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("outcome"), choices=ObjectionOutcome.choices, widget=forms.RadioSelect
    )
    finding = forms.CharField(
        label=gettext_lazy("finding"), widget=forms.Textarea(attrs={"rows": 4, "cols": 60})
    )
    resolved_on = forms.DateField(
        label=gettext_lazy("resolved on"), widget=admin.widgets.AdminDateWidget
    )


@admin.register(Objection)
class ObjectionAdmin(NotFoundOutsideScope, TokenSearchMixin, admin.ModelAdmin):
    list_display = [
        "received_on",
        "case",
        "notice",
        "channel",
        "objector",
        "outcome_label",
        "resolved_on",
    ]
    list_filter = ["outcome", "channel"]
    date_hierarchy = "received_on"
    fields = [
        "case",
        "notice",
        "received_on",
        "channel",
        "content",
        "objector_name",
        "objector_contact",
        "handler",
        "recorded_by",
        "recorded_at",
        "finding",
        "outcome_label",
        "resolved_on",
        "resolved_by",
        "resolve_link",
    ]
    readonly_fields = fields

    class Media:
        css = {"all": ["css/admin.css"]}

    def get_queryset(self, request):
        return objections_for_user(request.user)

    @admin.display(description=gettext_lazy("application"))
    def case(self, obj):
        return format_html(
            '<a href="{}">{}</a> {}',
            reverse("admin:relief_application_change", args=[obj.item.application_id]),
            obj.item.application.reference,
            mask_name(obj.item.application.worker.name),
        )

    @admin.display(description=gettext_lazy("public notice"))
    def notice(self, obj):
        return obj.item.notice.number

    @admin.display(description=gettext_lazy("objector"))
    def objector(self, obj):
        return obj.masked_objector or "—"

    @admin.display(description=gettext_lazy("outcome"), ordering="outcome")
    def outcome_label(self, obj):
        if not obj.outcome:
            return format_html('<strong class="overdue">{}</strong>', _("Not resolved"))
        return obj.get_outcome_display()

    @admin.display(description=gettext_lazy("Resolve"))
    def resolve_link(self, obj):
        if obj.outcome:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:relief_objection_resolve", args=[obj.pk]),
            _("Record the finding and outcome"),
        )

    def has_add_permission(self, request):
        return has_role(request.user, Role.TOWN_REVIEWER)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "<path:object_id>/resolve/",
                self.admin_site.admin_view(self.resolve_view),
                name="relief_objection_resolve",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        items = list(
            current_items()
            .filter(notice__in=notices_for_user(request.user))
            .select_related("application__worker", "notice__town")
            .order_by("notice__starts_on", "pk")
        )
        initial = {
            "received_on": timezone.localdate(),
            "handler": request.user.get_full_name(),
        }
        wanted = request.GET.get("case", "")
        for item in items:
            if str(item.application_id) == wanted:
                initial["application"] = f"{item.application_id}:{item.application.version}"
        form = ObjectionForm(request.POST or None, items=items, initial=initial)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                with handle_conflicts(form) as outcome:
                    objection = objection_record(
                        user=request.user,
                        application=form.chosen(),
                        received_on=data["received_on"],
                        channel=data["channel"],
                        content=data["content"],
                        objector_name=data["objector_name"],
                        objector_contact=data["objector_contact"],
                        handler=data["handler"],
                    )
            except ValidationError as exc:
                _errors_to(form, exc)
            else:
                if outcome.conflict is None:
                    messages.success(
                        request,
                        _(
                            "The objection was recorded. The district cannot approve the case "
                            "until it is resolved."
                        ),
                    )
                    return HttpResponseRedirect(
                        reverse("admin:relief_objection_change", args=[objection.pk])
                    )
        return _form_page(
            self,
            request,
            title=_("Record an objection"),
            form=form,
            intro=_(
                "An objection received against a case on a public notice. What was said and who "
                "said it are seen by the town and the district only, never by caseworkers."
            ),
            submit=_("Record the objection"),
        )

    def resolve_view(self, request, object_id):
        objection = self.get_object(request, unquote(object_id))
        if objection is None:
            raise Http404
        if not has_role(request.user, Role.TOWN_REVIEWER):
            raise PermissionDenied
        change_url = reverse("admin:relief_objection_change", args=[objection.pk])
        if objection.outcome:
            messages.info(request, _("This objection is resolved already."))
            return HttpResponseRedirect(change_url)
        form = ResolveForm(request.POST or None, initial={"resolved_on": timezone.localdate()})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                objection_resolve(
                    user=request.user,
                    objection=objection,
                    outcome=data["outcome"],
                    finding=data["finding"],
                    resolved_on=data["resolved_on"],
                )
            except ValidationError as exc:
                _errors_to(form, exc)
            except (NotAllowed, OutOfScope, Conflict) as exc:
                form.add_error(None, str(exc) or _("Your role cannot do this."))
            else:
                messages.success(request, _("The objection was resolved."))
                return HttpResponseRedirect(change_url)
        intro = _(
            "Objection of %(date)s against %(case)s (notice %(number)s): %(content)s. "
            "Dismissed: the case stays on notice. Upheld: the case is returned to the "
            "caseworker for re-verification, or rejected, with the finding as the reason; "
            "a case recommended again goes on a new notice."
        ) % {
            "date": cn_date(objection.received_on),
            "case": objection.item.application.reference,
            "number": objection.item.notice.number,
            "content": objection.content,
        }
        return _form_page(
            self,
            request,
            title=_("Resolve the objection"),
            form=form,
            intro=intro,
            submit=_("Save the outcome"),
        )
