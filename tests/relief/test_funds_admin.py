"""The money admin: scoped read-only lists, and forms that go through the services."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from relief.models import (
    DonationCampaign,
    FundIncome,
    HardshipFile,
    PaymentBatch,
)
from tests.factories import WorkerFactory, case_in_state, fund

TODAY = dt.date.today()
MODELS = [
    "fundaccount",
    "fundincome",
    "paymentbatch",
    "disbursement",
    "donationcampaign",
    "donationcollection",
    "hardshipfile",
]


def url(model, view="changelist", *args):
    return reverse(f"admin:relief_{model}_{view}", args=args)


@pytest.mark.parametrize("model", MODELS)
def test_the_district_officer_opens_every_list_and_form(client, people, model):
    client.force_login(people.erin)
    assert client.get(url(model)).status_code == 200
    if model not in {"fundaccount", "hardshipfile"}:
        assert client.get(url(model, "add")).status_code == 200


@pytest.mark.parametrize(
    ("model", "status"),
    [
        ("paymentbatch", 403),
        ("fundincome", 200),
        ("donationcollection", 200),
        ("hardshipfile", 200),
    ],
)
def test_what_a_town_reviewer_may_open(client, people, model, status):
    client.force_login(people.carol)
    assert client.get(url(model, "add")).status_code == status


def test_recording_income_shows_the_services_message_next_to_the_field(client, people, tree):
    client.force_login(people.erin)
    data = {
        "town": tree.xq.pk,
        "source": "district",
        "year": TODAY.year,
        "amount": "5000.00",
        "received_on": TODAY.isoformat(),
    }
    response = client.post(url("fundincome", "add"), data)
    assert response.status_code == 200
    assert "拨款文号" in response.content.decode() or "document" in response.content.decode()
    assert not FundIncome.objects.exists()
    response = client.post(url("fundincome", "add"), {**data, "document_no": "南工字〔2024〕1号"})
    assert response.status_code == 302
    assert FundIncome.objects.get().amount == Decimal("5000.00")


def test_a_payout_refused_for_lack_of_funds_says_so_on_the_form(client, people, tree):
    app = case_in_state(
        "approved", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    fund(people.erin, tree.xq, "1000.00")
    client.force_login(people.erin)
    response = client.post(
        url("disbursement", "add"),
        {
            "application": app.pk,
            "amount": "5000.00",
            "paid_on": TODAY.isoformat(),
            "method": "cash",
            "fund": f"{tree.xq.pk}:district:{TODAY.year}",
        },
    )
    assert response.status_code == 200
    assert "1,000.00" in response.content.decode()


def test_a_batch_from_the_admin_to_paid(client, people, tree):
    app = case_in_state(
        "approved", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    fund(people.erin, tree.xq, "5000.00")
    client.force_login(people.erin)
    response = client.post(
        url("paymentbatch", "add"),
        {
            "title": "第二季度审批会",
            "fund": f"district:{TODAY.year}",
            "applications": [app.pk],
        },
    )
    assert response.status_code == 302
    batch = PaymentBatch.objects.get()
    page = client.get(url("paymentbatch", "change", batch.pk)).content.decode()
    assert "6228480000000000001" not in page  # masked on screen
    assert "**** 0001" in page and app.worker.name in page
    assert client.get(url("paymentbatch", "check", batch.pk)).status_code == 200
    response = client.post(url("paymentbatch", "export", batch.pk))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    response = client.post(
        url("paymentbatch", "paid", batch.pk), {"bank_paid_on": TODAY.isoformat()}
    )
    assert response.status_code == 302
    batch.refresh_from_db()
    app.refresh_from_db()
    assert (batch.state, app.state) == ("paid", "disbursed")
    payout = app.disbursements.get()
    response = client.post(
        url("disbursement", "reverse", payout.pk),
        {"reason": "账户冻结，银行退回", "reversed_on": TODAY.isoformat()},
    )
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.state == "approved"


def test_a_town_reviewer_cannot_reach_a_batch_or_its_bank_file(client, people, tree):
    app = case_in_state(
        "approved", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    fund(people.erin, tree.xq, "5000.00")
    client.force_login(people.erin)
    client.post(
        url("paymentbatch", "add"),
        {
            "title": "会",
            "fund": f"district:{TODAY.year}",
            "applications": [app.pk],
        },
    )
    batch = PaymentBatch.objects.get()
    client.force_login(people.carol)
    assert client.post(url("paymentbatch", "export", batch.pk)).status_code == 403


def test_a_town_runs_its_campaign_and_closes_a_file_from_the_admin(client, people, tree):
    client.force_login(people.carol)
    response = client.post(
        url("donationcampaign", "add"), {"town": tree.xq.pk, "year": TODAY.year - 1}
    )
    assert response.status_code == 302
    campaign = DonationCampaign.objects.get()
    response = client.post(
        url("donationcollection", "add"),
        {
            "campaign": campaign.pk,
            "union": tree.xq_s01.pk,
            "collected_on": dt.date(TODAY.year - 1, 5, 8).isoformat(),
            "donor_count": 2,
            "amount": "20.00",
            "receipt_numbers": "SY-1～2",
            "donors": "陈美玲, , 10, SY-1\n何建华, , 10, SY-2",
        },
    )
    assert response.status_code == 302
    assert campaign.collections.get().donors.count() == 2
    worker = WorkerFactory(union=tree.xq_s01)
    response = client.post(
        url("hardshipfile", "add"), {"worker": worker.pk, "action": "close", "reason": "已就业"}
    )
    assert response.status_code == 302
    assert HardshipFile.objects.get(worker=worker).is_open is False


def test_lists_are_scoped_to_the_users_towns(client, people, tree):
    fund(people.erin, tree.xq, "100.00")
    fund(people.erin, tree.dl, "200.00")
    client.force_login(people.dave)
    html = client.get(url("fundincome")).content.decode()
    assert "大沥镇总工会" in html
    assert "西樵镇总工会" not in html


def test_the_bank_file_from_the_admin_is_logged_with_the_address(client, people, tree):
    from privacy.models import AccessLog

    app = case_in_state(
        "approved", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    fund(people.erin, tree.xq, "5000.00")
    client.force_login(people.erin)
    client.post(
        url("paymentbatch", "add"),
        {
            "title": "会",
            "fund": f"district:{TODAY.year}",
            "applications": [app.pk],
        },
    )
    batch = PaymentBatch.objects.get()
    response = client.post(
        url("paymentbatch", "export", batch.pk),
        REMOTE_ADDR="192.0.2.44",
        HTTP_USER_AGENT="Mozilla/5.0 test",
    )
    assert response.status_code == 200
    entry = AccessLog.objects.get()
    assert (entry.kind, entry.user, entry.object_id) == ("bank_file", people.erin, batch.pk)
    assert (entry.ip, entry.user_agent) == ("192.0.2.44", "Mozilla/5.0 test")
    assert entry.path == url("paymentbatch", "export", batch.pk)
    assert app.reference in entry.detail
    client.force_login(people.carol)
    client.post(url("paymentbatch", "export", batch.pk))
    assert AccessLog.objects.count() == 1
