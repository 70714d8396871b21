"""Phone numbers: one check (relief.phones) for the worker form, proposals, services and the
worker import, with a message in Chinese (issue 13.14)."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from relief import services
from relief.models import Worker
from relief.phones import clean_phone_number
from relief.services.worker_import import WORKER_COLUMNS, workers_import
from tabular.tables import Table
from tests.factories import WorkerFactory, file_case, make_id_number
from tests.relief.test_views import intake_post

ACCEPTED = [
    ("13912345678", "13912345678"),
    ("139 1234 5678", "13912345678"),
    ("139-1234-5678", "13912345678"),
    ("+86 139 1234 5678", "13912345678"),
    ("008613912345678", "13912345678"),
    ("１３９１２３４５６７８", "13912345678"),  # full-width, as a Chinese input method types
    ("19912345678", "19912345678"),
    ("0757-86881234", "0757-86881234"),
    ("075786881234", "0757-86881234"),
    ("0757 86881234", "0757-86881234"),
    ("(0757)86881234", "0757-86881234"),
    ("（0757）86881234", "0757-86881234"),
    ("0757-8688123", "0757-8688123"),  # 7-digit local numbers exist in smaller cities
    ("010-88886666", "010-88886666"),
    ("020-83331234", "020-83331234"),
    ("0757-86881234-123", "0757-86881234转123"),
    ("0757-86881234转123", "0757-86881234转123"),
    ("0757-86881234 转 8001", "0757-86881234转8001"),
    ("0757-86881234分机12", "0757-86881234转12"),
    ("0757-86881234 ext. 5", "0757-86881234转5"),
    ("0757-86881234#123456", "0757-86881234转123456"),
    ("", ""),
    ("   ", ""),
]

REFUSED = [
    "abc",
    "电话",
    "1391234567",  # 10 digits
    "139123456789",  # 12 digits
    "12912345678",  # no mobile network starts 12
    "23912345678",
    "86881234",  # no area code
    "0757-1234567",  # a local number never starts with 1
    "0757-0688123",
    "020-1234567",  # 02x local numbers have 8 digits
    "010-8888666",
    "0757-868812345",  # 9 digits
    "0757-86881234-1234567",  # extension of 7 digits
    "0757-86881234转",
    "13912345678转12",  # mobiles have no extension
    "+1 415 555 0100",
    "139１２３4567８a",
]


@pytest.mark.parametrize(("typed", "stored"), ACCEPTED)
def test_accepted_numbers_are_stored_in_one_shape(typed, stored):
    assert clean_phone_number(typed) == stored
    assert len(stored) <= 20  # Worker.phone and ProposedChange.phone hold 20 characters
    assert clean_phone_number(stored) == stored


@pytest.mark.parametrize("typed", REFUSED)
def test_other_text_is_refused_with_a_message_in_chinese(typed):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        clean_phone_number(typed)
    message = exc.value.messages[0]
    assert "不是有效的电话号码" in message and "区号" in message and "0757-86881234" in message


def test_the_intake_form_refuses_abc_next_to_the_phone_field(client, people):
    client.force_login(people.alice)
    number = make_id_number(900)
    response = client.post(reverse("relief:case_new"), intake_post(number, phone="abc"))
    assert response.status_code == 400
    html = response.content.decode()
    field = re.search(
        r'<div class="field[^"]*"[^>]*>(?:(?!<div class="field).)*?id="id_phone".*?</div>',
        html,
        re.S,
    )
    assert field and "不是有效的电话号码" in field.group(0)
    assert not Worker.objects.filter(id_number=number).exists()


def test_the_intake_form_stores_the_number_in_its_shape(client, people):
    client.force_login(people.alice)
    number = make_id_number(901)
    data = intake_post(number, phone="（0757）8688 1234 转 12")
    assert client.post(reverse("relief:case_new"), data).status_code == 302
    assert Worker.objects.get(id_number=number).phone == "0757-86881234转12"


def test_services_refuse_a_bad_phone_whoever_calls_them(people):
    with pytest.raises(ValidationError) as exc:
        services.worker_create(
            user=people.alice,
            data={"name": "陈建华", "id_number": make_id_number(902), "phone": "abc"},
        )
    assert "phone" in exc.value.message_dict
    worker = WorkerFactory(union=people.alice.union)
    with pytest.raises(ValidationError) as exc:
        services.worker_update(worker=worker, user=people.alice, data={"phone": "12345"})
    assert "phone" in exc.value.message_dict
    worker.refresh_from_db()
    assert worker.phone == "13800000000"


def test_a_proposal_refuses_a_bad_phone(people):
    held_elsewhere = WorkerFactory(union=people.bob.union)
    app = file_case(people.alice, held_elsewhere)
    with pytest.raises(ValidationError) as exc:
        services.application_propose(
            application=app,
            user=people.alice,
            data={"phone": "abc", "bank_name": "", "bank_branch": "", "bank_card": ""},
        )
    assert "phone" in exc.value.message_dict
    app = services.application_propose(
        application=app,
        user=people.alice,
        data={"phone": "139 1111 2222", "bank_name": "", "bank_branch": "", "bank_card": ""},
    )
    app.refresh_from_db()
    assert app.proposed_change.phone == "13911112222"


def test_the_worker_import_names_the_phone_cell(people):
    def row(phone, n):
        cells = dict.fromkeys(WORKER_COLUMNS, "")
        cells.update(姓名="陈建华", 身份证号=make_id_number(n), 基层工会="XQ-S01", 粤工惠实名="否")
        cells["电话"] = phone
        return cells

    table = Table(
        headers=list(WORKER_COLUMNS), rows=[(2, row("abc", 903)), (3, row(13911112222.0, 904))]
    )
    with translation.override("zh-hans"):
        result = workers_import(table=table, user=people.carol, file_name="w.csv")
    assert [(e.row, e.column) for e in result.errors] == [(2, "电话")]
    assert "不是有效的电话号码" in str(result.errors[0])
    ok = Table(headers=list(WORKER_COLUMNS), rows=[(2, row("0757 8688 1234", 905))])
    assert not workers_import(table=ok, user=people.carol, file_name="w.csv").errors
    assert Worker.objects.get(id_number=make_id_number(905)).phone == "0757-86881234"
