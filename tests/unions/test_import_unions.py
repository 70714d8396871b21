"""`manage.py import_unions FILE`: all rows or none, every error with its row and column.

Row numbers are the ones a spreadsheet shows: the header is row 1, the first data row row 2.
"""

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from openpyxl import Workbook

from unions.models import Kind, Level, Union

HEADER = ["代码", "名称", "级别", "类型", "上级代码"]

GOOD_ROWS = [
    # Children before their parents: the file order must not matter.
    ["XQ-S01", "樵园社区工会", "基层", "社区", "XQ"],
    ["NH", "南海区总工会", "区", "", ""],
    ["XQ", "西樵镇总工会", "镇", "", "NH"],
    ["XQ-E01", "樵山食品工会", "基层", "企业", "XQ"],
    ["DL", "大沥镇总工会", "镇", "", "NH"],
    ["DL-V01", "凤池村工会", "基层", "村居", "DL"],
]


@pytest.fixture(autouse=True)
def _english():
    # Messages are checked in English; one test below checks the Chinese wording.
    with translation.override("en"):
        yield


def write_csv(tmp_path, rows, *, header=HEADER, name="unions.csv", encoding="utf-8"):
    path = tmp_path / name
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(tmp_path, rows, *, header=HEADER, name="tabular.xlsx"):
    workbook = Workbook()
    sheet = workbook.active
    if header is not None:
        sheet.append(header)
    for row in rows:
        sheet.append([cell if cell != "" else None for cell in row])
    path = tmp_path / name
    workbook.save(path)
    return path


def run_import(path):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_unions", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing_import(path) -> str:
    """Run an import that must fail; return everything it reported."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("import_unions", str(path), stdout=out, stderr=err)
    assert out.getvalue() == ""
    return err.getvalue() + "\n" + str(excinfo.value)


def snapshot():
    return sorted(Union.objects.values_list("code", "name", "level", "kind", "parent_id", "path"))


def assert_tree_matches_good_rows():
    unions = {u.code: u for u in Union.objects.select_related("parent")}
    assert set(unions) == {row[0] for row in GOOD_ROWS}
    nh, xq, dl = unions["NH"], unions["XQ"], unions["DL"]
    assert (nh.level, nh.parent, nh.kind) == (Level.DISTRICT, None, "")
    assert (xq.level, xq.parent, xq.kind) == (Level.TOWN, nh, "")
    assert (dl.level, dl.parent) == (Level.TOWN, nh)
    assert (unions["XQ-S01"].parent, unions["XQ-S01"].kind) == (xq, Kind.COMMUNITY)
    assert (unions["XQ-E01"].parent, unions["XQ-E01"].kind) == (xq, Kind.ENTERPRISE)
    assert (unions["DL-V01"].parent, unions["DL-V01"].kind) == (dl, Kind.VILLAGE)
    assert unions["XQ-S01"].level == Level.GRASSROOTS
    # Materialized paths: each node's path is its parent's path plus its own segment.
    for union in unions.values():
        own = f"{union.pk:08d}/"
        expected = (union.parent.path if union.parent else "") + own
        assert union.path == expected
    assert unions["XQ-S01"].name == "樵园社区工会"


# --- good files -----------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_it_imports_a_csv_file_in_any_common_encoding(db, tmp_path, encoding):
    out, err = run_import(write_csv(tmp_path, GOOD_ROWS, encoding=encoding))
    assert "6 created, 0 updated" in out
    assert err == ""
    assert_tree_matches_good_rows()


def test_it_imports_an_xlsx_file(db, tmp_path):
    out, _ = run_import(write_xlsx(tmp_path, GOOD_ROWS))
    assert "6 created, 0 updated" in out
    assert_tree_matches_good_rows()


def test_it_skips_blank_lines_and_strips_cells(db, tmp_path):
    rows = [[f" {cell} " if cell else cell for cell in row] for row in GOOD_ROWS]
    rows.insert(2, ["", "", "", "", ""])
    rows.append(["", "", "", "", ""])
    out, _ = run_import(write_csv(tmp_path, rows))
    assert "6 created" in out
    assert_tree_matches_good_rows()


def test_reimporting_updates_names_and_keeps_the_tree(db, tmp_path):
    run_import(write_csv(tmp_path, GOOD_ROWS))
    before = {u.code: (u.pk, u.path) for u in Union.objects.all()}

    renamed = [[code, name.replace("工会", "联合工会"), *rest] for code, name, *rest in GOOD_ROWS]
    out, _ = run_import(write_csv(tmp_path, renamed, name="renamed.csv"))

    assert "0 created, 6 updated" in out
    assert {u.code: (u.pk, u.path) for u in Union.objects.all()} == before
    assert Union.objects.get(code="XQ").name == "西樵镇总联合工会"
    assert Union.objects.get(code="DL-V01").name == "凤池村联合工会"


def test_reimporting_the_same_file_changes_nothing(db, tmp_path):
    path = write_csv(tmp_path, GOOD_ROWS)
    run_import(path)
    before = snapshot()
    out, _ = run_import(path)
    assert "0 created, 6 updated" in out
    assert snapshot() == before


def test_it_adds_unions_under_parents_already_in_the_database(tree, tmp_path):
    rows = [["XQ-V09", "西樵新村工会", "基层", "村居", "XQ"]]
    out, _ = run_import(write_csv(tmp_path, rows))
    assert "1 created, 0 updated" in out
    new = Union.objects.get(code="XQ-V09")
    assert new.parent == tree.xq
    assert new.path.startswith(tree.xq.path)


def test_a_new_parent_moves_the_union_and_its_path(tree, tmp_path):
    rows = [["XQ-E01", "樵山食品工会", "基层", "企业", "DL"]]
    run_import(write_csv(tmp_path, rows))
    moved = Union.objects.get(code="XQ-E01")
    assert moved.parent == tree.dl
    assert moved.path == f"{tree.dl.path}{moved.pk:08d}/"


# --- bad files: every error with row and column, nothing written ----------------------------

# The first row renames NH (in the `tree` fixture) so a write would show.
NH_ROW = ["NH", "佛山市南海区总工会", "区", "", ""]

# Each case: the rows, the (row, column) pairs reported, and a phrase of the message.
ERROR_CASES = {
    "unknown parent": (
        [NH_ROW, ["XQ", "西樵镇总工会", "镇", "", "ZZ"]],
        [(3, "上级代码")],
        "unknown parent code ZZ",
    ),
    "town under a town": (
        [
            NH_ROW,
            ["XQ", "西樵镇总工会", "镇", "", "NH"],
            ["XX", "小镇总工会", "镇", "", "XQ"],
        ],
        [(4, "上级代码")],
        "wrong level order",
    ),
    "grassroots under the district": (
        [
            NH_ROW,
            ["XQ", "西樵镇总工会", "镇", "", "NH"],
            ["G1", "直属工会", "基层", "企业", "NH"],
        ],
        [(4, "上级代码")],
        "must be a Town federation",
    ),
    "duplicate code": (
        [
            NH_ROW,
            ["XQ", "西樵镇总工会", "镇", "", "NH"],
            ["XQ", "西樵镇总工会（重复）", "镇", "", "NH"],
        ],
        [(4, "代码")],
        "duplicate code XQ, already on row 3",
    ),
    "a union that is its own parent": (
        [NH_ROW, ["XQ", "西樵镇总工会", "镇", "", "XQ"]],
        [(3, "上级代码")],
        "cycle",
    ),
    "two unions that are each other's parent": (
        [
            NH_ROW,
            ["XQ", "西樵镇总工会", "镇", "", "DL"],
            ["DL", "大沥镇总工会", "镇", "", "XQ"],
        ],
        [(3, "上级代码"), (4, "上级代码")],
        "cycle",
    ),
    "bad level": (
        [NH_ROW, ["FS", "佛山市总工会", "市", "", "NH"]],
        [(3, "级别")],
        "level must be 区, 镇 or 基层",
    ),
    "grassroots without a type": (
        [
            NH_ROW,
            ["XQ", "西樵镇总工会", "镇", "", "NH"],
            ["XQ-S01", "樵园社区工会", "基层", "", "XQ"],
        ],
        [(4, "类型")],
        "needs a type",
    ),
    "grassroots with an unknown type": (
        [
            NH_ROW,
            ["XQ", "西樵镇总工会", "镇", "", "NH"],
            ["XQ-X01", "西樵中学工会", "基层", "学校", "XQ"],
        ],
        [(4, "类型")],
        "学校",
    ),
    "town with a type": (
        [NH_ROW, ["XQ", "西樵镇总工会", "镇", "社区", "NH"]],
        [(3, "类型")],
        "only grassroots unions have a type",
    ),
    "district with a parent": (
        [NH_ROW, ["SD", "顺德区总工会", "区", "", "NH"]],
        [(3, "上级代码")],
        "a district federation has no parent",
    ),
    "town without a parent": (
        [NH_ROW, ["XQ", "西樵镇总工会", "镇", "", ""]],
        [(3, "上级代码")],
        "parent code is required",
    ),
    "missing code and name": (
        [NH_ROW, ["", "", "镇", "", "NH"]],
        [(3, "代码"), (3, "名称")],
        "is required",
    ),
    "code too long": (
        [NH_ROW, ["X" * 33, "西樵镇总工会", "镇", "", "NH"]],
        [(3, "代码")],
        "longer than 32",
    ),
}


@pytest.mark.parametrize(
    ("rows", "where", "phrase"), list(ERROR_CASES.values()), ids=list(ERROR_CASES)
)
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_it_reports_each_error_with_row_and_column_and_writes_nothing(
    tree, tmp_path, fmt, rows, where, phrase
):
    # Good rows next to the bad ones (a rename of NH, a new town with a new union): they
    # must not be written either.
    rows = [
        *rows,
        ["JJ", "九江镇总工会", "镇", "", "NH"],
        ["JJ-S01", "儒林社区工会", "基层", "社区", "JJ"],
    ]
    path = write_xlsx(tmp_path, rows) if fmt == "xlsx" else write_csv(tmp_path, rows)
    before = snapshot()

    report = run_failing_import(path)

    for row, column in where:
        assert f"row {row} [{column}]: " in report
    assert phrase in report
    assert "nothing was written" in report
    assert snapshot() == before
    assert Union.objects.count() == 6
    assert not Union.objects.filter(code__startswith="JJ").exists()
    assert Union.objects.get(code="NH").name == "南海区总工会"


def test_it_reports_every_bad_row_not_just_the_first(db, tmp_path):
    rows = [
        ["NH", "南海区总工会", "区", "", ""],
        ["XQ", "西樵镇总工会", "市", "", "NH"],
        ["DL", "大沥镇总工会", "镇", "", "ZZ"],
        ["DL-V01", "凤池村工会", "基层", "", "DL"],
    ]
    report = run_failing_import(write_csv(tmp_path, rows))
    assert "row 3 [级别]" in report
    assert "row 4 [上级代码]" in report
    assert "row 5 [类型]" in report
    assert "3 errors" in report
    assert Union.objects.count() == 0


def test_row_numbers_count_blank_lines_like_a_spreadsheet(db, tmp_path):
    rows = [
        ["NH", "南海区总工会", "区", "", ""],
        ["", "", "", "", ""],
        ["XQ", "西樵镇总工会", "镇", "", "ZZ"],
    ]
    assert "row 4 [上级代码]" in run_failing_import(write_xlsx(tmp_path, rows))


def test_a_level_change_that_strands_existing_children_is_refused(tree, tmp_path):
    # XQ already has grassroots unions; as a grassroots union itself they would not fit.
    rows = [["XQ", "西樵镇总工会", "基层", "社区", "DL"]]
    before = snapshot()
    report = run_failing_import(write_csv(tmp_path, rows))
    assert "row 2 [级别]" in report
    assert "XQ-S01" in report
    assert snapshot() == before


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_missing_columns_are_reported_on_row_1(tree, tmp_path, fmt):
    header = ["代码", "名称", "级别"]
    rows = [["XQ-N01", "西樵新建社区工会", "基层"]]
    if fmt == "xlsx":
        path = write_xlsx(tmp_path, rows, header=header)
    else:
        path = write_csv(tmp_path, rows, header=header)
    report = run_failing_import(path)
    assert "row 1: missing columns: 类型、上级代码" in report
    assert Union.objects.count() == 6


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        (b"", "row 1 must hold the column headers"),
        (b"\xef\xbb\xbf", "row 1 must hold the column headers"),
        (b"\n\n", "row 1: missing columns: 代码、名称、级别、类型、上级代码"),
    ],
    ids=["zero-bytes", "bom-only", "blank-lines"],
)
def test_an_empty_csv_file_is_refused(tree, tmp_path, content, phrase):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    assert phrase in run_failing_import(path)
    assert Union.objects.count() == 6


def test_an_empty_xlsx_file_is_refused(db, tmp_path):
    path = tmp_path / "empty.xlsx"
    Workbook().save(path)
    with pytest.raises(CommandError, match="empty"):
        run_import(path)


@pytest.mark.parametrize("name", ["unions.txt", "unions.xls", "unions"])
def test_an_unsupported_file_type_is_refused(db, tmp_path, name):
    path = tmp_path / name
    path.write_text("代码,名称,级别,类型,上级代码\n", encoding="utf-8")
    with pytest.raises(CommandError, match="Unsupported file type"):
        run_import(path)


@pytest.mark.parametrize("name", ["missing.csv", "missing.xlsx"])
def test_a_missing_file_is_a_command_error(db, tmp_path, name):
    with pytest.raises(CommandError):
        run_import(tmp_path / name)


def test_a_damaged_xlsx_file_is_a_command_error(db, tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not a workbook")
    with pytest.raises(CommandError, match="Cannot open the spreadsheet"):
        run_import(path)


def test_errors_read_in_chinese_by_default(db, tmp_path):
    rows = [["NH", "南海区总工会", "区", "", ""], ["XQ", "西樵镇总工会", "镇", "", "ZZ"]]
    with translation.override("zh-hans"):
        report = run_failing_import(write_csv(tmp_path, rows))
    assert "第 3 行 [上级代码]" in report
    assert "上级代码 ZZ 不存在" in report
    assert "未写入任何数据" in report
