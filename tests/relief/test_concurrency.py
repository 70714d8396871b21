"""Two connections acting on one case at the same moment (PostgreSQL: real row locks)."""

import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from relief import services
from relief.errors import Conflict
from relief.models import Application, AuditEntry, Disbursement
from tests.factories import case_in_state, fund

pytestmark = [pytest.mark.postgres]


def race(*calls):
    """Run each call in its own thread and connection, released together; return outcomes."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=10)
            outcomes[i] = ("ok", call())
        except Exception as exc:  # the outcome is what we assert on
            outcomes[i] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_simultaneous_approvals_one_wins(people):
    app = case_in_state(
        "recommended", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    copy_a = Application.objects.get(pk=app.pk)
    copy_b = Application.objects.get(pk=app.pk)
    outcomes = race(
        lambda: services.application_approve(
            application=copy_a, user=people.erin, amount=Decimal("5000")
        ),
        lambda: services.application_reject(
            application=copy_b, user=people.erin, reason="重复申请"
        ),
    )
    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["error", "ok"]
    error = next(value for kind, value in outcomes if kind == "error")
    assert isinstance(error, Conflict)
    app.refresh_from_db()
    assert app.state in {"approved", "rejected"}
    # Exactly one transition out of "recommended" is on record.
    assert AuditEntry.objects.filter(application=app, from_state="recommended").count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_simultaneous_full_payouts_pay_once(people):
    app = case_in_state(
        "approved", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    fund(people.erin, app.union.parent, "10000.00")

    def pay():
        return services.disbursement_record(
            application=Application.objects.get(pk=app.pk),
            user=people.erin,
            amount=Decimal("5000.00"),
            paid_on=app.application_date,
            method="cash",
            fund_source="district",
        )

    outcomes = race(pay, pay)
    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"]
    assert Disbursement.objects.filter(application=app).count() == 1
    app.refresh_from_db()
    assert app.paid_amount == Decimal("5000.00")
    assert app.state == "disbursed"


@pytest.mark.django_db
def test_audit_trail_refuses_update_and_delete(people):
    app = case_in_state("submitted", caseworker=people.alice, reviewer=people.carol, officer=None)
    entry = AuditEntry.objects.filter(application=app).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(comment="rewritten")
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.comment == ""


@pytest.mark.django_db
def test_payouts_are_never_edited_or_deleted_and_never_exceed_the_approved_amount(people):
    app = case_in_state(
        "disbursed", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    payout = Disbursement.objects.get(application=app)
    with pytest.raises(IntegrityError), transaction.atomic():
        Disbursement.objects.filter(pk=payout.pk).update(amount=Decimal("1.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Disbursement.objects.filter(pk=payout.pk).delete()
    # Bypassing the service: the trigger still refuses a payout beyond the approved amount.
    with pytest.raises(IntegrityError), transaction.atomic():
        Disbursement.objects.create(
            application=app,
            amount=Decimal("0.01"),
            paid_on=payout.paid_on,
            method="cash",
            fund_source="district",
            recorded_by=people.erin,
        )
