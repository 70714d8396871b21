"""A small, fast, bounded reader for the first sheet of an .xlsx workbook: rows of cell values.

openpyxl's read-only mode spends about 30 µs per cell; a 10,000-row ledger (120,000 cells)
took 3-4 s of a benchmark whose whole budget is 8 s. This reader walks the sheet XML once with
ElementTree (its C parser) and uses openpyxl only for what it knows best: which number formats
are dates and how Excel's day numbers become dates. Values: str, int, float, bool, datetime
(date cells) or None, with empty rows and cells kept so row numbers match the spreadsheet.
"""

import datetime as dt
import io
import posixpath
import struct
import time
import zipfile
from dataclasses import dataclass
from xml.etree.ElementTree import ParseError, iterparse

from django.utils.translation import gettext as _
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# Everything read out of the zip counts against this, as it is decompressed: a zip's own
# claim of its sizes is checked first but not trusted (a "zip bomb" may lie about them).
MAX_UNPACKED_BYTES = 128 * 1024 * 1024
# A workbook has a dozen parts; a central directory of thousands costs memory to list.
MAX_ZIP_ENTRIES = 1000
# Excel's own last column is XFD (16,384); a row with more cell elements than that is not
# from a spreadsheet program.
MAX_CELLS_PER_ROW = 16_384
_CHUNK = 64 * 1024
_DTD_MARKS = (b"<!DOCTYPE", b"<!ENTITY")


class XlsxError(Exception):
    """The workbook is damaged or not a workbook."""


class XlsxLimit(XlsxError):
    """The workbook is readable but beyond a limit; the message (translated) names it."""


@dataclass(frozen=True)
class Limits:
    max_rows: int  # data rows, the header not counted
    max_columns: int
    deadline: float  # time.monotonic() after which reading stops
    max_unpacked: int = MAX_UNPACKED_BYTES


def read_first_sheet(data: bytes, limits: Limits) -> list[list]:
    try:
        _check_directory(data)
        book = zipfile.ZipFile(io.BytesIO(data))
        if sum(info.file_size for info in book.infolist()) > limits.max_unpacked:
            raise _unpacked_limit(limits)
        reader = _Reader(book, limits)
        sheet_path, epoch = _first_sheet(reader)
        shared = _shared_strings(reader)
        date_styles = _date_styles(reader)
        return _rows(
            reader.parse(sheet_path, events=("start", "end")), shared, date_styles, epoch, limits
        )
    except XlsxError:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        KeyError,
        ParseError,
        ValueError,
        IndexError,
        OverflowError,
        OSError,
        EOFError,
    ) as exc:
        raise XlsxError(str(exc)) from exc


def _unpacked_limit(limits: Limits) -> XlsxLimit:
    return XlsxLimit(
        _("The workbook expands to more than %(max)d MB; at most %(max)d MB can be read.")
        % {"max": limits.max_unpacked // 1024 // 1024}
    )


def _check_directory(data: bytes) -> None:
    """Count the zip's entries from its end record before zipfile lists them all."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or len(data) < end + 22:
        raise XlsxError("no end of central directory")
    (entries,) = struct.unpack("<H", data[end + 10 : end + 12])
    if entries > MAX_ZIP_ENTRIES:  # 0xFFFF (ZIP64) included: no workbook needs it
        raise XlsxLimit(
            _("The workbook has more than %(max)d parts; an .xlsx workbook has far fewer.")
            % {"max": MAX_ZIP_ENTRIES}
        )


class _Reader:
    """Parts of the zip, read in chunks against one running budget of decompressed bytes."""

    def __init__(self, book: zipfile.ZipFile, limits: Limits):
        self.book, self.limits, self.used = book, limits, 0

    def has(self, name: str) -> bool:
        return name in self.book.NameToInfo

    def parse(self, name: str, events=("end",)):
        return iterparse(_Part(self, self.book.open(name)), events=events)  # noqa: S314 - no DTD

    def count(self, n: int) -> None:
        self.used += n
        if self.used > self.limits.max_unpacked:
            raise _unpacked_limit(self.limits)
        check_time(self.limits)


class _Part:
    """A file-like view of one part that never decompresses more than a chunk at a time.

    ZipExtFile.read() without a size inflates a whole part in one call, whatever the part
    claims to be; in chunks, the running budget stops a bomb after at most one chunk too many.
    Any DTD is refused (no workbook has one; entity expansion tricks need one).
    """

    def __init__(self, reader: _Reader, raw):
        self.reader, self.raw, self.tail = reader, raw, b""

    def read(self, n: int = -1) -> bytes:
        n = _CHUNK if n is None or n < 0 or n > _CHUNK else n
        chunk = self.raw.read(n)
        self.reader.count(len(chunk))
        window = self.tail + chunk
        if any(mark in window for mark in _DTD_MARKS):
            raise XlsxError("the part declares a DTD")
        self.tail = window[-8:]
        return chunk


def check_time(limits: Limits) -> None:
    if time.monotonic() > limits.deadline:
        raise XlsxLimit(_time_message())


def _time_message() -> str:
    from tabular.tables import READ_SECONDS  # the one budget for CSV and XLSX

    return _("Reading the file took longer than %(max)d seconds; split it into smaller files.") % {
        "max": READ_SECONDS
    }


def _first_sheet(reader: _Reader) -> tuple[str, object]:
    rel_id, epoch = None, CALENDAR_WINDOWS_1900
    for _event, el in reader.parse("xl/workbook.xml"):
        if el.tag == MAIN + "workbookPr" and el.get("date1904") in ("1", "true"):
            epoch = CALENDAR_MAC_1904
        elif el.tag == MAIN + "sheet" and rel_id is None:
            rel_id = el.get(REL + "id")
    if rel_id is None:
        raise XlsxError("the workbook has no sheet")
    for _event, el in reader.parse("xl/_rels/workbook.xml.rels"):
        if el.tag == PKG_REL + "Relationship" and el.get("Id") == rel_id:
            target = el.get("Target")
            if target.startswith("/"):
                return target.lstrip("/"), epoch
            return posixpath.normpath(posixpath.join("xl", target)), epoch
    raise XlsxError("the first sheet is missing")


def _shared_strings(reader: _Reader) -> list[str]:
    if not reader.has("xl/sharedStrings.xml"):
        return []
    strings = []
    for _event, el in reader.parse("xl/sharedStrings.xml"):
        if el.tag == MAIN + "si":
            # Rich text has several runs; phonetic hints (rPh) are not part of the value.
            phonetic = _phonetic(el)
            strings.append("".join(t.text or "" for t in el.iter(MAIN + "t") if t not in phonetic))
            el.clear()
    return strings


def _phonetic(si) -> set:
    return {t for rph in si.iter(MAIN + "rPh") for t in rph.iter(MAIN + "t")}


def _date_styles(reader: _Reader) -> set[str]:
    """Indexes (as strings, as cells carry them) of the cell styles that format a date."""
    if not reader.has("xl/styles.xml"):
        return set()
    custom: dict[int, str] = {}
    styles: list[int] = []
    in_cell_xfs = False
    for event, el in reader.parse("xl/styles.xml", events=("start", "end")):
        if el.tag == MAIN + "cellXfs":
            in_cell_xfs = event == "start"
        elif event == "end" and el.tag == MAIN + "numFmt":
            custom[int(el.get("numFmtId"))] = el.get("formatCode", "")
        elif event == "end" and el.tag == MAIN + "xf" and in_cell_xfs:
            styles.append(int(el.get("numFmtId", "0")))
    dates = set()
    for index, fmt_id in enumerate(styles):
        code = custom.get(fmt_id, BUILTIN_FORMATS.get(fmt_id, "General"))
        if is_date_format(code):
            dates.add(str(index))
    return dates


_BEYOND = 1 << 30  # the index given to columns past XFD: never allocated, always refused


def _column(letters: str) -> int:
    """0 for A; _BEYOND for a reference past Excel's last column; XlsxError if not letters."""
    if not letters or not letters.isascii() or not letters.isalpha() or not letters.isupper():
        raise XlsxError(f"bad cell reference {letters[:20]!r}")
    if len(letters) > 3:
        return _BEYOND
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index - 1


def _split_ref(ref: str) -> tuple[str, str]:
    letters = ref.rstrip("0123456789")
    return letters, ref[len(letters) :]


def _columns_message(row: int, column: str, limits: Limits) -> XlsxLimit:
    return XlsxLimit(
        _("Row %(row)d has a value in column %(column)s; at most %(max)d columns can be imported.")
        % {"row": row, "column": column[:10], "max": limits.max_columns}
    )


def rows_limit(limits: Limits) -> XlsxLimit:
    return XlsxLimit(
        _("The file has more than %(max)d rows; at most %(max)d can be imported at once.")
        % {"max": limits.max_rows}
    )


def _check_dimension(ref: str, limits: Limits) -> None:
    """The sheet's declared used range, refused before a row is read if beyond the limits."""
    letters, digits = _split_ref((ref or "A1").split(":")[-1])
    column = _column(letters) + 1
    rows = int(digits) if digits else 1
    if column > limits.max_columns or rows > limits.max_rows + 1:
        raise XlsxLimit(
            _(
                "The sheet declares its size as %(ref)s: at most %(rows)d rows and %(columns)d "
                "columns can be imported. Delete the unused rows and columns."
            )
            % {"ref": ref[:30], "rows": limits.max_rows + 1, "columns": limits.max_columns}
        )


def _rows(parts, shared, date_styles, epoch, limits: Limits) -> list[list]:
    """Rows of values, refusing (before allocating) any row or column beyond the limits."""
    rows: list[list] = []
    columns: dict[str, int] = {}  # "AB" -> 27, worked out once per column
    row_tag, cell_tag, dim_tag = MAIN + "row", MAIN + "c", MAIN + "dimension"
    last_row = limits.max_rows + 1  # the header is row 1
    values: list | None = None
    number = cells = 0
    for event, el in parts:
        tag = el.tag
        if event == "start":
            if tag == row_tag:
                number = int(el.get("r") or len(rows) + 1)
                if max(number, len(rows) + 1) > last_row:
                    raise rows_limit(limits)
                while len(rows) < number - 1:
                    rows.append([])  # rows with no cells are absent from the XML
                values, cells = [], 0
            continue
        if tag == cell_tag and values is not None:
            cells += 1
            if cells > MAX_CELLS_PER_ROW:
                raise _columns_message(number, f"#{cells}", limits)
            value = _value(el, shared, date_styles, epoch)
            ref = el.get("r")
            letters = _split_ref(ref)[0] if ref else ""
            if letters:
                col = columns.get(letters)
                if col is None:
                    col = _column(letters)
                    if col != _BEYOND:
                        columns[letters] = col
            else:
                col = len(values)
            if col >= limits.max_columns:
                if value is not None and value != "":
                    raise _columns_message(number, letters or f"#{col + 1}", limits)
                el.clear()  # an empty (formatted) cell far right: nothing to keep
                continue
            if col > len(values):
                values.extend([None] * (col - len(values)))
            values.append(value)
            el.clear()
        elif tag == row_tag and values is not None:
            rows.append(values)
            values = None
            el.clear()
            check_time(limits)
        elif tag == dim_tag:
            _check_dimension(el.get("ref", ""), limits)
    return rows


def _value(c, shared, date_styles, epoch):
    kind = c.get("t", "n")
    if kind == "inlineStr":
        return "".join(t.text or "" for t in c.iter(MAIN + "t"))
    v = c.find(MAIN + "v")
    if v is None or v.text is None:
        return None
    text = v.text
    if kind == "s":
        return shared[int(text)]
    if kind in ("str", "e"):
        return text
    if kind == "b":
        return text == "1"
    if kind == "d":
        return dt.datetime.fromisoformat(text)
    number = float(text) if any(ch in text for ch in ".eE") else int(text)
    if c.get("s") in date_styles:
        return from_excel(number, epoch)
    return number
