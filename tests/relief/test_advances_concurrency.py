"""Two connections granting or paying one case's advance at the same moment (PostgreSQL)."""

import datetime as dt
from decimal import Decimal

import pytest

from relief import services
from relief.errors import Conflict
from relief.idempotency import once
from relief.models import Advance, Application, Disbursement, FundAccount
from tests.factories import fund
from tests.relief.test_advances import allow_advances, granted, submitted, visited
from tests.relief.test_concurrency import race

pytestmark = [pytest.mark.postgres]
TODAY = dt.date.today()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_simultaneous_grants_one_wins(people):
    allow_advances()
    app = visited(submitted(people), people)

    def grant(amount):
        return lambda: services.advance_grant(
            application=Application.objects.get(pk=app.pk),
            user=people.carol,
            amount=Decimal(amount),
            reason="急需手术费",
        )

    outcomes = race(grant("3000.00"), grant("2000.00"))
    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["error", "ok"], outcomes
    error = next(value for kind, value in outcomes if kind == "error")
    assert isinstance(error, Conflict), error
    assert Advance.objects.filter(application=app).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_simultaneous_payments_pay_once(people):
    allow_advances()
    fund(people.carol, people.carol.union, "10000.00", source="town")
    app = granted(people)

    def pay():
        return services.advance_pay(
            application=Application.objects.get(pk=app.pk),
            user=people.erin,
            paid_on=TODAY,
            method="cash",
        )

    outcomes = race(pay, pay)
    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"], outcomes
    assert Disbursement.objects.filter(application=app).count() == 1
    account = FundAccount.objects.get(town=people.carol.union, source="town")
    assert account.paid_total == Decimal("3000.00")
    app.refresh_from_db()
    assert app.paid_amount == app.advance_amount == Decimal("3000.00")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_payment_form_sent_twice_at_once_pays_once(people):
    """One idempotency key (a double click): the second finds the first's payout."""
    allow_advances()
    fund(people.carol, people.carol.union, "10000.00", source="town")
    app = granted(people)

    def pay():
        return once(
            people.carol,
            "same-key-twice",
            lambda: services.advance_pay(
                application=Application.objects.get(pk=app.pk),
                user=people.carol,
                paid_on=TODAY,
                method="cash",
            ),
        )

    outcomes = race(pay, pay)
    assert Disbursement.objects.filter(application=app).count() == 1
    made = [value[0].pk for kind, value in outcomes if kind == "ok"]
    assert made and len(set(made)) == 1, outcomes
