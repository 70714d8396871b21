"""Issue 12, finding 3: a money form sent twice (a retry after a lost response, a double
click) records once. Each test posts the same body twice, as a browser resending the form
whose first response never arrived would."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from relief import services
from relief.idempotency import FIELD, replay_message
from relief.models import Application, Disbursement, FundIncome, IdempotencyKey, PaymentBatch
from tests.factories import case_in_state, fund
from tests.relief.test_concurrency import race

TODAY = dt.date.today()


def approved(people):
    return case_in_state(
        "approved", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )


def key_of(client, url) -> str:
    """The key the form carries when it is loaded (GET)."""
    key = client.get(url).context["form"][FIELD].value()
    assert key and len(key) >= 30
    return key


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def partial_payout(app, key, amount="1000.00"):
    return {
        "application": app.pk,
        "amount": amount,
        "paid_on": TODAY.isoformat(),
        "method": "cash",
        "fund": "",  # the oldest account with enough money
        FIELD: key,
    }


def test_each_loaded_form_gets_its_own_key(client, people):
    client.force_login(people.erin)
    url = reverse("admin:relief_disbursement_add")
    assert key_of(client, url) != key_of(client, url)
    assert f'name="{FIELD}"' in client.get(url).content.decode()


def test_a_partial_payout_sent_twice_from_the_admin_is_recorded_once(client, people, tree):
    app = approved(people)
    fund(people.erin, tree.xq, "10000.00")
    client.force_login(people.erin)
    url = reverse("admin:relief_disbursement_add")
    body = partial_payout(app, key_of(client, url))
    first = client.post(url, body)
    assert first.status_code == 302
    second = client.post(url, body)  # the first response was lost; the user sends it again
    payout = Disbursement.objects.get(application=app)
    assert second.status_code == 302
    assert second.url == reverse("admin:relief_disbursement_change", args=[payout.pk])
    assert str(replay_message()) in messages_of(second)
    app.refresh_from_db()
    assert app.paid_amount == Decimal("1000.00")
    # A new form (a new key) is a new payout: the protection is per form, not per amount.
    third = client.post(url, partial_payout(app, key_of(client, url)))
    assert third.status_code == 302
    assert Disbursement.objects.filter(application=app).count() == 2


def test_a_refused_payout_frees_its_key_for_the_corrected_form(client, people, tree):
    app = approved(people)
    fund(people.erin, tree.xq, "10000.00")
    client.force_login(people.erin)
    url = reverse("admin:relief_disbursement_add")
    key = key_of(client, url)
    refused = client.post(url, partial_payout(app, key, amount="9000.00"))  # above approved
    assert refused.status_code == 200 and refused.context["form"].errors
    assert not IdempotencyKey.objects.exists()
    assert client.post(url, partial_payout(app, key)).status_code == 302
    assert Disbursement.objects.filter(application=app).count() == 1


def test_the_case_page_payout_sent_twice_is_recorded_once_even_when_it_paid_in_full(
    client, people, tree
):
    app = approved(people)
    fund(people.erin, tree.xq, "10000.00")
    client.force_login(people.erin)
    url = reverse("admin:relief_application_act", args=[app.pk, "disburse"])
    body = {**partial_payout(app, key_of(client, url), "5000.00"), "version": app.version}
    assert client.post(url, body).status_code == 302
    assert Application.objects.get(pk=app.pk).state == "disbursed"
    second = client.post(url, body)
    assert second.status_code == 302  # not 403 and not the stale-state message
    assert second.url == reverse("admin:relief_application_change", args=[app.pk])
    assert str(replay_message()) in messages_of(second)
    assert Disbursement.objects.filter(application=app).count() == 1


def test_a_reversal_sent_twice_is_recorded_once(client, people, tree):
    app = approved(people)
    fund(people.erin, tree.xq, "10000.00")
    payout = services.disbursement_record(
        application=app,
        user=people.erin,
        amount=Decimal("1000.00"),
        paid_on=TODAY,
        method="cash",
        fund_source="district",
    )
    client.force_login(people.erin)
    url = reverse("admin:relief_disbursement_reverse", args=[payout.pk])
    body = {"reason": "银行退回", "reversed_on": TODAY.isoformat(), FIELD: key_of(client, url)}
    assert client.post(url, body).status_code == 302
    second = client.post(url, body)
    reversal = Disbursement.objects.get(reverses=payout)
    assert second.url == reverse("admin:relief_disbursement_change", args=[reversal.pk])
    assert Disbursement.objects.filter(application=app).count() == 2  # the payout, one reversal


def test_fund_income_sent_twice_is_recorded_once(client, people, tree):
    client.force_login(people.erin)
    url = reverse("admin:relief_fundincome_add")
    body = {
        "town": tree.xq.pk,
        "source": "district",
        "year": TODAY.year,
        "amount": "5000.00",
        "received_on": TODAY.isoformat(),
        "document_no": "南工字〔2024〕9号",
        FIELD: key_of(client, url),
    }
    assert client.post(url, body).status_code == 302
    second = client.post(url, body)
    income = FundIncome.objects.get()
    assert second.url == reverse("admin:relief_fundincome_change", args=[income.pk])
    assert str(replay_message()) in messages_of(second)


def test_marking_a_batch_paid_twice_says_it_is_already_recorded(client, people, tree):
    app = approved(people)
    fund(people.erin, tree.xq, "10000.00")
    batch = services.batch_create(
        user=people.erin,
        title="审批会",
        fund_source="district",
        fund_year=TODAY.year,
        applications=[app],
    )
    services.batch_export(batch=batch, user=people.erin)
    client.force_login(people.erin)
    url = reverse("admin:relief_paymentbatch_paid", args=[batch.pk])
    body = {"bank_paid_on": TODAY.isoformat(), FIELD: key_of(client, url)}
    assert client.post(url, body).status_code == 302
    second = client.post(url, body)
    assert second.status_code == 302
    assert second.url == reverse("admin:relief_paymentbatch_change", args=[batch.pk])
    assert str(replay_message()) in messages_of(second)
    assert PaymentBatch.objects.get().state == "paid"
    assert Disbursement.objects.filter(application=app).count() == 1


def test_someone_elses_key_is_not_their_result(client, people, tree):
    app = approved(people)
    fund(people.erin, tree.xq, "10000.00")
    client.force_login(people.erin)
    url = reverse("admin:relief_disbursement_add")
    key = key_of(client, url)
    client.post(url, partial_payout(app, key))
    client.force_login(people.root)  # a superuser, not a district officer: any answer but a
    response = client.post(url, partial_payout(app, key))  # redirect to erin's payout
    assert response.status_code in (200, 403)
    assert Disbursement.objects.filter(application=app).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_simultaneous_posts_with_one_key_record_one_payout(people, tree):
    app = approved(people)
    fund(people.erin, tree.xq, "10000.00")
    url = reverse("admin:relief_disbursement_add")
    setup = Client()
    setup.force_login(people.erin)
    body = partial_payout(app, key_of(setup, url))

    def post():
        client = Client()
        client.force_login(people.erin)
        return client.post(url, body).status_code

    for _ in range(3):  # a few rounds: the two requests meet at different points
        outcomes = race(post, post)
        assert outcomes == [("ok", 302), ("ok", 302)]
    assert Disbursement.objects.filter(application=app).count() == 1
    assert Application.objects.get(pk=app.pk).paid_amount == Decimal("1000.00")
