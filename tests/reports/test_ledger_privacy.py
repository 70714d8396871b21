"""The ledger export: ID numbers masked by default for everybody, full ones only by POST for
users who may see them (and then logged), and every text cell guarded against formulas in
CSV and XLSX alike."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from privacy.models import AccessLog
from relief.models import Application, HardshipCategory, Worker
from reports import exports
from reports.figures import Period
from tabular.formulas import FORMULA_STARTS
from unions.models import Union

# The payouts of tests/reports/conftest.py, built once for the module.
pytestmark = pytest.mark.usefixtures("module_payouts")

LEDGER = reverse("reports:ledger")
INJECTED = {"=1+1", "+1", "-1", "@SUM(A1)", "\t=1"}


@pytest.fixture
def injected(payouts):
    """Text a spreadsheet would run, in every kind of text column of the 2023 西樵 rows."""
    Worker.objects.filter(pk=payouts.w1.pk).update(name="=1+1")
    Worker.objects.filter(pk=payouts.w2.pk).update(name="\t=1")
    Application.objects.filter(pk=payouts.a.pk).update(narrative="+1")
    Union.objects.filter(code="XQ-E01").update(name="-1")
    HardshipCategory.objects.filter(name="意外伤害").update(name="@SUM(A1)")
    return payouts


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def xlsx_cells(data: bytes):
    sheet = load_workbook(io.BytesIO(data)).active
    return [list(row) for row in sheet.iter_rows(min_row=2)]


def ledger(client, *, fmt="csv", full=False, method="post", unit="XQ", **extra):
    data = {"unit": unit, "year": 2023, "format": fmt, **({"full_id_numbers": "1"} if full else {})}
    return getattr(client, method)(LEDGER, data, **extra)


def test_formula_cells_are_neutralized_in_csv(tree, injected):
    rows = csv_rows(exports.csv_bytes(tree.xq, Period(2023, 2023)))[1:]
    cells = [cell for row in rows for cell in row]
    assert {c[1:] for c in cells if c.startswith("'")} == INJECTED
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)]
    assert sorted(float(r[8]) for r in rows) == [2000.0, 4000.0, 8000.0]  # amounts untouched


def test_formula_cells_are_neutralized_in_xlsx(tree, injected):
    buf = io.BytesIO()
    exports.write_xlsx(tree.xq, Period(2023, 2023), buf)
    cells = [cell for row in xlsx_cells(buf.getvalue()) for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # no live formula
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert {t[1:] for t in texts if t.startswith("'")} == INJECTED
    assert not [t for t in texts if t.startswith(FORMULA_STARTS)]
    amounts = [c.value for c in cells if c.column == 9]
    assert all(isinstance(v, int | float) for v in amounts)  # numbers stay numbers


def body(response) -> bytes:
    """The file, whether sent as it is written (CSV) or from a temporary file (XLSX)."""
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("who", ["carol", "erin", "root"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_the_ledger_is_masked_by_default_for_everybody(client, people, payouts, who, method):
    client.force_login(getattr(people, who))
    response = ledger(client, method=method)
    assert response.status_code == 200
    rows = csv_rows(body(response))[1:]
    assert rows and all("*" in r[1] for r in rows)
    assert payouts.w1.id_number not in body(response).decode("utf-8-sig")
    assert payouts.w1.masked_id_number in {r[1] for r in rows}
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_full_export_has_full_numbers_and_is_logged(client, people, injected, fmt):
    client.force_login(people.erin)
    response = ledger(client, fmt=fmt, full=True, REMOTE_ADDR="203.0.113.20")
    assert response.status_code == 200
    if fmt == "csv":
        ids = {r[1] for r in csv_rows(body(response))[1:]}
    else:
        sheet = xlsx_cells(body(response))
        ids = {row[1].value for row in sheet}
        cells = [c for row in sheet for c in row]
        assert not [c for c in cells if c.data_type == "f"]
    assert injected.w1.id_number in ids and injected.w2.id_number in ids
    entry = AccessLog.objects.get()
    assert (entry.user, entry.kind, entry.ip) == (people.erin, "full_export", "203.0.113.20")
    assert (
        entry.content_type.model == "union" and entry.object_id == Union.objects.get(code="XQ").pk
    )
    assert entry.detail.startswith("ledger XQ ") and entry.detail.endswith(f" {fmt}, 3 rows")
    assert entry.path == LEDGER


def test_full_numbers_need_the_permission(client, people, payouts):
    client.force_login(people.carol)
    assert ledger(client, full=True).status_code == 403
    assert ledger(client, full=True, unit="DL").status_code == 404  # out of scope first
    assert not AccessLog.objects.exists()


def test_no_address_gives_full_numbers(client, people, payouts):
    client.force_login(people.erin)
    response = ledger(client, full=True, method="get")
    assert response.status_code == 405
    assert payouts.w1.id_number not in response.content.decode()
    assert not AccessLog.objects.exists()


def test_the_page_offers_full_numbers_to_holders_only_and_says_masked_is_not_importable(
    client, people, payouts
):
    client.force_login(people.erin)
    html = client.get(reverse("reports:index")).content.decode()
    assert 'data-testid="full-ids"' in html
    form = html[html.index('id="ledger"') :]
    form = form[: form.index("</form>")]
    assert 'method="post"' in form and "csrfmiddlewaretoken" in form
    client.force_login(people.carol)
    html = client.get(reverse("reports:index")).content.decode()
    assert 'data-testid="full-ids"' not in html
    assert "不能再导入" in html or "cannot be imported again" in html


def test_only_the_full_export_imports_again(client, people, payouts, tmp_path):
    from relief.services.ledger import ledger_import
    from tabular.tables import read_table

    client.force_login(people.erin)
    for full, name in ((False, "masked.csv"), (True, "full.csv")):
        path = tmp_path / name
        path.write_bytes(body(ledger(client, full=full)))
        result = ledger_import(
            table=read_table(path), user=people.root, file_name=name, dry_run=True
        )
        id_errors = {e.row for e in result.errors if e.column == "身份证号"}
        if full:
            # The ID numbers read; what is left is that these cases are already on file.
            assert not id_errors and "申请日期" in {e.column for e in result.errors}
        else:
            assert id_errors == {2, 3, 4}  # every row: a masked number is no ID number
