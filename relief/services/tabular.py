"""Cell parsing shared by the imports: each parser returns a value or raises CellError.

Messages are for people fixing a spreadsheet: they name what was found and what is expected.
"""

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from relief.idcard import normalize_id_number, validate_id_number
from relief.phones import clean_phone_number
from tabular.tables import RowError
from unions.models import Level, Union
from unions.selectors import unions_in_scope

__all__ = [
    "CellError",
    "RowError",
    "UnionLookup",
    "parse_amount",
    "parse_date",
    "parse_id_number",
    "parse_phone",
    "text",
]

_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
# What Excel shows (and saves to CSV) for a long number: 4.40605E+17.
_SCIENTIFIC = re.compile(r"^\d(?:\.\d+)?[eE]\+?\d+$")
MAX_AMOUNT = Decimal("9999999999.99")


class CellError(Exception):
    """One cell's problem; the caller knows the row and the column."""


def text(cell) -> str:
    """A cell as text: whole numbers lose the '.0' a spreadsheet adds."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, (dt.datetime, dt.date)):
        return cell.strftime("%Y-%m-%d")
    value = str(cell).strip()
    if "\x00" in value:
        # PostgreSQL refuses NUL in text: a cell message here, not a DataError at the write.
        raise CellError(_("This cell contains a NUL character (\\x00): retype it."))
    return value


def required_text(cell, max_length: int) -> str:
    value = text(cell)
    if not value:
        raise CellError(_("This cell is required."))
    if len(value) > max_length:
        raise CellError(
            _("At most %(max)d characters (this one has %(n)d).")
            % {"max": max_length, "n": len(value)}
        )
    return value


def optional_text(cell, max_length: int | None = None) -> str:
    value = text(cell)
    if max_length is not None and len(value) > max_length:
        raise CellError(
            _("At most %(max)d characters (this one has %(n)d).")
            % {"max": max_length, "n": len(value)}
        )
    return value


def parse_id_number(cell) -> str:
    if isinstance(cell, (int, float, Decimal)):
        # 18 digits do not survive as a spreadsheet number: the last ones become zeros.
        raise CellError(
            _(
                "The ID number is stored as a number, which loses its last digits: format the "
                "column as text and type it again."
            )
        )
    if _SCIENTIFIC.match(text(cell)):
        raise CellError(
            _(
                "The ID number reads %(value)s: the spreadsheet turned it into a number and "
                "lost its last digits. Format the column as text and type the numbers again."
            )
            % {"value": text(cell)}
        )
    number = normalize_id_number(text(cell))
    if not number:
        raise CellError(_("This cell is required."))
    try:
        validate_id_number(number)
    except ValidationError as exc:
        raise CellError(exc.messages[0]) from None
    return number


def parse_phone(cell) -> str:
    """Optional; a mobile or landline number in the stored shape (relief.phones)."""
    try:
        return clean_phone_number(text(cell))
    except ValidationError as exc:
        raise CellError(exc.messages[0]) from None


def parse_date(
    cell, *, not_before: dt.date = dt.date(1990, 1, 1), not_after: dt.date | None = None
) -> dt.date:
    if isinstance(cell, dt.datetime):
        value = cell.date()
    elif isinstance(cell, dt.date):
        value = cell
    else:
        raw = text(cell)
        if not raw:
            raise CellError(_("This cell is required."))
        match = _DATE.match(raw)
        try:
            if not match:
                raise ValueError
            value = dt.date(*(int(g) for g in match.groups()))
        except ValueError:
            raise CellError(
                _("“%(value)s” is not a date: write YYYY-MM-DD, e.g. 2024-03-15.") % {"value": raw}
            ) from None
    if value < not_before:
        raise CellError(_("%(date)s is too early.") % {"date": value.isoformat()})
    limit = not_after or timezone.localdate()
    if value > limit:
        raise CellError(_("%(date)s is in the future.") % {"date": value.isoformat()})
    return value


def parse_amount(cell) -> Decimal:
    """Yuan, greater than zero, at most two decimals; never a float internally."""
    if isinstance(cell, bool):
        raise CellError(_("“%(value)s” is not an amount in yuan.") % {"value": cell})
    if isinstance(cell, float):
        # repr gives the shortest text that reads back as the same number: 1234.5, not
        # 1234.4999999999.
        raw = repr(cell)
    else:
        raw = text(cell).replace(",", "").replace("¥", "").replace("￥", "")
    if raw == "":
        raise CellError(_("This cell is required."))
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise CellError(_("“%(value)s” is not an amount in yuan.") % {"value": raw}) from None
    if not amount.is_finite():
        raise CellError(_("“%(value)s” is not an amount in yuan.") % {"value": raw})
    if amount <= 0:
        raise CellError(_("The amount must be greater than zero."))
    # Before quantize: 1e309 or 40 digits do not fit its precision (InvalidOperation, a 500).
    if amount > MAX_AMOUNT:
        raise CellError(
            _("The amount is too large: at most %(max)s yuan.") % {"max": f"{MAX_AMOUNT:,}"}
        )
    try:
        cents = amount.quantize(Decimal("0.01"))
    except InvalidOperation:  # an exponent far below zero
        cents = None
    if amount != cents:
        raise CellError(_("Amounts have at most two decimals (fen)."))
    return cents


class UnionLookup:
    """Grassroots unions the user may import into, found by code or by exact name.

    A union outside the user's scope gets the same answer as one that does not exist.
    """

    def __init__(self, user):
        self.by_code: dict[str, Union] = {}
        self.by_name: dict[str, list[Union]] = {}
        for union in unions_in_scope(user).filter(level=Level.GRASSROOTS).select_related("parent"):
            self.by_code[union.code] = union
            self.by_name.setdefault(union.name, []).append(union)

    def get(self, cell) -> Union:
        value = text(cell)
        if not value:
            raise CellError(_("This cell is required."))
        union = self.by_code.get(value)
        if union is not None:
            return union
        named = self.by_name.get(value, [])
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            raise CellError(
                _("Several grassroots unions are named “%(name)s”: use the code (%(codes)s).")
                % {"name": value, "codes": "、".join(u.code for u in named)}
            )
        raise CellError(
            _(
                "“%(value)s” is not the code or exact name of a grassroots union you may import "
                "into."
            )
            % {"value": value}
        )


def header_errors(headers: list[str], columns: list[str], optional=()) -> list[RowError]:
    """Row-1 errors: missing, unknown or repeated columns (the columns are exactly these,
    plus any of `optional`)."""
    errors = []
    missing = [c for c in columns if c not in headers]
    columns = [*columns, *optional]
    if missing:
        errors.append(
            RowError(1, "", _("missing columns: %(cols)s") % {"cols": "、".join(missing)})
        )
    unknown = [h for h in headers if h and h not in columns]
    if unknown:
        errors.append(
            RowError(
                1,
                "",
                _("unknown columns: %(cols)s (the columns are exactly: %(expected)s)")
                % {"cols": "、".join(unknown), "expected": "、".join(columns)},
            )
        )
    repeated = sorted({h for h in headers if h and headers.count(h) > 1})
    if repeated:
        errors.append(
            RowError(1, "", _("repeated columns: %(cols)s") % {"cols": "、".join(repeated)})
        )
    return errors
