"""Chinese resident ID numbers (GB 11643-1999) and the masking rules for personal data."""

import datetime as dt
import unicodedata

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def check_digit(first17: str) -> str:
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def normalize_id_number(value: str) -> str:
    """ASCII, without spaces, X upper case.

    NFKC turns full-width digits and letters (４４０６…, ｘ), as a Chinese input method types
    them, into ASCII; the database accepts only ASCII digits and X.
    """
    return "".join(unicodedata.normalize("NFKC", value or "").split()).upper()


def validate_id_number(value: str) -> None:
    number = normalize_id_number(value)
    if not (value or "").isascii():
        # Callers store the normalized number; a value that is not ASCII was not normalized
        # and would fail on the database's constraint instead of here with a message.
        raise ValidationError(
            _("Write the ID number in half-width (ASCII) characters: 17 digits and a digit or X."),
            code="id_chars",
        )
    if len(number) != 18:
        raise ValidationError(
            _("An ID number has 18 characters; this one has %(n)d.") % {"n": len(number)},
            code="id_length",
        )
    # str.isdigit() is true for other scripts' digits (٤, ४) too: only 0-9 count.
    if not _ascii_digits(number[:17]) or not (_ascii_digits(number[17]) or number[17] == "X"):
        raise ValidationError(
            _("An ID number is 17 digits followed by a digit or X."), code="id_chars"
        )
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("The birth date in this ID number (%(d)s) is not a real date.") % {"d": number[6:14]},
            code="id_birth",
        ) from None
    if birth.year < 1900 or birth > timezone.localdate():
        raise ValidationError(
            _("The birth date in this ID number is out of range."), code="id_birth"
        )
    if check_digit(number[:17]) != number[17]:
        raise ValidationError(
            _("The check digit of this ID number is wrong: please check each digit."),
            code="id_checksum",
        )


def _ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def birth_date_of(number: str) -> dt.date | None:
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except (ValueError, IndexError):
        return None


def gender_of(number: str) -> str:
    """'M' or 'F' from the 17th digit (odd for men)."""
    if len(number) < 17 or not number[16].isdigit():
        return ""
    return "M" if int(number[16]) % 2 else "F"


def mask_id_number(number: str) -> str:
    """First 6 and last 4 kept, as public notices show them: 440682********1234."""
    if not number:
        return ""
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_name(name: str) -> str:
    """梁志明 -> 梁*明, 梁明 -> 梁*, longer names keep first and last character."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def clean_card_number(value: str) -> str:
    """A bank card number as stored: ASCII digits without spaces, 12 to 30 of them; "" stays "".

    The one check for every form and service that takes a card (NFKC, as for ID numbers, so
    full-width digits typed by a Chinese input method become the digits a bank file needs).
    """
    card = "".join(unicodedata.normalize("NFKC", value or "").split())
    if card and not (card.isascii() and card.isdigit() and 12 <= len(card) <= 30):
        raise ValidationError(_("A bank card number has 12 to 30 digits."), code="card")
    return card


def mask_card(number: str) -> str:
    digits = (number or "").replace(" ", "")
    if len(digits) <= 4:
        return digits
    return "**** " + digits[-4:]
