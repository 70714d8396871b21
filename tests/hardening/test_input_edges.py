"""Issue 11, finding 4: input edges get a message next to their field or cell, never a 500.

Amounts that do not fit (1e309, 40 digits), ID numbers in full-width digits (normalized) or in
other scripts' digits (refused before the database's constraint), household birth dates in 1899
or 9999, very long text.
"""

import datetime as dt

import pytest
from django.urls import reverse

from relief.forms import HouseholdMemberForm
from relief.idcard import normalize_id_number, validate_id_number
from relief.models import Application, HouseholdMember, Worker
from relief.services.ledger import LEDGER_COLUMNS, ledger_import
from relief.services.tabular import CellError, parse_amount
from relief.services.worker_import import (
    HOUSEHOLD_COLUMNS,
    WORKER_COLUMNS,
    household_import,
    workers_import,
)
from tabular.tables import Table
from tests.factories import WorkerFactory, make_id_number
from tests.relief.conftest import LIANG, ledger_row
from tests.relief.test_views import intake_post

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def table(columns, *rows) -> Table:
    return Table(headers=list(columns), rows=[(i, r) for i, r in enumerate(rows, 2)])


def errors_of(outcome) -> list[tuple[int, str]]:
    return [(e.row, e.column) for e in outcome.errors]


@pytest.mark.parametrize("value", ["1e309", "9" * 40, "1E+999999999999999", 1e308, float("inf")])
def test_an_amount_that_does_not_fit_is_a_cell_error(value):
    with pytest.raises(CellError):
        parse_amount(value)


@pytest.mark.parametrize("value", ["1e309", "9" * 40])
def test_a_ledger_with_huge_amounts_lists_cell_errors_and_writes_nothing(people, value):
    rows = [ledger_row(批准金额=value), ledger_row(发放金额=value, 申请日期="2021-01-05")]
    outcome = ledger_import(table=table(LEDGER_COLUMNS, *rows), user=people.root, file_name="x")
    assert errors_of(outcome) == [(2, "批准金额"), (3, "发放金额")]
    assert "最多" in outcome.errors[0].message
    assert Application.objects.count() == 0


def test_full_width_digits_become_ascii():
    assert normalize_id_number(LIANG.translate(FULL_WIDTH)) == LIANG
    assert normalize_id_number("４４０６０５\u3000１９８００１０１１２３ｘ") == "44060519800101123X"


def test_other_scripts_digits_are_refused_with_a_message():
    with pytest.raises(Exception) as info:
        validate_id_number(LIANG.translate(ARABIC_INDIC))
    assert info.value.code == "id_chars"


def test_a_ledger_with_a_full_width_id_number_stores_it_in_ascii(people):
    row = ledger_row(身份证号=LIANG.translate(FULL_WIDTH))
    outcome = ledger_import(table=table(LEDGER_COLUMNS, row), user=people.root, file_name="x")
    assert outcome.errors == []
    assert Worker.objects.get().id_number == LIANG


def test_a_ledger_with_arabic_indic_digits_is_a_cell_error(people):
    row = ledger_row(身份证号=LIANG.translate(ARABIC_INDIC))
    outcome = ledger_import(table=table(LEDGER_COLUMNS, row), user=people.root, file_name="x")
    assert errors_of(outcome) == [(2, "身份证号")]
    assert "半角" in outcome.errors[0].message
    assert Worker.objects.count() == 0


def test_intake_with_a_full_width_id_number_files_the_case_in_ascii(client, people):
    number = make_id_number(77)
    client.force_login(people.alice)
    response = client.post(
        reverse("relief:case_new"), intake_post(number.translate(FULL_WIDTH), **{"action": "draft"})
    )
    assert response.status_code == 302
    assert Worker.objects.get(name="陈建华").id_number == number


def test_intake_with_other_digits_is_a_field_message(client, people):
    client.force_login(people.alice)
    response = client.post(
        reverse("relief:case_new"), intake_post(make_id_number(78).translate(ARABIC_INDIC))
    )
    assert response.status_code == 200
    assert "半角" in " ".join(response.context["id_form"].errors["id_number"])
    assert Worker.objects.count() == 0


@pytest.mark.parametrize(
    ("born", "phrase"), [("1899-12-31", "不能早于 1900-01-01"), ("9999-12-31", "不能晚于今天")]
)
def test_a_household_birth_date_in_1899_or_9999_is_refused_in_the_form(born, phrase):
    form = HouseholdMemberForm({"relation": "母亲", "name": "何秀英", "birth_date": born})
    assert not form.is_valid()
    assert phrase in " ".join(form.errors["birth_date"])


@pytest.mark.parametrize("born", ["1899-12-31", "9999-12-31"])
def test_the_intake_form_refuses_such_a_birth_date_and_writes_nothing(client, people, born):
    client.force_login(people.alice)
    data = intake_post(make_id_number(79), **{"household-0-birth_date": born})
    response = client.post(reverse("relief:case_new"), data)
    assert response.status_code == 400
    assert (Worker.objects.count(), HouseholdMember.objects.count()) == (0, 0)


@pytest.mark.parametrize("born", ["1899-12-31", "9999-12-31"])
def test_the_household_import_refuses_such_a_birth_date(people, born):
    worker = WorkerFactory(union=people.alice.union)
    row = dict.fromkeys(HOUSEHOLD_COLUMNS, "")
    row.update(职工身份证号=worker.id_number, 关系="母亲", 姓名="何秀英", 出生日期=born)
    outcome = household_import(table=table(HOUSEHOLD_COLUMNS, row), user=people.root, file_name="x")
    assert errors_of(outcome) == [(2, "出生日期")]
    assert HouseholdMember.objects.count() == 0


def test_the_model_refuses_such_a_birth_date_too(people):
    worker = WorkerFactory(union=people.alice.union)
    member = HouseholdMember(
        worker=worker, relation="母亲", name="何", birth_date=dt.date(1899, 1, 1)
    )
    with pytest.raises(Exception) as info:
        member.full_clean()
    assert "birth_date" in info.value.message_dict


def test_very_long_text_is_a_cell_or_field_message(client, people):
    outcome = ledger_import(
        table=table(LEDGER_COLUMNS, ledger_row(困难情况="困" * 6000, 凭证号="9" * 51)),
        user=people.root,
        file_name="x",
    )
    assert errors_of(outcome) == [(2, "困难情况"), (2, "凭证号")]
    row = dict.fromkeys(WORKER_COLUMNS, "")
    row.update(姓名="陈", 身份证号=LIANG, 基层工会="XQ-S01", 住址="路" * 3000)
    outcome = workers_import(
        table=table(WORKER_COLUMNS, row),
        user=people.root,
        file_name="x",
    )
    assert errors_of(outcome) == [(2, "住址")]
    assert Worker.objects.count() == 0
    client.force_login(people.alice)
    response = client.post(
        reverse("relief:case_new"), intake_post(make_id_number(80), name="陈" * 5000)
    )
    assert response.status_code == 400
    assert Worker.objects.count() == 0


@pytest.mark.parametrize("column", ["困难情况", "备注", "姓名", "凭证号", "基层工会"])
def test_a_nul_character_is_a_cell_error_not_a_database_error(people, column):
    # Found by the fuzzing below: PostgreSQL refuses NUL in text with a DataError (a 500).
    row = ledger_row(**{column: "a\x00b"})
    outcome = ledger_import(table=table(LEDGER_COLUMNS, row), user=people.root, file_name="x")
    assert errors_of(outcome) == [(2, column)]
    assert Application.objects.count() == 0
