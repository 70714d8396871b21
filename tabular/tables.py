"""Read a CSV, XLSX or ODS file into header + rows, with spreadsheet row numbers.

Used by every import (unions, workers, households, the historical ledger), from the command
line and from the admin. The file as a whole is checked first: known extension, not empty, not
too large, and content that really is what the extension says. Workbooks are bounded by
tabular.precheck and then read by python-calamine (Rust's calamine); CSV by the standard
library, as it is decoded.
"""

import csv
import datetime as dt
import io
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import python_calamine
from django.utils.translation import gettext as _

from tabular import precheck
from tabular.formulas import FORMULA_STARTS
from tabular.precheck import Limits, WorkbookError, WorkbookLimit, check_time, rows_limit

# Every file is bounded before and while it is parsed, so that a small hostile file is refused
# in well under a second instead of costing minutes or gigabytes. A 10,000-row ledger is about
# 1.5 MB as CSV and 0.9 MB as XLSX, with 12 columns.
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000  # data rows, the header not counted
MAX_COLUMNS = 64
# One CSV record (a row, quoted line breaks included): bounds the cells one row can hold.
MAX_ROW_CHARS = 1_000_000
# Wall-clock budget for reading one file: hostile files are refused by the limits above in
# milliseconds; this is the backstop. A 10,000-row XLSX reads in about 0.3 s (bench/RESULTS.md),
# so the largest file allowed (50,000 rows) stays well within it on a loaded machine.
READ_SECONDS = 20
SUFFIXES = (".csv", ".xlsx", ".ods")
WORKBOOK_SUFFIXES = (".xlsx", ".ods")
ZIP_MAGIC = b"PK\x03\x04"


class TableError(Exception):
    """The file as a whole cannot be read (wrong type, no header, bad encoding, too big)."""


@dataclass
class RowError:
    """One problem in one cell (or, column "", one row) of an imported file."""

    row: int
    column: str
    message: str

    def __str__(self):
        where = _("row %(row)d") % {"row": self.row}
        if self.column:
            where += f" [{self.column}]"
        return f"{where}: {self.message}"


@dataclass
class Table:
    headers: list[str]
    # (row number as a spreadsheet shows it, {header: cell}); the header is row 1.
    rows: list[tuple[int, dict[str, object]]]


def _cell_text(value) -> object:
    # Keep dates and numbers typed (callers parse them); everything else becomes stripped text.
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        # calamine gives every number as a float; whole numbers read back as the int they
        # were typed as (codes, counts). 4.40605E+17 stays a number: an ID number refuses it.
        return int(value)
    if isinstance(value, (dt.date, dt.datetime, Decimal, int, float)):
        return value
    if isinstance(value, (dt.time, dt.timedelta)):
        return str(value)  # a time of day or a duration: no import column takes one
    text = str(value).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_STARTS:
        text = text[1:]
    return text


def read_table(path: str | Path) -> Table:
    path = Path(path)
    check_suffix(path.name)
    size = path.stat().st_size
    check_size(size)
    return read_table_bytes(path.read_bytes(), path.name)


def check_suffix(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise TableError(
            _("Unsupported file type %(suffix)s: use .csv, .xlsx or .ods.")
            % {"suffix": suffix or "(none)"}
        )
    return suffix


def check_size(size: int) -> None:
    if size == 0:
        raise TableError(_("The file is empty: row 1 must hold the column headers."))
    if size > MAX_FILE_BYTES:
        raise TableError(
            _("The file is %(size).1f MB; at most %(max)d MB can be imported at once.")
            % {"size": size / 1024 / 1024, "max": MAX_FILE_BYTES // 1024 // 1024}
        )


def check_content(data: bytes, name: str) -> str:
    """The suffix, once the bytes are known to be what it says; TableError otherwise."""
    suffix = check_suffix(name)
    check_size(len(data))
    is_zip = data.startswith(ZIP_MAGIC)
    if suffix == ".xlsx" and not is_zip:
        raise TableError(
            _("%(name)s is not an Excel (.xlsx) workbook: its content does not match its name.")
            % {"name": Path(name).name}
        )
    if suffix == ".ods" and not is_zip:
        raise TableError(
            _(
                "%(name)s is not an OpenDocument (.ods) spreadsheet: its content does not match "
                "its name."
            )
            % {"name": Path(name).name}
        )
    if suffix == ".csv" and (is_zip or b"\x00" in data[:4096]):
        raise TableError(
            _("%(name)s is not a CSV text file: its content does not match its name.")
            % {"name": Path(name).name}
        )
    return suffix


def read_table_bytes(data: bytes, name: str) -> Table:
    suffix = check_content(data, name)
    limits = Limits(
        max_rows=MAX_ROWS,
        max_columns=MAX_COLUMNS,
        deadline=time.monotonic() + READ_SECONDS,
        max_unpacked=precheck.MAX_UNPACKED_BYTES,
    )
    raw_rows = _read_csv(data, limits) if suffix == ".csv" else _read_workbook(data, suffix, limits)
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


def _read_csv(data: bytes, limits: Limits) -> list[list]:
    # Excel on Chinese Windows saves CSV as GBK; try UTF-8 (with or without BOM) first. The
    # text is decoded as it is read, never as a whole.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
            return _csv_rows(_Lines(stream), limits)
        except UnicodeDecodeError:
            continue
    raise TableError(_("Cannot read the CSV file: unknown text encoding."))


class _RowTooLong(Exception):
    pass


class _Lines:
    """Lines for csv.reader, counting the characters of the record being read."""

    def __init__(self, stream):
        self.stream, self.used = stream, 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = self.stream.readline(MAX_ROW_CHARS + 1)  # a line without an end is cut short
        if not line:
            raise StopIteration
        self.used += len(line)
        if self.used > MAX_ROW_CHARS:
            raise _RowTooLong
        return line


def _csv_rows(lines: _Lines, limits: Limits) -> list[list]:
    rows: list[list] = []
    reader = csv.reader(lines)
    try:
        while True:
            row_number = len(rows) + 1
            try:
                row = next(reader)
            except StopIteration:
                return rows
            except _RowTooLong:
                raise TableError(
                    _("Row %(row)d is longer than %(max)d characters.")
                    % {"row": row_number, "max": MAX_ROW_CHARS}
                ) from None
            lines.used = 0
            while row and row[-1] == "":
                row.pop()  # trailing empty cells (a spreadsheet's blank columns) cost nothing
            if len(row) > limits.max_columns:
                raise TableError(
                    _("Row %(row)d has %(n)d columns; at most %(max)d columns can be imported.")
                    % {"row": row_number, "n": len(row), "max": limits.max_columns}
                )
            if row_number > limits.max_rows + 1:
                raise TableError(str(rows_limit(limits)))
            rows.append(row)
            try:
                check_time(limits)
            except WorkbookLimit as exc:
                raise TableError(str(exc)) from None
    except csv.Error as exc:
        raise TableError(_("Cannot read the CSV file: %(error)s") % {"error": exc}) from exc


def _read_workbook(data: bytes, suffix: str, limits: Limits) -> list[list]:
    """The first sheet's rows from row 1 (leading empty rows kept: row numbers match)."""
    try:
        precheck.check_workbook(data, suffix, limits)  # before calamine allocates anything
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = book.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
        merged = sheet.merged_cell_ranges or []
        check_time(limits)
    except WorkbookLimit as exc:
        raise TableError(str(exc)) from exc
    except (WorkbookError, python_calamine.CalamineError) as exc:
        raise TableError(
            _("Cannot open the spreadsheet: it is damaged or not an .xlsx or .ods workbook.")
        ) from exc
    _check_merged(merged)
    return rows


def _check_merged(merged) -> None:
    """Merged cells keep their value in the first cell only: the others would read as blank.

    A title merged across row 1, a header spanning two columns, or a union name merged down
    several rows would each be read wrongly, so the file is refused with the range to unmerge.
    """
    ranges = sorted(((r0, c0), (r1, c1)) for (r0, c0), (r1, c1) in merged if (r0, c0) != (r1, c1))
    if not ranges:
        return
    (r0, c0), (r1, c1) = ranges[0]
    where = f"{_letters(c0)}{r0 + 1}:{_letters(c1)}{r1 + 1}"
    if r0 == 0:
        raise TableError(
            _(
                "Row 1 has merged cells (%(range)s): row 1 must hold one column header per "
                "column. Delete any title row above the headers and unmerge the cells."
            )
            % {"range": where}
        )
    raise TableError(
        _(
            "Cells %(range)s are merged: every row needs its own value in each cell. Unmerge "
            "them and fill in each row."
        )
        % {"range": where}
    )


def _letters(column: int) -> str:
    letters = ""
    column += 1
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def require_columns(table: Table, columns: list[str]) -> list[str]:
    """The required columns missing from the header row."""
    return [c for c in columns if c not in table.headers]
