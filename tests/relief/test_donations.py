"""十元捐: campaigns per town and year, collections per grassroots union, totals, income."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from relief import services
from relief.errors import NotAllowed, OutOfScope
from relief.models import AuditEntry, Donor, FundAccount
from relief.selectors.funds import donation_totals
from tests.factories import make_id_number

YEAR = dt.date.today().year - 1


@pytest.fixture
def campaign(people, tree):
    return services.donation_campaign_create(user=people.carol, town=tree.xq, year=YEAR)


def collect(people, campaign, union, amount="1200.00", **kw):
    return services.donation_collection_record(
        user=kw.pop("user", people.carol),
        campaign=campaign,
        union=union,
        collected_on=kw.pop("collected_on", dt.date(YEAR, 5, 20)),
        donor_count=kw.pop("donor_count", 120),
        amount=Decimal(amount),
        receipt_numbers=kw.pop("receipt_numbers", "SY-0001～0120"),
        **kw,
    )


def test_a_campaign_runs_from_april_to_september_by_default(campaign):
    assert (campaign.starts_on, campaign.ends_on) == (dt.date(YEAR, 4, 1), dt.date(YEAR, 9, 30))


def test_one_campaign_per_town_and_year(people, tree, campaign):
    with pytest.raises(ValidationError, match=str(YEAR)):
        services.donation_campaign_create(user=people.erin, town=tree.xq, year=YEAR)
    other = services.donation_campaign_create(
        user=people.erin,
        town=tree.dl,
        year=YEAR,
        starts_on=dt.date(YEAR, 3, 1),
        ends_on=dt.date(YEAR, 10, 31),
    )
    assert other.starts_on == dt.date(YEAR, 3, 1)


@pytest.mark.parametrize(("who", "error"), [("dave", OutOfScope), ("alice", OutOfScope)])
def test_only_the_town_or_district_run_a_towns_campaign(people, tree, who, error):
    with pytest.raises(error):
        services.donation_campaign_create(user=getattr(people, who), town=tree.xq, year=YEAR)


def test_caseworkers_do_not_run_campaigns(people, tree, campaign):
    with pytest.raises((NotAllowed, OutOfScope)):
        collect(people, campaign, tree.xq_s01, user=people.alice)


def test_a_collection_becomes_income_of_the_towns_donation_fund(people, tree, campaign):
    collection = collect(people, campaign, tree.xq_s01)
    collect(people, campaign, tree.xq_e01, amount="3500.00", donor_count=350)
    account = FundAccount.objects.get(town=tree.xq, source="donation", year=YEAR)
    assert account.income_total == Decimal("4700.00")
    assert collection.income.amount == Decimal("1200.00")


def test_collections_stay_within_the_campaign_and_the_town(people, tree, campaign):
    with pytest.raises(ValidationError) as exc:
        collect(people, campaign, tree.xq_s01, collected_on=dt.date(YEAR, 10, 8))
    assert "collected_on" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        collect(people, campaign, tree.dl_v01)
    assert "union" in exc.value.message_dict
    assert not FundAccount.objects.exists()


def test_individual_donors_are_kept_with_their_id_masked(people, tree, campaign):
    collection = collect(
        people,
        campaign,
        tree.xq_s01,
        amount="30.00",
        donor_count=3,
        donors=[
            {"name": "陈美玲", "id_number": make_id_number(7), "amount": Decimal("10")},
            {"name": "何建华", "id_number": "", "amount": Decimal("10"), "receipt_no": "SY-2"},
        ],
    )
    donors = list(Donor.objects.filter(collection=collection))
    assert [d.name for d in donors] == ["陈美玲", "何建华"]
    assert donors[0].masked_id_number.startswith("440605") and "*" in donors[0].masked_id_number


def test_donors_cannot_add_up_to_more_than_the_collection(people, tree, campaign):
    with pytest.raises(ValidationError) as exc:
        collect(
            people,
            campaign,
            tree.xq_s01,
            amount="10.00",
            donor_count=2,
            donors=[
                {"name": "甲", "amount": Decimal("10")},
                {"name": "乙", "amount": Decimal("10")},
            ],
        )
    assert "amount" in exc.value.message_dict


def test_totals_per_union_town_and_year_follow_scope(people, tree, campaign):
    collect(people, campaign, tree.xq_s01)
    collect(people, campaign, tree.xq_s01, amount="300.00", donor_count=30)
    dl = services.donation_campaign_create(user=people.dave, town=tree.dl, year=YEAR)
    collect(people, dl, tree.dl_v01, amount="800.00", donor_count=80, user=people.dave)
    rows = {(r.town, r.union): r for r in donation_totals(people.erin, YEAR)}
    assert rows[("西樵镇总工会", "樵园社区工会")].amount == Decimal("1500.00")
    assert rows[("西樵镇总工会", "樵园社区工会")].donors == 150
    assert rows[("西樵镇总工会", "樵园社区工会")].collections == 2
    assert rows[("大沥镇总工会", "凤池村工会")].amount == Decimal("800.00")
    assert {r.town for r in donation_totals(people.carol, YEAR)} == {"西樵镇总工会"}


def test_a_campaign_recorded_in_english_is_written_in_chinese_in_the_trail(people, tree):
    with translation.override("en"):
        services.donation_campaign_create(user=people.carol, town=tree.xq, year=YEAR)
    entry = AuditEntry.objects.get(action="donation_campaign")
    assert entry.comment == f"{tree.xq.name}{YEAR}年十元捐"
