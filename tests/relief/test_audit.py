"""The audit trail: every transition, field change and payout, who made it and when, with
personal numbers redacted, in order, and impossible to rewrite."""

import datetime as dt
import importlib.util
import json
from decimal import Decimal

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from relief import services
from relief.errors import NotAllowed, OutOfScope
from relief.idcard import mask_id_number
from relief.models import AuditEntry, Disbursement
from relief.selectors import timeline
from tests.factories import WorkerFactory, case_in_state, category, file_case, make_id_number

D = Decimal
TODAY = dt.date.today()

# Payouts here are about cases, not balances: the towns have money.
pytestmark = pytest.mark.usefixtures("module_well_funded")


def case(people, state, **kw):
    return case_in_state(
        state, caseworker=people.alice, reviewer=people.carol, officer=people.erin, **kw
    )


def last_entry(app) -> AuditEntry:
    return AuditEntry.objects.filter(application=app).latest("at", "pk")


def trail_text() -> str:
    """Everything the trail holds, as one string (to look for what must not be there)."""
    return json.dumps(
        [[e.action, e.comment, e.changes] for e in AuditEntry.objects.all()], ensure_ascii=False
    )


# --- transitions ------------------------------------------------------------------------


def test_the_whole_lifecycle_is_on_record_in_order(people):
    start = timezone.now()
    app = file_case(people.alice, amount="5000.00")
    app = services.application_submit(application=app, user=people.alice, comment="请审核")
    services.home_visit_record(
        application=app,
        user=people.carol,
        visit_date=TODAY,
        visitors="梁慧敏、何建华",
        findings="透析，母亲长期患病",
        verified_household_income=D("1800.00"),
        verified_monthly_expenses=D("3200.00"),
    )
    app = services.application_verify(application=app, user=people.carol, comment="情况属实")
    app = services.application_recommend(
        application=app, user=people.carol, amount=D("4000.00"), comment="研讨同意4000元"
    )
    app = services.application_approve(
        application=app, user=people.erin, amount=D("3500.00"), comment="按季度会议核定"
    )
    payout = services.disbursement_record(
        application=app,
        user=people.erin,
        amount=D("3500.00"),
        paid_on=TODAY,
        method="bank",
        fund_source="donation",
        voucher_no="PZ-2024-07",
        comment="十元捐",
    )
    app.refresh_from_db()
    services.follow_up_record(
        application=app, user=people.carol, follow_up_date=TODAY, method="phone", findings="已到账"
    )
    app = services.application_close(application=app, user=people.carol, comment="结案")
    end = timezone.now()

    entries = list(timeline(app))
    rows = [(e.action, e.actor.username, e.from_state, e.to_state, e.comment) for e in entries]
    assert rows == [
        ("create", "alice", "", "draft", ""),
        ("submit", "alice", "draft", "submitted", "请审核"),
        ("home_visit", "carol", "", "", ""),
        ("verify", "carol", "submitted", "verified", "情况属实"),
        ("recommend", "carol", "verified", "recommended", "研讨同意4000元"),
        ("approve", "erin", "recommended", "approved", "按季度会议核定"),
        ("disburse", "erin", "approved", "disbursed", "十元捐"),
        ("follow_up", "carol", "", "", ""),
        ("close", "carol", "disbursed", "closed", "结案"),
    ]
    times = [e.at for e in entries]
    assert times == sorted(times)
    assert start <= times[0] and times[-1] <= end
    assert all(e.application_id == app.pk and e.worker_id == app.worker_id for e in entries)

    by_action = {e.action: e for e in entries}
    # Amounts before and after, for the transitions that move them.
    assert by_action["recommend"].changes == {"recommended_amount": [None, "4000.00"]}
    # Approval also fixes the payout account (the card on file), masked in the trail.
    assert by_action["approve"].changes == {
        "approved_amount": [None, "3500.00"],
        "payout_account": ["", f"{app.worker.bank_name} {app.worker.bank_branch} **** 0001"],
    }
    assert by_action["submit"].changes == {}
    assert by_action["close"].changes == {}
    # The payout: linked, with its facts and what it did to the paid amount.
    disburse = by_action["disburse"]
    assert disburse.disbursement == payout
    assert disburse.changes == {
        "amount": [None, "3500.00"],
        "paid_on": [None, TODAY.isoformat()],
        "method": [None, "bank"],
        "fund_source": [None, "donation"],
        "fund_year": [None, str(TODAY.year)],
        "voucher_no": [None, "PZ-2024-07"],
        "paid_amount": ["0.00", "3500.00"],
    }
    assert by_action["home_visit"].changes["findings"] == [None, "透析，母亲长期患病"]
    assert by_action["create"].changes["requested_amount"] == [None, "5000.00"]
    assert by_action["create"].changes["categories"] == [None, "重大疾病"]


@pytest.mark.parametrize(
    ("state", "who", "act", "action", "from_to", "comment"),
    [
        pytest.param(
            "submitted",
            "carol",
            lambda app, u: services.application_return(
                application=app, user=u, comment="缺诊断书和收入证明"
            ),
            "return_for_info",
            ("submitted", "returned"),
            "缺诊断书和收入证明",
            id="return",
        ),
        pytest.param(
            "returned",
            "alice",
            lambda app, u: services.application_resubmit(application=app, user=u, comment="已补充"),
            "resubmit",
            ("returned", "submitted"),
            "已补充",
            id="resubmit",
        ),
        pytest.param(
            "draft",
            "alice",
            lambda app, u: services.application_withdraw(
                application=app, user=u, comment="职工不再需要"
            ),
            "withdraw",
            ("draft", "withdrawn"),
            "职工不再需要",
            id="withdraw",
        ),
        pytest.param(
            "verified",
            "carol",
            lambda app, u: services.application_reject(
                application=app, user=u, reason="家庭收入高于标准"
            ),
            "reject",
            ("verified", "rejected"),
            "家庭收入高于标准",
            id="reject-by-town",
        ),
        pytest.param(
            "recommended",
            "erin",
            lambda app, u: services.application_reject(application=app, user=u, reason="重复申请"),
            "reject",
            ("recommended", "rejected"),
            "重复申请",
            id="reject-by-district",
        ),
        pytest.param(
            "recommended",
            "erin",
            lambda app, u: services.application_send_back(
                application=app, user=u, comment="  请核实医疗支出  "
            ),
            "send_back",
            ("recommended", "verified"),
            "请核实医疗支出",
            id="send-back",
        ),
    ],
)
def test_each_transition_records_who_from_to_and_why(
    people, state, who, act, action, from_to, comment
):
    app = case(people, state)
    count = AuditEntry.objects.count()
    before = timezone.now()
    act(app, getattr(people, who))
    entry = last_entry(app)
    assert AuditEntry.objects.count() == count + 1
    assert entry.action == action
    assert (entry.from_state, entry.to_state) == from_to
    assert entry.comment == comment  # stripped
    assert entry.actor == getattr(people, who)
    assert entry.at >= before
    assert entry.source == "web"


def test_a_send_back_and_second_recommendation_keep_both_amounts_on_record(people):
    app = case(people, "recommended", amount="5000.00")
    app = services.application_send_back(application=app, user=people.erin, comment="金额偏高")
    app = services.application_recommend(
        application=app, user=people.carol, amount=D("3000.00"), comment="复议后建议3000元"
    )
    recommendations = [
        e.changes["recommended_amount"] for e in timeline(app) if e.action == "recommend"
    ]
    assert recommendations == [[None, "5000.00"], ["5000.00", "3000.00"]]


def test_each_partial_payout_is_on_record_and_linked(people):
    app = case(people, "approved", amount="5000.00")
    first = services.disbursement_record(
        application=app,
        user=people.erin,
        amount=D("2000.00"),
        paid_on=TODAY,
        method="cash",
        fund_source="town",
    )
    second = services.disbursement_record(
        application=Disbursement.objects.get(pk=first.pk).application,
        user=people.erin,
        amount=D("3000.00"),
        paid_on=TODAY,
        method="bank",
        fund_source="district",
    )
    entries = [e for e in timeline(app) if e.action == "disburse"]
    assert [e.disbursement for e in entries] == [first, second]
    assert [(e.from_state, e.to_state) for e in entries] == [
        ("approved", "approved"),
        ("approved", "disbursed"),
    ]
    assert [e.changes["paid_amount"] for e in entries] == [
        ["0.00", "2000.00"],
        ["2000.00", "5000.00"],
    ]
    assert entries[0].changes["method"] == [None, "cash"]


def test_a_refused_action_leaves_no_trace(people):
    app = case(people, "submitted")
    count = AuditEntry.objects.count()
    with pytest.raises(ValidationError):
        services.application_return(application=app, user=people.carol, comment="  ")
    with pytest.raises(ValidationError):
        services.application_verify(application=app, user=people.carol)  # no home visit
    with pytest.raises(OutOfScope):
        services.application_reject(application=app, user=people.dave, reason="不在辖区")
    with pytest.raises(NotAllowed):
        services.application_approve(application=app, user=people.alice, amount=D("1.00"))
    assert AuditEntry.objects.count() == count


# --- field changes ----------------------------------------------------------------------


def test_application_update_records_old_and_new_values(people):
    app = case(people, "draft", amount="5000.00")
    version = app.version
    app = services.application_update(
        application=app,
        user=people.alice,
        data={
            "narrative": "肾移植术后，需长期服药。",
            "requested_amount": D("6000.00"),
            "household_monthly_income": D("2000.00"),  # unchanged
        },
        categories=[category("重大疾病"), category("子女就学")],
    )
    entry = last_entry(app)
    assert entry.action == "update"
    assert entry.actor == people.alice
    assert entry.changes == {
        "narrative": ["肾病透析，母亲长期患病，两名子女在读。", "肾移植术后，需长期服药。"],
        "requested_amount": ["5000.00", "6000.00"],
        "categories": ["重大疾病", "子女就学, 重大疾病"],
    }
    assert (entry.from_state, entry.to_state) == ("", "")
    app.refresh_from_db()
    assert app.version == version + 1


def test_an_update_that_changes_nothing_is_not_recorded(people):
    app = case(people, "returned")
    count, version = AuditEntry.objects.count(), app.version
    services.application_update(
        application=app, user=people.alice, data={"narrative": f"  {app.narrative}  "}
    )
    app.refresh_from_db()
    assert (AuditEntry.objects.count(), app.version) == (count, version)


def test_worker_update_records_old_and_new_values_with_id_and_card_masked(people):
    old_id, new_id = make_id_number(11), make_id_number(12, male=False)
    old_card, new_card = "6228480000000000001", "6217000000000001234"
    worker = services.worker_create(
        user=people.alice,
        data={
            "name": "梁志明",
            "id_number": old_id,
            "phone": "13800000001",
            "bank_card": old_card,
        },
    )
    created = AuditEntry.objects.get(worker=worker, action="create")
    assert created.changes["name"] == [None, "梁志明"]
    assert created.changes["id_number"] == ["", mask_id_number(old_id)]
    assert created.changes["bank_card"] == ["", "**** 0001"]

    services.worker_update(
        worker=worker,
        user=people.alice,
        data={
            "phone": "13900000002",
            "employer": "樵山食品厂",
            "id_number": new_id,
            "bank_card": "6217 0000 0000 0001 234",
        },
    )
    entry = AuditEntry.objects.filter(worker=worker).latest("at", "pk")
    assert entry.action == "update"
    assert entry.actor == people.alice
    assert entry.application is None
    assert entry.changes == {
        "phone": ["13800000001", "13900000002"],
        "employer": ["", "樵山食品厂"],
        # Masked: enough to tell the old number from the new, never the numbers themselves.
        "id_number": [mask_id_number(old_id), mask_id_number(new_id)],
        "bank_card": ["**** 0001", "**** 1234"],
    }
    worker.refresh_from_db()
    assert (worker.id_number, worker.bank_card) == (new_id, new_card)
    text = trail_text()
    for secret in (old_id, new_id, old_card, new_card, old_card[-10:], new_card[-10:]):
        assert secret not in text


def test_household_changes_are_recorded_without_id_numbers(people):
    worker = WorkerFactory(union=people.alice.union)
    member_id = make_id_number(21, born=dt.date(1955, 3, 3), male=False)
    services.household_replace(
        worker=worker,
        user=people.alice,
        members=[
            {"relation": "母亲", "name": "陈桂英", "id_number": member_id, "health": "高血压"},
            {"relation": "女儿", "name": "梁小雅", "occupation": "初中", "age": 13},
        ],
    )
    entry = AuditEntry.objects.filter(worker=worker).latest("at", "pk")
    assert entry.changes["household"][0] == ""
    assert "母亲 陈桂英" in entry.changes["household"][1]
    assert member_id not in trail_text()


# --- the trail cannot be rewritten ------------------------------------------------------


def _audit_admin():
    if importlib.util.find_spec("relief.admin") is None:
        pytest.skip("relief/admin.py does not exist yet")
    importlib.import_module("relief.admin")
    model_admin = admin.site._registry.get(AuditEntry)
    if model_admin is None:
        pytest.skip("the audit trail is not in the admin")
    return model_admin


@pytest.mark.parametrize("who", ["root", "erin", "carol"])
def test_the_admin_cannot_add_change_or_delete_audit_entries(people, who):
    model_admin = _audit_admin()
    app = case(people, "submitted")
    entry = last_entry(app)
    request = RequestFactory().get("/admin/")
    request.user = getattr(people, who)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)
    assert "delete_selected" not in model_admin.get_actions(request)


def test_posting_to_the_admin_leaves_the_audit_entry_as_it_was(people, client):
    _audit_admin()
    app = case(people, "submitted")
    entry = last_entry(app)
    client.force_login(people.root)
    change = reverse("admin:relief_auditentry_change", args=[entry.pk])
    delete = reverse("admin:relief_auditentry_delete", args=[entry.pk])
    add = reverse("admin:relief_auditentry_add")
    assert client.get(change).status_code == 200  # readable
    data = {"action": "approve", "comment": "改写历史", "to_state": "approved"}
    assert client.post(change, data).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.post(add, data).status_code == 403
    changelist = reverse("admin:relief_auditentry_changelist")
    response = client.post(
        changelist, {"action": "delete_selected", "_selected_action": [entry.pk]}
    )
    assert response.status_code in {200, 302, 403}
    fresh = AuditEntry.objects.get(pk=entry.pk)
    assert (fresh.action, fresh.comment, fresh.to_state) == (
        entry.action,
        entry.comment,
        entry.to_state,
    )


@pytest.mark.postgres
def test_the_database_refuses_to_rewrite_the_trail(people):
    app = case(people, "submitted")
    entry = last_entry(app)
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(comment="改写历史")
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).comment == entry.comment


@pytest.mark.postgres
def test_the_database_refuses_to_rewrite_a_payout(people):
    app = case(people, "disbursed")
    payout = app.disbursements.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Disbursement.objects.filter(pk=payout.pk).update(amount=D("1.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Disbursement.objects.filter(pk=payout.pk).delete()
    assert Disbursement.objects.get(pk=payout.pk).amount == payout.amount


# --- the timeline -----------------------------------------------------------------------


def test_the_timeline_holds_only_this_case_in_order(people):
    worker = WorkerFactory(union=people.alice.union)
    first = case(people, "withdrawn", worker=worker)
    other = case(people, "submitted")
    second = case(people, "returned", worker=worker)
    assert [e.action for e in timeline(first)] == ["create", "withdraw"]
    assert [e.action for e in timeline(second)] == ["create", "submit", "return_for_info"]
    assert [e.action for e in timeline(other)] == ["create", "submit"]
    pks = [e.pk for e in timeline(second)]
    assert pks == sorted(pks)
