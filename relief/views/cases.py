"""The case list, the case page and the state changes a caseworker takes from it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, prefetch_related_objects
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from relief import form_drafts, search, search_tokens, services
from relief import workflow as wf
from relief.errors import Conflict
from relief.forms import AttachmentForm, CaseFilterForm, CommentForm
from relief.models import Application, Attachment, HomeVisit, ProposedChange
from relief.paging import keyset_page
from relief.selectors import application_for_user
from relief.selectors.notices import timeline_for
from relief.services.workers import workers_editable_by
from relief.views.common import caseworker_required, is_caseworker, posted_version
from relief.views.presenters import last_comment, missing_items, state_summary, timeline_rows
from reports.access import case_print_links
from unions.selectors import scope_q

PAGE_SIZE = 20
# The first page counts the list up to this many cases ("more than 1,000" past it): a count is
# the one read of the list that grows with its size, where a page reads PAGE_SIZE + 1 rows.
# With a category chosen each case counted is looked up in the categories table: 200 (a
# 1,000-case count there took 40-200 ms in a town of 110,000 cases, 200 cases 5-15 ms).
LIST_COUNT_CAP = 1_000
LIST_COUNT_CAP_BY_CATEGORY = 200


CASE_LIST_SEARCH = "relief:case_list"
CASE_LIST_FILTERS = ("state", "year", "category")


@login_required
@require_http_methods(["GET", "POST"])
def case_list(request):
    # The search box POSTs (its term may be an ID number); the list is reached with ?s=<token>.
    if request.method == "POST":
        return search_tokens.store_posted_search(request, CASE_LIST_SEARCH, CASE_LIST_FILTERS)
    term, answer = search_tokens.term_for(request, CASE_LIST_SEARCH)
    if answer is not None:
        return answer
    data = request.GET.copy()
    data.pop(search_tokens.TOKEN_VAR, None)
    if term is not None:
        data[search_tokens.SEARCH_VAR] = term
    user = request.user
    form = CaseFilterForm(data, years=case_years())
    cases = case_list_queryset(user)
    filtered = False
    count_cap = LIST_COUNT_CAP
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            cases = search.search_cases(cases, data["q"])
        if data["state"]:
            cases = cases.filter(state=data["state"])
        if data["year"]:
            cases = cases.filter(application_date__year=data["year"])
        if data["category"]:
            cases = cases.filter(categories=data["category"])
            count_cap = LIST_COUNT_CAP_BY_CATEGORY
        filtered = any(data.values())
    # Keyset pages (relief.paging): "older" carries the last row's key, "newer" the first's.
    page = keyset_page(
        cases,
        PAGE_SIZE,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        count_cap=count_cap,
    )
    prefetch_related_objects(page.object_list, "categories")
    return render(
        request,
        "relief/case_list.html",
        {"form": form, "page": page, "cases": page.object_list, "filtered": filtered},
    )


def case_years() -> list[int]:
    """The years a case list offers: from the first case on file to this year (two index
    lookups, where the distinct years of a scope read every case in it)."""
    first = Application.objects.order_by("application_date").values_list(
        "application_date", flat=True
    )[:1]
    this_year = timezone.localdate().year
    start = first[0].year if first else this_year
    return list(range(max(this_year, start), start - 1, -1))


# What a row of the list shows: the case's own columns, the worker's name and ID number (shown
# masked) and no more; never the narrative, the worker's card, health or notes.
CASE_LIST_FIELDS = (
    "reference",
    "state",
    "application_date",
    "requested_amount",
    "recommended_amount",
    "approved_amount",
    "paid_amount",
    "worker__name",
    "worker__id_number",
)


def case_list_queryset(user):
    return (
        Application.objects.filter(scope_q(user, "union"))
        .select_related("worker")
        .only(*CASE_LIST_FIELDS)
        .order_by("-application_date", "-pk")
    )


def case_actions(user, application) -> dict:
    """What this user may do with the case now, by the one table in relief.workflow."""
    state = application.state
    return {
        name: wf.role_may(user, name, state)
        for name in ("edit", "submit", "resubmit", "withdraw", "attach", "home_visit")
    }


def render_case(request, application, *, attachment_form=None, status=200):
    # The home visits are the town's record: shown to the town and the district.
    show_visits = not is_caseworker(request.user)
    prefetch_related_objects(
        [application],
        "worker__household",
        Prefetch("attachments", queryset=Attachment.objects.select_related("uploaded_by")),
        "disbursements",
        *(
            [Prefetch("home_visits", queryset=HomeVisit.objects.prefetch_related("attachments"))]
            if show_visits
            else []
        ),
    )
    rows = timeline_rows(timeline_for(request.user, application))
    actions = case_actions(request.user, application)
    context = {
        "case": application,
        "worker": application.worker,
        # The record's contact details and household belong to the holding union's chain; a
        # case filed elsewhere shows what the intake showed (name, age, holding union).
        "worker_record": workers_editable_by(request.user)
        .filter(pk=application.worker_id)
        .exists(),
        "proposal": ProposedChange.objects.filter(application=application).first(),
        # 先行救助: the advance (not a cancelled one) and, after the decision, its shortfall.
        "advance": application.advances.exclude(state="cancelled")
        .select_related("payout", "granted_by")
        .first(),
        "shortfall": application.advance_shortfalls.first(),
        "summary": state_summary(application),
        "timeline": rows,
        "returned": last_comment(rows, wf.RETURNS) if application.state == wf.S_RETURNED else None,
        "rejected": last_comment(rows, "reject") if application.state == wf.S_REJECTED else None,
        "actions": actions,
        "missing": missing_items(application, reverse("relief:case_edit", args=[application.pk]))
        if application.state == wf.S_DRAFT and actions["edit"]
        else [],
        "any_action": any(actions.values()),
        # The site's upload is the caseworkers' (relief.views.attachments); a reviewer adds
        # files in the admin or with the photos of a home visit, so no form that would 403.
        "attachment_form": attachment_form
        or (
            AttachmentForm(prefix="attach", require_file=True)
            if actions["attach"] and is_caseworker(request.user)
            else None
        ),
        # Printing from where the work is: whoever sees the case prints its approval form;
        # the worker's statement for users whose scope holds the worker (reports.access).
        "print_links": case_print_links(request.user, application),
        "admin_url": reverse("admin:relief_application_change", args=[application.pk])
        if request.user.is_staff
        else "",
        "show_visits": show_visits,
        # Forms the server now has: the phone's kept copies of them go (relief.form_drafts).
        "drafts_saved": form_drafts.pop_saved(request),
    }
    return render(request, "relief/case_detail.html", context, status=status)


@login_required
def case_detail(request, pk):
    return render_case(request, application_for_user(request.user, pk))


def _transition(request, pk, service, done_message):
    application = application_for_user(request.user, pk)
    application.version = posted_version(request)
    comment = CommentForm(request.POST)
    text = comment.cleaned_data["comment"] if comment.is_valid() else ""
    try:
        service(application=application, user=request.user, comment=text)
    except Conflict as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        if wf.role_may(request.user, "edit", application.state):
            return redirect("relief:case_edit", pk=pk)
    else:
        messages.success(request, done_message)
    return redirect("relief:case_detail", pk=pk)


@require_POST
@caseworker_required
def case_submit(request, pk):
    return _transition(
        request, pk, services.application_submit, _("Submitted to the town for review.")
    )


@require_POST
@caseworker_required
def case_resubmit(request, pk):
    return _transition(
        request, pk, services.application_resubmit, _("Resubmitted to the town for review.")
    )


@caseworker_required
def case_withdraw(request, pk):
    """Ask first (a page, so it works without JavaScript), then withdraw."""
    application = application_for_user(request.user, pk)
    if request.method == "POST":
        return _transition(request, pk, services.application_withdraw, _("The case is withdrawn."))
    if not wf.role_may(request.user, "withdraw", application.state):
        messages.error(request, _("This case can no longer be withdrawn."))
        return redirect("relief:case_detail", pk=pk)
    return render(
        request, "relief/case_withdraw.html", {"case": application, "form": CommentForm()}
    )
