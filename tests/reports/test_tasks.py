"""Long reports: a job is queued in the database, a db_worker renders it, the owner downloads it."""

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from reports.models import JobStatus, ReportJob

# Transactional: the worker closes and reopens database connections between tasks, which
# PostgreSQL refuses inside the test's usual wrapping transaction; the serialized rollback
# puts the seeded categories and policy back for the tests that follow.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def background(settings, tmp_path):
    settings.REPORTS_DIRECT_MAX_ROWS = 0  # every report goes to the background
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_long_report_is_queued_rendered_by_the_worker_and_downloaded(
    client, people, payouts, background
):
    client.force_login(people.erin)
    response = client.post(reverse("reports:payout_report"), {"unit": "NH", "year": 2023})
    job = ReportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:job", args=[job.pk])
    assert (job.status, job.rows_total, job.requested_by) == (JobStatus.QUEUED, 4, people.erin)
    assert DBTaskResult.objects.count() == 1

    status = client.get(reverse("reports:job", args=[job.pk]), {"format": "json"}).json()
    assert (status["status"], status["ready"], status["percent"]) == ("queued", False, 0)
    assert client.get(reverse("reports:job_download", args=[job.pk])).status_code == 404

    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)

    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    assert (job.rows_done, job.pages) == (4, 2)
    status = client.get(reverse("reports:job", args=[job.pk]), {"format": "json"}).json()
    assert (status["ready"], status["percent"]) == (True, 100)
    page = client.get(reverse("reports:job", args=[job.pk])).content.decode()
    assert reverse("reports:job_download", args=[job.pk]) in page
    download = client.get(reverse("reports:job_download", args=[job.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")


def test_someone_elses_job_does_not_exist(client, people, payouts, background):
    client.force_login(people.erin)
    client.post(reverse("reports:payout_report"), {"unit": "XQ", "year": 2023})
    job = ReportJob.objects.get()
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    client.force_login(people.carol)  # may see XQ, but did not ask for this job
    assert client.get(reverse("reports:job", args=[job.pk])).status_code == 404
    assert client.get(reverse("reports:job_download", args=[job.pk])).status_code == 404


def test_a_failed_render_marks_the_job(client, people, payouts, background, monkeypatch):
    from reports import pdf

    def broken(*args, **kwargs):
        raise RuntimeError("no fonts")

    monkeypatch.setattr(pdf, "render_payout_report", broken)
    client.force_login(people.erin)
    client.post(reverse("reports:payout_report"), {"unit": "NH", "year": 2023})
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    job = ReportJob.objects.get()
    assert job.status == JobStatus.FAILED
    assert "no fonts" in job.error
    assert not default_storage.exists(job.storage_name)
    assert not any((background / "reports").iterdir())  # nor a work file left behind


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_large_ledger_export_is_written_by_the_worker_and_logged_when_downloaded(
    client, people, payouts, settings, tmp_path, fmt
):
    import csv
    import io

    from openpyxl import load_workbook

    from privacy.models import AccessLog

    settings.EXPORTS_DIRECT_MAX_ROWS = 2  # XQ has 3 payouts in 2023: to the background
    settings.MEDIA_ROOT = tmp_path
    client.force_login(people.erin)
    response = client.post(
        reverse("reports:ledger"),
        {"unit": "XQ", "year": 2023, "format": fmt, "full_id_numbers": "on"},
    )
    job = ReportJob.objects.get()
    assert response["Location"] == reverse("reports:job", args=[job.pk])
    assert (job.kind, job.rows_total, job.extension) == ("ledger_export", 3, fmt)
    assert not AccessLog.objects.exists()  # nothing has left yet

    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)

    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    assert (job.rows_done, job.percent) == (3, 100)
    page = client.get(reverse("reports:job", args=[job.pk])).content.decode()
    assert "下载文件" in page or "Download the file" in page
    download = client.get(reverse("reports:job_download", args=[job.pk]))
    assert download.status_code == 200
    assert (
        download["Content-Disposition"].endswith(f'.{fmt}"')
        or f".{fmt}" in download["Content-Disposition"]
    )
    data = b"".join(download.streaming_content)
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    else:
        rows = [list(r) for r in load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)]
    assert len(rows) == 4 and payouts.w1.id_number in {r[1] for r in rows}
    entry = AccessLog.objects.get()
    assert (entry.user, entry.kind) == (people.erin, "full_export")
    assert entry.detail.endswith(f"{fmt}, 3 rows")
