"""Admin exports above EXPORTS_DIRECT_MAX_ROWS: a background job like the reports page's
ledger (reports.admin_exports), owned by the requesting user, logged when downloaded."""

import csv
import io
import json

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from openpyxl import load_workbook

from privacy.models import AccessLog
from relief.models import Application
from relief.services.ledger import LEDGER_COLUMNS, ledger_import
from reports import admin_exports
from reports.models import JobStatus, ReportJob, ReportJobRow
from tabular.tables import read_table
from tests.relief.conftest import LIANG, good_rows, write_csv

# Transactional: the worker reopens connections between tasks (see tests/reports/test_tasks.py).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

EXPORT = reverse("admin:relief_application_export")
LIST = reverse("admin:relief_application_changelist")


@pytest.fixture
def imported(people, tmp_path, settings):
    settings.EXPORTS_DIRECT_MAX_ROWS = 2  # the five imported cases go to the background
    settings.MEDIA_ROOT = tmp_path / "media"
    rows = good_rows()
    rows[3]["备注"] = '=HYPERLINK("http://x")'
    ledger_import(table=read_table(write_csv(tmp_path, rows)), user=people.root, file_name="x.csv")


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)


def read(download, fmt) -> list[list]:
    data = b"".join(download.streaming_content)
    if fmt == "csv":
        return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    book = load_workbook(io.BytesIO(data))
    return [["" if v is None else v for v in r] for r in book.active.iter_rows(values_only=True)]


@pytest.mark.parametrize("fmt, fmt_index", [("csv", "1"), ("xlsx", "0")])
def test_a_large_export_becomes_a_job_and_is_logged_on_download(
    client, people, imported, fmt, fmt_index
):
    client.force_login(people.erin)  # a district officer: full ID numbers
    response = client.post(EXPORT, {"format": fmt_index, "resource": "1"}, follow=True)
    job = ReportJob.objects.get()
    # Nothing written in the request: a redirect to the job's page, which says so.
    assert response.redirect_chain == [(reverse("reports:job", args=[job.pk]), 302)]
    assert "Content-Disposition" not in response
    page = response.content.decode()
    assert "后台" in page and "我最近的报表" in page
    assert (job.kind, job.requested_by, job.status, job.rows_total, job.extension) == (
        "admin_export",
        people.erin,
        JobStatus.QUEUED,
        5,
        fmt,
    )
    assert job.unit is None and job.params["full"] is True
    assert not default_storage.exists(job.storage_name) and DBTaskResult.objects.count() == 1
    assert not AccessLog.objects.exists()  # nothing has left yet
    assert client.get(reverse("reports:job_download", args=[job.pk])).status_code == 404

    run_worker()

    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    status = client.get(reverse("reports:job", args=[job.pk]), {"format": "json"}).json()
    assert (status["ready"], status["percent"], status["rows_done"]) == (True, 100, 5)
    download = client.get(reverse("reports:job_download", args=[job.pk]))
    assert download.status_code == 200
    rows = read(download, fmt)
    assert rows[0] == LEDGER_COLUMNS and len(rows) == 6
    assert LIANG in {r[1] for r in rows}
    notes = {r[11] for r in rows}
    assert '\'=HYPERLINK("http://x")' in notes  # the formula guard, as when streamed
    entry = AccessLog.objects.get()
    assert (entry.user, entry.kind) == (people.erin, "full_export")
    assert entry.detail.startswith("admin relief.Application: ")
    assert entry.detail.endswith(", 5 rows")


def test_a_town_reviewers_job_holds_their_filtered_scope_masked(client, people, imported):
    client.force_login(people.carol)  # XQ: four of the five cases, ID numbers masked
    response = client.post(EXPORT + "?state__exact=disbursed", {"format": "1", "resource": "0"})
    job = ReportJob.objects.get()
    assert response.status_code == 302 and job.rows_total == 4
    assert job.params["full"] is False
    run_worker()
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    rows = read(client.get(reverse("reports:job_download", args=[job.pk])), "csv")
    assert len(rows) == 5
    assert all("*" in r[1] for r in rows[1:])
    assert LIANG not in str(rows)
    assert "冯国强" not in str(rows)  # another town's case
    assert not AccessLog.objects.exists()  # a masked file is not logged


def test_export_selected_above_the_threshold_writes_exactly_the_selection(client, people, imported):
    client.force_login(people.erin)
    selected = list(Application.objects.order_by("pk").values_list("pk", flat=True)[:3])
    names = set(Application.objects.filter(pk__in=selected).values_list("worker__name", flat=True))
    response = client.post(
        LIST, {"action": "export_xlsx", "index": "0", "_selected_action": selected}
    )
    job = ReportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:job", args=[job.pk])
    run_worker()
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    rows = read(client.get(reverse("reports:job_download", args=[job.pk])), "xlsx")
    assert {r[0] for r in rows[1:]} == names and len(rows) == 4


def test_another_user_cannot_see_or_download_the_job(client, people, imported):
    client.force_login(people.erin)
    client.post(EXPORT, {"format": "1", "resource": "1"})
    job = ReportJob.objects.get()
    run_worker()
    for other in (people.carol, people.dave, people.alice):
        client.force_login(other)
        assert client.get(reverse("reports:job", args=[job.pk])).status_code == 404
        json = client.get(reverse("reports:job", args=[job.pk]), {"format": "json"})
        assert json.status_code == 404
        assert client.get(reverse("reports:job_download", args=[job.pk])).status_code == 404
    assert not AccessLog.objects.exists()


def test_at_or_below_the_threshold_the_export_still_streams(client, people, imported, settings):
    settings.EXPORTS_DIRECT_MAX_ROWS = 5
    client.force_login(people.erin)
    response = client.post(EXPORT, {"format": "1", "resource": "1"})
    assert response.status_code == 200
    assert len(list(csv.reader(io.StringIO(b"".join(response).decode("utf-8-sig"))))) == 6
    assert not ReportJob.objects.exists()


def test_a_user_who_lost_the_right_to_export_gets_a_failed_job(client, people, imported):
    client.force_login(people.carol)
    client.post(EXPORT, {"format": "1", "resource": "1"})
    people.carol.role = "caseworker"
    people.carol.union = people.alice.union
    people.carol.save()
    run_worker()
    job = ReportJob.objects.get()
    assert job.status == JobStatus.FAILED
    assert not default_storage.exists(job.storage_name)


def test_the_job_holds_the_selected_ids_in_order_and_no_pickle(client, people, imported):
    client.force_login(people.erin)
    client.post(EXPORT + "?o=-1", {"format": "1", "resource": "0"})  # newest id first
    job = ReportJob.objects.get()
    stored = json.dumps(job.params)
    assert set(job.params) == {"model", "resource", "format", "full", "back"}
    assert "query" not in stored and "gAS" not in stored  # base64 of a pickle's header
    assert not any(name == "pickle" for name in vars(admin_exports))
    ids = list(
        ReportJobRow.objects.filter(job=job)
        .order_by("position")
        .values_list("object_id", "position")
    )
    in_order = list(Application.objects.order_by("-pk").values_list("pk", flat=True))
    assert ids == [(pk, i) for i, pk in enumerate(in_order)]
    run_worker()
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    rows = read(client.get(reverse("reports:job_download", args=[job.pk])), "csv")
    names = dict(Application.objects.values_list("pk", "worker__name"))
    assert [r[0] for r in rows[1:]] == [names[pk] for pk in in_order]


def test_a_case_that_left_the_users_scope_before_the_run_is_not_exported(client, people, imported):
    client.force_login(people.carol)  # XQ: four of the five cases
    client.post(EXPORT, {"format": "1", "resource": "0"})
    job = ReportJob.objects.get()
    assert job.rows_total == 4
    elsewhere = Application.objects.get(worker__name="冯国强").union  # another town
    moved = Application.objects.filter(union__path__startswith=people.carol.union.path).first()
    Application.objects.filter(pk=moved.pk).update(union=elsewhere)  # setup, not a service
    run_worker()
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    rows = read(client.get(reverse("reports:job_download", args=[job.pk])), "csv")
    assert len(rows) == 4  # header and the three cases still in XQ
    written = {(r[0], r[5]) for r in rows[1:]}
    assert (moved.worker.name, str(moved.application_date)) not in written
    assert "冯国强" not in str(rows)
