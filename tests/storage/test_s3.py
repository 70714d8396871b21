"""Attachments, generated reports, /healthz and backups with MEDIA_STORAGE=s3 (conftest: moto's
S3 server on 127.0.0.1). Downloads still go through the scoped views; nothing lands in the
local MEDIA_ROOT; no bucket URL is ever handed out."""

import datetime as dt
import io
import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from config.storage import default_storage_from_env
from relief.models import Attachment
from relief.views import health
from reports import files
from reports.models import JobStatus, ReportJob
from tests.factories import file_case, tiny_pdf, tiny_png

PNG = tiny_png()
PDF = tiny_pdf()
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def local_files(settings) -> list:
    return [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]


def test_the_local_folder_is_the_default_and_s3_needs_a_bucket(monkeypatch):
    for name in ("MEDIA_STORAGE", "AWS_STORAGE_BUCKET_NAME"):
        monkeypatch.delenv(name, raising=False)
    assert default_storage_from_env()["BACKEND"].endswith("FileSystemStorage")
    monkeypatch.setenv("MEDIA_STORAGE", "s3")
    with pytest.raises(ImproperlyConfigured, match="AWS_STORAGE_BUCKET_NAME"):
        default_storage_from_env()
    monkeypatch.setenv("MEDIA_STORAGE", "ftp")
    with pytest.raises(ImproperlyConfigured, match="MEDIA_STORAGE"):
        default_storage_from_env()
    monkeypatch.setenv("MEDIA_STORAGE", "s3")
    monkeypatch.setenv("AWS_STORAGE_BUCKET_NAME", "relief")
    options = default_storage_from_env()["OPTIONS"]
    assert (options["default_acl"], options["querystring_auth"]) == ("private", True)
    assert options["file_overwrite"] is False


def test_an_attachment_goes_to_the_bucket_and_comes_back_only_within_scope(
    client, people, bucket, keys, s3_client, settings
):
    app = file_case(people.alice)
    client.force_login(people.alice)
    response = client.post(
        reverse("relief:attachment_add", args=[app.pk]),
        {
            "version": app.version,
            "attach-kind": "diagnosis",
            "attach-files": [
                SimpleUploadedFile("诊断书.pdf", PDF, content_type="application/pdf"),
                SimpleUploadedFile("照片.png", PNG, content_type="image/png"),
            ],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    pdf = Attachment.objects.get(original_name="诊断书.pdf")
    png = Attachment.objects.get(original_name="照片.png")
    assert sorted(keys("attachments/")) == sorted([pdf.file.name, png.file.name])
    assert local_files(settings) == []
    head = s3_client.head_object(Bucket=bucket, Key=pdf.file.name)
    assert head["ContentLength"] == len(PDF)
    acl = s3_client.get_object_acl(Bucket=bucket, Key=pdf.file.name)
    assert all("AllUsers" not in str(grant["Grantee"]) for grant in acl["Grants"])

    url = reverse("relief:attachment_download", args=[pdf.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Length"] == str(len(PDF))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Security-Policy"].startswith("sandbox;")
    assert "no-store" in response["Cache-Control"]
    inline = client.get(reverse("relief:attachment_download", args=[png.pk]))
    assert b"".join(inline.streaming_content) == PNG
    assert inline["Content-Disposition"].startswith("inline;")

    client.force_login(people.bob)  # another union's caseworker
    assert client.get(url).status_code == 404

    s3_client.delete_object(Bucket=bucket, Key=pdf.file.name)  # lost from the bucket
    client.force_login(people.alice)
    assert client.get(url).status_code == 404


@pytest.fixture
def immediate(settings):
    settings.TASKS = IMMEDIATE  # the task runs in the request: no worker process needed
    settings.REPORTS_DIRECT_MAX_ROWS = 0  # every report is a background job


def test_a_background_report_is_stored_in_the_bucket_and_downloaded_by_its_owner(
    client, people, payouts, bucket, keys, immediate, settings
):
    client.force_login(people.erin)
    response = client.post(reverse("reports:payout_report"), {"unit": "NH", "year": 2023})
    job = ReportJob.objects.get()
    assert response["Location"] == reverse("reports:job", args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    assert keys("reports/") == [f"reports/{job.pk}.pdf"] == [job.storage_name]
    assert local_files(settings) == []  # the work file was uploaded and removed

    download = client.get(reverse("reports:job_download", args=[job.pk]))
    assert download.status_code == 200
    body = b"".join(download.streaming_content)
    assert body.startswith(b"%PDF") and download["Content-Length"] == str(len(body))
    assert download["Content-Type"] == "application/pdf"

    client.force_login(people.carol)  # may see NH's figures, but did not ask for this job
    assert client.get(reverse("reports:job_download", args=[job.pk])).status_code == 404


def test_a_large_ledger_export_goes_to_the_bucket(
    client, people, payouts, bucket, keys, immediate, settings
):
    settings.EXPORTS_DIRECT_MAX_ROWS = 2  # XQ has 3 payouts in 2023
    client.force_login(people.erin)
    client.post(reverse("reports:ledger"), {"unit": "XQ", "year": 2023, "format": "csv"})
    job = ReportJob.objects.get()
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    assert keys("reports/") == [job.storage_name]
    text = b"".join(client.get(reverse("reports:job_download", args=[job.pk])).streaming_content)
    assert len(text.decode("utf-8").splitlines()) >= 4  # a header and three payouts


def test_old_report_jobs_and_stray_files_are_purged_through_the_storage(people, bucket, keys, db):
    def job(days_ago: int, status=JobStatus.DONE) -> ReportJob:
        made = ReportJob.objects.create(
            kind="payout_report", requested_by=people.erin, title="t", status=status
        )
        ReportJob.objects.filter(pk=made.pk).update(
            created_at=timezone.now() - dt.timedelta(days=days_ago)
        )
        default_storage.save(made.storage_name, ContentFile(b"%PDF-1.7"))
        return made

    old, recent, running = job(10), job(1), job(10, JobStatus.RUNNING)
    default_storage.save("reports/.stray.part", ContentFile(b"half"))
    # The old job with its file; the stray file is new (it may be a worker's work file).
    assert files.purge(7) == (1, 1)
    assert set(ReportJob.objects.values_list("pk", flat=True)) == {recent.pk, running.pk}
    assert old.storage_name not in keys("reports/")
    assert keys("reports/") == sorted(
        [recent.storage_name, running.storage_name, "reports/.stray.part"]
    )
    later = timezone.now() + dt.timedelta(days=8)
    assert files.purge(7, now=later) == (1, 2)  # recent is old by then; the stray file too
    assert keys("reports/") == [running.storage_name]


def health_of(client):
    response = client.get("/healthz")
    return response.status_code, json.loads(response.content)["checks"]["media"]


def test_healthz_writes_to_the_bucket_and_fails_without_it(
    client, db, bucket, keys, s3_client, monkeypatch
):
    monkeypatch.setattr(health, "_migrations_ok", False)
    status, media = health_of(client)
    assert (status, media) == (200, {"ok": True, "storage": "s3"})
    assert keys() == []  # the probe object was deleted again
    s3_client.delete_bucket(Bucket=bucket)
    status, media = health_of(client)
    assert status == 503
    assert media == {"ok": False, "storage": "s3", "error": "NoSuchBucket"}
    assert bucket not in json.dumps(media)
    s3_client.create_bucket(Bucket=bucket)  # for the fixture's clean-up


# Transactional (pg_dump reads committed rows from another process); the serialized rollback
# brings back the categories and policy the migrations seed, as in tests/backups.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_backup_with_media_in_the_bucket_holds_the_database_and_says_so(
    populated, empty_database, bucket, tmp_path
):
    out, err = io.StringIO(), io.StringIO()
    call_command("backup", str(tmp_path / "backups"), stdout=out, stderr=err, lang="en")
    assert f"s3:{bucket}" in err.getvalue() and "not in this backup" in err.getvalue()
    (archive,) = (tmp_path / "backups").iterdir()
    manifest = json.loads((archive / "manifest.json").read_text())
    assert manifest["media"] == {"storage": f"s3:{bucket}", "files": {}, "missing": []}
    assert manifest["attachment_files"]  # the rows naming objects in the bucket are there

    target = empty_database()
    out = io.StringIO()
    call_command(
        "restore",
        str(archive),
        database_url=target.url,
        media_root=str(tmp_path / "restored-media"),
        stdout=out,
        lang="en",
    )
    assert "matches the backup" in out.getvalue() and "not in this backup" in out.getvalue()
    assert not (tmp_path / "restored-media").exists()  # the bucket holds the files
