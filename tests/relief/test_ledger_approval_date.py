"""The historical ledger's optional 批准日期 column, and "—" with a footnote in the payout
report for imported cases without one (issue 13.7)."""

import datetime as dt

import pytest
from django.utils import timezone, translation

from relief.models import Application, AuditEntry
from relief.services.ledger import LEDGER_COLUMNS, ledger_import
from reports import documents, textgrid
from reports.figures import Period
from tabular.tables import read_table
from tests.relief.conftest import HUANG, LIANG, ledger_row, write_csv, write_xlsx

WITH_DATE = [*LEDGER_COLUMNS, "批准日期"]


def _import(tmp_path, rows, header=WITH_DATE, writer=write_csv, user=None):
    path = writer(tmp_path, rows, header=header)
    with translation.override("zh-hans"):
        return ledger_import(table=read_table(path), user=user, file_name="ledger")


@pytest.mark.parametrize("writer", [write_csv, write_xlsx])
def test_an_approval_date_column_is_optional_and_kept(people, tmp_path, writer):
    rows = [
        ledger_row(批准日期="2021-03-10"),
        ledger_row(申请日期="2022-04-02", 发放日期="2022-04-30", 批准日期=""),
    ]
    result = _import(tmp_path, rows, writer=writer, user=people.erin)
    assert result.errors == []
    first, second = Application.objects.filter(worker__id_number=LIANG).order_by("application_date")
    assert timezone.localtime(first.approved_at).date() == dt.date(2021, 3, 10)
    assert second.approved_at is None
    entry = AuditEntry.objects.get(application=first, action="import")
    assert entry.changes["approved_on"] == [None, "2021-03-10"]


def test_a_ledger_without_the_column_still_imports(people, tmp_path):
    result = _import(tmp_path, [ledger_row()], header=LEDGER_COLUMNS, user=people.erin)
    assert result.errors == []
    assert Application.objects.get().approved_at is None


@pytest.mark.parametrize(
    ("value", "phrase"),
    [
        ("2021-02-28", "早于申请日期"),
        ("2021-03-21", "晚于发放日期"),
        ("2021/03/10", "不是日期"),
    ],
)
def test_an_approval_date_out_of_order_is_refused_on_its_cell(people, tmp_path, value, phrase):
    result = _import(tmp_path, [ledger_row(批准日期=value)], user=people.erin)
    assert [(e.row, e.column) for e in result.errors] == [(2, "批准日期")]
    assert phrase in str(result.errors[0])
    assert not Application.objects.exists()


def test_the_report_prints_a_dash_and_a_footnote_for_undated_approvals(people, tmp_path, tree):
    rows = [
        ledger_row(批准日期="2021-03-10"),
        ledger_row(
            姓名="黄丽华",
            身份证号=HUANG,
            申请日期="2021-05-01",
            发放日期="2021-05-20",
        ),
    ]
    assert _import(tmp_path, rows, user=people.erin).errors == []
    period = Period(2021, 2021)
    header = documents.payout_report_header(tree.nh, period)
    assert header["undated_approvals"] == 1
    lines = {
        row.name: textgrid.detail_line(row)
        for _u, row in documents.payout_detail_rows(tree.nh, period)
    }
    assert "2021-03-10" in lines["梁*明"]
    assert " — " in lines["黄*华"] and "2021-05-20" in lines["黄*华"]
    from django.template.loader import render_to_string

    html = render_to_string(
        "reports/pdf/payout_report.html",
        {**header, "show_summary": True, "lines": [], "grid_css": ""},
    )
    assert "批准日期为“—”的 1 笔，为从历史台账导入、台账未载批准日期的案件" in html
    no_gap = documents.payout_report_header(tree.nh, Period(2019, 2019))
    html = render_to_string(
        "reports/pdf/payout_report.html", {**no_gap, "show_summary": True, "lines": []}
    )
    assert "台账未载批准日期" not in html
