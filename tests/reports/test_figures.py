from decimal import Decimal

import pytest

from reports import documents, figures
from reports.figures import Period

# The payouts of tests/reports/conftest.py, built once for the module.
pytestmark = pytest.mark.usefixtures("module_payouts")

Y2023 = Period(2023, 2023)


def test_headline_2023_district(tree, payouts):
    s = figures.summary(tree.nh, Y2023)
    assert (s.count, s.persons) == (4, 3)  # 人次 counts payouts, 人数 people
    assert s.total == Decimal("24000.00")
    assert s.largest == Decimal("10000.00")
    assert s.average == Decimal("6000.00")


def test_breakdowns_2023_district(tree, payouts):
    s = figures.summary(tree.nh, Y2023)
    towns = {r.label: (r.count, r.persons, r.total) for r in s.by_union}
    assert towns == {
        "西樵镇总工会": (3, 2, Decimal("14000")),
        "大沥镇总工会": (1, 1, Decimal("10000")),
    }
    funds = {r.key: (r.count, r.persons, r.total) for r in s.by_fund_source}
    assert funds == {"district": (3, 3, Decimal("22000")), "town": (1, 1, Decimal("2000"))}
    cats = [(r.label, r.count, r.persons, r.total) for r in s.by_category]
    # Case D has 家庭成员患病 and 重大疾病: it counts under 重大疾病, the first by order.
    assert cats == [("重大疾病", 3, 2, Decimal("16000")), ("意外伤害", 1, 1, Decimal("8000"))]
    assert sum(r.total for r in s.by_union) == s.total
    assert sum(r.total for r in s.by_category) == s.total


def test_per_month_for_one_year_and_per_year_for_a_range(tree, payouts):
    months = figures.summary(tree.nh, Y2023).by_time
    assert len(months) == 12
    assert {m.label: m.total for m in months if m.total} == {
        "3月": Decimal("4000"),
        "6月": Decimal("2000"),
        "9月": Decimal("8000"),
        "12月": Decimal("10000"),
    }
    years = figures.summary(tree.nh, Period(2021, 2024)).by_time
    assert [(y.label, y.count, y.total) for y in years] == [
        ("2021年", 0, Decimal("0")),
        ("2022年", 1, Decimal("3000")),
        ("2023年", 4, Decimal("24000")),
        ("2024年", 1, Decimal("5000")),
    ]


def test_town_and_grassroots_units(tree, payouts):
    s = figures.summary(tree.xq, Y2023)
    assert (s.count, s.persons, s.total) == (3, 2, Decimal("14000"))
    assert [(r.label, r.total) for r in s.by_union] == [
        ("樵园社区工会", Decimal("6000")),
        ("樵山食品工会", Decimal("8000")),
    ]
    g = figures.summary(tree.xq_s01, Period(2022, 2024))
    assert (g.count, g.persons, g.total, g.largest) == (4, 1, Decimal("14000"), Decimal("5000"))


def test_range_counts_a_person_once(tree, payouts):
    s = figures.summary(tree.nh, Period(2022, 2024))
    assert (s.count, s.persons, s.total) == (6, 3, Decimal("32000"))


def test_empty_period(tree, payouts):
    s = figures.summary(tree.nh, Period(2019, 2019))
    assert (s.count, s.persons, s.total, s.largest) == (0, 0, Decimal("0"), Decimal("0"))


def test_one_query_per_breakdown(tree, payouts, django_assert_num_queries):
    qs = figures.period_payouts(tree.nh, Y2023)
    for fn, queries in (
        (figures.headline, 1),
        (figures.by_category, 1),
        (figures.by_fund_source, 1),
        # The unit's towns, then their payouts: towns without payouts are listed too.
        (lambda q: figures.by_union(q, tree.nh), 2),
        (lambda q: figures.by_time(q, Y2023), 1),
    ):
        with django_assert_num_queries(queries):
            fn(qs)


@pytest.mark.parametrize(
    ("period", "period_total", "all_time"),
    [
        (Period(2022, 2022), "3000", "3000"),
        (Period(2023, 2023), "6000", "9000"),
        (Period(2024, 2024), "5000", "14000"),
        (Period(2023, 2024), "11000", "14000"),
    ],
)
def test_per_worker_cumulative_for_period_and_across_years(
    tree, payouts, period, period_total, all_time
):
    w1 = payouts.w1.pk
    assert figures.worker_period_totals(tree.nh, period)[w1] == Decimal(period_total)
    assert figures.worker_all_time_totals(tree.nh, period)[w1] == Decimal(all_time)


def test_detail_rows_are_masked_ordered_and_carry_the_cumulative_totals(tree, payouts):
    rows = [row for _union, row in documents.payout_detail_rows(tree.nh, Y2023)]
    assert [r.seq for r in rows] == [1, 2, 3, 4]
    assert [(r.name, str(r.amount)) for r in rows] == [
        ("梁*明", "4000.00"),
        ("梁*明", "2000.00"),
        ("何*娟", "8000.00"),
        ("陈*文", "10000.00"),
    ]
    first = rows[0]
    assert first.id_number == "440605********1996"
    assert (first.worker_period_total, first.worker_all_time_total) == (
        Decimal("6000.00"),
        Decimal("9000.00"),
    )
    assert rows[3].categories == "重大疾病、家庭成员患病"
    assert rows[1].fund_source == "镇自筹"


def test_chunks_split_by_union_with_subtotals(tree, payouts):
    chunks = list(documents.payout_report_chunks(tree.nh, Y2023, chunk_rows=1))
    blocks = [b for chunk in chunks for b in chunk]
    finished = [(b.union, b.subtotal_count, b.subtotal_amount) for b in blocks if b.is_last_part]
    assert finished == [
        ("樵园社区工会", 2, Decimal("6000.00")),
        ("樵山食品工会", 1, Decimal("8000.00")),
        ("凤池村工会", 1, Decimal("10000.00")),
    ]
    assert sum(len(b.rows) for b in blocks) == 4


def test_worker_statement_running_total(payouts):
    ctx = documents.worker_statement(payouts.w1)
    assert [str(r["running_total"]) for r in ctx["rows"]] == [
        "3000.00",
        "7000.00",
        "9000.00",
        "14000.00",
    ]
    assert ctx["total"] == Decimal("14000.00")
    assert ctx["years"] == [
        (2022, Decimal("3000.00")),
        (2023, Decimal("6000.00")),
        (2024, Decimal("5000.00")),
    ]
    assert ctx["name"] == "梁*明"


def test_a_payout_the_bank_returned_is_not_relief_received(tree, people, payouts):
    from relief import services
    from relief.models import Disbursement

    before = figures.summary(tree.nh, Y2023)
    largest = Disbursement.objects.get(paid_on__year=2023, amount=Decimal("10000.00"))
    services.disbursement_reverse(payout=largest, user=people.erin, reason="银行退回：卡号已注销")
    after = figures.summary(tree.nh, Y2023)
    assert after.count == before.count - 1  # neither the payout nor its reversal counts
    assert after.total == before.total - Decimal("10000.00")
    assert after.largest < Decimal("10000.00")


def test_every_town_of_the_unit_appears_with_zeros(tree, payouts):
    """A town without payouts in the period is a row of zeros, not a missing row (13.8)."""
    from unions.models import Level
    from unions.services import union_create

    quiet = union_create(code="JJ", name="九江镇总工会", level=Level.TOWN, parent=tree.nh)
    s = figures.summary(tree.nh, Y2023)
    assert [(r.label, r.count, r.persons, r.total) for r in s.by_union] == [
        ("西樵镇总工会", 3, 2, Decimal("14000")),
        ("大沥镇总工会", 1, 1, Decimal("10000")),
        ("九江镇总工会", 0, 0, Decimal("0")),
    ]
    assert s.by_union[-1].key == str(quiet.pk)
    # A year without any payout still lists every town.
    empty = figures.summary(tree.nh, Period(2019, 2019))
    assert [(r.label, r.count, r.total) for r in empty.by_union] == [
        ("西樵镇总工会", 0, Decimal("0")),
        ("大沥镇总工会", 0, Decimal("0")),
        ("九江镇总工会", 0, Decimal("0")),
    ]


def test_every_grassroots_union_of_a_town_appears_with_zeros(tree, payouts):
    s = figures.summary(tree.dl, Y2023)
    assert [(r.label, r.count, r.total) for r in s.by_union] == [
        ("凤池村工会", 1, Decimal("10000")),
    ]
    s = figures.summary(tree.xq, Period(2022, 2022))
    assert [(r.label, r.count, r.total) for r in s.by_union] == [
        ("樵园社区工会", 1, Decimal("3000")),
        ("樵山食品工会", 0, Decimal("0")),
    ]
