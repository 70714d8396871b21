"""台账 export: one row per payout in the historical-ledger import columns.

The columns, their order and the value formats (ISO dates, amounts with two decimals, category
names joined by 、, fund sources by their Chinese label) are those the ledger import reads, so
an exported file can be imported again. The ledger is a working file of the district and town
staff: names and ID numbers are in full, and only users whose scope holds the unit get it.
"""

import csv
import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal

from relief.services.ledger import (  # one definition: export and import agree
    FUND_SOURCE_WORDS,
    LEDGER_COLUMNS,
)
from reports import documents, figures
from reports.figures import Period
from unions.models import Union


def ledger_rows(unit: Union, period: Period) -> Iterator[list]:
    """Rows of native values (str, date, Decimal) in LEDGER_COLUMNS order, streamed."""
    qs = figures.period_payouts(unit, period)
    cats = documents.categories_by_application(qs.values("application_id"))
    # The ledger's own words (区拨款, not the interface's label), so the import reads them back.
    sources = FUND_SOURCE_WORDS
    rows = qs.order_by("application__union__path", "paid_on", "pk").values_list(
        "application__worker__name",
        "application__worker__id_number",
        "application__union__name",
        "application_id",
        "application__narrative",
        "application__application_date",
        "application__approved_amount",
        "paid_on",
        "amount",
        "fund_source",
        "voucher_no",
        "notes",
    )
    for row in rows.iterator(chunk_size=2000):
        (
            name,
            id_no,
            union,
            app_id,
            story,
            applied,
            approved,
            paid_on,
            amount,
            src,
            voucher,
            notes,
        ) = row
        yield [
            name,
            id_no,
            union,
            cats.get(app_id, ""),
            story,
            applied,
            approved,
            paid_on,
            amount,
            sources.get(src, src),
            voucher,
            notes,  # the 备注 a ledger import brought in, so export -> import round-trips
        ]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def write_csv(unit: Union, period: Period, fh) -> int:
    """UTF-8 with a byte-order mark, so Excel on Chinese Windows opens it without mojibake."""
    fh.write("\ufeff")
    writer = csv.writer(fh, lineterminator="\r\n")
    writer.writerow(LEDGER_COLUMNS)
    n = 0
    for row in ledger_rows(unit, period):
        writer.writerow([_text(v) for v in row])
        n += 1
    return n


def csv_bytes(unit: Union, period: Period) -> bytes:
    buf = io.StringIO()
    write_csv(unit, period, buf)
    return buf.getvalue().encode("utf-8")


def write_xlsx(unit: Union, period: Period, target) -> int:
    """Write-only openpyxl: rows go straight to the file, memory stays flat."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("台账")
    widths = [10, 21, 22, 18, 40, 12, 12, 12, 12, 10, 16, 20]
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[chr(64 + i)].width = w
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for title in LEDGER_COLUMNS:
        cell = WriteOnlyCell(ws, value=title)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    n = 0
    for row in ledger_rows(unit, period):
        cells = []
        for value in row:
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, Decimal):
                cell.number_format = "0.00"
            elif isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        ws.append(cells)
        n += 1
    wb.save(target)
    return n
