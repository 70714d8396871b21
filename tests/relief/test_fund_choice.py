"""Paying from an earlier year's fund (issue 13, item 1): every payout path offers the accounts
of the case's town that have money, any year, and defaults to the oldest that can pay."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from relief import services
from relief.models import Application, Disbursement, PaymentBatch
from relief.services.funds import fund_choices, pick_fund
from tests.factories import case_in_state, fund
from unions.models import User

TODAY = dt.date.today()
LAST_YEAR = TODAY.year - 1


def donations(reviewer, town, year, amount):
    campaign = services.donation_campaign_create(user=reviewer, town=town, year=year)
    services.donation_collection_record(
        user=reviewer,
        campaign=campaign,
        union=town.children.first(),
        collected_on=dt.date(year, 5, 20),
        donor_count=10,
        amount=Decimal(amount),
        receipt_numbers="SY-1",
    )


@pytest.fixture
def money(people, tree):
    """西樵: last year's town funds too small for a case, last year's 十元捐 big enough, and
    this year's district allocation."""
    fund(people.carol, tree.xq, "1000.00", source="town", year=LAST_YEAR)
    donations(people.carol, tree.xq, LAST_YEAR, "6000.00")
    fund(people.erin, tree.xq, "20000.00")


@pytest.fixture
def approved(people):
    return case_in_state(
        "approved", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )


def act_url(app, action="disburse"):
    return reverse("admin:relief_application_act", args=[app.pk, action])


def test_the_oldest_account_that_can_pay_the_whole_amount_is_chosen(people, tree, money):
    choices = fund_choices([tree.xq])[tree.xq.pk]
    assert [(c.year, c.source) for c in choices] == [
        (LAST_YEAR, "town"),
        (LAST_YEAR, "donation"),
        (TODAY.year, "district"),
    ]
    assert (
        pick_fund(choices, Decimal("5000")).year,
        pick_fund(choices, Decimal("5000")).source,
    ) == (
        LAST_YEAR,
        "donation",
    )
    assert pick_fund(choices, Decimal("800")).source == "town"
    assert pick_fund(choices, Decimal("30000")) is None


def test_the_service_left_to_choose_pays_from_last_years_donations(people, money, approved):
    payout = services.disbursement_record(
        application=approved, user=people.erin, amount=Decimal("5000"), paid_on=TODAY, method="cash"
    )
    assert (payout.fund_source, payout.fund_year) == ("donation", LAST_YEAR)


def test_money_held_by_an_open_batch_is_not_offered_as_available(people, tree, money, approved):
    other = case_in_state(
        "approved", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    services.batch_create(
        user=people.erin,
        title="会",
        applications=[other],
        fund_source="donation",
        fund_year=LAST_YEAR,
    )
    choices = fund_choices([tree.xq])[tree.xq.pk]
    assert [(c.year, c.source, c.available) for c in choices if c.source == "donation"] == [
        (LAST_YEAR, "donation", Decimal("1000.00"))
    ]
    # The next payout of 5,000 goes to this year's allocation, not to money a batch holds.
    assert pick_fund(choices, Decimal("5000")).year == TODAY.year


def test_the_case_pages_payout_form_offers_last_years_donations_chosen(
    client, people, money, approved
):
    client.force_login(people.erin)
    response = client.get(act_url(approved))
    form = response.context["form"]
    offered = dict(form.fields["fund"].choices)
    assert f"donation:{LAST_YEAR}" in offered
    assert "6,000.00" in str(offered[f"donation:{LAST_YEAR}"])
    assert form["fund"].value() == f"donation:{LAST_YEAR}"
    assert form["amount"].value() == Decimal("5000.00")
    response = client.post(
        act_url(approved),
        {
            "version": approved.version,
            "amount": "5000.00",
            "paid_on": TODAY.isoformat(),
            "method": "cash",
            "fund": f"donation:{LAST_YEAR}",
            "idempotency_key": form["idempotency_key"].value(),
        },
    )
    assert response.status_code == 302
    payout = Disbursement.objects.get(application=approved)
    assert (payout.fund_source, payout.fund_year) == ("donation", LAST_YEAR)


def test_an_account_without_enough_money_is_refused_on_the_field(client, people, money, approved):
    client.force_login(people.erin)
    response = client.post(
        act_url(approved),
        {
            "version": approved.version,
            "amount": "5000.00",
            "paid_on": TODAY.isoformat(),
            "method": "cash",
            "fund": f"town:{LAST_YEAR}",
        },
    )
    assert response.status_code == 200
    assert "1,000.00" in " ".join(response.context["form"].errors["fund"])
    assert not Disbursement.objects.exists()


def test_the_admin_payout_add_page_opened_for_a_case_offers_its_towns_accounts(
    client, people, tree, money, approved
):
    fund(people.erin, tree.dl, "9000.00")
    client.force_login(people.erin)
    url = reverse("admin:relief_disbursement_add")
    form = client.get(url, {"application": approved.pk}).context["form"]
    keys = [k for k, _label in form.fields["fund"].choices if k]
    assert keys == [
        f"{tree.xq.pk}:town:{LAST_YEAR}",
        f"{tree.xq.pk}:donation:{LAST_YEAR}",
        f"{tree.xq.pk}:district:{TODAY.year}",
    ]
    assert form["fund"].value() == f"{tree.xq.pk}:donation:{LAST_YEAR}"
    # Without a case, every town's accounts, grouped by town.
    groups = [label for label, _options in client.get(url).context["form"].fields["fund"].choices]
    assert tree.xq.name in groups and tree.dl.name in groups
    # Another town's account for this case is refused, next to the field.
    response = client.post(
        url,
        {
            "application": approved.pk,
            "amount": "5000.00",
            "paid_on": TODAY.isoformat(),
            "method": "cash",
            "fund": f"{tree.dl.pk}:district:{TODAY.year}",
        },
    )
    assert response.status_code == 200
    assert tree.xq.name in " ".join(response.context["form"].errors["fund"])
    assert not Disbursement.objects.exists()


def test_a_batch_left_to_choose_takes_the_oldest_account_every_town_can_pay_from(
    client, people, tree, money, approved
):
    client.force_login(people.erin)
    form = client.get(reverse("admin:relief_paymentbatch_add")).context["form"]
    assert f"donation:{LAST_YEAR}" in dict(form.fields["fund"].choices)
    response = client.post(
        reverse("admin:relief_paymentbatch_add"),
        {"title": "第二季度", "fund": "", "applications": [approved.pk]},
    )
    assert response.status_code == 302
    batch = PaymentBatch.objects.get()
    assert (batch.fund_source, batch.fund_year) == ("donation", LAST_YEAR)


def test_the_demos_last_year_donations_are_the_default_on_the_case_page(client, db):
    call_command("load_demo", stdout=io.StringIO())
    case = Application.objects.get(worker__name="潘国华", state="approved")
    client.force_login(User.objects.get(username="nh-officer"))
    form = client.get(act_url(case)).context["form"]
    assert form["fund"].value() == f"donation:{LAST_YEAR}"
    assert "十元捐" in str(dict(form.fields["fund"].choices)[f"donation:{LAST_YEAR}"])


@pytest.mark.parametrize("page", ["case", "admin", "admin_all_towns"])
def test_an_account_emptied_since_the_form_was_loaded_is_explained_not_invalid(
    client, people, tree, money, approved, page
):
    """Only accounts with money are offered, so one emptied by another payout after the form
    was loaded is no longer a choice when the form comes back (the load test's EmptyFund race):
    the user is told which account and what to do, never the raw value."""
    client.force_login(people.erin)
    emptied = f"town:{TODAY.year}"  # this year's town funds: none (not offered)
    data = {"amount": "500.00", "paid_on": TODAY.isoformat(), "method": "cash"}
    if page == "case":
        url = act_url(approved)
        data.update(version=approved.version, fund=emptied)
    else:
        url = reverse("admin:relief_disbursement_add")
        if page == "admin":
            url += f"?application={approved.pk}"
        data.update(application=approved.pk, fund=f"{tree.xq.pk}:{emptied}")
    response = client.post(url, data)
    assert response.status_code == 200
    message = " ".join(response.context["form"].errors["fund"])
    assert f"{TODAY.year} 镇自筹" in message and "自动" in message
    assert emptied not in message and "不在可用的选项中" not in message
    assert not Disbursement.objects.exists()
