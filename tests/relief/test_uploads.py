"""Issue 11, finding 6: an attachment's stored type is what its content is, and downloads
cannot run anything in the site's origin.

The two hostile files of the issue: a PNG signature followed by HTML (was stored as image/png
and served inline), and a PDF whose /OpenAction runs JavaScript (was served inline).
"""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

from relief import services
from relief.models import Attachment
from tests.factories import file_case, tiny_jpeg, tiny_pdf, tiny_png


def tiny_heic() -> bytes:
    """A real HEIC photo (HEVC-coded), as an iPhone's camera writes, made by pillow-heif."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(out, "HEIF")
    return out.getvalue()


PNG_THEN_HTML = b"\x89PNG\r\n\x1a\n" + b"<html><body><script>alert(document.cookie)</script>"

# The PDF, written by hand: a catalogue whose /OpenAction is a JavaScript action (no
# cross-reference table: viewers rebuild it, and so does pypdf).
OPEN_ACTION_JS = b"""%PDF-1.7
1 0 obj << /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj
4 0 obj << /S /JavaScript /JS (app.alert\\('pwned'\\)) >> endobj
trailer << /Root 1 0 R >>
startxref
0
%%EOF
"""


def _written(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with(change) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    change(writer)
    return _written(writer)


def _open_action(writer):
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert(1)"),
        }
    )


def _launch(writer):
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {
            NameObject("/S"): NameObject("/Launch"),
            NameObject("/F"): TextStringObject("cmd.exe"),
        }
    )


def _document_js(writer):
    action = DictionaryObject(
        {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("1")}
    )
    tree = DictionaryObject(
        {NameObject("/Names"): ArrayObject([TextStringObject("x"), writer._add_object(action)])}
    )
    writer._root_object[NameObject("/Names")] = DictionaryObject(
        {NameObject("/JavaScript"): writer._add_object(tree)}
    )


HOSTILE_PDFS = {
    "open-action-js-by-hand": OPEN_ACTION_JS,
    "open-action-js": pdf_with(_open_action),
    "document-js": pdf_with(_document_js),
    "launch": pdf_with(_launch),
    "embedded-file": pdf_with(lambda w: w.add_attachment("run.exe", b"MZ\x90\x00")),
    # A hex-escaped name is the same name to a viewer.
    "escaped-name": OPEN_ACTION_JS.replace(b"/S /JavaScript /JS", b"/S /J#61vaScript /J#53"),
}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def attach(people, name, content):
    app = file_case(people.alice)
    return services.attachment_add(
        application=app,
        user=people.alice,
        upload=SimpleUploadedFile(name, content, content_type="image/png"),
        kind="diagnosis",
    )


def refused(people, name, content) -> str:
    with pytest.raises(ValidationError) as info:
        attach(people, name, content)
    assert not Attachment.objects.exists()
    return " ".join(info.value.message_dict["file"])


def test_a_png_signature_followed_by_html_is_refused(people, media):
    message = refused(people, "photo.png", PNG_THEN_HTML)
    assert "photo.png" in message
    assert [p for p in media.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("name", list(HOSTILE_PDFS))
def test_a_pdf_that_runs_or_opens_something_is_refused(people, media, name):
    message = refused(people, f"{name}.pdf", HOSTILE_PDFS[name])
    assert message == f"{name}.pdf 含有脚本、自动操作或嵌入文件；请将其打印为普通 PDF 后再上传。"


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"%PDF-1.4 not really a pdf", id="pdf-header-only"),
        pytest.param(b"%PDF-1.4\n<html><script>alert(1)</script></html>", id="pdf-then-html"),
        pytest.param(b"\xff\xd8\xff\xe0" + b"<html>" * 20, id="jpeg-then-html"),
        pytest.param(tiny_png()[:40], id="truncated-png"),
        pytest.param(b"RIFF\x10\x00\x00\x00WEBP<html></html>", id="webp-then-html"),
        pytest.param(b"\x00\x00\x00\x18ftypheic<html><script>", id="heic-then-html"),
        # Well-formed boxes (what the old structural check accepted) around no picture.
        pytest.param(
            b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
            + b"\x00\x00\x00\x10free<html>\x00\x00",
            id="heic-boxes-without-a-picture",
        ),
        pytest.param(tiny_heic()[:-40], id="truncated-heic"),
    ],
)
def test_files_whose_content_is_not_what_their_first_bytes_claim_are_refused(
    people, media, content
):
    refused(people, "file.bin", content)


def test_a_decompression_bomb_is_refused(people, media):
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG")  # 100 megapixels in a few KB
    assert "bomb.png" in refused(people, "bomb.png", out.getvalue())


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (tiny_png(), "image/png"),
        (tiny_jpeg(), "image/jpeg"),
        (tiny_pdf(), "application/pdf"),
        (tiny_heic(), "image/heic"),
    ],
)
def test_real_files_are_stored_with_their_type(people, media, content, content_type):
    assert attach(people, "file", content).content_type == content_type


def test_a_heic_photo_is_decoded_and_downloaded_not_shown(client, people, media):
    attachment = attach(people, "IMG_0001.HEIC", tiny_heic())
    with Image.open(attachment.file.open("rb")) as image:
        assert (image.format, image.size) == ("HEIF", (64, 48))
    response = download(client, people, attachment)
    assert response["Content-Type"] == "image/heic"
    assert response["Content-Disposition"].startswith("attachment;")


def download(client, people, attachment):
    client.force_login(people.alice)
    return client.get(reverse("relief:attachment_download", args=[attachment.pk]))


def test_a_verified_image_is_shown_inline_in_a_sandbox(client, people, media):
    response = download(client, people, attach(people, "照片.png", tiny_png()))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;")
    assert response["Content-Security-Policy"].startswith("sandbox;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


def test_a_pdf_is_downloaded_not_shown_in_a_sandbox(client, people, media):
    response = download(client, people, attach(people, "诊断书.pdf", tiny_pdf()))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Security-Policy"].startswith("sandbox;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_case_page_says_what_is_wrong_with_a_hostile_upload(client, people, media):
    app = file_case(people.alice)
    client.force_login(people.alice)
    response = client.post(
        reverse("relief:attachment_add", args=[app.pk]),
        {
            "version": app.version,
            "attach-kind": "diagnosis",
            "attach-files": [SimpleUploadedFile("bill.png", PNG_THEN_HTML)],
        },
    )
    assert response.status_code == 400
    assert "bill.png" in response.content.decode()
    assert not Attachment.objects.exists()
