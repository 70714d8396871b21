"""台账 export: one row per payout in the historical-ledger import columns.

The columns, their order and the value formats (ISO dates, amounts with two decimals, category
names joined by 、, fund sources by their Chinese label) are those the ledger import reads, so
an exported file can be imported again. The ledger is a working file of the district and town
staff, for users whose scope holds the unit. ID numbers are masked (relief.idcard) unless the
caller asks for full ones (`full=True`: the view allows it only to users who may see full
numbers and records it in the access log); only a full export can be imported again. Every
text cell goes through the one formula guard (tabular.tables.neutralize).
"""

import csv
import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal

from relief.idcard import mask_id_number
from relief.services.ledger import (  # one definition: export and import agree
    FUND_SOURCE_WORDS,
    LEDGER_COLUMNS,
)
from reports import documents, figures
from reports.figures import Period
from tabular.formulas import neutralize
from unions.models import Union


def ledger_rows(unit: Union, period: Period, *, full: bool = False) -> Iterator[list]:
    """Rows of native values (str, date, Decimal) in LEDGER_COLUMNS order, streamed: ID
    numbers masked unless `full`, text cells guarded against formulas."""
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
        row = [
            name,
            id_no if full else mask_id_number(id_no),
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
        yield [neutralize(v) for v in row]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def write_csv(unit: Union, period: Period, fh, *, full: bool = False) -> int:
    """UTF-8 with a byte-order mark, so Excel on Chinese Windows opens it without mojibake."""
    fh.write("\ufeff")
    writer = csv.writer(fh, lineterminator="\r\n")
    writer.writerow(LEDGER_COLUMNS)
    n = 0
    for row in ledger_rows(unit, period, full=full):
        writer.writerow([_text(v) for v in row])
        n += 1
    return n


def csv_bytes(unit: Union, period: Period, *, full: bool = False) -> bytes:
    buf = io.StringIO()
    write_csv(unit, period, buf, full=full)
    return buf.getvalue().encode("utf-8")


def write_xlsx(unit: Union, period: Period, target, *, full: bool = False) -> int:
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
    for row in ledger_rows(unit, period, full=full):
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
