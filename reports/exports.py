"""台账 export: one row per payout in the historical-ledger import columns.

The columns, their order and the value formats (ISO dates, amounts with two decimals, category
names joined by 、, fund sources by their Chinese label) are those the ledger import reads, so
an exported file can be imported again. The ledger is a working file of the district and town
staff, for users whose scope holds the unit. ID numbers are masked (relief.idcard) unless the
caller asks for full ones (`full=True`: the view allows it only to users who may see full
numbers and records it in the access log); only a full export can be imported again. Every
text cell goes through the one formula guard (tabular.formulas.neutralize). Files are written
row by row (tabular.writers): the CSV streams, the XLSX goes to a file in constant memory.
"""

from collections.abc import Iterator

from relief.idcard import mask_id_number
from relief.services.ledger import (  # one definition: export and import agree
    FUND_SOURCE_WORDS,
    LEDGER_COLUMNS,
)
from reports import documents, figures
from reports.figures import Period
from tabular import writers
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
        "advance__id",
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
            advance_id,
        ) = row
        if advance_id:
            # 先行救助: counted with the payouts of the period, marked in the 备注.
            notes = "；".join(filter(None, [documents.ADVANCE_MARK, notes]))
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


def row_count(unit: Union, period: Period) -> int:
    return figures.period_payouts(unit, period).count()


def write_csv(unit: Union, period: Period, fh, *, full: bool = False, progress=None) -> int:
    """UTF-8 with a byte-order mark, so Excel on Chinese Windows opens it without mojibake."""
    rows = ledger_rows(unit, period, full=full)
    return writers.write_csv(fh, LEDGER_COLUMNS, rows, progress=progress)


def csv_chunks(unit: Union, period: Period, *, full: bool = False) -> Iterator[bytes]:
    """The same CSV as encoded chunks, for a StreamingHttpResponse."""
    return writers.csv_chunks(LEDGER_COLUMNS, ledger_rows(unit, period, full=full))


def csv_bytes(unit: Union, period: Period, *, full: bool = False) -> bytes:
    return b"".join(csv_chunks(unit, period, full=full))


WIDTHS = [10, 21, 22, 18, 40, 12, 12, 12, 12, 10, 16, 20]


def write_xlsx(unit: Union, period: Period, target, *, full: bool = False, progress=None) -> int:
    """xlsxwriter in constant-memory mode (tabular.writers): rows go straight to the file."""
    return writers.write_xlsx(
        target,
        LEDGER_COLUMNS,
        ledger_rows(unit, period, full=full),
        sheet="台账",
        widths=WIDTHS,
        progress=progress,
    )
