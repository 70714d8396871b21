"""Writes the spreadsheet corpus beside this script: files shaped like the ones users send.

    .venv/bin/python tests/tabular/corpus/make_corpus.py        # rewrites every file; commit them

Each is a ledger (the import's columns) with the trait its name gives; tests/tabular/test_corpus.py
says what the import must make of each. Only the standard library and openpyxl; the
dates are fixed so the files do not change from one run to the next (the zip timestamps of
every part are fixed too).
"""

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.utils.datetime import CALENDAR_MAC_1904

HERE = Path(__file__).resolve().parent
COLUMNS = [
    "姓名",
    "身份证号",
    "基层工会",
    "困难类别",
    "困难情况",
    "申请日期",
    "批准金额",
    "发放日期",
    "发放金额",
    "资金来源",
    "凭证号",
    "备注",
]


def id_number(body: str) -> str:
    """The 17 digits and their check digit (GB 11643)."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


LIANG = id_number("44060519720308001")
HUANG = id_number("44060519810601002")
FIXED = (2024, 1, 1, 0, 0, 0)


def row(**cells) -> list:
    base = {
        "姓名": "梁志明",
        "身份证号": LIANG,
        "基层工会": "XQ-S01",
        "困难类别": "重大疾病",
        "困难情况": "肾病透析。",
        "申请日期": "2021-03-01",
        "批准金额": "5000",
        "发放日期": "2021-03-20",
        "发放金额": "5000",
        "资金来源": "镇自筹",
        "凭证号": "PZ-2021-001",
        "备注": "",
    }
    base.update(cells)
    return [base[c] for c in COLUMNS]


def save(book: Workbook, name: str, *, extra: dict[str, bytes] | None = None) -> None:
    """Save with fixed timestamps (and any parts replaced or added) so reruns are identical."""
    buffer = io.BytesIO()
    book.properties.created = book.properties.modified = dt.datetime(*FIXED)
    book.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    parts = {info.filename: source.read(info) for info in source.infolist()}
    parts.update(extra or {})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book_zip:
        for part, data in parts.items():
            book_zip.writestr(zipfile.ZipInfo(part, FIXED), data, zipfile.ZIP_DEFLATED)
    (HERE / name).write_bytes(out.getvalue())


def ledger_book(rows, *, header=COLUMNS) -> Workbook:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for cells in rows:
        sheet.append(cells)
    return book


def date_cells() -> None:
    """Excel date cells: a plain date, a date with a time, and Chinese custom date formats."""
    book = ledger_book(
        [
            row(申请日期=dt.date(2021, 3, 1), 发放日期=dt.datetime(2021, 3, 20, 9, 30)),
            row(申请日期=dt.date(2022, 4, 2), 发放日期=dt.date(2022, 4, 30), 凭证号="PZ-2022-7"),
        ]
    )
    sheet = book.active
    sheet["F2"].number_format = "yyyy-mm-dd"
    sheet["H2"].number_format = "yyyy-mm-dd hh:mm"
    sheet["F3"].number_format = 'yyyy"年"m"月"d"日"'
    sheet["H3"].number_format = "yyyy/m/d"
    save(book, "date_cells.xlsx")


def dates_1904() -> None:
    """A workbook on the 1904 date system (old Mac Excel): the same day numbers mean other days."""
    book = ledger_book([row(申请日期=dt.date(2021, 3, 1), 发放日期=dt.date(2021, 3, 20))])
    book.epoch = CALENDAR_MAC_1904
    book.active["F2"].number_format = book.active["H2"].number_format = "yyyy-mm-dd"
    save(book, "dates_1904.xlsx")


def text_dates() -> None:
    """Dates typed into text-formatted cells, in the ways Chinese users write them."""
    book = ledger_book(
        [
            row(申请日期="2021-03-01", 发放日期="2021/3/20"),
            row(申请日期="2022年4月2日", 发放日期="2022.04.30", 凭证号="PZ-2022-7"),
        ]
    )
    for cells in book.active.iter_rows(min_row=2):
        for cell in cells:
            cell.number_format = "@"
    save(book, "text_dates.xlsx")


def numbers_as_text() -> None:
    """Amounts and a union code stored as text (Excel's green triangle), with separators."""
    book = ledger_book(
        [
            row(批准金额="5,000.00", 发放金额="5000.00"),
            row(
                批准金额="¥3,000",
                发放金额=" 3000 ",
                凭证号="PZ-2022-7",
                申请日期="2022-04-02",
                发放日期="2022-04-30",
            ),
        ]
    )
    for cells in book.active.iter_rows(min_row=2):
        for cell in cells:
            cell.number_format = "@"
    save(book, "numbers_as_text.xlsx")


def id_scientific() -> None:
    """ID numbers that Excel turned into numbers: shown as 4.40605E+17, last digits lost."""
    book = ledger_book([row(身份证号=440605197203080000), row(身份证号="4.40605E+17")])
    book.active["B2"].number_format = "0.00000E+00"
    save(book, "id_scientific.xlsx")
    # The same after a round trip through CSV: the text Excel showed is what was saved.
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerow(row(身份证号="4.40605E+17"))
    (HERE / "id_scientific.csv").write_bytes(buffer.getvalue().encode("gbk"))


def merged_header() -> None:
    """A title merged across the top, the headers below it: the layout of printed ledgers."""
    book = Workbook()
    sheet = book.active
    sheet.append(["2021年临时救助台账"] + [None] * (len(COLUMNS) - 1))
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(COLUMNS))
    sheet.append(COLUMNS)
    sheet.append(row())
    save(book, "merged_header.xlsx")


WPS_APP = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" \
xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">\
<Application>WPS 表格</Application><HeadingPairs><vt:vector size="2" baseType="variant">\
<vt:variant><vt:lpstr>工作表</vt:lpstr></vt:variant><vt:variant><vt:i4>1</vt:i4></vt:variant>\
</vt:vector></HeadingPairs><TitlesOfParts><vt:vector size="1" baseType="lpstr">\
<vt:lpstr>Sheet1</vt:lpstr></vt:vector></TitlesOfParts></Properties>"""
WPS_CUSTOM = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" \
xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">\
<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="KSOProductBuildVer">\
<vt:lpwstr>2052-12.1.0.16929</vt:lpwstr></property>\
<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="3" name="ICV">\
<vt:lpwstr>8F5D1C5E0B3A4C7E9D2F6A1B3C5D7E9F_13</vt:lpwstr></property></Properties>"""


def wps() -> None:
    """Saved by WPS 表格: its app properties and custom KSO properties, its default sheet
    name, dates in its Chinese formats, and a blank row left between the records."""
    book = ledger_book(
        [
            row(申请日期=dt.date(2021, 3, 1), 发放日期=dt.date(2021, 3, 20)),
            [None] * len(COLUMNS),
            row(
                姓名="黄丽华",
                身份证号=HUANG,
                基层工会="樵山食品工会",
                申请日期=dt.date(2022, 8, 15),
                发放日期=dt.date(2022, 9, 1),
                批准金额=3000,
                发放金额=3000,
                资金来源="十元捐",
                凭证号="",
            ),
        ]
    )
    sheet = book.active
    sheet.title = "Sheet1"
    for cell in ("F2", "F4"):
        sheet[cell].number_format = 'yyyy"年"m"月"d"日"'
    for cell in ("H2", "H4"):
        sheet[cell].number_format = "yyyy/m/d"
    buffer = io.BytesIO()
    book.save(buffer)
    types = zipfile.ZipFile(buffer).read("[Content_Types].xml").decode()
    types = types.replace(
        "</Types>",
        '<Override PartName="/docProps/custom.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.custom-properties+xml"/></Types>',
    )
    save(
        book,
        "wps.xlsx",
        extra={
            "docProps/app.xml": WPS_APP.encode(),
            "docProps/custom.xml": WPS_CUSTOM.encode(),
            "[Content_Types].xml": types.encode(),
        },
    )


def gbk_csv() -> None:
    """Excel on Chinese Windows: CSV saved as GBK, CRLF line ends, a trailing blank line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerow(row())
    writer.writerow(
        row(
            姓名="黄丽华",
            身份证号=HUANG,
            基层工会="樵山食品工会",
            申请日期="2022-08-15",
            发放日期="2022-09-01",
            批准金额="3,000.00",
            发放金额="3000",
            资金来源="十元捐",
            凭证号="",
        )
    )
    writer.writerow([""] * len(COLUMNS))
    (HERE / "ledger_gbk.csv").write_bytes(buffer.getvalue().encode("gbk"))


ODS_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" \
xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" \
xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3">\
<office:body><office:spreadsheet><table:table table:name="台账">{rows}\
<table:table-row table:number-rows-repeated="1048574"><table:table-cell \
table:number-columns-repeated="1024"/></table:table-row></table:table>\
</office:spreadsheet></office:body></office:document-content>"""
ODS_MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" \
manifest:version="1.3"><manifest:file-entry manifest:full-path="/" \
manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>\
<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>\
</manifest:manifest>"""


def _ods_cell(value) -> str:
    if isinstance(value, dt.date):
        return (
            f'<table:table-cell office:value-type="date" office:date-value="{value.isoformat()}">'
            f"<text:p>{value.isoformat()}</text:p></table:table-cell>"
        )
    if isinstance(value, (int, float)):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    if value in ("", None):
        return "<table:table-cell/>"
    return (
        f'<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>'
    )


def ods() -> None:
    """LibreOffice Calc: typed date and number cells, and its million empty rows at the end."""
    rows = [
        COLUMNS,
        row(
            申请日期=dt.date(2021, 3, 1),
            发放日期=dt.date(2021, 3, 20),
            批准金额=5000,
            发放金额=5000,
        ),
    ]
    body = "".join(
        "<table:table-row>" + "".join(_ods_cell(v) for v in cells) + "</table:table-row>"
        for cells in rows
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as book:
        # The mimetype comes first and uncompressed, as the OpenDocument format requires.
        book.writestr(
            zipfile.ZipInfo("mimetype", FIXED), "application/vnd.oasis.opendocument.spreadsheet"
        )
        for name, text in [
            ("content.xml", ODS_CONTENT.format(rows=body)),
            ("META-INF/manifest.xml", ODS_MANIFEST),
        ]:
            book.writestr(zipfile.ZipInfo(name, FIXED), text, zipfile.ZIP_DEFLATED)
    (HERE / "ledger.ods").write_bytes(out.getvalue())


if __name__ == "__main__":
    for make in (
        date_cells,
        dates_1904,
        text_dates,
        numbers_as_text,
        id_scientific,
        merged_header,
        wps,
        gbk_csv,
        ods,
    ):
        make()
    print("\n".join(sorted(p.name for p in HERE.iterdir() if p.suffix != ".py")))
