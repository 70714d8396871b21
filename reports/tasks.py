"""Background generation of long reports and large exports (django-tasks, database backend).

The view creates a ReportJob and enqueues `generate_payout_report` or
`generate_ledger_export` (the admin's large exports: reports.admin_exports); a worker started with
`manage.py db_worker` renders it, writing its progress to the job row after each chunk so the
page can show it, and the file where the download view finds it.
"""

import logging
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from config.replica import reports_from_replica
from reports import exports, files, pdf
from reports.figures import Period
from reports.models import JobStatus, ReportJob

log = logging.getLogger(__name__)


@task()
def generate_payout_report(job_id: str) -> int:
    job = ReportJob.objects.select_related("unit").get(pk=job_id)
    ReportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)

    def progress(done: int, total: int) -> None:
        ReportJob.objects.filter(pk=job.pk).update(rows_done=done, rows_total=total)

    period = Period(job.params["first_year"], job.params["last_year"])
    try:
        # The figures from the replica, if there is one; progress is written to the primary.
        with files.rendered_into(job.storage_name) as partial, reports_from_replica():
            result = pdf.render_payout_report(job.unit, period, partial, progress=progress)
    except Exception as exc:
        _failed(job, exc)
        raise
    ReportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.DONE,
        rows_done=result["rows"],
        rows_total=result["rows"],
        pages=result["pages"],
        finished_at=timezone.now(),
    )
    _purge_old()
    return result["pages"]


@task()
def generate_ledger_export(job_id: str) -> int:
    """The ledger as XLSX or CSV, written row by row to the job's file (constant memory).

    Full ID numbers (params["full"]) were allowed when the job was made; the download view
    records them in the access log when the file leaves.
    """
    job = ReportJob.objects.select_related("unit").get(pk=job_id)
    period = Period(job.params["first_year"], job.params["last_year"])
    full = bool(job.params.get("full"))

    def write(partial: Path, progress) -> int:
        if job.extension == "csv":
            with open(partial, "w", encoding="utf-8", newline="") as fh:
                return exports.write_csv(job.unit, period, fh, full=full, progress=progress)
        return exports.write_xlsx(job.unit, period, partial, full=full, progress=progress)

    return write_export(job, write)


def write_export(job: ReportJob, write: Callable[[Path, Callable[[int], None]], int]) -> int:
    """Run `write(partial_path, progress)`; the file appears under its name only when whole."""
    ReportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)

    def progress(done: int) -> None:
        ReportJob.objects.filter(pk=job.pk).update(rows_done=done)

    try:
        with files.rendered_into(job.storage_name) as partial:
            rows = write(partial, progress)
    except Exception as exc:
        _failed(job, exc)
        raise
    ReportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.DONE, rows_done=rows, rows_total=rows, finished_at=timezone.now()
    )
    _purge_old()
    return rows


def _purge_old() -> None:
    """After each report: delete the jobs and files older than REPORT_FILES_KEEP_DAYS
    (reports.files.purge, through the storage). Files are only added here, so purging here
    keeps the folder or bucket bounded without a cron job; a failure is logged, not raised."""
    try:
        jobs, removed = files.purge(settings.REPORT_FILES_KEEP_DAYS)
    except Exception:
        log.exception("purging old report files failed")
        return
    if jobs or removed:
        log.info("purged %d old report jobs and %d files", jobs, removed)


def _failed(job: ReportJob, exc: Exception) -> None:
    log.exception("report job %s failed", job.pk)
    ReportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
    )
