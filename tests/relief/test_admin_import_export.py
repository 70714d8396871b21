"""Import with preview and confirm, and exports, in the admin (django-import-export pages)."""

import csv
import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from relief.models import Application, AuditEntry, HouseholdMember, Worker
from relief.services.ledger import LEDGER_COLUMNS, ledger_import
from tabular.tables import read_table
from tests.relief.conftest import FENG, HUANG, LIANG, good_rows, write_csv, write_xlsx

IMPORT = reverse("admin:relief_application_import")
PROCESS = reverse("admin:relief_application_process_import")
EXPORT = reverse("admin:relief_application_export")
LIST = reverse("admin:relief_application_changelist")
WORKER_IMPORT = reverse("admin:relief_worker_import")
WORKER_PROCESS = reverse("admin:relief_worker_process_import")


def upload(path, name=None):
    with open(path, "rb") as f:
        return SimpleUploadedFile(name or path.rsplit("/", 1)[-1], f.read())


def preview(client, url, path, name=None, resource="0"):
    return client.post(url, {"import_file": upload(path, name), "resource": resource})


def confirm(client, url, response):
    form = response.context["confirm_form"]
    return client.post(url, {f.html_name: f.value() for f in form})


def test_reviewers_see_the_import_page_caseworkers_do_not(client, people):
    client.force_login(people.carol)
    page = client.get(IMPORT)
    assert page.status_code == 200
    assert all(c in page.content.decode() for c in LEDGER_COLUMNS)
    client.force_login(people.alice)
    assert client.get(IMPORT).status_code == 302  # no admin access at all


def test_the_preview_lists_every_error_by_row_and_column_in_chinese(client, people, tmp_path):
    rows = good_rows()
    rows[0]["身份证号"] = "440605198001010000"
    rows[3]["资金来源"] = "捐款"
    client.force_login(people.erin)
    response = preview(client, IMPORT, write_csv(tmp_path, rows))
    assert response.status_code == 200
    assert "confirm_form" not in response.context
    errors = [(e.row, e.column) for e in response.context["result"].relief.errors]
    assert errors == [(2, "身份证号"), (5, "资金来源")]
    html = response.content.decode()
    assert "校验位" in html  # the check digit message, in Chinese
    assert "第 5 行" in html and "资金来源" in html
    assert "未写入任何数据" in html
    assert Application.objects.count() == 0


def test_preview_then_confirm_writes_all_rows(client, people, tmp_path):
    client.force_login(people.erin)
    response = preview(client, IMPORT, write_xlsx(tmp_path, good_rows()), name="2021-2023台账.xlsx")
    assert response.status_code == 200
    assert response.context["confirm_form"]
    assert dict(response.context["result"].relief.counts)  # counts shown
    assert Application.objects.count() == 0  # the preview is a dry run
    response = confirm(client, PROCESS, response)
    assert response.status_code == 302
    assert Application.objects.filter(state="disbursed").count() == 5
    entry = AuditEntry.objects.filter(application__isnull=False).first()
    assert (entry.action, entry.actor, entry.source) == (
        "import",
        people.erin,
        "import:2021-2023台账.xlsx",
    )


def test_a_town_reviewer_imports_only_into_its_own_unions(client, people, tmp_path):
    client.force_login(people.carol)
    response = preview(client, IMPORT, write_csv(tmp_path, good_rows()))
    assert [(e.row, e.column) for e in response.context["result"].relief.errors] == [
        (6, "基层工会")
    ]
    response = preview(client, IMPORT, write_csv(tmp_path, good_rows()[:4], name="xq.csv"))
    confirm(client, PROCESS, response)
    assert Application.objects.count() == 4


def test_a_confirm_after_the_data_changed_writes_nothing(client, people, tmp_path):
    client.force_login(people.erin)
    path = write_csv(tmp_path, good_rows())
    response = preview(client, IMPORT, path)
    ledger_import(table=read_table(path), user=people.root, file_name="meanwhile.csv")
    before = Application.objects.count()
    response = confirm(client, PROCESS, response)
    assert response.status_code == 302 and response.url == IMPORT
    assert Application.objects.count() == before


@pytest.mark.parametrize(
    ("name", "content", "phrase"),
    [
        ("ledger.xlsx", "姓名,身份证号\n".encode(), "不是 Excel"),
        ("ledger.csv", b"PK\x03\x04\x00\x00binary", "不是 CSV"),
        ("ledger.csv", b"", "空文件"),
        ("ledger.pdf", b"%PDF-1.4", "不支持的文件类型"),
    ],
)
def test_a_bad_file_gets_a_clear_message_on_the_form(client, people, name, content, phrase):
    client.force_login(people.erin)
    response = client.post(
        IMPORT, {"import_file": SimpleUploadedFile(name, content), "resource": "0"}
    )
    assert response.status_code == 200
    assert phrase in " ".join(response.context["form"].errors["import_file"])
    assert Application.objects.count() == 0


def test_an_oversized_file_is_refused(client, people, tmp_path, monkeypatch):
    monkeypatch.setattr("tabular.tables.MAX_FILE_BYTES", 100)
    client.force_login(people.erin)
    response = preview(client, IMPORT, write_csv(tmp_path, good_rows()))
    assert "MB" in " ".join(response.context["form"].errors["import_file"])


def test_a_state_column_is_never_imported(client, people, tmp_path):
    client.force_login(people.erin)
    header = [*LEDGER_COLUMNS, "state"]
    rows = [[*[good_rows()[0][c] for c in LEDGER_COLUMNS], "approved"]]
    response = preview(client, IMPORT, write_csv(tmp_path, rows, header=header))
    assert "confirm_form" not in response.context
    assert "state" in response.content.decode()
    assert Application.objects.count() == 0


# --- workers and households -------------------------------------------------------------

WORKER_HEADER = [
    "姓名",
    "身份证号",
    "基层工会",
    "电话",
    "工作单位",
    "住址",
    "户籍",
    "健康状况",
    "粤工惠实名",
    "开户银行",
    "开户支行",
    "银行卡号",
    "备注",
]
HOUSEHOLD_HEADER = [
    "职工身份证号",
    "关系",
    "姓名",
    "身份证号",
    "出生日期",
    "年龄",
    "健康状况",
    "就读或工作",
    "月收入",
]


def test_workers_and_their_households_are_imported_with_preview(client, people, tmp_path):
    workers = [
        [
            "梁志明",
            LIANG,
            "XQ-S01",
            "13800000001",
            "西樵纺织厂",
            "",
            "广西玉林",
            "肾病",
            "是",
            "农商行",
            "西樵支行",
            "6228480000000000001",
            "",
        ],
        ["黄丽华", HUANG, "樵山食品工会", "", "", "", "", "", "否", "", "", "", ""],
    ]
    client.force_login(people.carol)
    response = preview(
        client, WORKER_IMPORT, write_csv(tmp_path, workers, header=WORKER_HEADER, name="w.csv")
    )
    confirm(client, WORKER_PROCESS, response)
    liang = Worker.objects.get(id_number=LIANG)
    assert (liang.union.code, liang.realname_verified, liang.hukou) == ("XQ-S01", True, "广西玉林")
    assert AuditEntry.objects.filter(worker=liang, action="import").exists()
    household = [
        [LIANG, "母亲", "梁秀英", "", "1948-02-03", "", "高血压、糖尿病", "", "0"],
        [LIANG, "儿子", "梁嘉豪", "", "", "15", "", "初中", ""],
        [HUANG, "丈夫", "李国明", "", "", "45", "工伤", "", "1200.50"],
    ]
    path = write_csv(tmp_path, household, header=HOUSEHOLD_HEADER, name="h.csv")
    response = preview(client, WORKER_IMPORT, path, resource="1")
    assert not response.context["result"].relief.errors
    confirm(client, WORKER_PROCESS, response)
    assert list(liang.household.values_list("name", flat=True)) == ["梁秀英", "梁嘉豪"]
    # The same file again is recognised (issue 12): nothing is written, nothing doubles.
    response = preview(client, WORKER_IMPORT, path, resource="1")
    assert "confirm_form" not in response.context
    assert response.context["result"].relief.already
    assert HouseholdMember.objects.count() == 3


def test_worker_import_errors_name_row_and_column_and_respect_scope(client, people, tmp_path):
    rows = [
        ["梁志明", LIANG, "DL-V01", "", "", "", "", "", "是", "", "", "", ""],  # other town
        ["", HUANG, "XQ-S01", "", "", "", "", "", "也许", "", "", "", ""],
    ]
    client.force_login(people.carol)
    response = preview(client, WORKER_IMPORT, write_csv(tmp_path, rows, header=WORKER_HEADER))
    errors = {(e.row, e.column) for e in response.context["result"].relief.errors}
    assert errors == {(2, "基层工会"), (3, "姓名"), (3, "粤工惠实名")}
    assert Worker.objects.count() == 0
    household = [[FENG, "母亲", "冯某", "", "", "70", "", "", ""]]
    response = preview(
        client,
        WORKER_IMPORT,
        write_csv(tmp_path, household, header=HOUSEHOLD_HEADER, name="h.csv"),
        resource="1",
    )
    assert [(e.row, e.column) for e in response.context["result"].relief.errors] == [
        (2, "职工身份证号")
    ]


# --- exports ------------------------------------------------------------------------------


@pytest.fixture
def imported(people, tmp_path):
    rows = good_rows()
    rows[3]["备注"] = '=HYPERLINK("http://x")'
    ledger_import(table=read_table(write_csv(tmp_path, rows)), user=people.root, file_name="x.csv")


def export(client, resource="1", fmt="1", query=""):
    response = client.post(EXPORT + query, {"format": fmt, "resource": resource})
    assert response.status_code == 200, response.content[:500]
    return response


def read_csv(response) -> list[dict]:
    text = b"".join(response).decode("utf-8-sig") if hasattr(response, "__iter__") else ""
    return list(csv.DictReader(io.StringIO(text)))


def test_the_ledger_export_has_the_import_columns_and_round_trips(
    client, people, imported, tmp_path
):
    client.force_login(people.erin)
    rows = read_csv(export(client))
    assert list(rows[0]) == LEDGER_COLUMNS
    assert len(rows) == 5
    by_key = {(r["身份证号"], r["申请日期"]): r for r in rows}
    original = {(r["身份证号"], r["申请日期"]): r for r in good_rows()}
    assert set(by_key) == set(original)
    liang = by_key[(LIANG, "2023-05-06")]
    assert (liang["批准金额"], liang["发放金额"], liang["资金来源"]) == (
        "6000.50",
        "6000.50",
        "区拨款",
    )
    # Imported again, every cell parses; the only complaint is that the cases are on file.
    path = tmp_path / "export.csv"
    path.write_bytes(b"".join(export(client)))
    result = ledger_import(
        table=read_table(path), user=people.root, file_name="export.csv", dry_run=True
    )
    assert {e.column for e in result.errors} == {"申请日期"}
    assert all("Already on file" in e.message or "已" in e.message for e in result.errors)


def test_exports_mask_id_numbers_for_town_reviewers_and_neutralize_formulas(
    client, people, imported
):
    client.force_login(people.carol)
    rows = read_csv(export(client))
    assert len(rows) == 4  # 冯国强's case is in another town
    assert all("*" in r["身份证号"] for r in rows)
    assert LIANG not in str(rows)
    huang = next(r for r in rows if r["姓名"] == "黄丽华")
    assert huang["备注"].startswith("'=")
    client.force_login(people.erin)
    assert LIANG in str(read_csv(export(client)))


def test_the_case_export_is_one_row_per_case_in_xlsx(client, people, imported):
    client.force_login(people.erin)
    response = export(client, resource="0", fmt="0")
    book = load_workbook(io.BytesIO(b"".join(response)), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert list(rows[0]) == LEDGER_COLUMNS
    assert len(rows) == 6


def test_exporting_a_large_selection_works(client, people, tmp_path):
    rows = []
    for n in range(1100):
        born = dt.date(1960, 1, 1) + dt.timedelta(days=n * 7)
        from tests.factories import make_id_number

        rows.append(
            {
                **good_rows()[0],
                "姓名": f"工人{n}",
                "身份证号": make_id_number(n, born=born),
                "凭证号": f"P{n}",
            }
        )
    ledger_import(
        table=read_table(write_csv(tmp_path, rows)), user=people.root, file_name="big.csv"
    )
    client.force_login(people.erin)
    one = Application.objects.first()
    response = client.post(
        LIST,
        {"action": "export_csv", "select_across": "1", "index": "0", "_selected_action": [one.pk]},
    )
    assert response.status_code == 200
    assert len(read_csv(response)) == 1100
    assert len(read_csv(export(client))) == 1100


# --- full exports in the access log, and the formula guard in XLSX ------------------------


def test_an_export_with_full_id_numbers_is_logged_a_masked_one_is_not(client, people, imported):
    from privacy.models import AccessLog

    client.force_login(people.carol)
    export(client)
    assert not AccessLog.objects.exists()
    client.force_login(people.erin)
    export(client, resource="0", fmt="0", query="?state__exact=disbursed")
    rows = list(AccessLog.objects.all())
    assert [(r.kind, r.user) for r in rows] == [("full_export", people.erin)]
    assert rows[0].detail.startswith("admin application: ") and rows[0].detail.endswith(" 5 rows")
    # The "export selected" action writes the log too.
    selected = list(Application.objects.values_list("pk", flat=True)[:2])
    response = client.post(
        LIST, {"action": "export_xlsx", "index": "0", "_selected_action": selected}
    )
    assert response.status_code == 200
    assert AccessLog.objects.count() == 2
    assert AccessLog.objects.first().detail.endswith(" 2 rows")  # newest first


def test_the_admin_xlsx_export_runs_no_formula(client, people, tmp_path):
    from tabular.formulas import FORMULA_STARTS

    rows = good_rows()
    for row, text in zip(rows, ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1"], strict=True):
        row["备注"] = text
    ledger_import(table=read_table(write_csv(tmp_path, rows)), user=people.root, file_name="f.csv")
    client.force_login(people.erin)
    book = load_workbook(io.BytesIO(b"".join(export(client, fmt="0"))))
    cells = [c for row in book.active.iter_rows(min_row=2) for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    notes = {c.value for c in cells if c.column == 12}
    # (the import trims the tab of "\t=1": what is stored is "=1")
    assert notes == {"'=1+1", "'+1", "'-1", "'@SUM(A1)", "'=1"}
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert not [t for t in texts if t.startswith(FORMULA_STARTS)]
