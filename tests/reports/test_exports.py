"""The ledger export's exact columns and formats, and export -> import round trips."""

import csv
import io

from django.urls import reverse
from openpyxl import load_workbook

from reports import exports
from reports.figures import Period

COLUMNS = (
    "姓名, 身份证号, 基层工会, 困难类别, 困难情况, 申请日期, 批准金额, 发放日期, 发放金额, "
    "资金来源, 凭证号, 备注"
)


def test_columns_are_exactly_the_import_columns():
    assert COLUMNS.split(", ") == exports.LEDGER_COLUMNS


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())  # BOM, for Excel
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_rows_and_formats(tree, payouts):
    rows = _csv_rows(exports.csv_bytes(tree.nh, Period(2023, 2023), full=True))
    assert rows[0] == exports.LEDGER_COLUMNS
    assert len(rows) == 1 + 4
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first == {
        "姓名": "梁志明",
        "身份证号": "440605197208161996",
        "基层工会": "樵园社区工会",
        "困难类别": "重大疾病",
        "困难情况": "肾病透析，母亲长期患病，两名子女在读。",
        "申请日期": "2023-03-01",
        "批准金额": "6000.00",
        "发放日期": "2023-03-10",
        "发放金额": "4000.00",
        "资金来源": "区拨款",
        "凭证号": "PZ-20230310",
        "备注": "",
    }
    last = dict(zip(rows[0], rows[4], strict=True))
    assert last["困难类别"] == "重大疾病、家庭成员患病"
    assert sum(float(r[8]) for r in rows[1:]) == 24000


def test_xlsx_has_the_same_rows_with_text_ids_and_typed_cells(tree, payouts):
    buf = io.BytesIO()
    assert exports.write_xlsx(tree.nh, Period(2023, 2023), buf, full=True) == 4
    ws = load_workbook(io.BytesIO(buf.getvalue())).active
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == exports.LEDGER_COLUMNS
    assert len(rows) == 5
    assert rows[1][1] == "440605197208161996"  # text: Excel would round an 18-digit number
    assert str(rows[1][5].date()) == "2023-03-01"
    assert float(rows[1][8]) == 4000.0
    csv_rows = _csv_rows(exports.csv_bytes(tree.nh, Period(2023, 2023)))
    assert [r[0] for r in rows[1:]] == [r[0] for r in csv_rows[1:]]


def test_ledger_download_names_the_file(client, people, payouts):
    client.force_login(people.carol)
    response = client.get(reverse("reports:ledger"), {"unit": "XQ", "year": 2023})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert ".xlsx" in response["Content-Disposition"]


def test_a_ledger_import_comes_back_out_of_the_export_unchanged(tree, people, tmp_path):
    from decimal import Decimal

    from relief.services.ledger import ledger_import
    from tabular.tables import read_table
    from tests.relief.conftest import good_rows, write_csv
    from unions.models import Union

    result = ledger_import(
        table=read_table(write_csv(tmp_path, good_rows())), user=people.root, file_name="l.csv"
    )
    assert not result.errors
    union_name = {u.code: u.name for u in Union.objects.all()}

    def normal(row: dict) -> tuple:
        return (
            row["姓名"],
            row["身份证号"],
            union_name.get(row["基层工会"], row["基层工会"]),
            frozenset(row["困难类别"].split("、")),
            row["困难情况"],
            row["申请日期"],
            Decimal(row["批准金额"]),
            row["发放日期"],
            Decimal(row["发放金额"]),
            row["资金来源"],
            row["凭证号"],
            row["备注"],
        )

    rows = _csv_rows(exports.csv_bytes(tree.nh, Period(2020, 2023), full=True))
    exported = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert sorted(map(normal, exported), key=str) == sorted(map(normal, good_rows()), key=str)
