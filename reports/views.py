"""Report pages: thin views that parse input, check scope (404 outside it) and hand over to
reports.documents / reports.pdf / reports.exports, or to the background task for long ones."""

import io
import tempfile
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseNotAllowed,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.storage import file_response, open_for_download
from privacy import access as privacy_access
from privacy.models import AccessKind
from relief import queues
from relief.models import BatchState
from relief.search_tokens import HttpResponseSeeOther
from reports import access, charts, documents, exports, figures, files, pdf
from reports.forms import (
    LedgerForm,
    PeriodForm,
    StatementForm,
    period_initial,
)
from reports.models import JobStatus, ReportJob
from reports.tasks import generate_ledger_export, generate_payout_report
from tabular import writers


def _pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = _disposition(filename)
    return response


def _disposition(filename: str) -> str:
    """An ASCII fallback name and the Chinese name (RFC 6266) for browsers that take it."""
    suffix = filename.rsplit(".", 1)[-1]
    return f"attachment; filename=\"report.{suffix}\"; filename*=UTF-8''{quote(filename)}"


def _render_simple(template: str, context: dict) -> bytes:
    buf = io.BytesIO()
    pdf.render_simple(template, context, buf)
    return buf.getvalue()


def _year_choices():
    this = timezone.localdate().year
    return list(range(this, this - 10, -1))


def _render_index(
    request,
    *,
    statement_form=None,
    payout_form=None,
    ledger_form=None,
    status=200,
):
    """The reports page; a refused request comes back here with its form as it was sent and
    the message next to the field that caused it."""
    units = list(access.report_units(request.user))
    towns = [u for u in units if u.level == "town"]
    jobs = ReportJob.objects.filter(requested_by=request.user).select_related("unit")[:10]
    default = access.default_unit(request.user)
    return render(
        request,
        "reports/index.html",
        {
            "units": units,
            "towns": towns,
            "default_unit": default,
            "years": _year_choices(),
            "this_year": timezone.localdate().year,
            "payout_form": payout_form or PeriodForm(initial=period_initial()),
            "ledger_form": ledger_form or LedgerForm(initial=period_initial()),
            "jobs": jobs,
            "may_units": access.may_report_on_units(request.user),
            "may_full_ids": privacy_access.may_see_full(request.user, privacy_access.ID_NUMBER),
            "statement_form": statement_form or StatementForm(),
        },
        status=status,
    )


@login_required
@require_GET
def index(request):
    return _render_index(request)


@login_required
@require_POST
def payout_report(request):
    form = PeriodForm(request.POST)
    if not form.is_valid():
        return _render_index(request, payout_form=form, status=400)
    unit = access.unit_for(request.user, form.cleaned_data["unit"])
    period = form.cleaned_data["period"]
    title = f"{unit.name}{period.label()}临时救助金发放汇总表"
    rows = documents.payout_report_row_count(unit, period)
    if rows <= settings.REPORTS_DIRECT_MAX_ROWS:
        buf = io.BytesIO()
        pdf.render_payout_report(unit, period, buf)
        return _pdf_response(buf.getvalue(), f"{title}.pdf")
    job = ReportJob.objects.create(
        kind="payout_report",
        params={"first_year": period.first_year, "last_year": period.last_year},
        unit=unit,
        requested_by=request.user,
        title=title,
        rows_total=rows,
    )
    generate_payout_report.enqueue(str(job.pk))
    return redirect("reports:job", pk=job.pk)


def _job_for(request, pk) -> ReportJob:
    # Another user's job does not exist for this one.
    return get_object_or_404(ReportJob, pk=pk, requested_by=request.user)


@login_required
@require_GET
def job_detail(request, pk):
    job = _job_for(request, pk)
    if request.GET.get("format") == "json":
        return JsonResponse(
            {
                "status": job.status,
                "status_label": job.get_status_display(),
                "percent": job.percent,
                "rows_done": job.rows_done,
                "rows_total": job.rows_total,
                "pages": job.pages,
                "ready": job.status == JobStatus.DONE,
            }
        )
    return render(request, "reports/job.html", {"job": job})


@login_required
@require_GET
def job_download(request, pk):
    job = _job_for(request, pk)
    if job.status != JobStatus.DONE:
        raise Http404
    try:
        handle = open_for_download(files.storage(), job.storage_name)
    except FileNotFoundError:  # deleted by purge_reports, or lost
        raise Http404 from None
    if job.params.get("full"):
        # A file with full ID numbers: logged each time it leaves, before it does.
        if job.unit is None:  # an admin export (reports.admin_exports)
            detail = f"admin {job.params['model']}: {job.title} {job.extension}"
        else:
            detail = f"ledger {job.unit.code} {job.title} {job.extension}"
        try:
            privacy_access.record(
                request,
                AccessKind.FULL_EXPORT,
                obj=job.unit,
                detail=f"{detail}, {job.rows_total} rows",
            )
        except BaseException:
            handle.close()
            raise
    return file_response(
        handle,  # the response closes it
        as_attachment=True,
        filename=job.file_name,
        content_type=job.content_type,
    )


@login_required
@require_http_methods(["GET", "POST"])
def ledger_export(request):
    """The ledger, ID numbers masked; full ones only when asked for by POST (the reports
    page's form) by a user who may see them, and then recorded in the access log."""
    form = LedgerForm(request.POST if request.method == "POST" else request.GET)
    if not form.is_valid():
        return _render_index(request, ledger_form=form, status=400)
    unit = access.unit_for(request.user, form.cleaned_data["unit"])
    period = form.cleaned_data["period"]
    full = form.cleaned_data["full_id_numbers"]
    if full and request.method != "POST":
        return HttpResponseNotAllowed(["POST"])  # no address gives out full numbers
    if full and not privacy_access.may_see_full(request.user, privacy_access.ID_NUMBER):
        raise PermissionDenied
    fmt = form.cleaned_data["format"]
    name = f"{unit.name}{period.label()}临时救助台账"
    rows = exports.row_count(unit, period)
    if request.method == "POST" and rows > settings.EXPORTS_DIRECT_MAX_ROWS:
        # A year of a district: written by the worker, with progress, like long reports.
        job = ReportJob.objects.create(
            kind="ledger_export",
            params={
                "first_year": period.first_year,
                "last_year": period.last_year,
                "format": fmt,
                "full": full,
            },
            unit=unit,
            requested_by=request.user,
            title=name,
            rows_total=rows,
        )
        generate_ledger_export.enqueue(str(job.pk))
        return redirect("reports:job", pk=job.pk)
    if full:
        # Logged before the file leaves; if the log cannot be written, nothing is sent.
        privacy_access.record(
            request,
            AccessKind.FULL_EXPORT,
            obj=unit,
            detail=f"ledger {unit.code} {period.label()} {fmt}, {rows} rows",
        )
    if fmt == "csv":
        # Sent as it is written: memory stays flat whatever the number of rows.
        response = StreamingHttpResponse(
            exports.csv_chunks(unit, period, full=full), content_type=writers.CSV_CONTENT_TYPE
        )
    else:
        # xlsxwriter needs the whole sheet before it can close the zip: written to a
        # temporary file in constant memory, then sent from there (deleted once closed).
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
        try:
            exports.write_xlsx(unit, period, spool, full=full)
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        response = FileResponse(spool, content_type=writers.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = _disposition(f"{name}.{fmt}")
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def public_notice(request):
    """The old free-form 公示名单 (any year's recommended or approved cases over a typed
    period, with masked ID numbers) is gone since public notices are recorded (issue 15): a
    printed list is now always that of a recorded notice, with its number, period and the
    columns the policy allows, never an ID number. Old links and bookmarks land on the list of
    notices, where each notice's page prints its list (`notice_print`)."""
    if not access.may_report_on_units(request.user):
        raise Http404
    return redirect("admin:relief_publicnotice_changelist")


@login_required
@require_GET
def notice_print(request, pk):
    """The list of one recorded public notice (公示), as posted: number, period, phone."""
    notice = access.notice_for(request.user, pk)
    body = _render_simple("reports/pdf/public_notice.html", documents.notice_list(notice))
    return _pdf_response(body, f"{notice.town.name}临时救助公示名单-{notice.number}.pdf")


@login_required
@require_http_methods(["GET", "POST"])
def worker_statement(request):
    """The statement of the worker with the POSTed ID number (never one in the address: it
    would stay in access logs and browser history). A GET shows the form."""
    if request.method != "POST":
        if "id_number" in request.GET:
            messages.error(
                request,
                _(
                    "A worker statement is looked up with the form below, never with the ID "
                    "number in the address: the number in the address was ignored."
                ),
            )
        return HttpResponseSeeOther(reverse("reports:index") + "#statement")
    form = StatementForm(request.POST)
    if not form.is_valid():
        return _render_index(request, statement_form=form, status=400)
    try:
        worker = access.worker_for(request.user, form.cleaned_data["id_number"])
    except Http404:
        # Out of scope and unknown read the same, so the answer tells nothing about anyone.
        form.add_error("id_number", _("No worker with this ID number in your scope."))
        return _render_index(request, statement_form=form, status=404)
    return _statement_pdf(request, worker)


def _statement_pdf(request, worker) -> HttpResponse:
    body = _render_simple("reports/pdf/worker_statement.html", documents.worker_statement(worker))
    _log_document(request, worker, "worker statement")
    return _pdf_response(body, f"个人救助累计明细-{worker.masked_id_number[-4:]}.pdf")


def _log_document(request, obj, what: str, *, kind=AccessKind.DOCUMENT, detail: str = "") -> None:
    """Every printed document about people is in the access log (who, when, which object),
    written before the PDF is sent: if the log cannot be written, nothing is."""
    privacy_access.record(request, kind, obj=obj, detail=f"{what}{': ' + detail if detail else ''}")


@login_required
@require_GET
def worker_statement_of(request, pk):
    """The statement of a worker of the user's scope, from the worker's page (by key: the ID
    number never goes into an address)."""
    return _statement_pdf(request, access.worker_by_pk(request.user, pk))


@login_required
@require_GET
def approval_form(request, pk):
    application = access.application_for(request.user, pk)
    # Objections are the town's and the district's (never the caseworkers').
    context = documents.approval_form(
        application, with_objections=access.may_report_on_units(request.user)
    )
    body = _render_simple("reports/pdf/approval_form.html", context)
    _log_document(request, application, "approval form")
    return _pdf_response(body, f"临时救助申请审批表-{application.reference}.pdf")


@login_required
@require_GET
def meeting_minutes(request, pk):
    """研讨会纪要 of a review meeting: town reviewers (their town), district officers and
    administrators; another role 403, a meeting outside the scope 404."""
    meeting = access.meeting_for(request.user, pk)
    context = documents.meeting_minutes(meeting)
    body = _render_simple("reports/pdf/meeting_minutes.html", context)
    _log_document(request, meeting, "meeting minutes", detail=f"{context['count']} cases")
    return _pdf_response(body, f"{meeting.town.name}研讨会纪要-{meeting.meeting_date:%Y%m%d}.pdf")


@login_required
@require_http_methods(["GET", "POST"])
def payment_list(request, pk):
    """发放清单 of a payment batch. GET: the archive copy, names, ID and card numbers masked,
    for whoever may read the batch. POST: the bank's copy with full names and card numbers, for
    the users the bank file is for (privacy.access.may_see_full(user, BANK_FILE): district
    officers), logged like the bank file; never by an address alone, never for a cancelled
    batch. ID numbers are masked on both: a transfer needs the name and the account."""
    batch = access.batch_for(request.user, pk)
    full = request.method == "POST"
    if full and not privacy_access.may_see_full(request.user, privacy_access.BANK_FILE):
        raise PermissionDenied
    if full and batch.state == BatchState.CANCELLED:
        messages.error(request, _("A cancelled batch pays nobody: there is no bank copy to print."))
        return HttpResponseSeeOther(reverse("admin:relief_paymentbatch_change", args=[batch.pk]))
    context = documents.payment_list(batch, full_cards=full)
    body = _render_simple("reports/pdf/payment_list.html", context)
    references = " ".join(r["reference"] for r in context["rows"])
    if full:
        _log_document(
            request, batch, "payment list, bank copy", kind=AccessKind.BANK_FILE, detail=references
        )
    else:
        _log_document(request, batch, "payment list", detail=references)
    suffix = "-银行联" if full else ""
    response = _pdf_response(body, f"临时救助金发放清单-{batch.reference}{suffix}.pdf")
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def approval_form_by_reference(request):
    """The approval form of a case found by its reference (XQ-2024-0007), within scope."""
    reference = (request.GET.get("reference") or "").strip().upper()
    application = access.application_by_reference(request.user, reference)
    return redirect("reports:approval_form", pk=application.pk)


@login_required
@require_GET
def dashboard(request):
    if not access.may_report_on_units(request.user):
        raise Http404
    this_year = timezone.localdate().year
    code = request.GET.get("unit")
    unit = access.unit_for(request.user, code) if code else access.default_unit(request.user)
    if unit is None:
        raise Http404
    try:
        since = int(request.GET.get("since") or this_year - 4)
    except ValueError:
        since = this_year - 4
    since = max(2000, min(since, this_year))
    data = figures.dashboard_figures(unit, since, this_year)
    summary = data["summary"]
    overdue = queues.overdue_by_town(request.user, unit=unit)
    # 先行救助 whose file is overdue, in this unit (and the user's scope): the admin lists them.
    from relief.selectors.advances import overdue_advances

    overdue_advance_count = (
        overdue_advances(request.user)
        .filter(application__union__path__startswith=unit.path)
        .count()
    )
    return render(
        request,
        "reports/dashboard.html",
        {
            "unit": unit,
            "units": access.unit_choices(request.user, unit),
            "since": since,
            "this_year": this_year,
            "years": list(range(this_year, this_year - 15, -1)),
            "period": data["period"],
            "summary": summary,
            "overdue_advances": overdue_advance_count,
            "year_chart": charts.bar_chart_svg(summary.by_time, title=""),
            "union_chart": charts.bar_chart_svg(summary.by_union, title="")
            if summary.by_union
            else "",
            "overdue_towns": [
                {"town": town, "count": overdue.get(town.pk, 0)} for town in _towns_under(unit)
            ],
            "overdue_total": sum(overdue.values()),
        },
    )


def _towns_under(unit):
    """The towns a unit's figures cover: its own (a town or grassroots union) or all of them."""
    from unions.models import Level, Union

    if unit.level == Level.DISTRICT:
        return list(Union.objects.filter(level=Level.TOWN, path__startswith=unit.path))
    return [unit.town]


@login_required
@require_GET
def overdue_report(request):
    """超期待办清单: every case in the unit (a town sees its own, the district all towns) whose
    current step is past its deadline, by town, as a PDF to print."""
    if not access.may_report_on_units(request.user):
        raise Http404
    code = request.GET.get("unit")
    unit = access.unit_for(request.user, code) if code else access.default_unit(request.user)
    if unit is None:
        raise Http404
    today = timezone.localdate()
    context = documents.overdue_list(request.user, unit, today)
    body = _render_simple("reports/pdf/overdue.html", context)
    return _pdf_response(body, f"{unit.name}超期待办清单-{today:%Y%m%d}.pdf")
