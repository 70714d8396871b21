"""Read a CSV or XLSX file into header + rows of strings, with spreadsheet row numbers."""

import csv
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.utils.translation import gettext as _


class TableError(Exception):
    """The file as a whole cannot be read (wrong type, no header, bad encoding)."""


@dataclass
class Table:
    headers: list[str]
    # (row number as a spreadsheet shows it, {header: cell}); the header is row 1.
    rows: list[tuple[int, dict[str, object]]]


def _cell_text(value) -> object:
    # Keep dates and numbers typed (callers parse them); everything else becomes stripped text.
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime, Decimal, int, float)):
        return value
    return str(value).strip()


def read_table(path: str | Path) -> Table:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw_rows = _read_csv(path)
    elif suffix in {".xlsx", ".xlsm"}:
        raw_rows = _read_xlsx(path)
    else:
        raise TableError(
            _("Unsupported file type %(suffix)s: use .csv or .xlsx.")
            % {"suffix": suffix or "(none)"}
        )
    if not raw_rows:
        raise TableError(_("The file is empty: row 1 must hold the column headers."))
    headers = [str(h).strip() if h is not None else "" for h in raw_rows[0]]
    rows = []
    for index, raw in enumerate(raw_rows[1:], start=2):
        cells = [_cell_text(v) for v in raw]
        if all(c == "" for c in cells):
            continue  # trailing blank lines are common in hand-edited sheets
        cells += [""] * (len(headers) - len(cells))
        rows.append((index, dict(zip(headers, cells, strict=False))))
    return Table(headers=headers, rows=rows)


def _read_csv(path: Path) -> list[list]:
    data = path.read_bytes()
    # Excel on Chinese Windows saves CSV as GBK; try UTF-8 (with or without BOM) first.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte sequence
        raise TableError(_("Cannot read the CSV file: unknown text encoding."))
    return list(csv.reader(text.splitlines()))


def _read_xlsx(path: Path) -> list[list]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise TableError(_("Cannot open the spreadsheet: %(error)s") % {"error": exc}) from exc
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def require_columns(table: Table, columns: list[str]) -> list[str]:
    """The required columns missing from the header row."""
    return [c for c in columns if c not in table.headers]
