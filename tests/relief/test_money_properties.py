"""Random sequences of income, donations, approvals (some through a public notice with
objections), payouts, reversals, batch operations, ledger imports and emergency advances
(先行救助: paid before approval, then approved above, at or below the advance, or rejected).

After every step: no fund account below zero, no case paid above its approved amount (or the
advance paid on it, when the district approved less or rejected it, with the difference
recorded as a shortfall), every cached total equals the sum of its entries, and the dashboard's
monthly totals equal a recomputation from the ledger (relief.services.totals). A Python model
of the money predicts exactly which single payouts the services must accept or refuse. Runs on
SQLite and on PostgreSQL.
"""

import datetime as dt
from contextlib import nullcontext
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from relief import services
from relief.models import (
    AdvanceShortfall,
    Application,
    BatchItem,
    Disbursement,
    FundAccount,
    FundIncome,
    HardshipCategory,
    PaymentBatch,
    Policy,
)
from relief.models.money import to_cents
from relief.services import totals
from relief.services.batches import batch_check_funds
from relief.services.ledger import ledger_import
from relief.services.notices import notice_open, objection_record, objection_resolve
from tabular.tables import Table
from tests.factories import case_in_state, file_case, make_id_number
from tests.relief.conftest import ledger_row

TODAY = dt.date.today()
YEAR = TODAY.year
TOWNS = ["xq", "dl"]
SOURCES = ["district", "town"]
LEDGER_SOURCES = {"district": "区拨款", "town": "镇自筹", "donation": "十元捐"}
GRASSROOTS = {"xq": "XQ-S01", "dl": "DL-V01"}
ZERO = Decimal("0.00")
cents = st.integers(min_value=1, max_value=1_500_000).map(lambda n: Decimal(n) / 100)
# A payout: everything outstanding, half of it, or any amount (often too much).
share = st.sampled_from(["all", "half", "all"]) | cents
pick = st.integers(min_value=0, max_value=1000)


def total(qs) -> Decimal:
    return to_cents(qs.aggregate(s=Sum("amount"))["s"])


class MoneyMachine(RuleBasedStateMachine):
    people = tree = None  # set by the test

    def __init__(self):
        super().__init__()
        # Each example runs in a savepoint rolled back at its end.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.income = {}  # (town, source) -> Decimal
        self.paid = {}  # (town, source) -> Decimal
        self.cases = []  # (pk, town)
        self.approved = {}  # pk -> Decimal
        self.case_paid = {}  # pk -> Decimal
        self.imported = 0  # workers imported so far (their ID numbers)
        self.advanced = {}  # pk -> the emergency advance paid on it
        self.rejected = set()

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- helpers -------------------------------------------------------------------------

    def officer(self):
        return self.people.erin

    def balance(self, town, source) -> Decimal:
        return self.income.get((town, source), ZERO) - self.paid.get((town, source), ZERO)

    def town_of(self, pk):
        return dict(self.cases)[pk]

    def book(self, pk, source, amount):
        town = self.town_of(pk)
        self.paid[(town, source)] = self.paid.get((town, source), ZERO) + amount
        self.case_paid[pk] = self.case_paid.get(pk, ZERO) + amount

    # --- rules ---------------------------------------------------------------------------

    @initialize(
        incomes=st.lists(cents, min_size=len(TOWNS) * len(SOURCES), max_size=4),
        amounts=st.lists(st.integers(min_value=1, max_value=100), min_size=3, max_size=3),
    )
    def start_with_some_money_and_cases(self, incomes, amounts):
        accounts = [(t, s) for t in TOWNS for s in SOURCES]
        for (town, source), amount in zip(accounts, incomes, strict=True):
            self.add_income(town, source, amount)
        for town, amount in zip(["xq", "xq", "dl"], amounts, strict=True):
            self.approve_a_case(town, amount)

    @rule(town=st.sampled_from(TOWNS), source=st.sampled_from(SOURCES), amount=cents)
    def add_income(self, town, source, amount):
        services.fund_income_record(
            user=self.officer(),
            town=getattr(self.tree, town),
            source=source,
            year=YEAR,
            amount=amount,
            received_on=TODAY,
            document_no="南工字〔测试〕9号",
        )
        self.income[(town, source)] = self.income.get((town, source), ZERO) + amount

    @rule(town=st.sampled_from(TOWNS), amount=cents, donors=st.integers(1, 500))
    def donate(self, town, amount, donors):
        union = getattr(self.tree, town)
        campaign = union.donation_campaigns.filter(year=YEAR).first()
        if campaign is None:
            campaign = services.donation_campaign_create(
                user=self.officer(), town=union, year=YEAR, starts_on=dt.date(YEAR, 1, 1)
            )
        services.donation_collection_record(
            user=self.officer(),
            campaign=campaign,
            union=union.children.first(),
            collected_on=min(TODAY, campaign.ends_on),
            donor_count=donors,
            amount=amount,
        )
        self.income[(town, "donation")] = self.income.get((town, "donation"), ZERO) + amount

    @rule(
        paid=st.lists(
            st.tuples(
                st.sampled_from(TOWNS),
                st.sampled_from(list(LEDGER_SOURCES)),
                st.integers(min_value=1, max_value=3000),
                st.integers(min_value=0, max_value=300),
            ),
            min_size=1,
            max_size=4,
        )
    )
    def import_history(self, paid, start=dt.date(YEAR, 1, 1)):
        """Historical payouts of this year: income and paid grow alike, balances stay."""
        rows = []
        for town, source, amount, day in paid:
            self.imported += 1
            paid_on = min(TODAY, start + dt.timedelta(days=day))
            rows.append(
                ledger_row(
                    姓名="何丽娟",
                    身份证号=make_id_number(5000 + self.imported),
                    基层工会=GRASSROOTS[town],
                    申请日期=start.isoformat(),
                    发放日期=paid_on.isoformat(),
                    批准金额=str(amount),
                    发放金额=str(amount),
                    资金来源=LEDGER_SOURCES[source],
                    凭证号=f"PZ-H-{self.imported}",
                )
            )
        table = Table(headers=list(rows[0]), rows=list(enumerate(rows, start=2)))
        result = ledger_import(table=table, user=self.officer(), file_name="history.csv")
        assert not result.errors, result.errors

    @precondition(lambda self: len(self.cases) < 4)
    @rule(town=st.sampled_from(TOWNS), amount=st.integers(min_value=1, max_value=100))
    def approve_a_case(self, town, amount):
        p = self.people
        caseworker, reviewer = (p.alice, p.carol) if town == "xq" else (p.bob, p.dave)
        approved = Decimal(amount * 100)
        app = case_in_state(
            "approved",
            caseworker=caseworker,
            reviewer=reviewer,
            officer=p.erin,
            amount=f"{approved:.2f}",
        )
        self.cases.append((app.pk, town))
        self.approved[app.pk] = approved

    @precondition(lambda self: len(self.cases) < 4)
    @rule(
        town=st.sampled_from(TOWNS),
        amount=st.integers(min_value=1, max_value=100),
        objection=st.sampled_from(["none", "dismissed", "returned", "rejected", "open"]),
    )
    def approve_after_a_notice(self, town, amount, objection):
        """A recommended case put on public notice (公示), perhaps objected to: the district's
        approval is refused while the notice runs or an objection is open, and after an upheld
        objection; it goes through the working day after the notice ends otherwise. Only an
        approved case ever carries money."""
        p = self.people
        caseworker, reviewer = (p.alice, p.carol) if town == "xq" else (p.bob, p.dave)
        amount = Decimal(amount * 100)
        app = case_in_state(
            "recommended",
            caseworker=caseworker,
            reviewer=reviewer,
            officer=p.erin,
            amount=f"{amount:.2f}",
        )
        today = timezone.localdate()
        notice = notice_open(user=reviewer, applications=[app], posted_at="公示栏", starts_on=today)
        if objection != "none":
            app.refresh_from_db()
            raised = objection_record(
                user=reviewer, application=app, received_on=today, channel="phone", content="反映"
            )
            if objection != "open":
                objection_resolve(
                    user=reviewer, objection=raised, outcome=objection, finding="核查结论"
                )
        attempts = [(today, False)]
        after = dt.datetime.combine(notice.ends_on + dt.timedelta(days=1), dt.time(10))
        attempts.append((timezone.make_aware(after), objection in ("none", "dismissed")))
        for moment, expected in attempts:
            app.refresh_from_db()
            clock = (
                mock.patch("django.utils.timezone.now", return_value=moment)
                if isinstance(moment, dt.datetime)
                else nullcontext()
            )
            try:
                with clock:
                    services.application_approve(application=app, user=p.erin, amount=amount)
            except ValidationError:
                assert not expected, (objection, moment)
                app.refresh_from_db()
                assert app.approved_amount is None and app.paid_amount == ZERO
            else:
                assert expected, (objection, moment)
                self.cases.append((app.pk, town))
                self.approved[app.pk] = amount

    @precondition(lambda self: len(self.cases) < 6)
    @rule(
        town=st.sampled_from(TOWNS),
        advance=st.integers(min_value=1, max_value=30),
        source=st.sampled_from(SOURCES),
        decision=st.sampled_from(["pending", "below", "equal", "above", "reject"]),
    )
    def emergency_case(self, town, advance, source, decision):
        """A case with an advance of `advance` hundred yuan (the policy: at most 3,000, from
        town funds only), paid from `source`, then decided by the district."""
        p = self.people
        caseworker, reviewer = (p.alice, p.carol) if town == "xq" else (p.bob, p.dave)
        advance = Decimal(advance * 100)
        app = services.application_submit(
            application=file_case(caseworker, amount="5000.00"), user=caseworker
        )
        services.home_visit_record(
            application=app,
            user=reviewer,
            visit_date=TODAY,
            visitors="梁慧敏",
            findings="属实",
            verified_household_income=ZERO,
            verified_monthly_expenses=ZERO,
        )
        app.refresh_from_db()
        services.advance_grant(application=app, user=reviewer, amount=advance, reason="急需")
        app.refresh_from_db()
        self.cases.append((app.pk, town))
        expected = source == "town" and advance <= self.balance(town, "town")
        try:
            services.advance_pay(
                application=app,
                user=self.officer(),
                paid_on=TODAY,
                method="cash",
                fund_source=source,
                fund_year=YEAR,
            )
        except ValidationError:
            assert not expected, (source, advance, self.balance(town, "town"))
            paid = ZERO
        else:
            assert expected, (source, advance, self.balance(town, "town"))
            self.book(app.pk, "town", advance)
            self.advanced[app.pk] = paid = advance
        app.refresh_from_db()
        if decision == "pending":
            return
        if decision == "reject":
            services.application_reject(application=app, user=reviewer, reason="不符")
            self.rejected.add(app.pk)
            return
        approved = {"below": advance - 100, "equal": advance, "above": advance + 1000}[decision]
        approved = max(approved, Decimal("50.00"))
        app = services.application_verify(application=app, user=reviewer)
        app = services.application_recommend(
            application=app, user=reviewer, amount=approved, comment="同意"
        )
        app = services.application_approve(application=app, user=self.officer(), amount=approved)
        self.approved[app.pk] = approved
        assert (app.state == "disbursed") == (paid >= approved > 0)

    @precondition(lambda self: self.cases)
    @rule(which=pick, source=st.sampled_from(SOURCES), amount=share, returned=st.booleans())
    def pay(self, which, source, amount, returned):
        pk, town = self.cases[which % len(self.cases)]
        app = Application.objects.get(pk=pk)
        outstanding = self.approved.get(pk, ZERO) - self.case_paid.get(pk, ZERO)
        if amount == "all":
            amount = outstanding
        elif amount == "half":
            amount = (outstanding / 2).quantize(Decimal("0.01"))
        if amount <= 0:
            return
        in_batch = BatchItem.objects.filter(
            application_id=pk, batch__state__in=["draft", "exported"]
        ).exists()
        expected = (
            app.state == "approved"
            and not in_batch
            and amount <= outstanding
            and amount <= self.balance(town, source)
        )
        try:
            payout = services.disbursement_record(
                application=app,
                user=self.officer(),
                amount=amount,
                paid_on=TODAY,
                method="cash",
                fund_source=source,
            )
        except ValidationError:
            assert not expected, (amount, outstanding, self.balance(town, source), in_batch)
        else:
            assert expected, (amount, outstanding, self.balance(town, source), app.state)
            self.book(pk, source, amount)
            if returned:  # the bank sends it back
                self._reverse(payout)

    @rule(which=pick)
    def reverse(self, which):
        candidates = list(
            Disbursement.objects.filter(
                amount__gt=0,
                reversal__isnull=True,
                advance__isnull=True,  # an advance is never reversed (tests/relief/test_advances)
                application__state__in=["approved", "disbursed"],
                application_id__in=[pk for pk, _town in self.cases],
            ).order_by("pk")
        )
        if not candidates:
            return
        self._reverse(candidates[which % len(candidates)])

    def _reverse(self, payout):
        services.disbursement_reverse(payout=payout, user=self.officer(), reason="银行退回")
        self.book(payout.application_id, payout.fund_source, -payout.amount)

    @precondition(lambda self: self.cases)
    @rule(
        chosen=st.sets(st.integers(min_value=0, max_value=3), min_size=1),
        source=st.sampled_from(SOURCES),
        follow=st.sampled_from(["stay", "export", "pay"]),
    )
    def make_batch(self, chosen, source, follow):
        free = [
            pk
            for pk, _town in self.cases
            if Application.objects.filter(pk=pk, state="approved")
            .exclude(batch_items__batch__state__in=["draft", "exported"])
            .exists()
        ]
        if not free:
            return
        pks = sorted({free[i % len(free)] for i in chosen})
        batch = services.batch_create(
            user=self.officer(),
            title="审批会",
            applications=list(Application.objects.filter(pk__in=pks)),
            fund_source=source,
        )
        if follow != "stay":
            self._export(batch, top_up=True, then_paid=follow == "pay")

    def _open_batch(self, which, state=None):
        batches = list(
            PaymentBatch.objects.filter(state__in=[state] if state else ["draft", "exported"])
        )
        return batches[which % len(batches)] if batches else None

    @rule(which=pick, top_up=st.booleans(), then_paid=st.booleans())
    def export_batch(self, which, top_up, then_paid):
        batch = self._open_batch(which)
        if batch is not None:
            self._export(batch, top_up, then_paid)

    def _export(self, batch, top_up, then_paid):
        if top_up:
            # The district allocates what the batch is short of first.
            for line in batch_check_funds(batch):
                if not line.ok:
                    town = "xq" if line.town == self.tree.xq.name else "dl"
                    self.add_income(town, batch.fund_source, line.needed - line.available)
        try:
            services.batch_export(batch=batch, user=self.officer())
        except ValidationError:
            assert not top_up
            batch.refresh_from_db()
            assert batch.state in ("draft", "exported")
        else:
            if then_paid:
                self.mark_batch_paid(0, batch)

    @rule(which=pick)
    def mark_batch_paid(self, which, batch=None):
        batch = batch or self._open_batch(which, "exported")
        if batch is None:
            return
        before = Disbursement.objects.count()
        try:
            services.batch_mark_paid(batch=batch, user=self.officer(), bank_paid_on=TODAY)
        except ValidationError:
            # All or nothing: not one payout was written.
            assert Disbursement.objects.count() == before
            batch.refresh_from_db()
            assert batch.state == "exported"
        else:
            for item in batch.items.all():
                self.book(item.application_id, batch.fund_source, item.amount)

    @rule(which=pick, really=st.integers(min_value=0, max_value=2))
    def cancel_batch(self, which, really):
        batch = self._open_batch(which)
        if batch is not None and really == 0:
            services.batch_cancel(batch=batch, user=self.officer(), reason="改期")

    # --- invariants, checked after every step --------------------------------------------

    @invariant()
    def no_account_below_zero_and_totals_equal_their_entries(self):
        for account in FundAccount.objects.all():
            income = total(FundIncome.objects.filter(account=account))
            paid = total(
                Disbursement.objects.filter(
                    town=account.town_id, fund_source=account.source, fund_year=account.year
                )
            )
            assert account.income_total == income
            assert account.paid_total == paid
            assert account.balance >= 0
            town = "xq" if account.town_id == self.tree.xq.pk else "dl"
            assert account.balance == self.balance(town, account.source)

    @invariant()
    def monthly_totals_equal_a_recomputation(self):
        assert totals.differences(totals.recompute(), totals.stored()) == []

    @invariant()
    def no_case_paid_above_its_approved_amount(self):
        for app in Application.objects.filter(pk__in=[pk for pk, _ in self.cases]):
            entries = total(app.disbursements.all())
            assert app.paid_amount == entries == self.case_paid.get(app.pk, ZERO)
            advance = self.advanced.get(app.pk, ZERO)
            assert app.advance_amount == advance
            approved = app.approved_amount or ZERO
            assert ZERO <= app.paid_amount <= max(approved, advance)
            if app.state in ("approved", "disbursed"):
                assert (app.state == "disbursed") == (app.paid_amount >= approved)
            # What the decision leaves uncovered of the advance is recorded, never lost.
            decided = app.state in ("approved", "disbursed") or app.pk in self.rejected
            expected_short = max(ZERO, advance - approved) if decided else ZERO
            short = total(AdvanceShortfall.objects.filter(application=app))
            assert short == expected_short, (app.state, advance, approved, short)
            assert app.paid_amount - short <= approved or not decided


@pytest.mark.django_db
def test_money_invariants_hold_for_random_sequences(people, tree):
    MoneyMachine.people, MoneyMachine.tree = people, tree
    policy = Policy.objects.get()
    policy.advance_allowed, policy.advance_cap = True, Decimal("3000.00")
    policy.advance_from_town, policy.advance_from_district = True, False
    policy.save()
    policy.advance_categories.set(HardshipCategory.objects.filter(name="重大疾病"))
    MoneyMachine.TestCase.settings = settings(
        max_examples=24,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        derandomize=True,
        database=None,
    )
    run_state_machine_as_test(MoneyMachine, settings=MoneyMachine.TestCase.settings)
