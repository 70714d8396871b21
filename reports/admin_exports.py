"""Admin exports too large for one request, written in the background like the ledger.

The admin's export page and its "export selected" actions stream up to
EXPORTS_DIRECT_MAX_ROWS rows; above that, the admin hands over here (`start`): a ReportJob
owned by the requesting user, shown on the reports job page with its progress and downloaded
through the same view (only by that user; a full-ID file is logged each time it leaves).

The request stores the primary keys of the rows it would have exported (the admin's filtered,
searched, ordered queryset), in that order, as ReportJobRow rows: data, never code, so nothing
read back from the database is unpickled or evaluated. The worker reads those rows again in
that order, in chunks, intersected with the user's scope as it is then (a row that left it is
not exported), checks that the user may still export, and masks ID numbers by the same rule
as in the request.
"""

from django.apps import apps
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from privacy import access
from reports.models import ReportJob, ReportJobRow
from reports.tasks import write_export
from tabular import writers

KIND = "admin_export"
BATCH = 5_000  # selected ids inserted per statement


def start(request, model_admin, queryset, resource_class, extension: str, rows: int) -> ReportJob:
    """Queue the export of `queryset` through `resource_class`; the job, for its page."""
    model = model_admin.model
    opts = model._meta
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    # Read whole before writing (300,000 ints: a few MB, briefly), not interleaved with the
    # inserts on one connection.
    ids = list(queryset.values_list("pk", flat=True))
    with transaction.atomic():  # the job and its rows together, before the worker sees it
        job = _create(request, model_admin, resource_class, extension, rows, opts, stamp)
        for start_at in range(0, len(ids), BATCH):
            ReportJobRow.objects.bulk_create(
                ReportJobRow(job=job, position=start_at + i, object_id=pk)
                for i, pk in enumerate(ids[start_at : start_at + BATCH])
            )
    generate_admin_export.enqueue(str(job.pk))
    return job


def _create(request, model_admin, resource_class, extension, rows, opts, stamp) -> ReportJob:
    return ReportJob.objects.create(
        kind=KIND,
        params={
            "model": opts.label,
            "resource": model_admin.get_export_resource_classes(request).index(resource_class),
            "format": extension,
            "full": access.may_see_full(request.user, access.ID_NUMBER),
            "back": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        },
        unit=None,
        requested_by=request.user,
        title=_("%(things)s export %(stamp)s")
        % {"things": opts.verbose_name_plural, "stamp": stamp},
        rows_total=rows,
    )


@task()
def generate_admin_export(job_id: str) -> int:
    job = ReportJob.objects.select_related("requested_by").get(pk=job_id, kind=KIND)
    return write_export(job, lambda partial, progress: write(job, partial, progress))


def write(job: ReportJob, target, progress=None) -> int:
    """The rows of the job's queryset, as its user would have had them in the request."""
    model = apps.get_model(job.params["model"])
    model_admin = admin.site._registry[model]
    request = HttpRequest()  # the admin's rules ask the request for its user, nothing else
    request.user = job.requested_by
    if not model_admin.has_export_permission(request):
        raise PermissionDenied(f"{job.requested_by} may no longer export {model._meta.label}")
    resource_class = model_admin.get_export_resource_classes(request)[job.params["resource"]]
    queryset = selected(job, model_admin.get_queryset(request))
    resource = resource_class(user=job.requested_by)
    if resource.full_id_numbers != job.params.get("full"):
        # The user's rights changed since the request: the download log follows the file.
        job.params["full"] = resource.full_id_numbers
        ReportJob.objects.filter(pk=job.pk).update(params=job.params)
    header = resource.get_export_headers()
    rows = resource.neutral_rows(queryset)
    if job.extension == "csv":
        with open(target, "w", encoding="utf-8", newline="") as fh:
            return writers.write_csv(fh, header, rows, progress=progress)
    return writers.write_xlsx(
        target, header, rows, sheet="台账", widths=model_admin.export_widths, progress=progress
    )


def selected(job: ReportJob, scope):
    """The job's selected rows still within `scope` (the user's, now), in the request's order."""
    position = ReportJobRow.objects.filter(job=job, object_id=OuterRef("pk")).values("position")
    return (
        scope.annotate(export_position=Subquery(position[:1]))
        .filter(export_position__isnull=False)
        .order_by("export_position")
    )
