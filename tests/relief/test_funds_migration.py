"""Migration 0004 on a database that already has payouts: each gets its town and fund year, and
each account an opening income equal to what was paid, so none starts below zero."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("relief", "0003_database_guards"), ("unions", "0001_initial")]
AFTER = [("relief", "0004_funds")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_existing_payouts_get_their_fund_and_an_opening_balance():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Union = apps.get_model("unions", "Union")
    User = apps.get_model("unions", "User")
    district = Union.objects.create(code="NH", name="南海", level="district", path="1/")
    town = Union.objects.create(code="XQ", name="西樵", level="town", parent=district, path="1/2/")
    union = Union.objects.create(
        code="XQ-S01", name="社区", level="grassroots", kind="community", parent=town, path="1/2/3/"
    )
    user = User.objects.create(username="old-officer")
    worker = apps.get_model("relief", "Worker").objects.create(
        name="梁志明", id_number="440605197208160013", union=union
    )
    app = apps.get_model("relief", "Application").objects.create(
        reference="XQ-2023-0001",
        worker=worker,
        union=union,
        narrative="x",
        requested_amount=Decimal("5000"),
        approved_amount=Decimal("5000"),
        paid_amount=Decimal("5000"),
        state="disbursed",
        policy=apps.get_model("relief", "Policy").objects.get(),
        created_by=user,
    )
    Disbursement = apps.get_model("relief", "Disbursement")
    for amount in ["3000.00", "2000.00"]:
        Disbursement.objects.create(
            application=app,
            amount=Decimal(amount),
            paid_on=dt.date(2023, 4, 20),
            method="bank",
            fund_source="town",
            recorded_by=user,
        )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    payouts = apps.get_model("relief", "Disbursement").objects.all()
    assert {(p.town_id, p.fund_year) for p in payouts} == {(town.pk, 2023)}
    account = apps.get_model("relief", "FundAccount").objects.get()
    assert (account.town_id, account.source, account.year) == (town.pk, "town", 2023)
    assert account.income_total == account.paid_total == Decimal("5000.00")
    income = apps.get_model("relief", "FundIncome").objects.get()
    assert income.amount == Decimal("5000.00")
    assert income.note.startswith("期初余额")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
