"""Spreadsheet and CSV files written row by row, never held whole in memory.

Every export goes through here: the rows come from a generator (a queryset iterated in
chunks), the CSV leaves as it is written (a StreamingHttpResponse takes `csv_chunks`), and the
XLSX is written by xlsxwriter in constant-memory mode (each row flushed to a temporary file as
the next one starts) to a file that a FileResponse then sends. Cells are typed: text stays
text (an 18-digit ID number is never a number), amounts are numbers with two decimals, dates
are dates. The callers have already put every text cell through tabular.formulas.neutralize;
xlsxwriter is also told never to turn text into formulas, numbers or links.
"""

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal

import xlsxwriter
from django.utils import timezone

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
CSV_CHUNK_CHARS = 64 * 1024
PROGRESS_EVERY = 1000  # rows between two progress reports


def cell_text(value) -> str:
    """A cell as CSV text, in the formats the imports read back."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, dt.datetime):
        return _local(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def csv_chunks(header: list[str], rows: Iterable[list]) -> Iterator[bytes]:
    """UTF-8 with a byte-order mark (so Excel on Chinese Windows reads it), CRLF line ends,
    in chunks of about 64 KB: what a StreamingHttpResponse sends as it is made."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell_text(v) for v in row])
        if buffer.tell() >= CSV_CHUNK_CHARS:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def write_csv(
    fh, header: list[str], rows: Iterable[list], *, progress: Callable[[int], None] | None = None
) -> int:
    """The same CSV into a text file; the number of data rows."""
    writer = csv.writer(fh, lineterminator="\r\n")
    fh.write("\ufeff")
    writer.writerow(header)
    n = 0
    for n, row in enumerate(rows, start=1):
        writer.writerow([cell_text(v) for v in row])
        if progress is not None and n % PROGRESS_EVERY == 0:
            progress(n)
    return n


def write_xlsx(
    target,
    header: list[str],
    rows: Iterable[list],
    *,
    sheet: str = "Sheet1",
    widths: list[int] | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """A one-sheet workbook into `target` (a path, or a binary file object); the number of
    data rows. Memory stays flat whatever the number of rows."""
    book = xlsxwriter.Workbook(
        target,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    try:
        ws = book.add_worksheet(sheet)
        bold = book.add_format({"bold": True})
        money = book.add_format({"num_format": "0.00"})
        day = book.add_format({"num_format": "yyyy-mm-dd"})
        moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        for i, width in enumerate(widths or []):
            ws.set_column(i, i, width)
        ws.freeze_panes(1, 0)
        for col, title in enumerate(header):
            ws.write_string(0, col, title, bold)
        n = 0
        write_string, write_number, write_datetime = (
            ws.write_string,
            ws.write_number,
            ws.write_datetime,
        )
        for n, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, str):
                    write_string(n, col, value)
                elif isinstance(value, bool):
                    ws.write_boolean(n, col, value)
                elif isinstance(value, Decimal):
                    write_number(n, col, float(value), money)
                elif isinstance(value, (int, float)):
                    write_number(n, col, value)
                elif isinstance(value, dt.datetime):
                    write_datetime(n, col, _local(value).replace(tzinfo=None), moment)
                elif isinstance(value, dt.date):
                    write_datetime(n, col, value, day)
                else:
                    write_string(n, col, str(value))
            if progress is not None and n % PROGRESS_EVERY == 0:
                progress(n)
    finally:
        book.close()
    return n


def _local(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value
