"""Fund income, payouts drawn from fund accounts, and reversals."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from relief import services
from relief.errors import NotAllowed, OutOfScope
from relief.models import AuditEntry, Disbursement, FundAccount, FundIncome
from tests.factories import case_in_state, fund

TODAY = dt.date.today()
YEAR = TODAY.year


def account(town, source="district", year=YEAR):
    return FundAccount.objects.get(town=town, source=source, year=year)


def approved(people, amount="5000.00"):
    return case_in_state(
        "approved",
        caseworker=people.alice,
        reviewer=people.carol,
        officer=people.erin,
        amount=amount,
    )


def pay(app, user, amount, source="district", **kw):
    app.refresh_from_db()
    return services.disbursement_record(
        application=app,
        user=user,
        amount=Decimal(amount),
        paid_on=kw.pop("paid_on", TODAY),
        method="bank",
        fund_source=source,
        **kw,
    )


# --- income ------------------------------------------------------------------------------


def district_allocation(people, tree):
    """1,000.00 of district allocation to 西樵, recorded by the district officer."""
    return services.fund_income_record(
        user=people.erin,
        town=tree.xq,
        source="district",
        year=YEAR,
        amount=Decimal("1000.00"),
        received_on=TODAY,
        document_no="南工字〔2024〕3号",
    )


def test_a_district_allocation_needs_its_document_number(people, tree):
    with pytest.raises(ValidationError) as exc:
        services.fund_income_record(
            user=people.erin,
            town=tree.xq,
            source="district",
            year=YEAR,
            amount=Decimal("1000"),
            received_on=TODAY,
        )
    assert "document_no" in exc.value.message_dict
    income = district_allocation(people, tree)
    assert income.account.income_total == Decimal("1000.00")
    assert account(tree.xq).balance == Decimal("1000.00")
    assert AuditEntry.objects.filter(action="fund_income", actor=people.erin).count() == 1


@pytest.mark.parametrize(
    ("who", "town", "source", "error"),
    [
        ("carol", "xq", "town", None),
        ("carol", "xq", "district", NotAllowed),
        ("carol", "dl", "town", OutOfScope),
        ("alice", "xq", "town", OutOfScope),
        ("erin", "dl", "town", None),
        ("erin", "xq", "donation", ValidationError),
        ("root", "xq", "town", NotAllowed),
    ],
)
def test_who_records_which_income(people, tree, who, town, source, error):
    def record():
        return services.fund_income_record(
            user=getattr(people, who),
            town=getattr(tree, town),
            source=source,
            year=YEAR,
            amount=Decimal("500.00"),
            received_on=TODAY,
            document_no="X-1",
        )

    if error is None:
        assert record().amount == Decimal("500.00")
    else:
        with pytest.raises(error):
            record()
        assert not FundIncome.objects.exists()


def test_income_must_be_positive_and_in_fen(people, tree):
    for bad in [Decimal("0"), Decimal("-5"), Decimal("1.005")]:
        with pytest.raises(ValidationError):
            services.fund_income_record(
                user=people.carol,
                town=tree.xq,
                source="town",
                year=YEAR,
                amount=bad,
                received_on=TODAY,
            )


# --- payouts ----------------------------------------------------------------------------


def test_a_payout_the_source_cannot_cover_is_refused_naming_source_and_balance(people, tree):
    app = approved(people)
    fund(people.erin, tree.xq, "3000.00")
    with pytest.raises(ValidationError) as exc:
        pay(app, people.erin, "5000.00")
    message = exc.value.message_dict["fund_source"][0]
    assert "西樵镇总工会" in message
    assert "3,000.00" in message
    assert str(YEAR) in message
    assert not Disbursement.objects.exists()
    assert account(tree.xq).paid_total == 0
    app.refresh_from_db()
    assert (app.state, app.paid_amount) == ("approved", 0)


def test_a_source_with_no_income_at_all_is_refused(people, tree):
    app = approved(people)
    with pytest.raises(ValidationError, match=r"0\.00"):
        pay(app, people.erin, "100.00", source="donation")


def test_payouts_draw_on_the_account_of_the_case_town_and_fund_year(people, tree):
    app = approved(people)
    fund(people.erin, tree.xq, "4000.00", source="town", year=YEAR - 1)
    pay(app, people.erin, "4000.00", source="town", fund_year=YEAR - 1)
    fund(people.erin, tree.xq, "1000.00")
    payout = pay(app, people.erin, "1000.00")
    assert (payout.town, payout.fund_year) == (tree.xq, YEAR)
    assert account(tree.xq, "town", YEAR - 1).balance == 0
    assert account(tree.xq).balance == 0
    app.refresh_from_db()
    assert app.state == "disbursed"


def test_another_towns_money_is_not_used(people, tree):
    app = approved(people)
    fund(people.erin, tree.dl, "9000.00")
    with pytest.raises(ValidationError, match="西樵"):
        pay(app, people.erin, "100.00")


# --- reversals --------------------------------------------------------------------------


def test_a_reversal_is_a_new_negative_entry_and_the_case_owes_again(people, tree):
    app = approved(people)
    fund(people.erin, tree.xq, "5000.00")
    payout = pay(app, people.erin, "5000.00")
    reversal = services.disbursement_reverse(
        payout=payout, user=people.erin, reason="银行退回：账户已销户"
    )
    assert reversal.amount == Decimal("-5000.00")
    assert reversal.reverses == payout
    payout.refresh_from_db()
    assert payout.amount == Decimal("5000.00")  # untouched
    app.refresh_from_db()
    assert (app.state, app.paid_amount) == ("approved", 0)
    assert account(tree.xq).balance == Decimal("5000.00")
    entry = AuditEntry.objects.get(action="reverse")
    assert entry.comment == "银行退回：账户已销户"
    assert (entry.from_state, entry.to_state) == ("disbursed", "approved")
    # Paid again to a corrected card.
    pay(app, people.erin, "5000.00")
    app.refresh_from_db()
    assert app.state == "disbursed"
    assert sum(Disbursement.objects.filter(application=app).values_list("amount", flat=True)) == (
        Decimal("5000.00")
    )


def test_a_partial_payout_can_be_reversed_while_approved(people, tree):
    app = approved(people)
    fund(people.erin, tree.xq, "5000.00")
    payout = pay(app, people.erin, "2000.00")
    app.refresh_from_db()
    services.disbursement_reverse(payout=payout, user=people.erin, reason="退回")
    app.refresh_from_db()
    assert (app.state, app.paid_amount) == ("approved", 0)


def test_reversals_need_a_reason_happen_once_and_are_not_reversed(people, tree):
    app = approved(people)
    fund(people.erin, tree.xq, "5000.00")
    payout = pay(app, people.erin, "5000.00")
    with pytest.raises(ValidationError):
        services.disbursement_reverse(payout=payout, user=people.erin, reason="  ")
    reversal = services.disbursement_reverse(payout=payout, user=people.erin, reason="退回")
    payout.refresh_from_db()
    with pytest.raises(ValidationError):
        services.disbursement_reverse(payout=payout, user=people.erin, reason="再次")
    reversal.refresh_from_db()
    with pytest.raises(ValidationError):
        services.disbursement_reverse(payout=reversal, user=people.erin, reason="反冲")
    assert Disbursement.objects.count() == 2


@pytest.mark.parametrize("who", ["carol", "alice"])
def test_only_district_officers_reverse(people, tree, who):
    app = approved(people)
    fund(people.erin, tree.xq, "5000.00")
    payout = pay(app, people.erin, "5000.00")
    with pytest.raises(NotAllowed):
        services.disbursement_reverse(payout=payout, user=getattr(people, who), reason="退回")


def test_a_closed_case_is_not_reversed(people):
    app = case_in_state(
        "closed", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    with pytest.raises(ValidationError):
        services.disbursement_reverse(
            payout=app.disbursements.get(), user=people.erin, reason="退回"
        )


# --- the database's own guards (both databases) ------------------------------------------


def test_the_database_refuses_an_overdrawn_account(people, tree):
    fund(people.erin, tree.xq, "100.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        FundAccount.objects.filter(town=tree.xq).update(paid_total=Decimal("100.01"))


def test_the_database_refuses_a_negative_entry_that_reverses_nothing(people, tree):
    app = approved(people)
    fund(people.erin, tree.xq, "5000.00")
    payout = pay(app, people.erin, "1000.00")
    fields = {
        "application": app,
        "paid_on": TODAY,
        "method": "bank",
        "fund_source": "district",
        "fund_year": YEAR,
        "town": tree.xq,
        "recorded_by": people.erin,
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        Disbursement.objects.create(amount=Decimal("-1000.00"), reason="退回", **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Disbursement.objects.create(amount=Decimal("-1000.00"), reverses=payout, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Disbursement.objects.create(
            amount=Decimal("1000.00"), reverses=payout, reason="x", **fields
        )


def test_income_recorded_in_english_is_written_in_chinese_in_the_trail(people, tree):
    with translation.override("en"):
        district_allocation(people, tree)
    entry = AuditEntry.objects.get(action="fund_income")
    assert entry.comment == f"{tree.xq.name} · 区拨款 · {YEAR}"
