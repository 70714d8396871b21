"""Payment batches: select approved cases, check funds, export the bank file, pay all or none."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from openpyxl import load_workbook

from privacy.access import BANK_FILE, may_see_full
from relief import services
from relief.errors import NotAllowed
from relief.models import Application, AuditEntry, Disbursement, FundAccount
from relief.services.batches import batch_check_funds
from tests.factories import WorkerFactory, case_in_state, fund

TODAY = dt.date.today()


@pytest.fixture
def cases(people):
    """Three approved cases: two in 西樵 (5000, 3000), one in 大沥 (2000)."""
    xq1 = case_in_state(
        "approved", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    xq2 = case_in_state(
        "approved",
        caseworker=people.alice,
        reviewer=people.carol,
        officer=people.erin,
        amount="3000.00",
        worker=WorkerFactory(union=people.alice.union, bank_card="6217000011112222333"),
    )
    dl = case_in_state(
        "approved", caseworker=people.bob, reviewer=people.dave, officer=people.erin, amount="2000"
    )
    return [xq1, xq2, dl]


def new_batch(people, cases, source="district"):
    return services.batch_create(
        user=people.erin, title="第三季度审批会", applications=cases, fund_source=source
    )


def test_a_batch_holds_what_is_outstanding_on_each_case(people, cases):
    batch = new_batch(people, cases)
    assert batch.state == "draft"
    assert batch.reference.startswith(f"PB-{TODAY.year}-")
    assert sorted(i.amount for i in batch.items.all()) == [
        Decimal("2000.00"),
        Decimal("3000.00"),
        Decimal("5000.00"),
    ]
    assert AuditEntry.objects.filter(action="batch_add").count() == 3


def test_a_case_is_in_one_open_batch_at_a_time(people, cases):
    first = new_batch(people, cases[:1])
    with pytest.raises(ValidationError, match=first.reference):
        new_batch(people, cases)


def test_only_approved_cases_go_into_a_batch(people, cases):
    draft = case_in_state("draft", caseworker=people.alice, reviewer=None, officer=None)
    with pytest.raises(ValidationError, match=draft.reference):
        new_batch(people, [cases[0], draft])


@pytest.mark.parametrize("who", ["alice", "carol", "root"])
def test_only_district_officers_make_batches(people, cases, who):
    with pytest.raises(NotAllowed):
        services.batch_create(
            user=getattr(people, who), title="x", applications=cases, fund_source="district"
        )


def test_the_funds_check_shows_each_town_need_and_balance(people, tree, cases):
    fund(people.erin, tree.xq, "9000.00")
    fund(people.erin, tree.dl, "1000.00")
    lines = {line.town: line for line in batch_check_funds(new_batch(people, cases))}
    assert lines["西樵镇总工会"].needed == Decimal("8000.00")
    assert lines["西樵镇总工会"].ok
    assert lines["大沥镇总工会"].needed == Decimal("2000.00")
    assert not lines["大沥镇总工会"].ok


def test_export_refuses_when_funds_are_short(people, tree, cases):
    fund(people.erin, tree.xq, "9000.00")
    batch = new_batch(people, cases)
    with pytest.raises(ValidationError, match="大沥镇总工会"):
        services.batch_export(batch=batch, user=people.erin)
    batch.refresh_from_db()
    assert batch.state == "draft"


def test_the_bank_file_has_full_card_numbers_as_text(people, tree, cases):
    fund(people.erin, tree.xq, "9000.00")
    fund(people.erin, tree.dl, "2000.00")
    batch = new_batch(people, cases)
    content = services.batch_export(batch=batch, user=people.erin)
    sheet = load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("姓名", "卡号", "开户银行", "开户网点", "金额", "摘要")
    cards = {r[1] for r in rows[1:]}
    assert "6217000011112222333" in cards  # not 6.217E+18, not masked
    assert sum(Decimal(str(r[4])) for r in rows[1:]) == Decimal("10000.00")
    assert all(batch.reference in r[5] for r in rows[1:])
    batch.refresh_from_db()
    assert batch.state == "exported"
    assert AuditEntry.objects.filter(action="batch_export").count() == 3


def test_full_card_numbers_are_for_district_officers_only(people):
    assert may_see_full(people.erin, BANK_FILE)
    for who in ["alice", "carol", "dave", "root"]:
        assert not may_see_full(getattr(people, who), BANK_FILE)


def test_marking_paid_pays_every_case_with_the_bank_date(people, tree, cases):
    fund(people.erin, tree.xq, "9000.00")
    fund(people.erin, tree.dl, "2000.00")
    batch = new_batch(people, cases)
    services.batch_export(batch=batch, user=people.erin)
    bank_day = TODAY - dt.timedelta(days=1)
    services.batch_mark_paid(batch=batch, user=people.erin, bank_paid_on=bank_day)
    batch.refresh_from_db()
    assert (batch.state, batch.bank_paid_on) == ("paid", bank_day)
    for app in cases:
        app.refresh_from_db()
        assert app.state == "disbursed"
        payout = app.disbursements.get()
        assert (payout.paid_on, payout.voucher_no) == (bank_day, batch.reference)
    assert all(item.disbursement_id for item in batch.items.all())
    assert FundAccount.objects.get(town=tree.dl).balance == 0


def test_marking_paid_is_all_or_nothing(people, tree, cases):
    fund(people.erin, tree.xq, "9000.00")
    fund(people.erin, tree.dl, "2000.00")
    batch = new_batch(people, cases)
    services.batch_export(batch=batch, user=people.erin)
    # Meanwhile 大沥's money is spent elsewhere.
    other = case_in_state(
        "approved", caseworker=people.bob, reviewer=people.dave, officer=people.erin, amount="1500"
    )
    services.disbursement_record(
        application=other,
        user=people.erin,
        amount=Decimal("1500.00"),
        paid_on=TODAY,
        method="cash",
        fund_source="district",
    )
    with pytest.raises(ValidationError) as exc:
        services.batch_mark_paid(batch=batch, user=people.erin, bank_paid_on=TODAY)
    assert cases[2].reference in " ".join(exc.value.messages)
    assert Disbursement.objects.filter(application__in=cases).count() == 0
    batch.refresh_from_db()
    assert batch.state == "exported"
    for app in cases:
        app.refresh_from_db()
        assert (app.state, app.paid_amount) == ("approved", 0)


def test_a_case_in_an_open_batch_is_paid_with_the_batch(people, tree, cases):
    fund(people.erin, tree.xq, "9000.00")
    batch = new_batch(people, cases[:1])
    with pytest.raises(ValidationError, match=batch.reference):
        services.disbursement_record(
            application=cases[0],
            user=people.erin,
            amount=Decimal("100.00"),
            paid_on=TODAY,
            method="cash",
            fund_source="district",
        )


def test_a_batch_is_marked_paid_only_after_export_and_not_in_the_future(people, tree, cases):
    fund(people.erin, tree.xq, "9000.00")
    batch = new_batch(people, cases[:2])
    with pytest.raises(ValidationError):
        services.batch_mark_paid(batch=batch, user=people.erin, bank_paid_on=TODAY)
    services.batch_export(batch=batch, user=people.erin)
    with pytest.raises(ValidationError):
        services.batch_mark_paid(
            batch=batch, user=people.erin, bank_paid_on=TODAY + dt.timedelta(days=1)
        )


def test_a_cancelled_batch_frees_its_cases(people, cases):
    batch = new_batch(people, cases)
    with pytest.raises(ValidationError):
        services.batch_cancel(batch=batch, user=people.erin, reason="")
    services.batch_cancel(batch=batch, user=people.erin, reason="会议改期")
    batch.refresh_from_db()
    assert batch.state == "cancelled"
    again = new_batch(people, cases)
    assert again.items.count() == 3


# --- the bank file's formula guard and access log ---------------------------------------


def test_the_bank_file_neutralizes_text_cells_and_keeps_numbers(people, tree, cases):
    from tabular.formulas import FORMULA_STARTS

    # Names come from the worker, bank and branch from each case's payout account.
    worker = cases[0].worker
    worker.name = "=1+1"
    worker.save()
    Application.objects.filter(pk=cases[0].pk).update(
        payout_bank_name="+1", payout_bank_branch="@SUM(A1)"
    )
    other = cases[1].worker
    other.name = "\t=1"
    other.save()
    Application.objects.filter(pk=cases[1].pk).update(payout_bank_branch="-1")
    fund(people.erin, tree.xq, "9000.00")
    fund(people.erin, tree.dl, "2000.00")
    content = services.batch_export(batch=new_batch(people, cases), user=people.erin)
    sheet = load_workbook(io.BytesIO(content)).active
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert {t[1:] for t in texts if t.startswith("'")} == {"=1+1", "+1", "@SUM(A1)", "\t=1", "-1"}
    assert not [t for t in texts if t.startswith(FORMULA_STARTS)]
    assert "6217000011112222333" in texts  # the card itself is untouched
    amounts = [c.value for c in cells if c.column == 5]
    assert all(isinstance(v, int | float) for v in amounts)


def test_every_bank_file_export_is_in_the_access_log(people, tree, cases):
    from privacy.models import AccessLog

    fund(people.erin, tree.xq, "9000.00")
    fund(people.erin, tree.dl, "2000.00")
    batch = new_batch(people, cases)
    services.batch_export(batch=batch, user=people.erin)
    services.batch_export(batch=batch, user=people.erin)  # again, from "exported"
    rows = list(AccessLog.objects.order_by("pk"))
    assert [(r.kind, r.user, r.object_id, r.reference) for r in rows] == [
        ("bank_file", people.erin, batch.pk, batch.reference)
    ] * 2
    assert set(rows[0].detail.split()) == {c.reference for c in cases}


def test_a_refused_bank_file_is_not_logged(people, tree, cases):
    from privacy.models import AccessLog

    fund(people.erin, tree.xq, "9000.00")  # 大沥 has no money: the funds check refuses
    batch = new_batch(people, cases)
    with pytest.raises(ValidationError):
        services.batch_export(batch=batch, user=people.erin)
    with pytest.raises(NotAllowed):
        services.batch_export(batch=batch, user=people.root)
    assert not AccessLog.objects.exists()
