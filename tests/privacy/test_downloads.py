"""Every attachment download is in the access log: from the caseworkers' pages and from the
admin's case page (which links to the same scoped download); refused ones are not."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from privacy.models import AccessLog
from relief import services
from tests.factories import file_case, tiny_pdf

PDF = tiny_pdf()


@pytest.fixture
def attachment(people, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    app = file_case(people.alice)
    return services.attachment_add(
        application=app,
        user=people.alice,
        upload=SimpleUploadedFile("梁志明诊断书.pdf", PDF, content_type="application/pdf"),
        kind="diagnosis",
    )


@pytest.mark.parametrize(
    ("who", "status"),
    [("alice", 200), ("carol", 200), ("erin", 200), ("root", 200), ("bob", 404), ("dave", 404)],
)
def test_each_download_is_logged_refusals_are_not(client, people, attachment, who, status):
    user = getattr(people, who)
    client.force_login(user)
    url = reverse("relief:attachment_download", args=[attachment.pk])
    response = client.get(url, REMOTE_ADDR="192.0.2.9")
    assert response.status_code == status
    if status != 200:
        assert not AccessLog.objects.exists()
        return
    assert b"".join(response.streaming_content) == PDF
    entry = AccessLog.objects.get()
    reference = attachment.application.reference
    assert (entry.kind, entry.user, entry.object_id) == ("attachment", user, attachment.pk)
    assert (entry.reference, entry.ip, entry.path) == (reference, "192.0.2.9", url)
    assert entry.content_type.model == "attachment"
    assert "梁志明" not in entry.object_label  # the file's own name may name the person
    client.get(url)
    assert AccessLog.objects.count() == 2  # every download, not the first only


def test_the_admin_case_page_downloads_through_the_logged_view(client, people, attachment):
    client.force_login(people.carol)
    page = client.get(
        reverse("admin:relief_application_change", args=[attachment.application.pk])
    ).content.decode()
    assert reverse("relief:attachment_download", args=[attachment.pk]) in page
    assert "/media/" not in page
