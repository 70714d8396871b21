"""Issue 11, finding 1: the import confirm never takes a file name from the client.

Before the fix, POST process_import with import_file_name=<name> opened that name in the temp
directory, echoed its first line in an error and deleted it; a missing name gave a 500.
"""

import tempfile
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from relief import import_staging
from relief.models import Application
from tests.relief.conftest import good_rows, write_csv

IMPORT = reverse("admin:relief_application_import")
PROCESS = reverse("admin:relief_application_process_import")
WORKER_PROCESS = reverse("admin:relief_worker_process_import")
GONE = "不再等待确认"


@pytest.fixture(autouse=True)
def staging(tmp_path, settings):
    settings.IMPORT_STAGING_DIR = str(tmp_path / "staging")
    return tmp_path / "staging"


def preview(client, path):
    with open(path, "rb") as f:
        upload = SimpleUploadedFile(Path(path).name, f.read())
    response = client.post(IMPORT, {"import_file": upload, "resource": "0"})
    assert response.context["confirm_form"]
    return response


def confirm_data(response) -> dict:
    return {f.html_name: f.value() for f in response.context["confirm_form"]}


def texts(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


@pytest.mark.parametrize("url", [PROCESS, WORKER_PROCESS])
def test_the_hand_made_post_reads_and_deletes_nothing(client, people, url):
    victim = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept open until the end
        prefix="victim-", suffix=".csv", delete=False
    )
    victim.write("秘密第一行,机密\n".encode())
    victim.close()
    try:
        client.force_login(people.erin)
        name = Path(victim.name).name
        for data in (
            {"import_file_name": name, "format": "1", "resource": "0"},
            {"import_file_name": victim.name, "original_file_name": "x.csv", "format": "1"},
            {"key": name},
            {"key": "../" + name},
        ):
            response = client.post(url, data)
            assert response.status_code == 302
            assert GONE in texts(response)
            assert "秘密" not in texts(response)
        assert Path(victim.name).read_bytes() == "秘密第一行,机密\n".encode()
    finally:
        Path(victim.name).unlink()


@pytest.mark.parametrize("data", [{}, {"key": ""}, {"key": "x" * 500}, {"format": "9"}])
def test_a_missing_or_odd_key_is_a_message_not_a_500(client, people, data):
    client.force_login(people.erin)
    response = client.post(PROCESS, data)
    assert response.status_code == 302 and response.url == IMPORT
    assert GONE in texts(response)


def test_the_key_works_once_and_the_file_is_gone_afterwards(client, people, tmp_path, staging):
    client.force_login(people.erin)
    response = preview(client, write_csv(tmp_path, good_rows()))
    data = confirm_data(response)
    assert set(data) == {"key"}  # no file name, format or resource from the client
    assert len(list(staging.iterdir())) == 1
    assert client.post(PROCESS, data).status_code == 302
    assert Application.objects.count() == 5
    assert list(staging.iterdir()) == []
    again = client.post(PROCESS, data)
    # The key is used up; the page says the file was imported already (issue 12).
    assert "已由" in texts(again) and GONE not in texts(again)
    assert Application.objects.count() == 5


def test_a_preview_with_errors_keeps_no_file(client, people, tmp_path, staging):
    rows = good_rows()
    rows[0]["身份证号"] = "440605198001010000"
    client.force_login(people.erin)
    with open(write_csv(tmp_path, rows), "rb") as f:
        client.post(IMPORT, {"import_file": SimpleUploadedFile("l.csv", f.read()), "resource": "0"})
    assert not staging.exists() or list(staging.iterdir()) == []


def test_another_sessions_key_finds_nothing(client, people, tmp_path):
    from django.test import Client

    client.force_login(people.erin)
    data = confirm_data(preview(client, write_csv(tmp_path, good_rows())))
    other = Client()
    other.force_login(people.erin)  # the same user, another session
    response = other.post(PROCESS, data)
    assert GONE in texts(response)
    assert Application.objects.count() == 0
    client.post(PROCESS, data)  # the key still works in its own session
    assert Application.objects.count() == 5


def test_a_key_for_another_admin_page_finds_nothing(client, people, tmp_path):
    client.force_login(people.erin)
    data = confirm_data(preview(client, write_csv(tmp_path, good_rows())))
    response = client.post(WORKER_PROCESS, data)
    assert GONE in texts(response)


def test_an_expired_key_is_a_message_and_its_file_is_purged(
    client, people, tmp_path, staging, monkeypatch
):
    client.force_login(people.erin)
    data = confirm_data(preview(client, write_csv(tmp_path, good_rows())))
    monkeypatch.setattr(import_staging, "STAGING_SECONDS", -1)
    response = client.post(PROCESS, data)
    assert response.status_code == 302 and GONE in texts(response)
    assert Application.objects.count() == 0
    assert list(staging.iterdir()) == []
