"""The monthly totals under parallel writers (PostgreSQL: real row locks, real upserts).

Payouts drawn on different fund accounts (this year's and last year's district money) land in
the same monthly-total rows (same town, source and month of payment), so their upserts really
run at the same time; incomes of two years' accounts likewise; the first writers of a month
race to insert the row. No increment may be lost.
"""

import datetime as dt
from decimal import Decimal

import pytest

from relief import services
from relief.models import Application, MonthlyTotal
from relief.services import totals
from reports import figures
from reports.figures import Period
from tests.factories import WorkerFactory, case_in_state, fund
from tests.relief.test_concurrency import race

pytestmark = [pytest.mark.postgres]
TODAY = dt.date.today()
PAYOUTS = 6


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_payouts_and_incomes_keep_the_totals_equal_to_the_ledger(people, tree):
    cases = [
        case_in_state(
            "approved",
            caseworker=people.alice,
            reviewer=people.carol,
            officer=people.erin,
            amount=f"{1000 + n}.00",
            worker=WorkerFactory(union=people.alice.union),
        )
        for n in range(PAYOUTS)
    ]
    for year in (TODAY.year - 1, TODAY.year):
        fund(people.erin, tree.xq, "100000.00", year=year)
    # Nothing paid this month yet: the payouts race to create the month's rows.
    assert not MonthlyTotal.objects.filter(payouts__gt=0).exists()

    def pay(n):
        return lambda: services.disbursement_record(
            application=Application.objects.get(pk=cases[n].pk),
            user=people.erin,
            amount=Decimal(f"{1000 + n}.00"),
            paid_on=TODAY,
            method="cash",
            fund_source="district",
            fund_year=TODAY.year - n % 2,
        )

    def income(year):
        return lambda: services.fund_income_record(
            user=people.erin,
            town=tree.xq,
            source="district",
            year=year,
            amount=Decimal("500.00"),
            received_on=TODAY,
            document_no="南工字〔并发〕1号",
        )

    outcomes = race(*[pay(n) for n in range(PAYOUTS)], income(TODAY.year), income(TODAY.year - 1))
    assert [kind for kind, _ in outcomes] == ["ok"] * (PAYOUTS + 2), outcomes
    assert totals.differences(totals.recompute(), totals.stored()) == []
    row = MonthlyTotal.objects.get(
        union=tree.xq, source="district", year=TODAY.year, month=TODAY.month, payouts__gt=0
    )
    assert row.payouts == PAYOUTS
    assert row.paid_cents == sum((1000 + n) * 100 for n in range(PAYOUTS))
    assert row.largest_cents == (1000 + PAYOUTS - 1) * 100
    incomes = MonthlyTotal.objects.get(
        union=tree.xq, category=0, source="district", year=TODAY.year, month=TODAY.month
    )
    # Two set-up incomes and two racing ones, all received this month.
    assert (incomes.incomes, incomes.income_cents) == (4, 2 * 10_000_000 + 2 * 50_000)
    this_year = Period(TODAY.year, TODAY.year)
    s = figures.summary(tree.nh, this_year)
    assert (s.count, s.persons) == (PAYOUTS, PAYOUTS)
    assert s.total == figures.summary_from_ledger(tree.nh, this_year).total

    # Reversals racing with each other and with new payouts of the same month.
    paid = [Application.objects.get(pk=c.pk).disbursements.get() for c in cases[:3]]
    more = [
        case_in_state(
            "approved",
            caseworker=people.alice,
            reviewer=people.carol,
            officer=people.erin,
            amount="700.00",
            worker=WorkerFactory(union=people.alice.union),
        )
        for _ in range(2)
    ]

    def reverse(payout):
        return lambda: services.disbursement_reverse(
            payout=payout, user=people.erin, reason="银行退回"
        )

    def pay_more(app, year):
        return lambda: services.disbursement_record(
            application=Application.objects.get(pk=app.pk),
            user=people.erin,
            amount=Decimal("700.00"),
            paid_on=TODAY,
            method="cash",
            fund_source="district",
            fund_year=year,
        )

    outcomes = race(
        *[reverse(p) for p in paid],
        pay_more(more[0], TODAY.year),
        pay_more(more[1], TODAY.year - 1),
    )
    assert [kind for kind, _ in outcomes] == ["ok"] * 5, outcomes
    assert totals.differences(totals.recompute(), totals.stored()) == []
    s, ledger = figures.summary(tree.nh, this_year), figures.summary_from_ledger(tree.nh, this_year)
    assert (s.count, s.persons, s.total, s.largest) == (
        ledger.count,
        ledger.persons,
        ledger.total,
        ledger.largest,
    )
    assert s.count == PAYOUTS - 3 + 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("round_", range(2))
def test_every_kind_of_money_writer_at_once_neither_deadlocks_nor_loses_a_count(
    people, tree, tmp_path, round_
):
    """The lock order of relief.services.totals (workers, own rows, accounts, the town's rows)
    shared by an import, a batch, payouts, a reversal, an income and a donation collection,
    all on 樵园社区 (XQ-S01), this month, the district's money of this year, and the import
    paying the worker of a payout being reversed: every writer lands, no deadlock, and the
    totals equal the ledger's."""
    from relief.idcard import check_digit
    from relief.services.ledger import ledger_import
    from tabular.tables import read_table
    from tests.relief.conftest import write_csv
    from tests.relief.test_batches_locking import approved, exported_batch, mark_paid

    fund(people.erin, tree.xq, "1000000.00")
    singles = [approved(people, "800.00") for _ in range(3)]
    batch = exported_batch(people, [approved(people, "600.00") for _ in range(2)])
    paid_case = approved(people, "900.00")
    paid = services.disbursement_record(
        application=paid_case,
        user=people.erin,
        amount=Decimal("900.00"),
        paid_on=TODAY,
        method="cash",
        fund_source="district",
    )
    campaign = services.donation_campaign_create(user=people.carol, town=tree.xq, year=TODAY.year)
    rows = []
    for i in range(40):
        first17 = f"44068219850101{i:03d}"
        number = first17 + check_digit(first17)
        if i == 0:
            number = paid_case.worker.id_number  # a worker whose payout is being reversed
        rows.append(
            {
                "姓名": paid_case.worker.name if i == 0 else f"并发{i}",
                "身份证号": number,
                "基层工会": "XQ-S01",
                "困难类别": "重大疾病",
                "困难情况": "历史个案",
                "申请日期": (TODAY - dt.timedelta(days=40)).isoformat(),
                "批准金额": "500",
                "发放日期": TODAY.isoformat(),
                "发放金额": "500",
                "资金来源": "区拨款",
                "凭证号": "",
                "备注": "",
            }
        )
    table = read_table(write_csv(tmp_path, rows))

    def pay(app):
        return lambda: services.disbursement_record(
            application=Application.objects.get(pk=app.pk),
            user=people.erin,
            amount=Decimal("800.00"),
            paid_on=TODAY,
            method="cash",
            fund_source="district",
        )

    outcomes = race(
        lambda: ledger_import(table=table, user=people.root, file_name="ledger.csv").errors,
        lambda: mark_paid(people, batch),
        *[pay(app) for app in singles],
        lambda: services.disbursement_reverse(payout=paid, user=people.erin, reason="银行退回"),
        lambda: services.fund_income_record(
            user=people.erin,
            town=tree.xq,
            source="district",
            year=TODAY.year,
            amount=Decimal("500.00"),
            received_on=TODAY,
            document_no="南工字〔并发〕2号",
        ),
        lambda: services.donation_collection_record(
            user=people.carol,
            campaign=campaign,
            union=tree.xq_s01,
            collected_on=campaign.starts_on,
            donor_count=12,
            amount=Decimal("120.00"),
        ),
    )
    assert [kind for kind, _ in outcomes] == ["ok"] * 8, [o for o in outcomes if o[0] != "ok"]
    assert outcomes[0][1] == []  # the import's row errors
    assert totals.differences(totals.recompute(), totals.stored()) == []
