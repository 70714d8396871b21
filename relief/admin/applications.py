"""Cases in the admin: the scoped list, the case page with its buttons, imports and exports.

Nothing here sets a state or an amount: the buttons call the services (a home visit is
recorded on its own page, relief.views.visits), the ledger import calls relief.services.ledger.
"""

from dataclasses import dataclass

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.defaultfilters import linebreaksbr
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import escape, format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from relief import idempotency, search, search_tokens
from relief import workflow as wf
from relief.admin.actions import ACTIONS, KIND_ORDER, available_actions, label, step_kind
from relief.admin.base import (
    CaseTownFilter,
    CaseUnionFilter,
    CategoryFilter,
    NotFoundOutsideScope,
    SimpleFilterLookups,
    YearChoicesFilter,
    is_changelist,
)
from relief.admin.imports import (
    ApplicationExportResource,
    LedgerResource,
    PayoutExportResource,
    ServiceImportExportMixin,
)
from relief.admin.read_only_tables import case_tables
from relief.admin.result_table import FastResultListMixin
from relief.admin_search import TokenSearchMixin, is_autocomplete
from relief.conflicts import handle_conflicts, stale_text
from relief.idcard import mask_id_number
from relief.models import (
    Application,
    ApplicationState,
    AuditEntry,
    HardshipCategory,
    ProposedChange,
    Worker,
)
from relief.paging import CappedPaginator
from relief.selectors import applications_for_user
from relief.services.caps import amount_context
from reports.access import case_print_links
from unions.selectors import scope_q, union_in_scope

# The columns of the case list: never the narrative, the payout card or the worker's card,
# health or notes (issue 16).
CHANGELIST_FIELDS = (
    "reference",
    "state",
    "application_date",
    "requested_amount",
    "recommended_amount",
    "approved_amount",
    "union__name",
    "worker",
)


# The list's worker and category columns are read for the page's rows by key, after the rows
# are chosen: joined, the planner fetched the worker of every matching case before its top-N
# sort whenever it misjudged how many there were (1,373 for a town's submitted cases). As plain
# values, not Django's prefetch: its model instances and a related manager per row were a tenth
# of the list's time (bench/RESULTS.md, session 27).


def page_workers(rows) -> dict[int, tuple[str, str]]:
    """Worker key -> (name, masked ID number) for these cases."""
    keys = {row.worker_id for row in rows}
    if not keys:
        return {}
    found = Worker.objects.filter(pk__in=keys).values_list("pk", "name", "id_number")
    return {pk: (name, mask_id_number(number)) for pk, name, number in found}


def page_categories(rows) -> dict[int, list[str]]:
    """Case key -> its hardship categories' names, in the categories' own order."""
    keys = [row.pk for row in rows]
    names: dict[int, list[str]] = {}
    if not keys:
        return names
    # From the categories' side, so their own Meta.ordering applies as in case.categories.all().
    found = HardshipCategory.objects.filter(applications__in=keys).values_list(
        "applications", "name"
    )
    for case, name in found:
        names.setdefault(case, []).append(name)
    return names


@dataclass(frozen=True)
class AuditRow:
    """One line of the case page's timeline: what the audit inline showed, as text."""

    at: object
    actor: str
    action: str
    from_state: str
    to_state: str
    comment: str
    source: str


def audit_timeline(application) -> list[AuditRow]:
    """The case's audit trail, oldest first, in one query and one template loop (issue 16):
    a read-only inline of 40 entries rendered 280 admin cells, most of a long case's page.
    The actor is named, not linked (their user page is not a reviewer's); nothing here is
    personal beyond the comments the services recorded, as in the inline before."""
    entries = (
        AuditEntry.objects.filter(application=application)
        .select_related("actor")
        .only(
            "at",
            "action",
            "from_state",
            "to_state",
            "comment",
            "changes",
            "source",
            "actor__username",
            "actor__full_name",
        )
        .order_by("at", "pk")
    )
    return [
        AuditRow(
            at=entry.at,
            actor=str(entry.actor),
            action=str(wf.TRANSITION_LABELS.get(entry.action, entry.action)),
            from_state=_state_label(entry.from_state),
            to_state=_state_label(entry.to_state),
            comment=_comment_text(entry),
            source=entry.source,
        )
        for entry in entries
    ]


def timeline_html(rows: list[AuditRow]) -> str:
    """The timeline in the read-only inline's markup, joined here rather than by a template
    loop (10 ms of a long case's page: a localised time and seven cells per row)."""
    if not rows:
        return ""
    headings = [
        ("at", _("at")),
        ("actor", _("by")),
        ("action", _("action")),
        ("from", _("from state")),
        ("to", _("to state")),
        ("comment", _("comment")),
        ("source", _("source")),
    ]
    body = format_html_join(
        "\n",
        '<tr class="{}"><td class="field-at">{}</td><td class="field-actor">{}</td>'
        '<td class="field-action">{}</td><td class="field-from">{}</td>'
        '<td class="field-to">{}</td><td class="field-comment">{}</td>'
        '<td class="field-source">{}</td></tr>',
        (
            (
                "row2" if i % 2 else "row1",
                formats.localize(timezone.localtime(row.at)),
                row.actor,
                row.action,
                row.from_state,
                row.to_state,
                linebreaksbr(row.comment, autoescape=True),
                row.source,
            )
            for i, row in enumerate(rows)
        ),
    )
    return format_html(
        '<div class="inline-group" id="timeline-group" data-testid="admin-timeline">'
        '<div class="tabular inline-related"><fieldset class="module"><h2>{}</h2>'
        "<table><thead><tr>{}</tr></thead><tbody>\n{}\n</tbody></table></fieldset></div></div>",
        _("timeline"),
        format_html_join("", '<th class="column-{}">{}</th>', headings),
        body,
    )


def _comment_text(entry) -> str:
    reason = (entry.changes or {}).get("amount_reason")
    if reason and reason[1]:
        return f"{entry.comment} ({_('Above the request because:')} {reason[1]})".strip()
    return entry.comment


def _state_label(state: str) -> str:
    # By value (a dict look-up), not `in ApplicationState.values`: that list is built anew
    # at each call, twice per timeline row.
    try:
        return ApplicationState(state).label
    except ValueError:
        return state


@admin.register(Application)
class ApplicationAdmin(
    FastResultListMixin,
    SimpleFilterLookups,
    NotFoundOutsideScope,
    TokenSearchMixin,
    ServiceImportExportMixin,
    admin.ModelAdmin,
):
    # What a reviewer scans first, first: which case, whose, where it stands, since when; then
    # where it comes from and the money. Sized for a 1,366 px laptop (tests/browser/
    # test_admin_layout.py): the masked ID number goes under the name, not in a column of its
    # own, and the list has no navigation sidebar (changelist_view).
    list_display = [
        "reference",
        "worker_name",
        "state_badge",
        "application_date",
        "union",
        "category_names",
        "requested_amount",
        "recommended_amount",
        "approved_amount",
    ]
    # Choice lists that read the union and category tables, not every case in scope; no date
    # hierarchy (its year and month lists each read every case in scope); no full count, and
    # a count capped at relief.paging.COUNT_CAP (issue 16).
    list_filter = ["state", CaseTownFilter, CaseUnionFilter, YearChoicesFilter, CategoryFilter]
    search_fields = ["reference", "worker__name", "=worker__id_number"]
    search_help_text = gettext_lazy(
        "Full ID number or its last digits, reference, or name (three characters anywhere, "
        "one or two at the start or end)"
    )
    list_select_related = ["worker", "union"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # counts per choice would read every row
    paginator = CappedPaginator
    # 50 rows, not Django's 100: rendering each row's cells is most of the page's time on a
    # large data set (bench/RESULTS.md), and a reviewer filters or searches anyway. The first
    # page and its count are one query (CappedPaginator), whether the list pages or not.
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["reference", "state_badge", "worker_summary", "union", "filed_by"]}),
        (
            gettext_lazy("The caseworker's facts"),
            {
                "fields": [
                    "application_date",
                    "category_names",
                    "narrative",
                    "grassroots_opinion",
                    "household_monthly_income",
                    "monthly_medical_expenses",
                    "household_table",
                ]
            },
        ),
        (
            gettext_lazy("Amounts"),
            {
                "fields": [
                    "policy",
                    "requested_amount",
                    "recommended_amount",
                    "approved_amount",
                    "paid_amount",
                    "advance_amount",
                ]
            },
        ),
        (
            gettext_lazy("Payout account"),
            {"fields": ["payout_account", "proposal_summary"]},
        ),
    ]
    readonly_fields = [
        "payout_account",
        "proposal_summary",
        "reference",
        "state_badge",
        "worker_summary",
        "union",
        "filed_by",
        "application_date",
        "category_names",
        "narrative",
        "grassroots_opinion",
        "household_monthly_income",
        "monthly_medical_expenses",
        "household_table",
        "policy",
        "requested_amount",
        "recommended_amount",
        "approved_amount",
        "paid_amount",
        "advance_amount",
    ]
    # No inlines: the case's histories and its timeline are read-only tables drawn by the
    # change form's template (relief.admin.read_only_tables, audit_timeline), where inlines
    # cost a form per row and queries per row.
    import_resource_classes = [LedgerResource]
    export_resource_classes = [ApplicationExportResource, PayoutExportResource]

    class Media:
        css = {"all": ["css/admin.css"]}

    def get_queryset(self, request):
        if is_changelist(request, self):
            return (
                Application.objects.filter(scope_q(request.user, "union"))
                .select_related("union")
                .only(*CHANGELIST_FIELDS)
                # The page's workers and categories are read by fast_list_cells, for the rows
                # shown only.
            )
        # The case page names who filed it and asks whether the viewer holds the worker too:
        # both from this one query.
        return applications_for_user(request.user).select_related("created_by", "worker__union")

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        if is_autocomplete(request):
            # By name only: no autocomplete searches by an ID number (relief.admin_search).
            if search_tokens.looks_like_id_number(search_term):
                return queryset.none(), False
            return queryset.filter(search.name_q(search_term, "worker__name")), False
        return search.search_cases(queryset, search_term), False

    def get_object(self, request, object_id, from_field=None):
        page = getattr(request, "_case_page_object", None)
        if page is not None and from_field is None and page[0] == object_id:
            # The case page's own second read of the case (Django's change_view after ours,
            # below): the object read a moment ago in this request, not its four queries again.
            return page[1]
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            # Per request, on the object (the ModelAdmin is shared between threads).
            obj.viewer_holds_worker = union_in_scope(request.user, obj.worker.union)
        return obj

    # --- permissions: viewing by group and scope; every change is a button (a service form).

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    # --- columns

    @admin.display(description=gettext_lazy("worker"), ordering="worker__name")
    def worker_name(self, obj):
        return format_html(
            '{}<span class="list-id">{}</span>', obj.worker.name, obj.worker.masked_id_number
        )

    @admin.display(description=gettext_lazy("hardship categories"))
    def category_names(self, obj):
        return "、".join(c.name for c in obj.categories.all())

    @admin.display(description=gettext_lazy("state"), ordering="state")
    def state_badge(self, obj):
        return format_html(
            '<span class="state state-{}">{}</span>', obj.state, obj.get_state_display()
        )

    def fast_list_cells(self, cl):
        """The method columns above, as relief.admin.result_table builds them once per page:
        the same HTML, with the state badges made once per state, and the page's workers and
        categories read by key for its rows (page_workers, page_categories)."""
        empty = escape(self.get_empty_value_display())
        badges: dict[str, str] = {}
        rows = list(cl.result_list)
        workers = page_workers(rows)
        categories = page_categories(rows)

        def worker_name(obj):
            name, masked = workers[obj.worker_id]
            return f'{escape(name)}<span class="list-id">{escape(masked)}</span>'

        def state_badge(obj):
            state = obj.state
            if state not in badges:
                badges[state] = self.state_badge(obj)
            return badges[state]

        def category_names(obj):
            names = "、".join(categories.get(obj.pk, ()))
            return escape(names) if names.strip() else empty

        return {
            "worker_name": worker_name,
            "state_badge": state_badge,
            "category_names": category_names,
        }

    @admin.display(description=gettext_lazy("filed by"))
    def filed_by(self, obj):
        # The caseworker's name, not Django's link to the user admin that only a superuser
        # may open.
        return str(obj.created_by)

    @admin.display(description=gettext_lazy("worker"))
    def worker_summary(self, obj):
        worker = obj.worker
        if not getattr(obj, "viewer_holds_worker", False):
            # Held by a union outside this user's scope: no link to a record they cannot open.
            return format_html(
                "{} {} · {} · {}",
                worker.name,
                worker.masked_id_number,
                worker.get_gender_display(),
                _("record held by %(union)s") % {"union": worker.union.name},
            )
        return format_html(
            '<a href="{}">{}</a> {} · {}',
            reverse("admin:relief_worker_change", args=[worker.pk]),
            worker.name,
            worker.masked_id_number,
            worker.get_gender_display(),
        )

    @admin.display(description=gettext_lazy("Payout account for this case"))
    def payout_account(self, obj):
        if obj.payout_card:
            return " ".join(
                p
                for p in (obj.payout_bank_name, obj.payout_bank_branch, obj.masked_payout_card)
                if p
            )
        return _(
            "Fixed when the district approves the case (the card on file, or a confirmed proposal)."
        )

    @admin.display(description=gettext_lazy("Proposed with this case"))
    def proposal_summary(self, obj):
        proposal = ProposedChange.objects.filter(application=obj).first()
        if proposal is None:
            return "—"
        return f"{proposal.summary()} · {proposal.get_status_display()} ({proposal.proposed_by})"

    @admin.display(description=gettext_lazy("household"))
    def household_table(self, obj):
        members = list(obj.worker.household.all())
        if not members:
            return _("No household members on file.")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    m.relation,
                    m.name,
                    m.current_age if m.current_age is not None else "",
                    m.health,
                    m.occupation,
                    m.monthly_income,
                )
                for m in members
            ),
        )
        header = format_html(
            "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            _("relation"),
            pgettext("person", "name"),
            _("age"),
            _("health condition"),
            _("school or job"),
            _("monthly income"),
        )
        return format_html('<table class="household">{}{}</table>', header, rows)

    def changelist_view(self, request, extra_context=None):
        # The admin's navigation sidebar takes 300 px of a 1,366 px laptop screen and repeats
        # the home page; the case list needs the width for its columns and filters.
        extra_context = {"is_nav_sidebar_enabled": False, **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    # --- the case page and its buttons

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        request._case_page_object = (unquote(object_id), obj)
        # No navigation sidebar here either: the case's tables and timeline take the width,
        # and its every model link (a district officer's thirty) was a tenth of the page's
        # time. The breadcrumbs lead back to the list and home.
        extra_context = {"is_nav_sidebar_enabled": False, **(extra_context or {})}
        if obj is not None:
            actions = [
                (name, label_text, reverse("admin:relief_application_act", args=[obj.pk, name]))
                for name, label_text in available_actions(request.user, obj)
            ]
            extra_context["case_actions"] = [(label_text, url) for _n, label_text, url in actions]
            extra_context["case_steps"] = case_steps(request.user, obj, actions)
            extra_context["print_links"] = case_print_links(
                request.user, obj, holds_worker=obj.viewer_holds_worker
            )
            extra_context["history_tables"] = case_tables(obj, request)
            extra_context["audit_timeline"] = audit_timeline(obj)
            extra_context["audit_timeline_html"] = timeline_html(extra_context["audit_timeline"])
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/act/<str:action>/",
                self.admin_site.admin_view(self.action_view),
                name="relief_application_act",
            ),
            *super().get_urls(),
        ]

    def action_view(self, request, object_id, action):
        spec = ACTIONS.get(action)
        obj = self.get_object(request, unquote(object_id))
        if spec is None or obj is None:
            raise Http404
        # The workflow table decides, whatever was posted: no form, no service call. A role
        # that never takes this step is refused (403); a step the role takes but the case has
        # moved past (approved, paid by someone else) is explained on the case page.
        if not wf.role_has(request.user, action):
            raise PermissionDenied
        case_url = reverse("admin:relief_application_change", args=[obj.pk])
        # A money form sent again with the key of one already recorded (a retry after a lost
        # response): say so and write nothing. Before the state check: the first payout may
        # have moved the case on.
        if request.method == "POST" and idempotency.already_made(
            request.user, idempotency.posted_key(request)
        ):
            messages.info(request, idempotency.replay_message())
            return HttpResponseRedirect(case_url)
        if not wf.role_may(request.user, action, obj.state):
            messages.error(request, stale_text(obj, action))
            return HttpResponseRedirect(reverse("admin:relief_application_change", args=[obj.pk]))
        extra = {"application": obj} if getattr(spec.form, "needs_application", False) else {}
        form = spec.form(
            request.POST or None, request.FILES or None, initial={"version": obj.version}, **extra
        )
        if request.method == "POST" and form.is_valid():
            obj.version = form.cleaned_data["version"]
            try:
                with handle_conflicts(form) as outcome:
                    _made, created = idempotency.once(
                        request.user,
                        form.cleaned_data.get(idempotency.FIELD, ""),
                        lambda: spec.service(
                            application=obj,
                            user=request.user,
                            source="admin",
                            **form.service_kwargs(),
                        ),
                    )
                    if not created:
                        messages.info(request, idempotency.replay_message())
                        return HttpResponseRedirect(case_url)
            except ValidationError as exc:
                _errors_to_form(form, exc)
            else:
                # On a conflict the form is shown again with the message (who changed the case
                # and when); it keeps the version it was loaded with, so only a reload retries.
                if outcome.conflict is None:
                    messages.success(request, _("%(action)s: done.") % {"action": label(action)})
                    return HttpResponseRedirect(
                        reverse("admin:relief_application_change", args=[obj.pk])
                    )
        context = {
            **self.admin_site.each_context(request),
            "amounts": amount_context(obj) if getattr(spec.form, "shows_amounts", False) else None,
            "title": f"{label(action)} · {obj.reference}",
            "opts": self.opts,
            "original": obj,
            "form": form,
            "action_label": label(action),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/relief/application/action.html", context)


def case_steps(user, obj, actions) -> list[dict]:
    """The steps this user may take on this case now, as the buttons at the top of its page:
    the workflow's steps and, where the user may record one, a home visit (the form below)."""
    steps = [
        {"name": name, "label": label_text, "url": url, "kind": step_kind(name)}
        for name, label_text, url in actions
    ]
    if wf.role_may(user, "home_visit", obj.state):
        steps.append(
            {
                "name": "home_visit",
                "label": _("Record a home visit"),
                # Its own page, made for a phone (relief.views.visits); back here afterwards.
                "url": reverse("relief:visit_new", args=[obj.pk]) + "?back=admin",
                "kind": "secondary",
            }
        )
    return sorted(steps, key=lambda step: KIND_ORDER[step["kind"]])


def _errors_to_form(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        aliases = getattr(form, "error_fields", {})
        for field, errors in exc.message_dict.items():
            field = aliases.get(field, field)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
