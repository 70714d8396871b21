"""An import file is written once (issue 12): replay after a lost response writes nothing and
says who imported the file first and when; a failed import does not use up the key."""

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from relief.models import Application, AuditEntry, Disbursement, IdempotencyKey, Worker
from relief.services.import_once import AlreadyImported, file_digest, import_file_once
from relief.services.worker_import import workers_import
from tabular.tables import read_table
from tests.relief.conftest import HUANG, good_rows, write_csv
from tests.relief.test_admin_import_export import WORKER_HEADER, confirm, preview

WORKERS = [["黄丽华", HUANG, "樵山食品工会", "", "", "", "", "", "否", "", "", "", ""]]

IMPORT = reverse("admin:relief_application_import")
PROCESS = reverse("admin:relief_application_process_import")
WORKER_IMPORT = reverse("admin:relief_worker_import")
WORKER_PROCESS = reverse("admin:relief_worker_process_import")


def counts():
    return (
        Worker.objects.count(),
        Application.objects.count(),
        Disbursement.objects.count(),
        AuditEntry.objects.count(),
    )


def run(path, *args):
    with translation.override("zh-hans"):
        call_command("import_ledger", path, *args, stdout=io.StringIO(), stderr=io.StringIO())


def run_failing(path, *args) -> str:
    with translation.override("zh-hans"), pytest.raises(CommandError) as excinfo:
        call_command("import_ledger", path, *args, stdout=io.StringIO(), stderr=io.StringIO())
    return str(excinfo.value)


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.wsgi_request._messages)


def test_the_command_run_twice_writes_once_and_names_the_first_importer(people, tmp_path):
    path = write_csv(tmp_path, good_rows())
    run(path, "--user", people.erin.username)
    after_first = counts()
    report = run_failing(path)
    assert counts() == after_first
    assert people.erin.get_full_name() in report
    assert "已由" in report and "导入" in report and "--force" in report
    # The same bytes under another name are the same file.
    copy = tmp_path / "copy.csv"
    copy.write_bytes(Path(path).read_bytes())
    run_failing(str(copy))
    assert counts() == after_first


def test_force_needs_a_reason_and_goes_past_the_key(people, tmp_path):
    path = write_csv(tmp_path, good_rows()[:1])
    run(path)
    assert "原因" in run_failing(path, "--force", "  ")
    # Forced, the file is checked again: its row is already on file, so nothing is written
    # and no re-import is audited.
    before = counts()
    report = run_failing(path, "--force", "台账更正")
    assert "已由" not in report
    assert counts() == before
    assert not AuditEntry.objects.filter(action="reimport").exists()


def test_a_forced_reimport_is_audited_with_its_reason(people, tmp_path):
    path = write_csv(tmp_path, WORKERS, header=WORKER_HEADER, name="w.csv")
    digest = file_digest(Path(path).read_bytes())

    def once(**extra):
        return import_file_once(
            workers_import,
            kind="workers",
            digest=digest,
            user=people.erin,
            table=read_table(path),
            file_name="w.csv",
            **extra,
        )

    once()
    with pytest.raises(AlreadyImported):
        once()
    result = once(force_reason="开户行更正后重新导入")
    assert not result.errors
    entry = AuditEntry.objects.get(action="reimport")
    assert entry.actor == people.erin and "开户行更正后重新导入" in entry.comment


def test_a_failed_import_does_not_use_up_the_key(people, tmp_path):
    rows = good_rows()
    rows[0]["身份证号"] = "440605198001010000"  # a bad check digit
    bad = write_csv(tmp_path, rows, name="bad.csv")
    run_failing(bad)
    assert not IdempotencyKey.objects.exists()
    run_failing(bad)  # the same errors again, not "already imported"
    assert Application.objects.count() == 0


def test_a_confirm_sent_twice_writes_once_and_says_who_and_when(client, people, tmp_path):
    client.force_login(people.erin)
    path = write_csv(tmp_path, good_rows())
    response = preview(client, IMPORT, path)
    first = confirm(client, PROCESS, response)  # its response is "lost"
    assert first.status_code == 302
    after_first = counts()
    again = confirm(client, PROCESS, response)
    assert again.status_code == 302 and again.url == IMPORT
    assert counts() == after_first
    text = messages_of(again)
    assert people.erin.get_full_name() in text and "已由" in text


def test_the_same_file_uploaded_again_is_stopped_at_the_preview(client, people, tmp_path):
    path = write_csv(tmp_path, good_rows())
    run(path, "--user", people.erin.username)  # imported by the command first
    after_first = counts()
    client.force_login(people.root)
    response = preview(client, IMPORT, path)
    assert response.status_code == 200
    assert "confirm_form" not in response.context
    html = response.content.decode()
    assert people.erin.get_full_name() in html and "已由" in html
    assert counts() == after_first


def test_a_worker_file_confirmed_twice_writes_once(client, people, tmp_path):
    client.force_login(people.carol)
    path = write_csv(tmp_path, WORKERS, header=WORKER_HEADER, name="w.csv")
    response = preview(client, WORKER_IMPORT, path)
    confirm(client, WORKER_PROCESS, response)
    after_first = counts()
    again = confirm(client, WORKER_PROCESS, response)
    assert again.status_code == 302
    assert counts() == after_first
    assert people.carol.get_full_name() in messages_of(again)
