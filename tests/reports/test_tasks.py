"""Long reports: a job is queued in the database, a db_worker renders it, the owner downloads it."""

import pytest
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
    assert not job.file_path.exists()
