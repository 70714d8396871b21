"""What an uploaded attachment really is: decoded and checked, not guessed from its name.

Images (JPEG, PNG, WebP, and the HEIC photos of iPhones through pillow-heif, whose wheels
bundle libheif and its HEVC decoder) are fully decoded by Pillow; PDFs are parsed by pypdf and
refused when they carry anything a viewer would run or open (JavaScript, launch actions,
embedded files, XFA forms). HEIC photos are still only downloaded, never shown inline
(relief.views.attachments): most browsers cannot display them.
"""

import io
import warnings

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image
from pillow_heif import register_heif_opener
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

# Phone photos are 12 to 50 megapixels; a larger image is a decompression bomb, not a photo.
MAX_IMAGE_PIXELS = 80_000_000
PILLOW_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/heic": "HEIF",
}
# HEIC only (register_avif_opener is not called: AVIF is not an accepted type).
register_heif_opener()
# Names whose presence means the PDF runs or opens something when viewed.
PDF_FORBIDDEN_KEYS = {"/JS", "/JavaScript", "/EmbeddedFiles", "/EmbeddedFile", "/XFA", "/Launch"}
PDF_FORBIDDEN_ACTIONS = {"/JavaScript", "/Launch", "/ImportData", "/RichMedia", "/Rendition"}
MAX_PDF_OBJECTS = 200_000


def verify(upload, content_type: str) -> None:
    """Raise ValidationError({"file": ...}) unless the upload really is `content_type`."""
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    if content_type in PILLOW_FORMATS:
        _verify_image(data, PILLOW_FORMATS[content_type], upload.name)
    elif content_type == "application/pdf":
        _verify_pdf(data, upload.name)


def _refuse(message: str, name: str):
    raise ValidationError({"file": message % {"name": name}})


def _verify_image(data: bytes, expected: str, name: str) -> None:
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its own pixel limit: a bomb either way.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            _decode(data, expected, name)
    except ValidationError:
        raise
    except Exception:  # Pillow's decoders raise many kinds on hostile input
        _refuse(_("%(name)s is not a readable image."), name)


def _decode(data: bytes, expected: str, name: str) -> None:
    with Image.open(io.BytesIO(data)) as image:
        if image.format != expected:
            raise ValueError(image.format)
        if image.width * image.height > MAX_IMAGE_PIXELS:
            _refuse(_("%(name)s is too large an image."), name)
        image.verify()  # checksums and structure
    with Image.open(io.BytesIO(data)) as image:
        image.load()  # and every pixel decodes


def _verify_pdf(data: bytes, name: str) -> None:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            _refuse(_("%(name)s is a password-protected PDF; upload it without a password."), name)
        seeds = [reader.trailer]
        for idnum in _object_numbers(reader):
            seeds.append(IndirectObject(idnum, 0, reader))
        if _pdf_is_active(seeds):
            _refuse(
                _(
                    "%(name)s contains scripts, actions or embedded files; print it to a plain "
                    "PDF and upload that."
                ),
                name,
            )
        if len(reader.pages) < 1:
            raise ValueError("no pages")
    except ValidationError:
        raise
    except Exception:  # pypdf raises many kinds on broken or hostile input
        _refuse(_("%(name)s is not a readable PDF."), name)


def _object_numbers(reader) -> list[int]:
    """Every object the cross-reference tables name, reachable from the catalogue or not."""
    numbers = set()
    for table in reader.xref.values():
        numbers.update(table)
    numbers.update(reader.xref_objStm)
    return sorted(numbers)


def _pdf_is_active(seeds) -> bool:
    seen: set[int] = set()
    stack = list(seeds)
    count = 0
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            if obj.idnum in seen:
                continue
            seen.add(obj.idnum)
            obj = obj.get_object()
        count += 1
        if count > MAX_PDF_OBJECTS:
            raise ValueError("too many objects")
        if isinstance(obj, DictionaryObject):
            for key, value in obj.items():
                if key in PDF_FORBIDDEN_KEYS:
                    return True
                if key == "/S" and value in PDF_FORBIDDEN_ACTIONS:
                    return True
                if key == "/Type" and value == "/EmbeddedFile":
                    return True
                stack.append(value)
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
    return False
