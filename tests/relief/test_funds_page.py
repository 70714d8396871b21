"""The funds page: district sees every town, a town its own; figures per source and year."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from relief import services
from relief.selectors.funds import fund_overview
from tests.factories import WorkerFactory, case_in_state, fund

YEAR = dt.date.today().year
URL = "/funds/"


@pytest.fixture
def money(people, tree):
    """西樵: 10,000 district money, 3,000 paid, 2,000 in a batch, 4,000 approved unbatched."""
    fund(people.erin, tree.xq, "10000.00")
    fund(people.erin, tree.dl, "800.00", source="town")
    paid = case_in_state(
        "approved",
        caseworker=people.alice,
        reviewer=people.carol,
        officer=people.erin,
        amount="3000.00",
    )
    services.disbursement_record(
        application=paid,
        user=people.erin,
        amount=Decimal("3000.00"),
        paid_on=dt.date.today(),
        method="cash",
        fund_source="district",
    )
    for amount, batched in [("2000.00", True), ("4000.00", False)]:
        app = case_in_state(
            "approved",
            caseworker=people.alice,
            reviewer=people.carol,
            officer=people.erin,
            amount=amount,
            worker=WorkerFactory(union=people.alice.union),
        )
        if batched:
            services.batch_create(
                user=people.erin, title="审批会", applications=[app], fund_source="district"
            )


def test_the_figures_per_source_and_year(people, tree, money):
    xq = next(t for t in fund_overview(people.erin) if t.town == tree.xq)
    line = next(line for line in xq.lines if line.source == "district")
    assert (line.year, line.income, line.paid, line.committed) == (
        YEAR,
        Decimal("10000.00"),
        Decimal("3000.00"),
        Decimal("2000.00"),
    )
    assert line.balance == Decimal("7000.00")
    assert line.available == Decimal("5000.00")
    assert xq.unassigned == Decimal("4000.00")


@pytest.mark.parametrize(
    ("who", "status", "towns"),
    [
        ("erin", 200, {"西樵镇总工会", "大沥镇总工会"}),
        ("root", 200, {"西樵镇总工会", "大沥镇总工会"}),
        ("carol", 200, {"西樵镇总工会"}),
        ("dave", 200, {"大沥镇总工会"}),
        ("alice", 403, set()),
    ],
)
def test_who_sees_which_towns(client, people, money, who, status, towns):
    client.force_login(getattr(people, who))
    response = client.get(URL)
    assert response.status_code == status
    if status == 200:
        html = response.content.decode()
        for name in ["西樵镇总工会", "大沥镇总工会"]:
            assert (f"<h2>{name}</h2>" in html) is (name in towns), name


def test_the_page_shows_the_figures_and_filters_by_year(client, people, money):
    client.force_login(people.carol)
    html = client.get(URL, {"year": YEAR}).content.decode()
    for figure in ["10,000.00", "3,000.00", "7,000.00", "2,000.00", "5,000.00", "4,000.00"]:
        assert figure in html, figure
    html = client.get(URL, {"year": YEAR - 5}).content.decode()
    assert "10,000.00" not in html


def test_anonymous_users_are_sent_to_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_donation_totals_are_on_the_page(client, people, tree):
    """One row per town and year on /funds/, linking to that town's unions for the year."""
    campaign = services.donation_campaign_create(user=people.carol, town=tree.xq, year=YEAR - 1)
    services.donation_collection_record(
        user=people.carol,
        campaign=campaign,
        union=tree.xq_s01,
        collected_on=dt.date(YEAR - 1, 6, 1),
        donor_count=120,
        amount=Decimal("1200.00"),
    )
    client.force_login(people.erin)
    html = client.get(URL, {"year": "all"}).content.decode()
    detail = reverse("funds:donations", args=["XQ", YEAR - 1])
    assert detail in html
    assert "1,200.00" in html
    assert "樵园社区工会" not in html  # the unions are on the town's page
    html = client.get(detail).content.decode()
    assert "樵园社区工会" in html
    assert "1,200.00" in html


def _collections(people, tree, unions: int, prefix="测试"):
    """`unions` new grassroots unions of XQ, each with a collection in last year's campaign."""
    from relief.models import DonationCampaign
    from tests.factories import UnionFactory
    from unions.models import Kind, Level

    campaign = DonationCampaign.objects.filter(town=tree.xq, year=YEAR - 1).first()
    if campaign is None:
        campaign = services.donation_campaign_create(user=people.carol, town=tree.xq, year=YEAR - 1)
    for i in range(unions):
        services.donation_collection_record(
            user=people.carol,
            campaign=campaign,
            union=UnionFactory(
                parent=tree.xq,
                level=Level.GRASSROOTS,
                kind=Kind.ENTERPRISE,
                name=f"{prefix}{i:03d}工会",
            ),
            collected_on=dt.date(YEAR - 1, 6, 1),
            donor_count=10,
            amount=Decimal("100.00"),
        )


def test_a_towns_donations_page_is_scoped_and_paged(client, people, tree):
    from relief.views.funds import DONATION_PAGE_SIZE

    _collections(people, tree, DONATION_PAGE_SIZE + 3)
    detail = reverse("funds:donations", args=["XQ", YEAR - 1])
    client.force_login(people.carol)
    first = client.get(detail).content.decode()
    assert "测试000工会" in first and f"测试{DONATION_PAGE_SIZE:03d}工会" not in first
    # The town's total on every page, whatever the page shows.
    assert f"{(DONATION_PAGE_SIZE + 3) * 100:,}.00" in first
    second = client.get(detail, {"page": 2}).content.decode()
    assert f"测试{DONATION_PAGE_SIZE + 2:03d}工会" in second
    assert client.get(reverse("funds:donations", args=["DL", YEAR - 1])).status_code == 404
    client.force_login(people.dave)
    assert client.get(detail).status_code == 404
    client.force_login(people.alice)
    assert client.get(detail).status_code == 403


def test_the_funds_pages_query_count_does_not_grow(client, people, tree):
    """Town-year rows on /funds/ and a page of unions: the same queries for 3 or 40 unions."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(people.erin)
    detail = reverse("funds:donations", args=["XQ", YEAR - 1])

    def counts():
        found = []
        for url in (URL, detail):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            found.append(len(queries))
        return found

    _collections(people, tree, 3)
    counts()  # warm: the first request of a session reads more (its session, the menus)
    few = counts()
    _collections(people, tree, 37, prefix="更多")
    assert counts() == few


def _options(html: str) -> list[tuple[str, bool]]:
    start = html.index('<select id="year"')
    select = html[start : html.index("</select>", start)]
    return [
        (value, bool(selected))
        for value, selected in re.findall(r'<option value="([^"]*)"( selected)?>', select)
    ]


def _town_card(html: str, code: str) -> str:
    start = html.index(f'data-testid="town-{code}"')
    return html[start : html.index("</section>", start)]


@pytest.fixture
def two_years(people, tree):
    """西樵: this year 10,000 district money and 600 of 十元捐; last year 7,000 and 300."""
    this_year = timezone.localdate().year
    fund(people.erin, tree.xq, "10000.00", year=this_year)
    fund(people.erin, tree.xq, "7000.00", year=this_year - 1)
    for year, amount in [(this_year, "600.00"), (this_year - 1, "300.00")]:
        campaign = services.donation_campaign_create(user=people.carol, town=tree.xq, year=year)
        services.donation_collection_record(
            user=people.carol,
            campaign=campaign,
            union=tree.xq_s01,
            collected_on=dt.date(year, 6, 1),
            donor_count=30,
            amount=Decimal(amount),
        )
    return this_year


def test_the_page_shows_this_year_unless_asked_for_another(client, people, tree, two_years):
    this_year = two_years
    client.force_login(people.erin)
    html = client.get(URL).content.decode()
    card = _town_card(html, "XQ")
    # This year's account (with its 十元捐 income) and this year's campaign, nothing older.
    assert f'<td class="year">{this_year}</td>' in card
    assert f'<td class="year">{this_year - 1}</td>' not in card
    assert "10,000.00" in card and "7,000.00" not in card
    donations = html[html.index('data-testid="donations"') :]
    assert reverse("funds:donations", args=["XQ", this_year]) in donations
    assert reverse("funds:donations", args=["XQ", this_year - 1]) not in donations
    assert _options(html) == [
        ("all", False),
        (str(this_year), True),
        (str(this_year - 1), False),
    ]
    # Last year alone.
    html = client.get(URL, {"year": this_year - 1}).content.decode()
    card = _town_card(html, "XQ")
    assert "7,000.00" in card and "10,000.00" not in card
    assert (str(this_year - 1), True) in _options(html)
    # Every year: both lines, newest first, each with its own figures (nothing summed across).
    html = client.get(URL, {"year": "all"}).content.decode()
    card = _town_card(html, "XQ")
    assert card.index("10,000.00") < card.index("7,000.00")
    assert ("all", True) in _options(html)
    donations = html[html.index('data-testid="donations"') :]
    assert "600.00" in donations and "300.00" in donations


def test_the_figures_of_a_year_are_that_years(people, tree, two_years):
    """The year's line holds the year's income alone, whatever the other years hold."""
    this_year = two_years
    for year, income in [(this_year, "10600.00"), (this_year - 1, "7300.00")]:
        (xq,) = [t for t in fund_overview(people.erin, year) if t.town == tree.xq]
        assert {line.year for line in xq.lines} == {year}
        assert xq.total("income") == Decimal(income)  # district money and its 十元捐
    (xq,) = [t for t in fund_overview(people.erin, None) if t.town == tree.xq]
    assert xq.total("income") == Decimal("17900.00")


@pytest.mark.parametrize("asked", ["", "abc", "0", "99999", "1899", " "])
def test_no_year_or_a_wrong_one_means_this_year(client, people, two_years, asked):
    client.force_login(people.erin)
    response = client.get(URL, {"year": asked})
    assert response.status_code == 200
    assert response.context["year"] == two_years


def test_this_year_is_the_local_one(rf, monkeypatch):
    """At 01:00 on New Year's Day in Shanghai it is still the old year in UTC: the page shows
    the new one."""
    from django.utils import timezone as tz

    from relief.views.funds import chosen_year

    new_year = dt.datetime(2030, 12, 31, 17, 0, tzinfo=dt.UTC)  # 2031-01-01 01:00 in Shanghai
    monkeypatch.setattr(tz, "now", lambda: new_year)
    assert chosen_year(rf.get(URL)) == 2031
    assert chosen_year(rf.get(URL, {"year": "2030"})) == 2030
    assert chosen_year(rf.get(URL, {"year": "all"})) is None
