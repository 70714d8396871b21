"""The demo's money: income per town, 梁志明 paid from 西樵's town funds, a campaign per town."""

import io

from django.core.management import call_command

from relief.models import (
    Disbursement,
    DonationCampaign,
    DonationCollection,
    FundAccount,
    FundIncome,
)


def load_demo():
    call_command("load_demo", stdout=io.StringIO())


def test_the_demo_money_is_built_once_and_balances(db):
    load_demo()
    counts = (FundIncome.objects.count(), DonationCollection.objects.count())
    load_demo()
    assert (FundIncome.objects.count(), DonationCollection.objects.count()) == counts
    assert DonationCampaign.objects.count() == 3
    assert counts[1] >= 5
    for account in FundAccount.objects.all():
        assert 0 <= account.paid_total <= account.income_total
    liang = Disbursement.objects.filter(application__worker__name="梁志明")
    assert liang.count() == 6
    assert set(liang.values_list("fund_source", flat=True)) == {"town"}
    assert sum(liang.values_list("amount", flat=True)) == 35000
