"""Ledger files for the import tests: good rows and ways to write them as CSV or XLSX."""

import csv
import datetime as dt
import io

import pytest
from openpyxl import Workbook

from relief.services.ledger import LEDGER_COLUMNS
from tests.factories import make_id_number

LIANG = make_id_number(1, born=dt.date(1972, 3, 8))
HUANG = make_id_number(2, born=dt.date(1981, 6, 1), male=False)
FENG = make_id_number(3, born=dt.date(1990, 12, 30))


def ledger_row(**overrides) -> dict:
    row = {
        "姓名": "梁志明",
        "身份证号": LIANG,
        "基层工会": "XQ-S01",
        "困难类别": "重大疾病",
        "困难情况": "肾病透析，母亲长期患病。",
        "申请日期": "2021-03-01",
        "批准金额": "5000",
        "发放日期": "2021-03-20",
        "发放金额": "5000",
        "资金来源": "镇自筹",
        "凭证号": "PZ-2021-001",
        "备注": "",
    }
    row.update(overrides)
    return row


def good_rows() -> list[dict]:
    """Five cases: 梁志明 three years running (one union by name), two other workers."""
    return [
        ledger_row(),
        ledger_row(申请日期="2022-04-02", 发放日期="2022-04-30", 凭证号="PZ-2022-007"),
        ledger_row(
            申请日期="2023-05-06",
            发放日期="2023-06-01",
            批准金额="6000.50",
            发放金额="6000.50",
            困难类别="重大疾病、家庭成员患病",
            资金来源="区拨款",
            凭证号="",
        ),
        ledger_row(
            姓名="黄丽华",
            身份证号=HUANG,
            基层工会="樵山食品工会",
            困难类别="子女就学",
            申请日期="2022-08-15",
            发放日期="2022-09-01",
            批准金额="3000",
            发放金额="3000",
            资金来源="十元捐",
            备注="先救助后补手续",
        ),
        ledger_row(
            姓名="冯国强",
            身份证号=FENG,
            基层工会="DL-V01",
            困难类别="意外伤害",
            申请日期="2020-11-11",
            发放日期="2020-12-01",
            批准金额="2000",
            发放金额="2000",
            资金来源="区拨款",
        ),
    ]


def write_csv(tmp_path, rows, *, header=None, name="ledger.csv", encoding="utf-8-sig") -> str:
    header = header or LEDGER_COLUMNS
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(c, "") for c in header] if isinstance(row, dict) else row)
    path = tmp_path / name
    path.write_bytes(buffer.getvalue().encode(encoding))
    return str(path)


def write_xlsx(tmp_path, rows, *, header=None, name="ledger.xlsx") -> str:
    header = header or LEDGER_COLUMNS
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(c, None) for c in header] if isinstance(row, dict) else row)
    path = tmp_path / name
    book.save(path)
    return str(path)


@pytest.fixture
def ledger_csv(tmp_path):
    return lambda rows, **kw: write_csv(tmp_path, rows, **kw)


@pytest.fixture
def ledger_xlsx(tmp_path):
    return lambda rows, **kw: write_xlsx(tmp_path, rows, **kw)
