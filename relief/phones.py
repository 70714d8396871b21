"""Mainland China phone numbers: the one check for every form, service and import taking one.

Accepted, and stored in one shape so that numbers compare and dial alike:

- a mobile number, 11 digits starting 13-19, with or without +86 / 0086 and spaces or
  hyphens between groups: stored as 13912345678;
- a landline with its area code (010 and 02x have three digits, every other code four; the
  code may be in brackets), a local number of 7 or 8 digits not starting with 0 or 1, and
  an optional extension of up to 6 digits written -123, 转123, 分机123, ext 123, x123 or #123:
  stored as 0757-86881234 or 0757-86881234转123.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_MOBILE = re.compile(r"^(?:\+?86|0086)?(1[3-9]\d{9})$")
_LANDLINE = re.compile(
    r"^\(?(0(?:[12]\d|[3-9]\d{2}))\)?"  # area code: 010, 020-029 or 0xxx
    r"-?([2-9]\d{6,7})"  # local number
    r"(?:(?:-|转|分机|ext\.?|x|#)(\d{1,6}))?$",  # extension
    re.IGNORECASE,
)


def _compact(value: str) -> str:
    # NFKC: full-width digits, brackets, + and - typed by a Chinese input method become ASCII.
    text = unicodedata.normalize("NFKC", value or "").strip()
    text = re.sub(r"[\s\u2010-\u2015\u2212]", lambda m: "" if m.group().isspace() else "-", text)
    return re.sub(r"-{2,}", "-", text)


def clean_phone_number(value: str) -> str:
    """The number in its stored shape; "" stays "". Raises ValidationError with a message."""
    text = _compact(value)
    if not text:
        return ""
    mobile = _MOBILE.match(text.replace("-", ""))
    if mobile:
        return mobile.group(1)
    landline = _LANDLINE.match(text)
    # Local numbers behind 010 and 02x have 8 digits.
    if landline and (len(landline.group(1)) == 4 or len(landline.group(2)) == 8):
        area, local, extension = landline.groups()
        number = f"{area}-{local}"
        return f"{number}转{extension}" if extension else number
    raise ValidationError(
        _(
            "“%(value)s” is not a phone number. Write a mobile number (11 digits, e.g. "
            "13912345678) or a landline with its area code (e.g. 0757-86881234, with an "
            "extension 0757-86881234-123)."
        )
        % {"value": (value or "").strip()[:30]},
        code="phone",
    )
