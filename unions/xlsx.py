"""A small, fast reader for the first sheet of an .xlsx workbook: rows of cell values.

openpyxl's read-only mode spends about 30 µs per cell; a 10,000-row ledger (120,000 cells)
took 3-4 s of a benchmark whose whole budget is 8 s. This reader walks the sheet XML once with
ElementTree (its C parser) and uses openpyxl only for what it knows best: which number formats
are dates and how Excel's day numbers become dates. Values: str, int, float, bool, datetime
(date cells) or None, with empty rows and cells kept so row numbers match the spreadsheet.
"""

import datetime as dt
import io
import posixpath
import zipfile
from xml.etree.ElementTree import ParseError, iterparse

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# A workbook that expands to more than this is refused (a "zip bomb" costs memory, not time).
MAX_UNPACKED_BYTES = 300 * 1024 * 1024


class XlsxError(Exception):
    pass


def read_first_sheet(data: bytes) -> list[list]:
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
        if sum(info.file_size for info in book.infolist()) > MAX_UNPACKED_BYTES:
            raise XlsxError("the workbook expands to more than 300 MB")
        sheet_path, epoch = _first_sheet(book)
        shared = _shared_strings(book)
        date_styles = _date_styles(book)
        return _rows(_parse(book, sheet_path), shared, date_styles, epoch)
    except (zipfile.BadZipFile, KeyError, ParseError, ValueError, IndexError, OSError) as exc:
        raise XlsxError(str(exc)) from exc


def _first_sheet(book: zipfile.ZipFile) -> tuple[str, object]:
    rel_id, epoch = None, CALENDAR_WINDOWS_1900
    for _event, el in _parse(book, "xl/workbook.xml"):
        if el.tag == MAIN + "workbookPr" and el.get("date1904") in ("1", "true"):
            epoch = CALENDAR_MAC_1904
        elif el.tag == MAIN + "sheet" and rel_id is None:
            rel_id = el.get(REL + "id")
    if rel_id is None:
        raise XlsxError("the workbook has no sheet")
    for _event, el in _parse(book, "xl/_rels/workbook.xml.rels"):
        if el.tag == PKG_REL + "Relationship" and el.get("Id") == rel_id:
            target = el.get("Target")
            if target.startswith("/"):
                return target.lstrip("/"), epoch
            return posixpath.normpath(posixpath.join("xl", target)), epoch
    raise XlsxError("the first sheet is missing")


def _shared_strings(book: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in book.namelist():
        return []
    strings = []
    for _event, el in _parse(book, "xl/sharedStrings.xml"):
        if el.tag == MAIN + "si":
            # Rich text has several runs; phonetic hints (rPh) are not part of the value.
            phonetic = _phonetic(el)
            strings.append("".join(t.text or "" for t in el.iter(MAIN + "t") if t not in phonetic))
            el.clear()
    return strings


def _phonetic(si) -> set:
    return {t for rph in si.iter(MAIN + "rPh") for t in rph.iter(MAIN + "t")}


def _date_styles(book: zipfile.ZipFile) -> set[str]:
    """Indexes (as strings, as cells carry them) of the cell styles that format a date."""
    if "xl/styles.xml" not in book.namelist():
        return set()
    custom: dict[int, str] = {}
    styles: list[int] = []
    in_cell_xfs = False
    for event, el in _parse(book, "xl/styles.xml", events=("start", "end")):
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


def _column(ref: str) -> int:
    index = 0
    for ch in ref:
        index = index * 26 + ord(ch) - 64
    return index - 1


def _parse(book: zipfile.ZipFile, name: str, events=("end",)):
    """iterparse over one part, refusing any DTD (no workbook has one; entity tricks need one)."""
    data = book.read(name)
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise XlsxError(f"{name} declares a DTD")
    return iterparse(io.BytesIO(data), events=events)  # noqa: S314 - DTDs refused above


def _rows(parts, shared, date_styles, epoch) -> list[list]:
    rows: list[list] = []
    columns: dict[str, int] = {}  # "AB" -> 27, worked out once per column
    row_tag, cell_tag = MAIN + "row", MAIN + "c"
    for _event, el in parts:
        if el.tag != row_tag:
            continue
        number = int(el.get("r", len(rows) + 1))
        while len(rows) < number - 1:
            rows.append([])  # rows with no cells are absent from the XML
        values: list = []
        for c in el.iter(cell_tag):
            ref = c.get("r")
            if ref:
                letters = ref.rstrip("0123456789")
                col = columns.get(letters)
                if col is None:
                    col = columns[letters] = _column(letters)
                if col > len(values):
                    values.extend([None] * (col - len(values)))
            values.append(_value(c, shared, date_styles, epoch))
        rows.append(values)
        el.clear()
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
