"""Money under concurrency and behind the services' back (PostgreSQL: real row locks, triggers)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from relief import services
from relief.models import Application, Disbursement, FundAccount, FundIncome
from tests.factories import WorkerFactory, case_in_state, fund
from tests.relief.test_concurrency import race

pytestmark = [pytest.mark.postgres]
TODAY = dt.date.today()


def approved(people, amount="5000.00", worker=None):
    return case_in_state(
        "approved",
        caseworker=people.alice,
        reviewer=people.carol,
        officer=people.erin,
        amount=amount,
        worker=worker,
    )


def payout(people, app, amount):
    def call():
        return services.disbursement_record(
            application=Application.objects.get(pk=app.pk),
            user=people.erin,
            amount=Decimal(amount),
            paid_on=TODAY,
            method="cash",
            fund_source="district",
        )

    return call


def kinds(outcomes):
    return sorted(kind for kind, _ in outcomes)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_partial_payouts_beyond_the_approved_amount_one_succeeds(people, tree):
    app = approved(people)
    fund(people.erin, tree.xq, "10000.00")
    outcomes = race(payout(people, app, "3000.00"), payout(people, app, "3000.00"))
    assert kinds(outcomes) == ["error", "ok"]
    app.refresh_from_db()
    assert app.paid_amount == Decimal("3000.00")
    assert Disbursement.objects.filter(application=app).count() == 1
    assert FundAccount.objects.get(town=tree.xq).paid_total == Decimal("3000.00")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_payouts_against_a_nearly_empty_source_one_succeeds(people, tree):
    first = approved(people, "3000.00")
    second = approved(people, "3000.00", worker=WorkerFactory(union=people.alice.union))
    fund(people.erin, tree.xq, "5000.00")
    outcomes = race(payout(people, first, "3000.00"), payout(people, second, "3000.00"))
    assert kinds(outcomes) == ["error", "ok"]
    error = next(value for kind, value in outcomes if kind == "error")
    assert isinstance(error, ValidationError)
    assert "2,000.00" in error.messages[0]  # the balance left, named in the refusal
    account = FundAccount.objects.get(town=tree.xq)
    assert (account.income_total, account.paid_total) == (Decimal("5000.00"), Decimal("3000.00"))
    assert Disbursement.objects.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_batch_and_a_single_payout_racing_for_the_same_money(people, tree):
    first = approved(people, "3000.00")
    second = approved(people, "3000.00", worker=WorkerFactory(union=people.alice.union))
    fund(people.erin, tree.xq, "5000.00")
    batch = services.batch_create(
        user=people.erin, title="审批会", applications=[first], fund_source="district"
    )
    services.batch_export(batch=batch, user=people.erin)
    outcomes = race(
        lambda: services.batch_mark_paid(batch=batch, user=people.erin, bank_paid_on=TODAY),
        payout(people, second, "3000.00"),
    )
    assert kinds(outcomes) == ["error", "ok"]
    assert FundAccount.objects.get(town=tree.xq).paid_total == Decimal("3000.00")
    assert Disbursement.objects.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_reversals_of_one_payout_one_succeeds(people, tree):
    app = approved(people)
    fund(people.erin, tree.xq, "5000.00")
    paid = payout(people, app, "5000.00")()

    def reverse():
        return services.disbursement_reverse(
            payout=Disbursement.objects.get(pk=paid.pk), user=people.erin, reason="银行退回"
        )

    outcomes = race(reverse, reverse)
    assert kinds(outcomes) == ["error", "ok"]
    app.refresh_from_db()
    assert (app.state, app.paid_amount) == ("approved", 0)
    assert FundAccount.objects.get(town=tree.xq).paid_total == 0


# --- guards the database keeps whatever code writes ---------------------------------------


def raw_payout(people, app, tree, amount, **kw):
    return Disbursement.objects.create(
        application=app,
        amount=Decimal(amount),
        paid_on=TODAY,
        method="cash",
        fund_source=kw.pop("fund_source", "district"),
        fund_year=TODAY.year,
        town=kw.pop("town", tree.xq),
        recorded_by=people.erin,
        **kw,
    )


@pytest.mark.django_db
def test_a_payout_written_directly_cannot_overdraw_the_source(people, tree):
    app = approved(people)
    fund(people.erin, tree.xq, "1000.00")
    with pytest.raises(IntegrityError, match="cannot cover"), transaction.atomic():
        raw_payout(people, app, tree, "1000.01")
    with pytest.raises(IntegrityError, match="cannot cover"), transaction.atomic():
        raw_payout(people, app, tree, "10.00", fund_source="donation")
    fund(people.erin, tree.dl, "100.00")
    with pytest.raises(IntegrityError, match="own town"), transaction.atomic():
        raw_payout(people, app, tree, "10.00", town=tree.dl)
    raw_payout(people, app, tree, "1000.00")


@pytest.mark.django_db
def test_a_reversal_written_directly_must_mirror_its_payout(people, tree):
    app = approved(people)
    fund(people.erin, tree.xq, "5000.00")
    paid = payout(people, app, "2000.00")()
    with pytest.raises(IntegrityError, match="mirror"), transaction.atomic():
        raw_payout(people, app, tree, "-1500.00", reverses=paid, reason="退回")
    raw_payout(people, app, tree, "-2000.00", reverses=paid, reason="退回")
    with pytest.raises(IntegrityError), transaction.atomic():
        raw_payout(people, app, tree, "-2000.00", reverses=paid, reason="再退")


@pytest.mark.django_db
def test_fund_income_is_never_edited_or_deleted(people, tree):
    income = fund(people.erin, tree.xq, "1000.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        FundIncome.objects.filter(pk=income.pk).update(amount=Decimal("1.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        FundIncome.objects.filter(pk=income.pk).delete()
