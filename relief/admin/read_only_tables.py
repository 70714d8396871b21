"""The case page's histories (visits, attachments, decisions, advances, shortfalls, payouts,
follow-ups, notices) as plain read-only tables.

They were read-only inlines: a formset per history, each row a form with hidden inputs,
bound fields and queries of its own (a notice's state, an advance's case, a payout's case):
163 queries and 0.5 s on SQLite for a case with 15 rows in each (bench/case_page.py). Nothing
there was edited (every change is a step with its own form), so here each history is one query
(two with its photos or objections) whatever its length, and each cell is formatted once the
way the admin formats a read-only field (`field_cell`): the page reads exactly as before. The
change form's template draws them in the inlines' own markup (`inline-group`, `tabular`), so
the admin's CSS lays them out as before.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from django.contrib import admin
from django.contrib.admin.templatetags import admin_list
from django.contrib.admin.utils import display_for_field, quote
from django.db.models import Exists, Prefetch
from django.template.defaultfilters import linebreaksbr
from django.urls import NoReverseMatch, reverse
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relief.models import (
    Advance,
    AdvanceShortfall,
    Attachment,
    Disbursement,
    FollowUp,
    HomeVisit,
    NoticeItem,
    Objection,
    ReviewDecision,
)
from relief.services.notices import cn_date, notice_status

# A case's long texts, never shown in a row's link to a payout (Disbursement.__str__).
CASE_TEXTS = ("narrative", "grassroots_opinion")


@dataclass(frozen=True)
class Column:
    name: str  # the old inline's field name: the cells keep their field-<name> classes
    label: str
    cell: Callable  # (row, context) -> safe HTML


@dataclass(frozen=True)
class Table:
    prefix: str  # the old formset's prefix: the group keeps its id, <prefix>-group
    title: str
    columns: list[Column]
    rows: list[list[tuple[str, str]]]  # per row: (column name, cell HTML)
    last: bool = False

    @property
    def html(self) -> str:
        """The old tabular inline's markup (`inline-group`, `tabular`, a row per object with
        its `<prefix>-<n>` id), joined here: the template engine took 10 ms over a long
        case's rows and cells (bench/case_page.py)."""
        head = format_html_join(
            "", '<th class="column-{}">{}</th>', ((c.name, c.label) for c in self.columns)
        )
        body = format_html_join(
            "\n",
            '<tr class="form-row has_original" id="{}-{}"><td class="original"></td>{}'
            '<td class="delete"></td></tr>',
            (
                (
                    self.prefix,
                    i,
                    format_html_join(
                        "", '<td class="field-{}"><p>{}</p></td>', ((n, c) for n, c in row)
                    ),
                )
                for i, row in enumerate(self.rows)
            ),
        )
        return format_html(
            '<div class="inline-group" id="{prefix}-group">'
            '<div class="tabular inline-related{last}">'
            '<fieldset class="module" aria-labelledby="{prefix}-heading">'
            '<h2 id="{prefix}-heading" class="inline-heading">{title}</h2>'
            '<table><thead><tr><th class="original"></th>{head}<th></th></tr></thead>'
            "<tbody>\n{body}\n</tbody></table></fieldset></div></div>",
            prefix=self.prefix,
            last=" last-related" if self.last else "",
            title=self.title,
            head=head,
            body=body,
        )


def field_cell(name: str) -> Callable:
    """A model field's cell as the admin shows a read-only field (AdminReadonlyField.contents):
    choices by label, dates and amounts localised, a related row as a link to its admin page,
    empty as the site's empty value, line breaks kept."""

    def cell(obj, context):
        model_field = obj._meta.get_field(name)
        value = getattr(obj, name)
        if model_field.is_relation and value is not None:
            html = _admin_link(value, context)
        else:
            html = display_for_field(value, model_field, context.empty)
        return conditional_escape(linebreaksbr(html))

    return cell


def _admin_link(obj, context) -> str:
    """A related row as a link to its admin page, where the viewer may open that page: a
    reviewer sees who uploaded a file as a name, not as a link to the user admin that only a
    superuser opens. (Django's read-only fields link without asking.)"""
    opts = obj._meta
    model_admin = admin.site._registry.get(type(obj))
    if model_admin is None or not context.may_view(model_admin):
        return str(obj)
    try:
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)])
    except NoReverseMatch:
        return str(obj)
    return format_html('<a href="{}">{}</a>', url, obj)


def text_cell(value) -> str:
    """What a method column returned: its HTML if it made some, else text with line breaks."""
    if hasattr(value, "__html__"):
        return value
    return conditional_escape(linebreaksbr(value))


def fields(model, *names) -> list[Column]:
    return [
        Column(name, model._meta.get_field(name).verbose_name, field_cell(name)) for name in names
    ]


def column(name: str, label, compute: Callable) -> Column:
    return Column(name, label, lambda obj, context: text_cell(compute(obj, context)))


@dataclass
class Context:
    """What several cells need, read once per page."""

    application: object
    empty: str
    request: object = None
    _may_view: dict = field(default_factory=dict, repr=False)

    def may_view(self, model_admin) -> bool:
        # The admin's own model-level check (for the user admin: superusers only), asked once
        # per model and page, never per row.
        if model_admin not in self._may_view:
            self._may_view[model_admin] = (
                self.request is not None and model_admin.has_view_permission(self.request)
            )
        return self._may_view[model_admin]

    @cached_property
    def notice(self):
        # On the first notice row only: a case never put on a notice asks nothing (its trail,
        # read once by audit_timeline, stays one query).
        return notice_status(self.application)


# --- the method columns of the old inlines -------------------------------------------


def _photos(visit, context):
    return format_html_join(
        " ",
        '<a href="{}">{}</a>',
        (
            (reverse("relief:attachment_download", args=[a.pk]), a.original_name)
            for a in visit.attachments.all()
        ),
    )


def _download(attachment, context):
    return format_html(
        '<a href="{}">{}</a>',
        reverse("relief:attachment_download", args=[attachment.pk]),
        attachment.original_name,
    )


def _minutes_pdf(decision, context):
    # The meeting is the case's town's: whoever reads the case here may print it.
    return format_html(
        '<a href="{}">{}</a>',
        reverse("reports:meeting_minutes", args=[decision.meeting_id]),
        _("Print the minutes"),
    )


def _overdue(advance, context):
    # Looked up when called: unions.apps puts in the icon with a translated alt text.
    return admin_list._boolean_icon(advance.paperwork_overdue())


def _notice_link(item, context):
    return format_html(
        '<a href="{}">{}</a>',
        reverse("admin:relief_publicnotice_change", args=[item.notice_id]),
        item.notice.number,
    )


def _period(item, context):
    return f"{cn_date(item.notice.starts_on)} – {cn_date(item.notice.ends_on)}"


def _notice_state(item, context):
    status = context.notice
    if status.item is None or status.item.pk != item.pk:
        return _("No longer counts: the case was recommended again since.")
    return status.blocks_approval or _("Ended without an unresolved objection.")


def _objections(item, context):
    objections = item.objections.all()  # prefetched, oldest first
    if not objections:
        return _("none")
    return format_html_join(
        mark_safe("<br>"),
        '<a href="{}">{} {}</a>: {}',
        (
            (
                reverse("admin:relief_objection_change", args=[o.pk]),
                cn_date(o.received_on),
                o.get_channel_display(),
                o.get_outcome_display() if o.outcome else _("Not resolved"),
            )
            for o in objections
        ),
    )


# --- the tables, in the page's order ------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    prefix: str
    title: object
    columns: list[Column]
    rows: Callable  # application -> queryset, its related rows read along


SPECS = [
    Spec(
        "home_visits",
        HomeVisit._meta.verbose_name_plural,
        [
            *fields(
                HomeVisit,
                "visit_date",
                "visitors",
                "findings",
                "verified_household_income",
                "verified_monthly_expenses",
            ),
            column("photos", gettext_lazy("Photos"), _photos),
        ],
        lambda case: case.home_visits.prefetch_related(
            Prefetch("attachments", Attachment.objects.only("pk", "original_name", "home_visit"))
        ),
    ),
    Spec(
        "attachments",
        Attachment._meta.verbose_name_plural,
        [
            column("download", gettext_lazy("file"), _download),
            *fields(Attachment, "kind", "size", "uploaded_by", "uploaded_at"),
        ],
        lambda case: case.attachments.select_related("uploaded_by"),
    ),
    Spec(
        "review_decisions",
        gettext_lazy("review meeting decisions"),
        [
            *fields(ReviewDecision, "meeting", "decision", "amount", "comment"),
            column("minutes_pdf", gettext_lazy("minutes (PDF)"), _minutes_pdf),
        ],
        lambda case: case.review_decisions.select_related("meeting__town"),
    ),
    Spec(
        "advances",
        gettext_lazy("emergency advance (先行救助)"),
        [
            *fields(
                Advance,
                "amount",
                "state",
                "basis",
                "reason",
                "phone_findings",
                "granted_by",
                "granted_at",
                "file_due_on",
            ),
            column("overdue", gettext_lazy("paperwork overdue"), _overdue),
            *fields(Advance, "payout"),
        ],
        # The payout's link names its case (Disbursement.__str__): the case comes along,
        # without its long texts.
        lambda case: case.advances.select_related("granted_by", "payout__application").defer(
            *(f"payout__application__{name}" for name in CASE_TEXTS)
        ),
    ),
    Spec(
        "advance_shortfalls",
        gettext_lazy("advance shortfall (borne by the town)"),
        [
            *fields(AdvanceShortfall, "amount", "cause", "advance_amount", "approved_amount"),
            column("borne_by", gettext_lazy("borne by fund"), lambda s, c: s.fund_label),
            *fields(AdvanceShortfall, "recorded_at"),
        ],
        lambda case: case.advance_shortfalls.all(),
    ),
    Spec(
        "disbursements",
        Disbursement._meta.verbose_name_plural,
        fields(
            Disbursement,
            "paid_on",
            "amount",
            "method",
            "fund_source",
            "voucher_no",
            "notes",
            "recorded_by",
        ),
        lambda case: case.disbursements.select_related("recorded_by"),
    ),
    Spec(
        "follow_ups",
        FollowUp._meta.verbose_name_plural,
        fields(FollowUp, "follow_up_date", "method", "findings", "recorded_by"),
        lambda case: case.follow_ups.select_related("recorded_by"),
    ),
    Spec(
        "notice_items",
        gettext_lazy("public notice and objections"),
        [
            column("notice_link", gettext_lazy("public notice"), _notice_link),
            column("period", gettext_lazy("notice period"), _period),
            *fields(NoticeItem, "amount"),
            column("status", gettext_lazy("state"), _notice_state),
            column("objection_list", gettext_lazy("objections"), _objections),
        ],
        lambda case: case.notice_items.select_related("notice__town").prefetch_related(
            Prefetch("objections", Objection.objects.order_by("received_on", "pk"))
        ),
    ),
]


def case_tables(application, request=None) -> list[Table]:
    """Every history of `application`, a fixed number of queries whatever their length. Reading
    through the case's related managers gives each row its case without a query (an advance's
    overdue flag reads the case's state).

    Which histories have any row is asked first, in one query of EXISTS: most cases have no
    advance, shortfall, notice or decision, and each history's own query cost 2-3 ms of the
    page even when empty (the ORM's compiling and a round trip), so only the others are read."""
    context = Context(
        application=application, empty=admin.site.empty_value_display, request=request
    )
    querysets = [spec.rows(application) for spec in SPECS]
    present = (
        type(application)
        .objects.filter(pk=application.pk)
        .values_list(*(Exists(qs.order_by()) for qs in querysets))
        .get()
    )
    return [
        Table(
            prefix=spec.prefix,
            title=capfirst(spec.title),
            columns=[Column(c.name, capfirst(c.label), c.cell) for c in spec.columns],
            rows=[[(c.name, c.cell(obj, context)) for c in spec.columns] for obj in rows]
            if has_rows
            else [],
            last=i == len(SPECS) - 1,
        )
        for i, (spec, rows, has_rows) in enumerate(zip(SPECS, querysets, present, strict=True))
    ]
