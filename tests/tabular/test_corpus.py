"""Real-world spreadsheets (tests/tabular/corpus, written by make_corpus.py beside them) go
through the ledger import as users would send them: read by calamine, checked row by row."""

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from relief.models import Application, Disbursement
from relief.services.ledger import ledger_import
from tabular.tables import TableError, read_table, read_table_bytes
from tests.tabular.corpus.make_corpus import HUANG, LIANG

CORPUS = Path(__file__).resolve().parent / "corpus"


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


def imported(people, name: str):
    table = read_table(CORPUS / name)
    return ledger_import(table=table, user=people.root, file_name=name)


def dates_of(id_number: str) -> list[tuple[dt.date, dt.date]]:
    return [
        (a.application_date, a.disbursements.get().paid_on)
        for a in Application.objects.filter(worker__id_number=id_number).order_by(
            "application_date"
        )
    ]


def test_excel_date_cells_in_any_date_format_land_on_their_days(people):
    result = imported(people, "date_cells.xlsx")
    assert not result.errors, result.errors
    assert dates_of(LIANG) == [
        (dt.date(2021, 3, 1), dt.date(2021, 3, 20)),
        (dt.date(2022, 4, 2), dt.date(2022, 4, 30)),
    ]


def test_dates_typed_as_text_are_read_as_yyyy_mm_dd_and_others_named(people):
    # Text is not a date cell: the import takes 2021-03-01 and names the others, by cell.
    result = imported(people, "text_dates.xlsx")
    messages = {(e.row, e.column): e.message for e in result.errors}
    assert set(messages) == {(2, "发放日期"), (3, "申请日期"), (3, "发放日期")}
    assert "2021/3/20" in messages[(2, "发放日期")] and "YYYY-MM-DD" in messages[(2, "发放日期")]
    assert "2022年4月2日" in messages[(3, "申请日期")]
    assert Application.objects.count() == 0


def test_a_1904_workbook_reads_its_own_days(people):
    assert not imported(people, "dates_1904.xlsx").errors
    assert dates_of(LIANG) == [(dt.date(2021, 3, 1), dt.date(2021, 3, 20))]


def test_numbers_stored_as_text_are_amounts(people):
    assert not imported(people, "numbers_as_text.xlsx").errors
    amounts = sorted(Application.objects.values_list("approved_amount", flat=True))
    assert amounts == [Decimal("3000.00"), Decimal("5000.00")]
    paid = sorted(Disbursement.objects.values_list("amount", flat=True))
    assert paid == [Decimal("3000.00"), Decimal("5000.00")]


@pytest.mark.parametrize("name", ["id_scientific.xlsx", "id_scientific.csv"])
def test_id_numbers_excel_turned_into_4_40605e17_are_refused_clearly(people, name):
    result = imported(people, name)
    messages = {(e.row, e.column): e.message for e in result.errors}
    assert Application.objects.count() == 0
    if name.endswith(".xlsx"):  # a number cell, and the same number typed as text
        assert "数字" in messages[(2, "身份证号")]
        assert "4.40605E+17" in messages[(3, "身份证号")]
    else:
        assert "4.40605E+17" in messages[(2, "身份证号")]
        assert "文本格式" in messages[(2, "身份证号")]


def test_a_merged_title_above_the_headers_is_refused_naming_the_range():
    with pytest.raises(TableError) as excinfo:
        read_table(CORPUS / "merged_header.xlsx")
    assert "A1:L1" in str(excinfo.value) and "合并" in str(excinfo.value)


def test_a_wps_workbook_keeps_its_row_numbers(people):
    table = read_table(CORPUS / "wps.xlsx")
    assert [number for number, _cells in table.rows] == [2, 4]  # row 3 is blank
    assert not imported(people, "wps.xlsx").errors
    assert dates_of(HUANG) == [(dt.date(2022, 8, 15), dt.date(2022, 9, 1))]


def test_a_gbk_csv_from_excel_on_chinese_windows(people):
    result = imported(people, "ledger_gbk.csv")
    assert not result.errors, result.errors
    assert dates_of(HUANG) == [(dt.date(2022, 8, 15), dt.date(2022, 9, 1))]
    assert Application.objects.get(worker__id_number=HUANG).approved_amount == Decimal("3000")


def test_an_ods_with_a_million_empty_rows_reads_its_one_row(people):
    table = read_table(CORPUS / "ledger.ods")
    assert [number for number, _cells in table.rows] == [2]
    assert not imported(people, "ledger.ods").errors
    assert dates_of(LIANG) == [(dt.date(2021, 3, 1), dt.date(2021, 3, 20))]


def test_an_ods_value_repeated_past_the_column_limit_is_refused(db):
    data = (CORPUS / "ledger.ods").read_bytes()
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    content = (
        source.read("content.xml")
        .decode()
        .replace(
            'table:number-columns-repeated="1024"/>',
            'table:number-columns-repeated="1000000" office:value-type="float" office:value="1"/>',
        )
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as book:
        for info in source.infolist():
            body = content if info.filename == "content.xml" else source.read(info)
            book.writestr(info, body)
    with pytest.raises(TableError) as excinfo:
        read_table_bytes(out.getvalue(), "wide.ods")
    assert "64" in str(excinfo.value)


@pytest.mark.parametrize(
    ("name", "cases"), [("wps.xlsx", 2), ("ledger.ods", 1), ("ledger_gbk.csv", 2)]
)
def test_the_admin_previews_then_imports_the_corpus(client, people, name, cases):
    client.force_login(people.erin)
    upload = SimpleUploadedFile(name, (CORPUS / name).read_bytes())
    response = client.post(
        reverse("admin:relief_application_import"), {"import_file": upload, "resource": "0"}
    )
    assert response.status_code == 200
    assert Application.objects.count() == 0  # the preview is a dry run
    form = response.context["confirm_form"]
    response = client.post(
        reverse("admin:relief_application_process_import"),
        {f.html_name: f.value() for f in form},
    )
    assert response.status_code == 302
    assert Application.objects.filter(state="disbursed").count() == cases
