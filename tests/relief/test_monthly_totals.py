"""The monthly totals (relief.models.totals) against the ledger they summarise.

- the dashboard and report figures read from them equal the figures aggregated from every
  payout, on a varied data set: several years, partial payouts, reversals, an import, ten-yuan
  donations, a case with two categories and one whose payout was reversed in a later month;
- the stored rows equal a recomputation from the ledger after each writer;
- `manage.py check_totals` finds a difference (exit status 1) and --repair mends it;
- the backfill migration fills them from rows written before it.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from relief import services
from relief.models import (
    Disbursement,
    DonationCampaign,
    FundIncome,
    MonthlyPerson,
    MonthlyTotal,
    PersonCount,
)
from relief.services import totals
from relief.services.ledger import ledger_import
from reports import figures
from reports.figures import Period
from tabular.tables import Table
from tests.factories import WorkerFactory, category, make_id_number
from tests.relief.conftest import good_rows
from tests.reports.conftest import paid_case

YEARS = (2019, 2026)


def assert_totals_equal_the_ledger():
    assert totals.differences(totals.recompute(), totals.stored()) == []


def table_of(rows) -> Table:
    return Table(headers=list(rows[0]), rows=list(enumerate(rows, start=2)))


def assert_same_figures(unit, period):
    new, old = figures.summary(unit, period), figures.summary_from_ledger(unit, period)
    for name in ("count", "persons", "total", "largest", "union_level_label"):
        assert getattr(new, name) == getattr(old, name), (unit, period, name)
    for name in ("by_union", "by_fund_source", "by_time"):
        assert [(r.key, r.label, r.count, r.persons, r.total) for r in getattr(new, name)] == [
            (r.key, r.label, r.count, r.persons, r.total) for r in getattr(old, name)
        ], (
            unit,
            period,
            name,
        )
    # A case without a category ("—") sorted first on SQLite and last on PostgreSQL before;
    # the totals put it last everywhere. Otherwise the same rows in the same order.
    as_rows = lambda s: [(r.key, r.label, r.count, r.persons, r.total) for r in s.by_category]  # noqa: E731
    assert sorted(as_rows(new), key=str) == sorted(as_rows(old), key=str), (unit, period)
    assert [r for r in as_rows(new) if r[0] != "None"] == [
        r for r in as_rows(old) if r[0] != "None"
    ]


@pytest.fixture
def varied(tree, people, well_funded):
    """Payouts over several years, towns, unions, sources and categories."""
    w = [WorkerFactory(union=u) for u in (tree.xq_s01, tree.xq_e01, tree.dl_v01, tree.xq_s01)]
    alice, bob = people.alice, people.bob
    cases = [
        # Partial payouts in two months and two sources; the second is reversed later.
        paid_case(
            people,
            alice,
            w[0],
            applied=dt.date(2023, 3, 1),
            approved="6000.00",
            payouts=[
                (dt.date(2023, 3, 10), "4000.00", "district"),
                (dt.date(2023, 6, 1), "2000.00", "town"),
            ],
        ),
        paid_case(
            people,
            alice,
            w[0],
            applied=dt.date(2024, 1, 10),
            approved="5000.00",
            payouts=[(dt.date(2024, 2, 1), "5000.00", "district")],
            categories=("子女就学", "重大疾病"),
        ),
        paid_case(
            people,
            alice,
            w[3],
            applied=dt.date(2024, 1, 12),
            approved="9000.00",
            payouts=[(dt.date(2024, 2, 1), "9000.00", "district")],
            categories=("子女就学",),
        ),
        paid_case(
            people,
            bob,
            w[2],
            applied=dt.date(2023, 11, 1),
            approved="10000.00",
            payouts=[(dt.date(2023, 12, 31), "10000.00", "district")],
            categories=("家庭成员患病", "重大疾病"),
            reviewer=people.dave,
        ),
    ]
    # The largest payout of February 2024 in XQ-S01 comes back: the month's largest is the
    # other one, and both payouts' worker-month rows are right.
    big = cases[2].disbursements.get()
    services.disbursement_reverse(
        payout=big, user=people.erin, reason="账户冻结", reversed_on=dt.date(2024, 3, 5)
    )
    services.disbursement_reverse(
        payout=cases[0].disbursements.get(amount=Decimal("2000.00")),
        user=people.erin,
        reason="银行退回",
        reversed_on=dt.date(2024, 1, 2),
    )
    # A historical import (2019–2023) through the service.
    result = ledger_import(table=table_of(good_rows()), user=people.erin, file_name="old.csv")
    assert not result.errors
    # A second ten-yuan collection of XQ-S01 in 2024 (well_funded gave the first).
    campaign = DonationCampaign.objects.get(town=tree.xq, year=2024)
    services.donation_collection_record(
        user=people.carol,
        campaign=campaign,
        union=tree.xq_s01,
        collected_on=dt.date(2024, 6, 1),
        donor_count=120,
        amount=Decimal("1200.00"),
    )
    return cases


def test_figures_from_the_totals_equal_the_ledger(tree, varied):
    assert Disbursement.objects.filter(reverses__isnull=False).count() == 2
    for unit in (tree.nh, tree.xq, tree.dl, tree.xq_s01, tree.xq_e01, tree.dl_v01):
        for period in (Period(*YEARS), Period(2023, 2024), Period(2024, 2024), Period(2021, 2021)):
            assert_same_figures(unit, period)
    s = figures.summary(tree.xq_s01, Period(2024, 2024))
    assert (s.count, s.total, s.largest) == (1, Decimal("5000.00"), Decimal("5000.00"))
    assert_totals_equal_the_ledger()


def test_each_writer_keeps_the_totals_equal_to_the_ledger(tree, people, varied):
    row = MonthlyTotal.objects.get(
        union=tree.xq_s01, category=category("子女就学").pk, source="district", year=2024, month=2
    )
    # The reversed 9,000 is out of February; it is counted as a reversal there.
    assert (row.payouts, row.paid_cents, row.largest_cents) == (0, 0, 0)
    assert (row.reversals, row.reversed_cents) == (1, 900000)
    town = MonthlyTotal.objects.get(
        union=tree.xq, category=0, source="donation", year=2024, month=6
    )
    assert (town.incomes, town.income_cents, town.donors) == (1, 120000, 120)
    april = MonthlyTotal.objects.get(
        union=tree.xq_s01, category=0, source="donation", year=2024, month=4
    )
    assert (april.incomes, april.income_cents, april.donors) == (1, 1000000000, 1000)
    assert MonthlyTotal.objects.filter(union=tree.xq_s01, source="donation", incomes=1).exists()
    assert_totals_equal_the_ledger()


def test_check_totals_reports_a_difference_and_repairs_it(tree, varied, capsys):
    call_command("check_totals")
    MonthlyTotal.objects.filter(union=tree.xq, payouts__gt=0).update(payouts=99)
    MonthlyPerson.objects.filter(town=tree.dl).delete()
    with pytest.raises(CommandError, match="check_totals --repair") as failure:
        call_command("check_totals")
    assert failure.value.returncode == 1
    assert "ledger" in capsys.readouterr().err
    call_command("check_totals", "--repair")
    assert_totals_equal_the_ledger()
    call_command("check_totals")
    # The distinct-person counts are checked and repaired too.
    PersonCount.objects.filter(union=tree.nh, kind=PersonCount.ALL).update(persons=7)
    with pytest.raises(CommandError, match="check_totals --repair"):
        call_command("check_totals")
    assert "person count" in capsys.readouterr().err
    call_command("check_totals", "--repair")
    assert_totals_equal_the_ledger()


def test_payouts_written_around_the_services_are_found(tree, people, varied):
    """A bulk load by hand (COPY, a restore of one table) bypasses the services."""
    if connection.vendor != "sqlite":
        pytest.skip("on PostgreSQL the payout trigger refuses a payout no income covers")
    payout = varied[1].disbursements.get()
    Disbursement.objects.create(
        application=payout.application,
        amount=Decimal("1.00"),
        paid_on=payout.paid_on,
        method="cash",
        fund_source="town",
        town=payout.town,
        fund_year=payout.fund_year,
        recorded_by=people.erin,
    )
    assert totals.differences(totals.recompute(), totals.stored())


def test_the_backfill_migration_fills_the_totals_from_existing_rows(tree, varied):
    from django.apps import apps

    expected = totals.stored()
    MonthlyTotal.objects.all().delete()
    MonthlyPerson.objects.all().delete()
    migration = __import__("relief.migrations.0016_backfill_monthly_totals", fromlist=["backfill"])
    migration.backfill(apps, None)
    assert totals.differences(expected, totals.stored()) == []
    assert FundIncome.objects.exists()


def test_the_person_count_migration_fills_them_from_the_monthly_persons(tree, varied):
    from django.apps import apps

    expected = totals.stored()
    assert expected.counts
    PersonCount.objects.all().delete()
    migration = __import__("relief.migrations.0020_person_counts", fromlist=["backfill"])
    migration.backfill(apps, None)
    assert totals.differences(expected, totals.stored()) == []


def test_a_worker_paid_twice_from_two_sources_is_one_person(tree, people, well_funded):
    worker = WorkerFactory(union=tree.xq_s01, id_number=make_id_number(77))
    paid_case(
        people,
        people.alice,
        worker,
        applied=dt.date(2024, 1, 1),
        approved="1000.00",
        payouts=[
            (dt.date(2024, 1, 5), "400.00", "district"),
            (dt.date(2024, 1, 9), "600.00", "town"),
        ],
    )
    s = figures.summary(tree.xq, Period(2024, 2024))
    assert (s.count, s.persons) == (2, 1)
    assert [(r.key, r.persons) for r in s.by_fund_source] == [("district", 1), ("town", 1)]
    assert_same_figures(tree.nh, Period(2024, 2024))


def test_an_import_counts_new_and_known_workers_under_their_own_ids(tree, people, varied):
    """The second import's rows: a worker the first import created, paid again in a month
    and key they already have (one person row, two payouts), and a worker new to the system.
    On SQLite the totals are staged before the write lock with the new worker's id unknown
    (relief.services.totals.SqliteTotalsStage); either way they must land on the real ids."""
    from tests.relief.conftest import ledger_row

    liang_first = ledger_row()
    known = ledger_row(申请日期="2021-03-21", 发放日期="2021-03-28", 凭证号="PZ-2021-009")
    new = ledger_row(
        姓名="何新来",
        身份证号=make_id_number(88, born=dt.date(1985, 2, 2)),
        申请日期="2021-03-01",
        发放日期="2021-03-28",
        凭证号="PZ-2021-010",
    )
    assert liang_first["发放日期"][:7] == "2021-03"
    result = ledger_import(table=table_of([known, new]), user=people.erin, file_name="more.csv")
    assert not result.errors, result.errors
    assert_totals_equal_the_ledger()
    for unit in (tree.nh, tree.xq, tree.xq_s01):
        for period in (Period(2021, 2021), Period(2019, 2026)):
            assert_same_figures(unit, period)
    liang = MonthlyPerson.objects.get(
        worker__id_number=liang_first["身份证号"], year=2021, month=3, payouts__gt=1
    )
    assert liang.payouts == 2
    assert MonthlyPerson.objects.filter(worker__name="何新来", year=2021, month=3).count() == 1
    # Nothing of it is left in the connection's TEMP tables.
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM temp.sqlite_master WHERE name LIKE 'stage_%'")
            assert cursor.fetchall() == []


def test_person_counts_split_each_year_by_the_previous_year_paid():
    """One worker paid in 2020, 2022 and 2023 (twice in March 2023), in one union and town."""
    persons = {
        (7, 11, 1, 5, "district", 2020, 1): 1,
        (7, 11, 1, 5, "town", 2022, 6): 1,
        (7, 11, 1, 5, "district", 2023, 3): 2,
        (7, 11, 1, 5, "district", 2024, 1): 0,  # reversed: counts nowhere
    }
    counts = totals.person_counts(persons, {1: 100})
    for unit in (11, 1, 100):
        assert counts[(unit, "a", "", 2020, 0)] == 1
        assert counts[(unit, "a", "", 2022, 2020)] == 1
        assert counts[(unit, "a", "", 2023, 2022)] == 1
        assert counts[(unit, "s", "district", 2023, 2020)] == 1
        assert counts[(unit, "s", "town", 2022, 0)] == 1
        assert counts[(unit, "m", "3", 2023, 0)] == 1
    assert not [k for k in counts if k[3] == 2024]
    assert sum(counts.values()) == 3 * 4 * 3  # units × (all, category, source, month) × years


def test_persons_over_years_stay_equal_to_the_ledger_through_gaps_and_reversals(
    tree, people, well_funded
):
    """A worker helped in three years with a gap, then the middle year's payout comes back:
    every period (starting before, inside or after the chain) counts them once or not at all."""
    worker = WorkerFactory(union=tree.xq_s01, id_number=make_id_number(78))
    other = WorkerFactory(union=tree.dl_v01, id_number=make_id_number(79))
    cases = [
        paid_case(
            people,
            people.alice,
            worker,
            applied=dt.date(year, 2, 1),
            approved="1000.00",
            payouts=[(dt.date(year, 2, 10), "1000.00", source)],
            categories=cats,
        )
        for year, source, cats in (
            (2022, "district", ("重大疾病",)),
            (2024, "town", ("子女就学",)),
            (2025, "district", ("重大疾病",)),
        )
    ]
    paid_case(
        people,
        people.bob,
        other,
        applied=dt.date(2024, 5, 1),
        approved="800.00",
        payouts=[(dt.date(2024, 5, 2), "800.00", "district")],
        reviewer=people.dave,
    )
    periods = [Period(a, b) for a in range(2021, 2027) for b in range(a, 2027)]

    def check():
        assert_totals_equal_the_ledger()
        for unit in (tree.nh, tree.xq, tree.dl, tree.xq_s01):
            for period in periods:
                assert_same_figures(unit, period)

    check()
    assert figures.summary(tree.nh, Period(2022, 2025)).persons == 2
    services.disbursement_reverse(
        payout=cases[1].disbursements.get(),
        user=people.erin,
        reason="账户冻结",
        reversed_on=dt.date(2024, 3, 1),
    )
    check()
    s = figures.summary(tree.xq, Period(2024, 2024))
    assert (s.count, s.persons) == (0, 0)
    assert figures.summary(tree.xq, Period(2023, 2025)).persons == 1
