"""A batch step refused because the batch moved on names who moved it and when (issue 12),
on the admin page as a message, never a bare 403 or a 500."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from relief import services
from relief.idempotency import FIELD, new_key
from relief.models import Disbursement
from tests.factories import case_in_state, fund

TODAY = dt.date.today()


@pytest.fixture
def batch(people, tree):
    app = case_in_state(
        "approved", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    fund(people.erin, tree.xq, "10000.00")
    return services.batch_create(
        user=people.erin, title="审批会", applications=[app], fund_source="district"
    )


def paid(people, batch):
    services.batch_export(batch=batch, user=people.erin)
    services.batch_mark_paid(batch=batch, user=people.erin, bank_paid_on=TODAY)


def cancelled(people, batch):
    services.batch_cancel(batch=batch, user=people.erin, reason="会议改期")


MOVES = {"paid": (paid, "标记为已支付"), "cancelled": (cancelled, "取消")}
STEPS = {
    "export": ("admin:relief_paymentbatch_export", {}),
    "paid": ("admin:relief_paymentbatch_paid", {"bank_paid_on": TODAY.isoformat()}),
    "cancel": ("admin:relief_paymentbatch_cancel", {"reason": "重复"}),
}


def page_text(response) -> str:
    text = " ".join(str(m) for m in response.wsgi_request._messages)
    if response.status_code == 200:
        text += response.content.decode()
    return text


@pytest.mark.parametrize("move", MOVES)
@pytest.mark.parametrize("step", STEPS)
def test_a_stale_batch_step_says_who_moved_it_when_and_what_to_do(
    client, people, batch, move, step
):
    do, words = MOVES[move]
    do(people, batch)
    payouts = Disbursement.objects.count()
    name, body = STEPS[step]
    client.force_login(people.erin)
    response = client.post(reverse(name, args=[batch.pk]), {**body, FIELD: new_key()})
    assert response.status_code in (200, 302)
    text = page_text(response)
    assert f"此批次已由 {people.erin.get_full_name()} 于" in text
    assert words in text and "未作任何更改" in text
    assert Disbursement.objects.count() == payouts


def test_the_service_refusal_names_the_actor_in_english_too(people, batch):
    cancelled(people, batch)
    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        services.batch_export(batch=batch, user=people.erin)
    message = " ".join(excinfo.value.messages)
    assert f"cancelled by {people.erin.get_full_name()} at" in message
    assert "new batch" in message


def test_marking_a_draft_paid_says_to_export_first(people, batch):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as excinfo:
        services.batch_mark_paid(batch=batch, user=people.erin, bank_paid_on=TODAY)
    assert "先导出银行文件" in " ".join(excinfo.value.messages)
