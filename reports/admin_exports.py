"""Admin exports too large for one request, written in the background like the ledger.

The admin's export page and its "export selected" actions stream up to
EXPORTS_DIRECT_MAX_ROWS rows; above that, the admin hands over here (`start`): a ReportJob
owned by the requesting user, shown on the reports job page with its progress and downloaded
through the same view (only by that user; a full-ID file is logged each time it leaves).

The job carries the admin queryset's query (pickled, as Django documents for re-creating a
queryset; written and read only by the server), so the worker writes exactly the filter,
search or selection the user exported, in the same order. The worker intersects it again
with the user's scope as it is then, checks that the user may still export, and masks ID
numbers by the same rule as in the request.
"""

import base64
import pickle

from django.apps import apps
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from privacy import access
from reports.models import ReportJob
from reports.tasks import write_export
from tabular import writers

KIND = "admin_export"


def start(request, model_admin, queryset, resource_class, extension: str, rows: int) -> ReportJob:
    """Queue the export of `queryset` through `resource_class`; the job, for its page."""
    model = model_admin.model
    opts = model._meta
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    job = ReportJob.objects.create(
        kind=KIND,
        params={
            "model": opts.label,
            "resource": model_admin.get_export_resource_classes(request).index(resource_class),
            "format": extension,
            "full": access.may_see_full(request.user, access.ID_NUMBER),
            "query": base64.b64encode(pickle.dumps(queryset.query)).decode("ascii"),
            "back": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        },
        unit=None,
        requested_by=request.user,
        title=_("%(things)s export %(stamp)s")
        % {"things": opts.verbose_name_plural, "stamp": stamp},
        rows_total=rows,
    )
    generate_admin_export.enqueue(str(job.pk))
    return job


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
    queryset = model._default_manager.all()
    queryset.query = pickle.loads(base64.b64decode(job.params["query"]))  # noqa: S301 - ours
    queryset = queryset.filter(pk__in=model_admin.get_queryset(request).values("pk"))
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
