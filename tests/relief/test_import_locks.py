"""A ledger import holds the fund-account locks only for its short final write (issue 12, #5).

PostgreSQL: while the import has written its workers, cases, audit entries, history income and
its own workers' and grassroots unions' totals but not yet its payouts, a payout from the same
town, source and year on another connection goes through; before, the import locked the account
before all of that and the payout waited for the whole write (and, past RELIEF_LOCK_TIMEOUT_MS,
was refused). A payout in a grassroots union whose totals rows of the year the import writes
waits for the import's commit instead, and then goes through: the lock order of
relief.services.totals leaves no deadlock.
"""

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

import relief.services.ledger_write as ledger_write
from relief import services
from relief.models import Application, Disbursement, FundAccount
from relief.services.ledger import ledger_import
from relief.services.totals import differences, recompute, stored
from tabular.tables import read_table
from tests.factories import case_in_state, fund
from tests.relief.conftest import write_csv

pytestmark = [pytest.mark.postgres]
YEAR = dt.date.today().year


def rows(n: int, union: str = "XQ-E01") -> list[dict]:
    """`n` past cases at a grassroots union of 西樵, paid this year from the district
    allocation (the payouts below are at XQ-S01)."""
    from relief.idcard import check_digit

    out = []
    for i in range(n):
        first17 = f"44068219800101{i:03d}"
        out.append(
            {
                "姓名": f"测试{i}",
                "身份证号": first17 + check_digit(first17),
                "基层工会": union,
                "困难类别": "重大疾病",
                "困难情况": "历史个案",
                "申请日期": f"{YEAR}-01-02",
                "批准金额": "1000",
                "发放日期": f"{YEAR}-01-03",
                "发放金额": "1000",
                "资金来源": "区拨款",
                "凭证号": "",
                "备注": "",
            }
        )
    return out


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_payout_goes_through_while_the_import_prepares_its_write(
    people, tree, tmp_path, monkeypatch, settings
):
    settings.RELIEF_LOCK_TIMEOUT_MS = 3000
    app = case_in_state(
        "approved",
        caseworker=people.alice,
        reviewer=people.carol,
        officer=people.erin,
        amount="5000.00",
    )
    fund(people.erin, tree.xq, "10000.00")
    account = FundAccount.objects.get(town=tree.xq, source="district", year=YEAR)
    outcome = {}

    def pay():
        try:
            started = time.monotonic()
            services.disbursement_record(
                application=Application.objects.get(pk=app.pk),
                user=people.erin,
                amount=Decimal("100.00"),
                paid_on=dt.date.today(),
                method="cash",
                fund_source="district",
            )
            outcome["ok"] = time.monotonic() - started
        except Exception as exc:  # the outcome is what we assert on
            outcome["error"] = exc
        finally:
            connection.close()

    original = ledger_write.bulk_insert

    def insert(model, values, **kwargs):
        if model is Disbursement:
            # Everything but the payouts is written (cases, audit, the account's history
            # income) and the transaction is open: a payout from the same account now.
            payer = threading.Thread(target=pay)
            payer.start()
            payer.join(timeout=60)
            outcome["alive"] = payer.is_alive()
        return original(model, values, **kwargs)

    monkeypatch.setattr(ledger_write, "bulk_insert", insert)
    table = read_table(write_csv(tmp_path, rows(30)))
    result = ledger_import(table=table, user=people.root, file_name="ledger.csv")

    assert not outcome.get("alive"), "the payout was still waiting after 60 s"
    assert "error" not in outcome, outcome.get("error")
    assert "ok" in outcome
    assert result.errors == []
    # Both landed: the payout from the account's own income, the import's history beside it.
    account.refresh_from_db()
    assert account.paid_total == Decimal("100.00") + 30 * Decimal("1000")
    assert account.income_total == Decimal("10000.00") + 30 * Decimal("1000")
    assert Disbursement.objects.filter(application=app).count() == 1
    assert Application.objects.filter(state="disbursed").count() == 30
    assert differences(recompute(), stored()) == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_payout_sharing_the_imports_union_rows_waits_for_its_commit_then_lands(
    people, tree, tmp_path, monkeypatch, settings
):
    settings.RELIEF_LOCK_TIMEOUT_MS = 20000
    app = case_in_state(
        "approved",
        caseworker=people.alice,
        reviewer=people.carol,
        officer=people.erin,
        amount="5000.00",
    )
    fund(people.erin, tree.xq, "10000.00")
    outcome = {}

    def pay():
        try:
            services.disbursement_record(
                application=Application.objects.get(pk=app.pk),
                user=people.erin,
                amount=Decimal("100.00"),
                paid_on=dt.date.today(),
                method="cash",
                fund_source="district",
            )
            outcome["ok"] = time.monotonic()
        except Exception as exc:  # the outcome is what we assert on
            outcome["error"] = exc
        finally:
            connection.close()

    original = ledger_write.bulk_insert
    payer = threading.Thread(target=pay)

    def insert(model, values, **kwargs):
        if model is Disbursement:
            # The import holds XQ-S01's rows of this year (people counted): the payout queues
            # on them while the import goes on to lock the account it needs.
            payer.start()
            time.sleep(0.5)
        return original(model, values, **kwargs)

    monkeypatch.setattr(ledger_write, "bulk_insert", insert)
    table = read_table(write_csv(tmp_path, rows(30, union="XQ-S01")))
    result = ledger_import(table=table, user=people.root, file_name="ledger.csv")
    committed = time.monotonic()
    payer.join(timeout=30)

    assert not payer.is_alive(), "the payout was still waiting 30 s after the import"
    assert "error" not in outcome, outcome.get("error")
    assert result.errors == []
    assert outcome["ok"] >= committed - 0.05  # it waited for the import
    assert Disbursement.objects.filter(application=app).count() == 1
    assert differences(recompute(), stored()) == []
