"""`manage.py import_ledger FILE [--dry-run]` and the ledger_import service behind it.

Every bad input is reported with its spreadsheet row (the header is row 1) and column, and
nothing at all is written; good files land every case in "disbursed" with its payout and an
audit entry saying it was imported, by whom, from which file.
"""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from relief.models import Application, AuditEntry, Disbursement, FundAccount, Policy, Worker
from relief.services.ledger import LEDGER_COLUMNS, ledger_import
from tabular.tables import MAX_FILE_BYTES, read_table
from tests.relief.conftest import FENG, HUANG, LIANG, good_rows, ledger_row


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def run(path, *args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_ledger", path, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(path, *args) -> str:
    err = io.StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("import_ledger", path, *args, stdout=io.StringIO(), stderr=err)
    return err.getvalue() + "\n" + str(excinfo.value)


def counts():
    return (
        Worker.objects.count(),
        Application.objects.count(),
        Disbursement.objects.count(),
        AuditEntry.objects.count(),
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_good_ledger_lands_every_case_disbursed_with_payout_and_audit(
    people, ledger_csv, ledger_xlsx, fmt
):
    path = (ledger_csv if fmt == "csv" else ledger_xlsx)(good_rows())
    out, _err = run(path)
    assert "3 workers created" in out
    assert "5 cases and 5 payouts" in out
    assert Worker.objects.count() == 3
    liang = Worker.objects.get(id_number=LIANG)
    cases = list(liang.applications.order_by("application_date"))
    assert [c.application_date.year for c in cases] == [2021, 2022, 2023]
    assert {c.state for c in Application.objects.all()} == {"disbursed"}
    third = cases[2]
    assert third.approved_amount == third.paid_amount == Decimal("6000.50")
    assert sorted(third.categories.values_list("name", flat=True)) == ["家庭成员患病", "重大疾病"]
    payout = third.disbursements.get()
    assert (payout.amount, payout.fund_source, payout.paid_on) == (
        Decimal("6000.50"),
        "district",
        dt.date(2023, 6, 1),
    )
    # References per town and year, as for cases filed in the browser.
    assert cases[0].reference == "XQ-2021-0001"
    assert Application.objects.get(worker__id_number=FENG).reference.startswith("DL-2020-")
    huang = Application.objects.get(worker__id_number=HUANG)
    assert huang.union.code == "XQ-E01"  # found by its exact name
    assert huang.disbursements.get().notes == "先救助后补手续"
    entry = AuditEntry.objects.get(application=third)
    assert entry.action == "import"
    assert entry.to_state == "disbursed"
    assert entry.actor == people.root
    assert entry.source == f"import:ledger.{fmt}"
    assert entry.disbursement == payout
    assert AuditEntry.objects.filter(action="import", application__isnull=True).count() == 3
    # History changes no balance: each account drawn on gets the imported payouts as income.
    accounts = FundAccount.objects.all()
    assert accounts.exists()
    for account in accounts:
        paid = sum(
            d.amount
            for d in Disbursement.objects.filter(
                town=account.town, fund_source=account.source, fund_year=account.year
            )
        )
        assert account.paid_total == paid
        assert account.income_total == sum(i.amount for i in account.incomes.all()) == paid
        assert "ledger." in account.incomes.get().note


def test_dry_run_checks_everything_and_writes_nothing(people, ledger_csv):
    out, _err = run(ledger_csv(good_rows()), "--dry-run")
    assert "Dry run" in out
    assert "would create 3 workers" in out
    assert counts() == (0, 0, 0, 0)


def test_an_existing_worker_gets_new_cases_and_is_not_created_again(people, ledger_csv):
    run(ledger_csv(good_rows()[:1], name="2021.csv"))
    out, _err = run(ledger_csv(good_rows()[1:3], name="2022.csv"))
    assert "0 workers created (1 already on file)" in out
    assert Worker.objects.count() == 1
    assert Application.objects.filter(worker__id_number=LIANG).count() == 3


BAD_CELLS = [
    ({"身份证号": LIANG[:-1] + ("0" if LIANG[-1] != "0" else "1")}, "身份证号", "check digit"),
    ({"身份证号": "12345"}, "身份证号", "18 characters"),
    ({"姓名": ""}, "姓名", "required"),
    ({"基层工会": "NOPE"}, "基层工会", "not the code or exact name"),
    ({"基层工会": "XQ"}, "基层工会", "not the code or exact name"),  # a town, not grassroots
    ({"困难类别": "重大疾病、失业"}, "困难类别", "Unknown hardship category: 失业"),
    ({"困难类别": ""}, "困难类别", "required"),
    ({"困难情况": ""}, "困难情况", "required"),
    ({"申请日期": "2021/03/01"}, "申请日期", "not a date"),
    ({"申请日期": "2021-02-30"}, "申请日期", "not a date"),
    ({"申请日期": "2099-01-01", "发放日期": "2099-02-01"}, "申请日期", "in the future"),
    ({"申请日期": "2017-06-01", "发放日期": "2017-07-01"}, "申请日期", "No relief policy"),
    ({"发放日期": "2021-02-01"}, "发放日期", "before the application date"),
    ({"批准金额": "-100", "发放金额": "-100"}, "批准金额", "greater than zero"),
    ({"批准金额": "abc"}, "批准金额", "not an amount"),
    ({"批准金额": "5000.123", "发放金额": "5000.123"}, "批准金额", "two decimals"),
    ({"批准金额": "12000", "发放金额": "12000"}, "批准金额", "above the cap of ¥10,000.00"),
    ({"发放金额": "5000.01"}, "发放金额", "above the approved amount"),
    ({"发放金额": "4000"}, "发放金额", "less than the approved amount"),
    ({"资金来源": "社会捐赠"}, "资金来源", "Unknown fund source"),
    ({"凭证号": "P" * 51}, "凭证号", "At most 50 characters"),
]


@pytest.mark.parametrize(
    ("cells", "column", "phrase"), BAD_CELLS, ids=[b[1] + "-" + b[2] for b in BAD_CELLS]
)
def test_each_bad_cell_is_reported_with_row_and_column_and_nothing_is_written(
    people, ledger_csv, cells, column, phrase
):
    rows = [*good_rows(), ledger_row(姓名="梁志明", 申请日期="2024-01-05", 发放日期="2024-01-20")]
    rows[-1].update(cells)
    report = run_failing(ledger_csv(rows))
    assert f"row 7 [{column}]" in report
    assert phrase in report
    assert "nothing was written" in report
    assert counts() == (0, 0, 0, 0)


def test_all_bad_rows_are_listed_not_just_the_first(people, ledger_csv):
    rows = good_rows()
    rows[0]["身份证号"] = "440605198001010000"
    rows[3]["资金来源"] = "捐款"
    rows[4]["批准金额"] = ""
    report = run_failing(ledger_csv(rows))
    assert "row 2 [身份证号]" in report
    assert "row 5 [资金来源]" in report
    assert "row 6 [批准金额]" in report
    assert "3 errors" in report


@pytest.mark.parametrize(
    ("header", "phrase"),
    [
        (["姓名", "身份证号", "基层工会"], "missing columns: 困难类别、困难情况"),
        (
            [*LEDGER_COLUMNS, "状态"],
            "unknown columns: 状态",
        ),
        (
            [*LEDGER_COLUMNS, "state"],
            "unknown columns: state",
        ),
    ],
    ids=["missing", "state-zh", "state-en"],
)
def test_wrong_headers_are_refused_on_row_1(people, ledger_csv, header, phrase):
    report = run_failing(ledger_csv([["x"] * len(header)], header=header))
    assert "row 1: " + phrase in report
    assert counts() == (0, 0, 0, 0)


def test_one_id_number_with_two_names_is_refused(people, ledger_csv):
    rows = good_rows()
    rows[1]["姓名"] = "梁志强"
    report = run_failing(ledger_csv(rows))
    assert "row 3 [姓名]" in report
    assert "Row 2 gives this ID number the name 梁志明" in report


def test_a_name_differing_from_the_worker_on_file_is_refused(people, ledger_csv):
    run(ledger_csv(good_rows()[:1], name="first.csv"))
    report = run_failing(
        ledger_csv([ledger_row(姓名="梁小明", 申请日期="2024-02-02", 发放日期="2024-02-20")])
    )
    assert "row 2 [姓名]" in report
    assert "on file as 梁志明" in report


def test_duplicate_rows_are_refused_in_the_file_and_against_the_database(people, ledger_csv):
    rows = [*good_rows(), good_rows()[0]]
    report = run_failing(ledger_csv(rows))
    assert "row 7 [申请日期]" in report
    assert "Duplicate of row 2" in report
    run(ledger_csv(good_rows(), name="once.csv"))
    report = run_failing(ledger_csv(good_rows()[:1], name="again.csv"))
    assert "row 2 [申请日期]" in report
    assert "Already on file as case XQ-2021-0001" in report


def test_the_policy_in_force_on_the_application_date_sets_the_caps(people, ledger_csv):
    Policy.objects.create(
        name="2022 办法",
        effective_from=dt.date(2022, 1, 1),
        max_per_payout=Decimal("4000"),
        max_per_worker_year=Decimal("6000"),
    )
    rows = [
        ledger_row(),  # 2021: old policy, 5,000 is fine
        ledger_row(申请日期="2022-02-01", 发放日期="2022-02-10", 批准金额="4000", 发放金额="4000"),
        ledger_row(申请日期="2022-09-01", 发放日期="2022-09-10", 批准金额="3000", 发放金额="3000"),
        ledger_row(申请日期="2023-02-01", 发放日期="2023-02-10"),  # 5,000 > 4,000
    ]
    report = run_failing(ledger_csv(rows))
    assert "row 2" not in report
    assert "row 4 [批准金额]" in report and "yearly cap of ¥6,000.00" in report
    assert "row 5 [批准金额]" in report and "cap of ¥4,000.00 per payout" in report


def test_spreadsheet_date_cells_and_numbers_are_read(people, ledger_xlsx):
    row = ledger_row(
        申请日期=dt.date(2021, 3, 1),
        发放日期=dt.datetime(2021, 3, 20),
        批准金额=5000.5,
        发放金额=5000.5,
    )
    run(ledger_xlsx([row]))
    app = Application.objects.get()
    assert app.application_date == dt.date(2021, 3, 1)
    assert app.approved_amount == Decimal("5000.50")
    assert app.disbursements.get().paid_on == dt.date(2021, 3, 20)


def test_an_id_number_stored_as_a_spreadsheet_number_is_refused(people, ledger_xlsx):
    report = run_failing(ledger_xlsx([ledger_row(身份证号=float(LIANG[:-1] + "0"))]))
    assert "row 2 [身份证号]" in report
    assert "stored as a number" in report


def test_a_gbk_csv_and_blank_lines_keep_spreadsheet_row_numbers(people, ledger_csv):
    rows = [good_rows()[0], [""] * 12, ledger_row(申请日期="2022-01-01", 发放日期="2021-12-01")]
    report = run_failing(ledger_csv(rows, encoding="gbk"))
    assert "row 4 [发放日期]" in report


@pytest.mark.parametrize(
    ("name", "content", "phrase"),
    [
        ("ledger.csv", b"", "empty"),
        ("ledger.xlsx", b"name,id\n1,2\n", "not an Excel (.xlsx) workbook"),
        ("ledger.csv", b"PK\x03\x04\x14\x00\x00\x00binary", "not a CSV text file"),
        ("ledger.xlsx", b"PK\x03\x04 not really a workbook", "Cannot open the spreadsheet"),
        ("ledger.txt", b"a,b\n", "Unsupported file type"),
    ],
    ids=["empty", "csv-named-xlsx", "zip-named-csv", "damaged-xlsx", "txt"],
)
def test_a_file_that_is_not_what_it_says_is_refused(people, tmp_path, name, content, phrase):
    path = tmp_path / name
    path.write_bytes(content)
    assert phrase in run_failing(str(path))
    assert counts() == (0, 0, 0, 0)


def test_a_header_without_rows_is_refused(people, ledger_csv):
    assert "no data rows" in run_failing(ledger_csv([]))


def test_an_oversized_file_is_refused_before_reading(people, tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("wb") as out:
        out.truncate(MAX_FILE_BYTES + 1)
    assert "at most 20 MB" in run_failing(str(path))


def test_formula_guards_added_by_an_export_are_taken_off(people, ledger_csv):
    run(ledger_csv([ledger_row(备注="'=已核实", 困难情况="'-长期透析")]))
    app = Application.objects.get()
    assert app.narrative == "-长期透析"
    assert app.disbursements.get().notes == "=已核实"


def test_a_town_reviewer_imports_only_into_its_own_unions(people, tmp_path):
    from tests.relief.conftest import write_csv

    path = write_csv(tmp_path, good_rows())
    result = ledger_import(table=read_table(path), user=people.carol, file_name="x.csv")
    # 冯国强's union DL-V01 is in another town: "not found", as if it did not exist.
    assert [(e.row, e.column) for e in result.errors] == [(6, "基层工会")]
    assert counts() == (0, 0, 0, 0)
    result = ledger_import(table=read_table(path), user=people.erin, file_name="x.csv")
    assert not result.errors
    assert Application.objects.count() == 5
    assert AuditEntry.objects.filter(action="import", actor=people.erin).count() == 8


def test_caseworkers_may_not_import(people, tmp_path):
    from relief.errors import NotAllowed
    from tests.relief.conftest import write_csv

    with pytest.raises(NotAllowed):
        ledger_import(
            table=read_table(write_csv(tmp_path, good_rows())), user=people.alice, file_name="x"
        )


def test_the_command_needs_a_superuser_or_a_named_user(db, tree, ledger_csv):
    assert "No active superuser" in run_failing(ledger_csv(good_rows()))


def test_the_command_prints_errors_in_chinese_by_default(people, ledger_csv):
    rows = good_rows()
    rows[2]["资金来源"] = "捐款"
    with translation.override("zh-hans"):
        report = run_failing(ledger_csv(rows))
    assert "第 4 行 [资金来源]" in report
    assert "未写入任何数据" in report


@pytest.mark.postgres
def test_the_payout_trigger_still_guards_imported_cases(people, ledger_csv):
    from django.db import IntegrityError, transaction

    run(ledger_csv(good_rows()[:1]))
    app = Application.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Disbursement.objects.create(
            application=app,
            amount=Decimal("0.01"),
            paid_on=app.application_date,
            method="cash",
            fund_source="district",
            recorded_by=people.root,
        )


def test_a_worker_filed_between_check_and_write_means_nothing_is_written(
    people, tree, tmp_path, monkeypatch
):
    import relief.services.ledger as ledger
    from tests.relief.conftest import write_csv

    original = ledger.write_ledger

    def meanwhile(prepared, user, file_name):
        Worker.objects.create(name="黄丽华", id_number=HUANG, union=tree.xq_e01)
        return original(prepared, user, file_name)

    monkeypatch.setattr(ledger, "write_ledger", meanwhile)
    result = ledger_import(
        table=read_table(write_csv(tmp_path, good_rows())), user=people.root, file_name="x.csv"
    )
    assert [e.row for e in result.errors] == [1]
    assert "changed while importing" in result.errors[0].message
    assert Application.objects.count() == 0


def test_the_command_prints_nothing_with_verbosity_0(people, ledger_csv):
    path = ledger_csv(good_rows())
    for args in (["--dry-run"], []):
        out, err = io.StringIO(), io.StringIO()
        call_command("import_ledger", path, *args, verbosity=0, stdout=out, stderr=err)
        assert (out.getvalue(), err.getvalue()) == ("", "")
    assert Worker.objects.count() == 3


def test_the_command_refuses_an_importer_without_the_right_role(people, ledger_csv):
    report = run_failing(ledger_csv(good_rows()), "--user", people.alice.username)
    assert "alice may not import: pass --user with a town reviewer" in report
    report = run_failing(ledger_csv(good_rows()), "--user", "nobody")
    assert "No active user nobody: check the user name" in report
    assert Worker.objects.count() == 0


def _between_check_and_write(monkeypatch, meanwhile):
    """Run `meanwhile` after the rows were checked, before the write transaction begins."""
    import relief.services.ledger as ledger

    original = ledger.prepare_ledger

    def prepare(*args):
        meanwhile()
        return original(*args)

    monkeypatch.setattr(ledger, "prepare_ledger", prepare)


def test_a_worker_filed_before_the_write_transaction_means_nothing_is_written(
    people, tree, tmp_path, monkeypatch
):
    """The rows are checked outside the write transaction (on SQLite it holds the one write
    lock from BEGIN); what was filed meanwhile is caught under it, nothing half-written."""
    from tests.relief.conftest import write_csv

    _between_check_and_write(
        monkeypatch,
        lambda: Worker.objects.create(name="黄丽华", id_number=HUANG, union=tree.xq_e01),
    )
    result = ledger_import(
        table=read_table(write_csv(tmp_path, good_rows())), user=people.root, file_name="x.csv"
    )
    assert [e.row for e in result.errors] == [1]
    assert "changed while importing" in result.errors[0].message
    assert (Application.objects.count(), Worker.objects.count()) == (0, 1)
    assert not AuditEntry.objects.filter(action="import").exists()


def test_a_case_filed_before_the_write_transaction_is_caught_under_sqlites_lock(
    people, tree, tmp_path, monkeypatch
):
    """SQLite: a case for a worker on file, same application date as a row, filed between the
    check and the write, is found by the check run again inside the write lock. (PostgreSQL
    checks without locks either way, as before.)"""
    from django.db import connection

    from tests.factories import WorkerFactory, file_case
    from tests.relief.conftest import write_csv

    if connection.vendor != "sqlite":
        pytest.skip("the re-check under SQLite's write lock")
    worker = WorkerFactory(name="黄丽华", id_number=HUANG, union=tree.xq_s01)
    _between_check_and_write(
        monkeypatch,
        lambda: file_case(people.alice, worker, application_date=dt.date(2022, 8, 15)),
    )
    result = ledger_import(
        table=read_table(write_csv(tmp_path, good_rows())), user=people.root, file_name="x.csv"
    )
    assert [e.row for e in result.errors] == [1]
    assert Application.objects.count() == 1
    assert not Disbursement.objects.exists()


def test_every_imported_row_is_linked_and_numbered_and_nothing_stays_staged(
    people, tree, ledger_csv
):
    """The keys computed under SQLite's write lock (relief.services.bulk.SqliteStage): each
    case's worker, its payout's case, its audit entry's worker, case and payout, and the
    references continuing each town's counter in application-date order."""
    from django.db import connection

    from relief.models import ReferenceCounter
    from tests.factories import WorkerFactory

    WorkerFactory(name="黄丽华", id_number=HUANG, union=tree.xq_e01)  # an existing worker
    ReferenceCounter.objects.create(town=tree.xq, year=2021, last=7)
    rows = [
        *good_rows(),
        ledger_row(申请日期="2021-01-05", 发放日期="2021-01-20", 凭证号="PZ-2021-000"),
        ledger_row(
            姓名="冯国强",
            身份证号=FENG,
            基层工会="DL-V01",
            申请日期="2021-02-01",
            发放日期="2021-02-20",
            凭证号="PZ-2021-002",
        ),
    ]
    run(ledger_csv(rows))
    cases = Application.objects.select_related("worker").order_by("application_date", "pk")
    assert cases.count() == 7
    for case in cases:
        payout = case.disbursements.get()
        entry = AuditEntry.objects.get(application=case)
        assert (entry.worker_id, entry.disbursement_id) == (case.worker_id, payout.pk)
        assert payout.town_id == case.union.parent_id
    xq_2021 = [c.reference for c in cases if c.reference.startswith("XQ-2021-")]
    assert xq_2021 == ["XQ-2021-0008", "XQ-2021-0009"]  # after the counter's 7, by date
    assert ReferenceCounter.objects.get(town=tree.xq, year=2021).last == 9
    dl = sorted(c.reference for c in cases if c.union.parent_id == tree.dl.pk)
    assert dl == ["DL-2020-0001", "DL-2021-0001"]
    huang = Worker.objects.get(id_number=HUANG)
    assert huang.applications.count() == 1  # the existing worker, not a new one
    new_workers = set(Worker.objects.exclude(pk=huang.pk).values_list("pk", flat=True))
    worker_entries = AuditEntry.objects.filter(action="import", application__isnull=True)
    assert set(worker_entries.values_list("worker_id", flat=True)) == new_workers
    assert worker_entries.filter(disbursement__isnull=False).count() == 0
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_temp_master WHERE name LIKE 'stage%'")
            assert cursor.fetchall() == []
