"""Bounds a workbook (.xlsx or .ods) before python-calamine reads it.

calamine reads a whole sheet into memory as one dense block of rows x columns, sized by the
farthest cell that holds a value. A 2 KB file with a value in column ZZZZZZZ or row 1,048,576
would make it allocate gigabytes, and a zip that lies about its sizes would make it inflate
them. So everything that decides how much calamine allocates is checked here first, part by
part, in chunks, against one running budget of decompressed bytes and the wall-clock deadline:
the zip's directory, every part (which also verifies its checksum), the sheets' declared
dimensions, row numbers, cell references and (ODS) repeated rows and cells. Only then does
calamine see the file.
"""

import io
import re
import struct
import time
import zipfile
from dataclasses import dataclass
from xml.etree.ElementTree import ParseError, iterparse

from django.utils.translation import gettext as _

# Everything read out of the zip counts against this, as it is decompressed: a zip's own
# claim of its sizes is checked first but not trusted (a "zip bomb" may lie about them).
MAX_UNPACKED_BYTES = 128 * 1024 * 1024
# A workbook has a dozen parts; a central directory of thousands costs memory to list.
MAX_ZIP_ENTRIES = 1000
# Excel's own last column is XFD (16,384): no spreadsheet program writes more in a row.
MAX_CELLS_PER_ROW = 16_384
_CHUNK = 64 * 1024
_DTD_MARKS = (b"<!DOCTYPE", b"<!ENTITY")
_XML_PARTS = (".xml", ".rels")

# Sheet XML, matched on bytes (a namespace prefix such as "x:" allowed). Cell references of
# one letter (A-Z) are always within the column limit, so only the row part of those matters.
_PREFIX = rb"(?:[A-Za-z_][\w.-]*:)?"
_DIMENSION = re.compile(rb"<" + _PREFIX + rb"dimension\b[^>]*?\bref=\"([^\"]*)\"")
_ROW_TAG = re.compile(rb"<" + _PREFIX + rb"row[\s>/]")
_CELL_TAG = re.compile(rb"<" + _PREFIX + rb"c[\s>/]")
_CELL_REF = re.compile(rb"<" + _PREFIX + rb"c\s[^>]*?\br=\"[A-Za-z]")
# Only rows and cells carry an r attribute in a sheet: every row number, in one pass. The
# patterns start with a literal, which the regex engine finds fast (three times faster than
# with the leading whitespace): a stray match only costs the exact scan below.
_FAR_REF = re.compile(rb"r=\"(?:[A-Za-z]{2}|[a-z])")
# Cells whose column could be past the limit (two letters or more; lower case is refused).
_FAR_CELL = re.compile(rb"<" + _PREFIX + rb"c\s[^>]*?\br=\"([A-Za-z]{2,}|[a-z])(\d+)\"[^>]*?(/?)>")
_REF = re.compile(rb"<" + _PREFIX + rb"c\s[^>]*?\br=\"")
_CELL_ROW = re.compile(rb"<" + _PREFIX + rb"c\s[^>]*?\br=\"[A-Za-z]*(\d+)\"")
# Cells whose column could be past the limit (two letters or more; lower case is refused).
_FAR_CELL = re.compile(rb"<" + _PREFIX + rb"c\s[^>]*?\br=\"([A-Za-z]{2,}|[a-z])(\d+)\"[^>]*?(/?)>")
_REF = re.compile(r"([A-Za-z]*)(\d*)")
_EMPTY_AHEAD = re.compile(rb"\s*</")
_VALUE_AHEAD = re.compile(rb"\s*<")

ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
ODS_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"


class WorkbookError(Exception):
    """The workbook is damaged or not a workbook."""


class WorkbookLimit(WorkbookError):
    """The workbook is readable but beyond a limit; the message (translated) names it."""


@dataclass(frozen=True)
class Limits:
    max_rows: int  # data rows, the header not counted
    max_columns: int
    deadline: float  # time.monotonic() after which reading stops
    max_unpacked: int = MAX_UNPACKED_BYTES


ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    KeyError,
    ParseError,
    ValueError,
    IndexError,
    OverflowError,
    OSError,
    EOFError,
)


def check_workbook(data: bytes, suffix: str, limits: Limits) -> None:
    """WorkbookLimit or WorkbookError unless calamine may safely read `data`."""
    try:
        _check_directory(data)
        book = zipfile.ZipFile(io.BytesIO(data))
        if sum(info.file_size for info in book.infolist()) > limits.max_unpacked:
            raise _unpacked_limit(limits)
        reader = _Reader(book, limits)
        for info in book.infolist():
            if info.is_dir():
                continue
            name = info.filename
            if suffix == ".ods" and name == "content.xml":
                _check_ods_content(reader, limits)
            elif suffix == ".xlsx" and name.startswith("xl/worksheets/") and name.endswith(".xml"):
                _SheetScan(limits).run(reader.chunks(name))
            else:
                for _chunk in reader.chunks(name):
                    pass  # counted, checksum verified at the end of the part
    except WorkbookError:
        raise
    except ZIP_ERRORS as exc:
        raise WorkbookError(str(exc)) from exc


def _unpacked_limit(limits: Limits) -> WorkbookLimit:
    return WorkbookLimit(
        _("The workbook expands to more than %(max)d MB; at most %(max)d MB can be read.")
        % {"max": limits.max_unpacked // 1024 // 1024}
    )


def _check_directory(data: bytes) -> None:
    """Count the zip's entries from its end record before zipfile lists them all."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or len(data) < end + 22:
        raise WorkbookError("no end of central directory")
    (entries,) = struct.unpack("<H", data[end + 10 : end + 12])
    if entries > MAX_ZIP_ENTRIES:  # 0xFFFF (ZIP64) included: no workbook needs it
        raise WorkbookLimit(
            _("The workbook has more than %(max)d parts; an .xlsx workbook has far fewer.")
            % {"max": MAX_ZIP_ENTRIES}
        )


class _Reader:
    """Parts of the zip, read in chunks against one running budget of decompressed bytes.

    ZipExtFile.read() without a size inflates a whole part in one call, whatever the part
    claims to be; in chunks, the running budget stops a bomb after at most one chunk too many.
    Any DTD in an XML part is refused (no workbook has one; entity expansion tricks need one).
    """

    def __init__(self, book: zipfile.ZipFile, limits: Limits):
        self.book, self.limits, self.used = book, limits, 0

    def chunks(self, name: str):
        xml = name.lower().endswith(_XML_PARTS)
        tail = b""
        with self.book.open(name) as raw:
            while chunk := raw.read(_CHUNK):
                self.used += len(chunk)
                if self.used > self.limits.max_unpacked:
                    raise _unpacked_limit(self.limits)
                check_time(self.limits)
                if xml:
                    # The chunk, and the few bytes where it joins the one before.
                    seam = tail + chunk[:16]
                    if any(mark in chunk or mark in seam for mark in _DTD_MARKS):
                        raise WorkbookError("the part declares a DTD")
                    tail = chunk[-8:]
                yield chunk


class _ChunkFile:
    """A file-like view of a chunk iterator, for ElementTree's iterparse."""

    def __init__(self, chunks):
        self.chunks = iter(chunks)

    def read(self, _n: int = -1) -> bytes:
        return next(self.chunks, b"")


def check_time(limits: Limits) -> None:
    if time.monotonic() > limits.deadline:
        raise WorkbookLimit(_time_message())


def _time_message() -> str:
    from tabular.tables import READ_SECONDS  # the one budget for every kind of file

    return _("Reading the file took longer than %(max)d seconds; split it into smaller files.") % {
        "max": READ_SECONDS
    }


_BEYOND = 1 << 30  # the index given to columns past XFD: never allocated, always refused


def _column(letters: str) -> int:
    """0 for A; _BEYOND for a reference past Excel's last column; WorkbookError if not letters."""
    if not letters or not letters.isascii() or not letters.isalpha() or not letters.isupper():
        raise WorkbookError(f"bad cell reference {letters[:20]!r}")
    if len(letters) > 3:
        return _BEYOND
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index - 1


def _columns_message(row: int, column: str, limits: Limits) -> WorkbookLimit:
    return WorkbookLimit(
        _("Row %(row)d has a value in column %(column)s; at most %(max)d columns can be imported.")
        % {"row": row, "column": column[:10], "max": limits.max_columns}
    )


def rows_limit(limits: Limits) -> WorkbookLimit:
    return WorkbookLimit(
        _("The file has more than %(max)d rows; at most %(max)d can be imported at once.")
        % {"max": limits.max_rows}
    )


def _check_dimension(ref: str, limits: Limits) -> None:
    """The sheet's declared used range, refused before a row is read if beyond the limits."""
    match = _REF.fullmatch((ref or "A1").split(":")[-1])
    if match is None:
        raise WorkbookError(f"bad dimension {ref[:30]!r}")
    column = _column(match.group(1)) + 1
    rows = int(match.group(2)) if match.group(2) else 1
    if column > limits.max_columns or rows > limits.max_rows + 1:
        raise WorkbookLimit(
            _(
                "The sheet declares its size as %(ref)s: at most %(rows)d rows and %(columns)d "
                "columns can be imported. Delete the unused rows and columns."
            )
            % {"ref": ref[:30], "rows": limits.max_rows + 1, "columns": limits.max_columns}
        )


class _SheetScan:
    """One XLSX sheet's XML, scanned in chunks for what would size calamine's block.

    Every cell reference's row and column is checked (calamine places a cell by its
    reference); a far-right cell without a value (formatting only) is let through, as calamine
    ignores it. Cells without a reference follow the previous one: those are counted per row.
    """

    def __init__(self, limits: Limits):
        self.limits = limits
        self.last_row = limits.max_rows + 1  # the header is row 1
        self.rows_seen = 0
        # Row numbers with as many digits as the last row allowed: the only ones to compare.
        self.long_rows = re.compile(rb'r="[A-Za-z]*(\d{%d,})"' % len(str(self.last_row)))
        self.unreferenced = 0  # cells without a reference in the current row
        self.dimension_seen = False

    def run(self, chunks) -> None:
        pending = b""
        for chunk in chunks:
            data = pending + chunk
            cut = self.segment(data, final=False)
            pending = data[cut:]
        self.segment(pending, final=True)

    def segment(self, data: bytes, *, final: bool) -> int:
        """Scan data up to its last complete tag; the offset where the next scan starts."""
        cut = len(data) if final else data.rfind(b"<")
        if cut <= 0:
            return 0
        seg = data[:cut]
        if not self.dimension_seen:
            # The dimension comes before the sheet's data (the schema's order), if at all.
            data_at = seg.find(b"sheetData")
            match = _DIMENSION.search(seg, 0, data_at if data_at >= 0 else len(seg))
            if match:
                _check_dimension(match.group(1).decode("ascii", "replace"), self.limits)
            self.dimension_seen = bool(match) or data_at >= 0
        digits = self.long_rows.findall(seg)
        if digits and max(map(int, digits)) > self.last_row:
            raise rows_limit(self.limits)
        end = self.far_cells(seg, final=final) if _FAR_REF.search(seg) else len(seg)
        self.count(seg[:end])
        return end

    def far_cells(self, seg: bytes, *, final: bool) -> int:
        """Refuse a value past the column limit; the offset where this scan stops."""
        for match in _FAR_CELL.finditer(seg):
            letters = match.group(1).decode("ascii")
            column = _column(letters)
            if column < self.limits.max_columns or match.group(3):
                continue  # within the limit, or a self-closed (empty) cell
            after = match.end()
            if _EMPTY_AHEAD.match(seg, after):
                continue  # <c ...></c>: formatting only
            if not _VALUE_AHEAD.match(seg, after) and not final:
                return match.start()  # what follows is in the next chunk: look again then
            raise _columns_message(int(match.group(2)), letters, self.limits)
        return len(seg)

    def count(self, seg: bytes) -> None:
        """Rows, and cells without a reference (placed after the one before) per row."""
        # What Excel, WPS and LibreOffice write (no prefix, r first) is counted with
        # bytes.count; anything else with the general patterns.
        rows, cells, referenced = seg.count(b"<row"), seg.count(b"<c"), seg.count(b'<c r="')
        if cells != referenced or b":c" in seg:
            rows, cells = len(_ROW_TAG.findall(seg)), len(_CELL_TAG.findall(seg))
            referenced = len(_CELL_REF.findall(seg))
        if cells == referenced:
            self.rows_seen += rows
            self.unreferenced = 0 if rows else self.unreferenced
        else:
            # Some cells carry no reference: count them row by row (rare, never in Excel's
            # own files, so the slower path costs nothing on ordinary workbooks).
            pieces = _ROW_TAG.split(seg)
            self.count_unreferenced(pieces[0])
            for piece in pieces[1:]:
                self.rows_seen += 1
                self.unreferenced = 0
                self.count_unreferenced(piece)
        if self.rows_seen > self.last_row:
            raise rows_limit(self.limits)

    def count_unreferenced(self, piece: bytes) -> None:
        self.unreferenced += len(_CELL_TAG.findall(piece)) - len(_CELL_REF.findall(piece))
        if self.unreferenced > self.limits.max_columns:
            raise _columns_message(max(self.rows_seen, 1), f"#{self.unreferenced}", self.limits)


def _check_ods_content(reader: _Reader, limits: Limits) -> None:
    """ODS: repeated rows and cells (table:number-*-repeated) are what calamine expands.

    A value repeated across columns or rows counts as that many cells; empty ones (LibreOffice
    writes a million empty rows at the end of a sheet) are not kept by calamine.
    """
    table, office = ODS_TABLE, ODS_OFFICE
    row_tag, cell_tags = table + "table-row", (table + "table-cell", table + "covered-table-cell")
    rows_repeated, columns_repeated = (
        table + "number-rows-repeated",
        table + "number-columns-repeated",
    )
    value_type = office + "value-type"
    row = column = 0
    row_has_value = False
    parts = iterparse(_ChunkFile(reader.chunks("content.xml")), events=("start", "end"))  # noqa: S314 - no DTD
    for event, el in parts:
        if event == "start":
            if el.tag == table + "table":
                row = 0
            elif el.tag == row_tag:
                column, row_has_value = 0, False
            continue
        if el.tag in cell_tags:
            repeat = int(el.get(columns_repeated, "1"))
            has_value = el.get(value_type) is not None or bool("".join(el.itertext()).strip())
            if has_value:
                row_has_value = True
                if column + min(repeat, MAX_CELLS_PER_ROW) > limits.max_columns:
                    raise _columns_message(row + 1, f"#{column + min(repeat, 10**6)}", limits)
            column += repeat
            el.clear()
        elif el.tag == row_tag:
            repeat = int(el.get(rows_repeated, "1"))
            if row_has_value and row + repeat > limits.max_rows + 1:
                raise rows_limit(limits)
            row += repeat
            el.clear()
            check_time(limits)
