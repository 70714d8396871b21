"""Marking a batch paid locks the fund accounts only for its final write (issue 12).

PostgreSQL: real row locks between connections. The batch checks every case without any
account lock, then locks the accounts in id order, checks the balances again and writes.
"""

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from relief import services
from relief import workflow as wf
from relief.models import Application, Disbursement, FundAccount
from relief.services import batches, funds
from tests.factories import WorkerFactory, case_in_state, fund
from tests.relief.test_concurrency import race

pytestmark = [pytest.mark.postgres]
TODAY = dt.date.today()


def approved(people, amount, *, town="xq"):
    caseworker, reviewer = (
        (people.alice, people.carol) if town == "xq" else (people.bob, people.dave)
    )
    return case_in_state(
        "approved",
        caseworker=caseworker,
        reviewer=reviewer,
        officer=people.erin,
        amount=amount,
        worker=WorkerFactory(union=caseworker.union, bank_card="6217000011112222333"),
    )


def exported_batch(people, cases):
    batch = services.batch_create(
        user=people.erin, title="审批会", applications=cases, fund_source="district"
    )
    services.batch_export(batch=batch, user=people.erin)
    return batch


def mark_paid(people, batch):
    return services.batch_mark_paid(batch=batch, user=people.erin, bank_paid_on=TODAY)


def cash_payout(people, app, amount):
    return services.disbursement_record(
        application=Application.objects.get(pk=app.pk),
        user=people.erin,
        amount=Decimal(amount),
        paid_on=TODAY,
        method="cash",
        fund_source="district",
    )


class Paused:
    """Runs `call` in its own thread and connection; `pause()` inside it stops it until
    `resume()`, so another connection can act while it is at that point."""

    def __init__(self, call):
        self.call = call
        self.at_pause = threading.Event()
        self.go_on = threading.Event()
        self.outcome = None
        self.thread = threading.Thread(target=self._run)

    def _run(self):
        try:
            self.outcome = ("ok", self.call())
        except Exception as exc:  # the outcome is what we assert on
            self.outcome = ("error", exc)
        finally:
            connection.close()

    def pause(self):
        if threading.current_thread() is self.thread:
            self.at_pause.set()
            assert self.go_on.wait(timeout=20)

    def start(self):
        self.thread.start()
        assert self.at_pause.wait(timeout=20), self.outcome

    def resume(self):
        self.go_on.set()
        self.thread.join(timeout=30)
        return self.outcome


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_payout_from_the_batchs_account_is_not_held_up_by_its_check_phase(
    people, tree, settings, monkeypatch
):
    first = approved(people, "3000.00")
    second = approved(people, "2000.00")
    other = approved(people, "1000.00")  # not in the batch, paid from the same account
    fund(people.erin, tree.xq, "10000.00")
    batch = exported_batch(people, [first, second])
    run = Paused(lambda: mark_paid(people, batch))
    role_may = wf.role_may
    calls = []

    def checking(user, action, state):
        # The batch checks its cases one by one: stop it at the second, when (before issue
        # 12) the first case's payout had already locked the account.
        if threading.current_thread() is run.thread:
            calls.append(action)
            if len(calls) == 2:
                run.pause()
        return role_may(user, action, state)

    monkeypatch.setattr(wf, "role_may", checking)
    settings.RELIEF_LOCK_TIMEOUT_MS = 1500
    run.start()
    started = time.monotonic()
    cash_payout(people, other, "1000.00")  # a Conflict after 1.5 s if the account were locked
    waited = time.monotonic() - started
    assert run.resume()[0] == "ok"
    assert waited < 1.0
    account = FundAccount.objects.get(town=tree.xq)
    assert account.paid_total == Decimal("6000.00")
    assert Disbursement.objects.filter(application__in=[first, second]).count() == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_balances_are_checked_again_under_the_lock(people, tree, monkeypatch):
    first = approved(people, "3000.00")
    other = approved(people, "2000.00")
    fund(people.erin, tree.xq, "4000.00")
    batch = exported_batch(people, [first])
    run = Paused(lambda: mark_paid(people, batch))
    payout_changes = batches.payout_changes

    def changes(payouts):
        # The unlocked check has passed (4,000 covers 3,000); next come the batch's totals
        # rows and then its accounts' locks.
        run.pause()
        return payout_changes(payouts)

    monkeypatch.setattr(batches, "payout_changes", changes)
    run.start()
    cash_payout(people, other, "2000.00")  # meanwhile 2,000 of the 4,000 is paid out
    kind, error = run.resume()
    assert kind == "error" and isinstance(error, ValidationError)
    assert first.reference in error.messages[0]
    assert "2,000.00" in error.messages[0]
    batch.refresh_from_db()
    first.refresh_from_db()
    assert (batch.state, first.state, first.paid_amount) == ("exported", "approved", 0)
    assert FundAccount.objects.get(town=tree.xq).paid_total == Decimal("2000.00")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_batches_on_the_same_accounts_in_opposite_order_do_not_deadlock(
    people, tree, monkeypatch
):
    # Case ids ascending: a1 (西樵), b1 (大沥), a2 (大沥), b2 (西樵). Batch A meets 西樵 first,
    # batch B 大沥 first; locking accounts case by case, each would hold what the other needs.
    a1 = approved(people, "1000.00")
    b1 = approved(people, "1000.00", town="dl")
    a2 = approved(people, "1000.00", town="dl")
    b2 = approved(people, "1000.00")
    fund(people.erin, tree.xq, "5000.00")
    fund(people.erin, tree.dl, "5000.00")
    batch_a = exported_batch(people, [a1, a2])
    batch_b = exported_batch(people, [b1, b2])
    lock_account = funds.lock_account

    def slow_lock(*args, **kwargs):
        account = lock_account(*args, **kwargs)
        time.sleep(0.5)  # long enough for the other batch to take its first lock
        return account

    monkeypatch.setattr(funds, "lock_account", slow_lock)
    outcomes = race(lambda: mark_paid(people, batch_a), lambda: mark_paid(people, batch_b))
    assert [kind for kind, _value in outcomes] == ["ok", "ok"], outcomes
    for town in (tree.xq, tree.dl):
        assert FundAccount.objects.get(town=town).paid_total == Decimal("2000.00")
    assert Disbursement.objects.count() == 4
